//! `c360 run`, `c360 test` and `c360 build`: the selected part of the project executed
//! against the lake by the model engine, with `target/run_results.json` written.

use std::process::ExitCode;

use c360_models::{ManifestNode, NodeStatus, ResourceType, RunOptions, Runner};
use tokio::runtime::Runtime;

use super::project::compile_project;
use crate::cli::{RunArgs, SelectionArgs, TestArgs};
use crate::settings::Settings;

/// Which kinds of selected nodes a command executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Seeds, models, and the tests configured as audits (`audit: true`).
    Run,
    /// Tests only.
    Test,
    /// Seeds, models and tests.
    Build,
}

impl Scope {
    fn includes(self, node: &ManifestNode) -> bool {
        let kind = node.resource_type;
        match self {
            Scope::Run => match kind {
                ResourceType::Model | ResourceType::Seed => true,
                ResourceType::Test => node.test.as_ref().is_some_and(|t| t.settings.audit),
                ResourceType::Source => false,
            },
            Scope::Test => kind == ResourceType::Test,
            Scope::Build => kind != ResourceType::Source,
        }
    }
}

pub fn run(
    settings: &Settings,
    runtime: &Runtime,
    args: RunArgs,
    scope: Scope,
) -> anyhow::Result<ExitCode> {
    let RunArgs {
        selection,
        full_refresh,
    } = args;
    execute(settings, runtime, &selection, full_refresh, scope)
}

pub fn test(settings: &Settings, runtime: &Runtime, args: TestArgs) -> anyhow::Result<ExitCode> {
    let TestArgs { selection } = args;
    execute(settings, runtime, &selection, false, Scope::Test)
}

/// Compiles the project, runs the `selection` nodes of `scope` against the lake (with the
/// churn models of `c360-ml` as the project's `rust` functions) and prints the results.
pub(crate) fn execute(
    settings: &Settings,
    runtime: &Runtime,
    selection: &SelectionArgs,
    full_refresh: bool,
    scope: Scope,
) -> anyhow::Result<ExitCode> {
    let compiled = compile_project(settings, selection, full_refresh)?;
    let selected = compiled
        .selected
        .iter()
        .filter(|id| scope.includes(&compiled.manifest.nodes[*id]))
        .cloned()
        .collect();
    let runner = Runner::new(
        &settings.project_dir,
        settings.lake()?,
        compiled.manifest,
        RunOptions {
            threads: settings.threads,
            full_refresh,
            selected,
        },
    )
    .with_rust_models(c360_ml::project::rust_models());
    let results = runtime.block_on(runner.run())?;
    let mut failed = 0;
    for r in &results.results {
        let label = match r.status {
            NodeStatus::Success => "OK",
            NodeStatus::Pass => "PASS",
            NodeStatus::Warn => "WARN",
            NodeStatus::Fail => "FAIL",
            NodeStatus::Error => "ERROR",
            NodeStatus::Skipped => "SKIP",
        };
        if !r.status.is_ok() {
            failed += 1;
        }
        if settings.show_progress || !r.status.is_ok() {
            let detail = match (r.rows_affected, r.failures) {
                (_, Some(f)) => format!("{f} failing rows"),
                (Some(n), None) => format!("{n} rows"),
                (None, None) => String::new(),
            };
            println!(
                "{label:<5} {:<60} {detail:>18} {:>7.2}s  {}",
                r.unique_id, r.execution_time, r.message
            );
        }
    }
    println!(
        "Done in {:.1} s: {} nodes, {failed} failed or skipped; results in {}",
        results.elapsed,
        results.results.len(),
        runner.target_dir().join("run_results.json").display()
    );
    Ok(if results.success {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
