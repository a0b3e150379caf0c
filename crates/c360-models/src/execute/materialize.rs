//! One node at a time: a model materialised, a seed loaded, a test counted. Each returns an
//! [`Outcome`]; nothing here decides what runs next (that is the scheduler loop in `run`).

use std::path::Path;

use c360_lake::datafusion::common::TableReference;
use c360_lake::datafusion::error::DataFusionError;
use c360_lake::datafusion::prelude::{CsvReadOptions, SessionContext};
use c360_lake::{Lake, LakeError, Layer, WriteMode, WriteOutcome};

use super::results::NodeStatus;
use crate::config::Materialization;
use crate::manifest::ManifestNode;
use crate::tests_def::TestStatus;

/// What running one node did, before timing and identity are attached.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub status: NodeStatus,
    pub rows_affected: Option<u64>,
    pub failures: Option<u64>,
    pub table_version: Option<u64>,
    pub message: String,
}

impl Outcome {
    fn error(message: impl Into<String>) -> Outcome {
        Outcome {
            status: NodeStatus::Error,
            rows_affected: None,
            failures: None,
            table_version: None,
            message: message.into(),
        }
    }

    fn success(message: impl Into<String>) -> Outcome {
        Outcome {
            status: NodeStatus::Success,
            ..Outcome::error(message)
        }
    }

    fn written(relation: &str, verb: &str, out: &WriteOutcome) -> Outcome {
        Outcome {
            rows_affected: Some(out.rows_written),
            table_version: Some(out.version),
            ..Outcome::success(format!("{verb} {relation}: {} rows", out.rows_written))
        }
    }
}

/// Why a node failed, as one message.
enum Failure {
    Sql(DataFusionError),
    Lake(LakeError),
    Other(String),
}

impl From<DataFusionError> for Failure {
    fn from(e: DataFusionError) -> Failure {
        Failure::Sql(e)
    }
}

impl From<LakeError> for Failure {
    fn from(e: LakeError) -> Failure {
        Failure::Lake(e)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Sql(e) => write!(f, "SQL error: {e}"),
            Failure::Lake(e) => write!(f, "{e}"),
            Failure::Other(m) => f.write_str(m),
        }
    }
}

/// The lake layer and table name a model or seed is stored as.
fn target(node: &ManifestNode) -> Result<(Layer, String), Failure> {
    let layer = node
        .layer
        .as_deref()
        .and_then(Layer::from_name)
        .ok_or_else(|| Failure::Other(format!("node {} has no lake layer", node.name)))?;
    Ok((layer, node.name.clone()))
}

/// Materialises one model. `full_refresh` is the run's `--full-refresh`; the model's own
/// `full_refresh` config, when set, wins over it.
pub(crate) async fn run_model(
    ctx: &SessionContext,
    lake: &Lake,
    node: &ManifestNode,
    full_refresh: bool,
) -> Outcome {
    match try_model(ctx, lake, node, full_refresh).await {
        Ok(outcome) => outcome,
        Err(failure) => Outcome::error(failure.to_string()),
    }
}

async fn try_model(
    ctx: &SessionContext,
    lake: &Lake,
    node: &ManifestNode,
    full_refresh: bool,
) -> Result<Outcome, Failure> {
    let materialized = node
        .materialized
        .ok_or_else(|| Failure::Other(format!("model {} has no materialization", node.name)))?;
    let relation = node.relation.clone().unwrap_or_else(|| node.name.clone());
    let sql = || {
        node.compiled_sql
            .as_deref()
            .ok_or_else(|| Failure::Other(format!("model {} has no compiled SQL", node.name)))
    };
    let rebuild = node
        .config
        .as_ref()
        .and_then(|c| c.full_refresh)
        .unwrap_or(full_refresh);
    match materialized {
        Materialization::Ephemeral => {
            Ok(Outcome::success("ephemeral: inlined into its dependents"))
        }
        Materialization::View => {
            let (layer, name) = target(node)?;
            let view = ctx.sql(sql()?).await?.into_view();
            let reference = TableReference::partial(layer.name(), name.as_str());
            ctx.deregister_table(reference.clone())?;
            ctx.register_table(reference, view)?;
            Ok(Outcome::success(format!(
                "created view {relation} (in this session only)"
            )))
        }
        Materialization::Table | Materialization::Append => {
            let (layer, name) = target(node)?;
            let mode = if materialized == Materialization::Table || rebuild {
                WriteMode::Overwrite
            } else {
                WriteMode::Append
            };
            let stream = ctx.sql(sql()?).await?.execute_stream().await?;
            let out = lake.write_stream(layer, &name, mode, stream).await?;
            lake.register_table(ctx, layer, &name).await?;
            let verb = match mode {
                WriteMode::Overwrite => "wrote",
                WriteMode::Append => "appended to",
            };
            Ok(Outcome::written(&relation, verb, &out))
        }
        Materialization::Incremental => Err(Failure::Other(
            "incremental models are not supported by the executor yet".into(),
        )),
        Materialization::Rust => Err(Failure::Other(
            "Rust models are not supported by the executor yet".into(),
        )),
    }
}

/// Loads a seed CSV (path relative to `project_dir`) and overwrites its table.
pub(crate) async fn load_seed(
    ctx: &SessionContext,
    lake: &Lake,
    project_dir: &Path,
    node: &ManifestNode,
) -> Outcome {
    let run = async {
        let (layer, name) = target(node)?;
        let path = project_dir.join(&node.path);
        let path = path
            .to_str()
            .ok_or_else(|| Failure::Other(format!("seed path {} is not UTF-8", path.display())))?;
        let frame = ctx.read_csv(path, CsvReadOptions::new()).await?;
        let stream = frame.execute_stream().await?;
        let out = lake
            .write_stream(layer, &name, WriteMode::Overwrite, stream)
            .await?;
        lake.register_table(ctx, layer, &name).await?;
        let relation = format!("{layer}.{name}");
        Ok::<_, Failure>(Outcome::written(&relation, "loaded", &out))
    };
    match run.await {
        Ok(outcome) => outcome,
        Err(failure) => Outcome::error(failure.to_string()),
    }
}

/// Runs a test's query, counts the rows it returns and applies its settings.
pub(crate) async fn run_test(ctx: &SessionContext, node: &ManifestNode) -> Outcome {
    let run = async {
        let sql = node
            .compiled_sql
            .as_deref()
            .ok_or_else(|| Failure::Other(format!("test {} has no compiled SQL", node.name)))?;
        let settings = &node
            .test
            .as_ref()
            .ok_or_else(|| Failure::Other(format!("test {} has no settings", node.name)))?
            .settings;
        let failures = ctx.sql(sql).await?.count().await? as u64;
        let (status, word) = match settings.status(failures) {
            TestStatus::Pass => (NodeStatus::Pass, "pass"),
            TestStatus::Warn => (NodeStatus::Warn, "warn"),
            TestStatus::Error => (NodeStatus::Fail, "fail"),
        };
        Ok::<_, Failure>(Outcome {
            status,
            failures: Some(failures),
            ..Outcome::error(format!("{word}: {failures} failing rows"))
        })
    };
    match run.await {
        Ok(outcome) => outcome,
        Err(failure) => Outcome::error(failure.to_string()),
    }
}
