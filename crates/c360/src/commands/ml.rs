//! `c360 ml train | score | report`: the churn models of the project run by the model engine
//! (so tables, tests and run history are those of `c360 build`), and the model card of
//! `c360_ml::report`.

use std::process::ExitCode;

use anyhow::Context;
use c360_lake::datafusion::prelude::SessionContext;
use c360_ml::{lake_registry, report, FEATURES_VAR};
use tokio::runtime::Runtime;

use super::execute::{execute, Scope};
use crate::cli::{MlCommand, MlReportArgs, MlTrainArgs, SelectionArgs};
use crate::settings::Settings;

pub fn run(settings: &Settings, runtime: &Runtime, command: MlCommand) -> anyhow::Result<ExitCode> {
    match command {
        MlCommand::Train(args) => train(settings, runtime, args),
        MlCommand::Score => score(settings, runtime),
        MlCommand::Report(args) => report(settings, runtime, args),
    }
}

fn selection(models: &[&str], vars: Vec<String>) -> SelectionArgs {
    SelectionArgs {
        select: models.iter().map(|m| m.to_string()).collect(),
        exclude: Vec::new(),
        vars,
    }
}

fn train(settings: &Settings, runtime: &Runtime, args: MlTrainArgs) -> anyhow::Result<ExitCode> {
    let MlTrainArgs { features } = args;
    let vars = features
        .map(|f| vec![format!("{FEATURES_VAR}={f}")])
        .unwrap_or_default();
    let code = execute(
        settings,
        runtime,
        &selection(&["churn_training_data", "churn_model_metrics"], vars),
        false,
        Scope::Build,
    )?;
    let registry = lake_registry(&settings.lake()?);
    if let Some(latest) = registry.list()?.last() {
        println!(
            "Latest model v{}: trained at as_of {}, holdout AUC-ROC {:.4}, {}",
            latest.version.unwrap_or(0),
            latest.training_as_of,
            latest.metrics.auc_roc,
            if latest.promoted {
                "promoted".to_string()
            } else {
                format!("not promoted (below the gate of {:.2})", latest.min_auc)
            }
        );
    }
    print_scoring_model(&registry)?;
    Ok(code)
}

fn print_scoring_model(registry: &c360_ml::Registry) -> anyhow::Result<()> {
    match registry.latest_promoted()? {
        Some(model) => println!(
            "Scoring model: v{} (AUC-ROC {:.4})",
            model.version.unwrap_or(0),
            model.metrics.auc_roc
        ),
        None => println!("Scoring model: none promoted yet; every customer is 'Not Scored'"),
    }
    Ok(())
}

fn score(settings: &Settings, runtime: &Runtime) -> anyhow::Result<ExitCode> {
    let code = execute(
        settings,
        runtime,
        &selection(&["churn_predictions+"], Vec::new()),
        false,
        Scope::Build,
    )?;
    print_scoring_model(&lake_registry(&settings.lake()?))?;
    Ok(code)
}

fn report(settings: &Settings, runtime: &Runtime, args: MlReportArgs) -> anyhow::Result<ExitCode> {
    let MlReportArgs { model, output } = args;
    let lake = settings.lake()?;
    let registry = lake_registry(&lake);
    let history = registry.list()?;
    let model = match model {
        Some(v) => registry.load(v)?,
        None => match registry.latest_promoted()? {
            Some(model) => model,
            None => history.last().cloned().with_context(|| {
                format!(
                    "no churn model in {} (run `c360 ml train`)",
                    registry.dir().display()
                )
            })?,
        },
    };
    let population = runtime.block_on(async {
        let ctx = SessionContext::new();
        lake.register_all(&ctx).await?;
        anyhow::Ok(report::population(&ctx, model.version.unwrap_or(0)).await?)
    })?;
    let card = report::model_card(&model, &history, population.as_ref());
    print!("{card}");
    if let Some(path) = output {
        std::fs::write(&path, &card).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
