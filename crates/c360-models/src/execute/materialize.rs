//! One node at a time: a model materialised, a seed loaded, a test counted. Each returns an
//! [`Outcome`]; nothing here decides what runs next (that is the scheduler loop in `run`).

use std::collections::BTreeMap;
use std::path::Path;

use c360_lake::datafusion::common::TableReference;
use c360_lake::datafusion::error::DataFusionError;
use c360_lake::datafusion::prelude::{CsvReadOptions, DataFrame, SessionContext};
use c360_lake::{Lake, LakeError, Layer, WriteMode, WriteOutcome};

use super::incremental;
use super::results::NodeStatus;
use super::rust_model::{RustModelInput, RustModels};
use crate::config::{Materialization, ResolvedConfig};
use crate::manifest::ManifestNode;
use crate::properties::TestKind;
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
    pub(crate) fn error(message: impl Into<String>) -> Outcome {
        Outcome {
            status: NodeStatus::Error,
            rows_affected: None,
            failures: None,
            table_version: None,
            message: message.into(),
        }
    }

    pub(crate) fn success(message: impl Into<String>) -> Outcome {
        Outcome {
            status: NodeStatus::Success,
            ..Outcome::error(message)
        }
    }

    pub(crate) fn written(relation: &str, verb: &str, out: &WriteOutcome) -> Outcome {
        Outcome {
            rows_affected: Some(out.rows_written),
            table_version: Some(out.version),
            ..Outcome::success(format!("{verb} {relation}: {} rows", out.rows_written))
        }
    }
}

/// Why a node failed, as one message.
pub(crate) enum Failure {
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
pub(crate) fn target(node: &ManifestNode) -> Result<(Layer, String), Failure> {
    let layer = node
        .layer
        .as_deref()
        .and_then(Layer::from_name)
        .ok_or_else(|| Failure::Other(format!("node {} has no lake layer", node.name)))?;
    Ok((layer, node.name.clone()))
}

/// Everything a model needs besides its node.
pub(crate) struct ModelEnv<'a> {
    pub ctx: &'a SessionContext,
    pub lake: &'a Lake,
    /// The run's `--full-refresh` (a model's own `full_refresh` config wins over it).
    pub full_refresh: bool,
    pub rust_models: &'a RustModels,
    pub vars: &'a BTreeMap<String, serde_json::Value>,
    /// The incremental and append models upstream of this one that stream a source: an
    /// incremental model reads a stream no further than they have.
    pub upstream_streams: Vec<&'a ManifestNode>,
    /// The models this one streams (`stream(ref('m'))`), by id.
    pub streamed_models: BTreeMap<String, &'a ManifestNode>,
}

/// Materialises one model.
pub(crate) async fn run_model(env: &ModelEnv<'_>, node: &ManifestNode) -> Outcome {
    match try_model(env, node).await {
        Ok(outcome) => outcome,
        Err(failure) => Outcome::error(failure.to_string()),
    }
}

async fn try_model(env: &ModelEnv<'_>, node: &ManifestNode) -> Result<Outcome, Failure> {
    let ModelEnv {
        ctx,
        lake,
        full_refresh,
        rust_models,
        vars,
        ref upstream_streams,
        ref streamed_models,
    } = *env;
    let materialized = node
        .materialized
        .ok_or_else(|| Failure::Other(format!("model {} has no materialization", node.name)))?;
    let config = node
        .config
        .as_ref()
        .ok_or_else(|| Failure::Other(format!("model {} has no configuration", node.name)))?;
    let session = model_session(ctx, config)?;
    let ctx = &session;
    let relation = node.relation.clone().unwrap_or_else(|| node.name.clone());
    let sql = || {
        node.compiled_sql
            .as_deref()
            .ok_or_else(|| Failure::Other(format!("model {} has no compiled SQL", node.name)))
    };
    let rebuild = config.full_refresh.unwrap_or(full_refresh);
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
        Materialization::Table => {
            let frame = ctx.sql(sql()?).await?;
            overwrite(ctx, lake, node, config, frame, &relation).await
        }
        Materialization::Incremental | Materialization::Append => {
            incremental::run(
                ctx,
                lake,
                node,
                config,
                rebuild,
                upstream_streams,
                streamed_models,
            )
            .await
        }
        Materialization::Rust => {
            let function = config.rust_function.as_deref().unwrap_or_default();
            let model = rust_models.get(function).ok_or_else(|| {
                let known: Vec<&str> = rust_models.names().collect();
                Failure::Other(format!(
                    "no Rust function '{function}' is registered (registered: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ))
            })?;
            let input = RustModelInput {
                ctx,
                lake,
                node,
                vars,
            };
            let frame = model
                .build(input)
                .await
                .map_err(|e| Failure::Other(format!("Rust model {function}: {e}")))?;
            overwrite(ctx, lake, node, config, frame, &relation).await
        }
    }
}

/// The session a model's query runs in: the run's, or a copy of it with the model's
/// `session_options` set (the same tables and functions; the options reach this query only).
fn model_session(ctx: &SessionContext, config: &ResolvedConfig) -> Result<SessionContext, Failure> {
    if config.session_options.is_empty() {
        return Ok(ctx.clone());
    }
    let mut state = ctx.state();
    for (key, value) in &config.session_options {
        state.config_mut().options_mut().set(key, value)?;
    }
    Ok(SessionContext::new_with_state(state))
}

/// A `table` or `rust` model: `frame` replaces the table (laid out by `cluster_by`), and the
/// session reads the new version.
async fn overwrite(
    ctx: &SessionContext,
    lake: &Lake,
    node: &ManifestNode,
    config: &ResolvedConfig,
    frame: DataFrame,
    relation: &str,
) -> Result<Outcome, Failure> {
    let (layer, name) = target(node)?;
    let out = super::layout::write_clustered(
        lake,
        layer,
        &name,
        WriteMode::Overwrite,
        frame,
        &config.cluster_by,
        &[],
    )
    .await?;
    lake.register_table(ctx, layer, &name).await?;
    Ok(Outcome::written(relation, "wrote", &out))
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

/// The `_c360` table a test with `store_failures` keeps its failing rows in.
pub fn failures_table(test: &str) -> String {
    let mut name: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    name.truncate(110);
    format!("test_failures__{name}")
}

/// Runs a test's query, counts the rows it returns and applies its settings. With
/// `store_failures`, the failing rows replace the contents of `_c360.test_failures__<test>`.
/// Runs a test; `tested` is the relation of the node it is attached to (generic tests).
pub(crate) async fn run_test(
    ctx: &SessionContext,
    lake: &Lake,
    node: &ManifestNode,
    tested: Option<&str>,
) -> Outcome {
    let run = async {
        let sql = node
            .compiled_sql
            .as_deref()
            .ok_or_else(|| Failure::Other(format!("test {} has no compiled SQL", node.name)))?;
        let test = node
            .test
            .as_ref()
            .ok_or_else(|| Failure::Other(format!("test {} has no settings", node.name)))?;
        let settings = &test.settings;
        let proven_unique = match (&test.args, test.column.as_deref(), tested) {
            (Some(TestKind::Unique), Some(column), Some(relation)) if !settings.store_failures => {
                let filter = settings.where_clause.as_deref();
                super::unique::hashes_distinct(ctx, relation, column, filter).await?
            }
            _ => false,
        };
        let (failures, stored) = if proven_unique {
            (0, None)
        } else if settings.store_failures {
            let table = failures_table(&node.name);
            let stream = ctx.sql(sql).await?.execute_stream().await?;
            let out = lake
                .write_stream(Layer::Meta, &table, WriteMode::Overwrite, stream)
                .await?;
            (out.rows_written, Some(format!("{}.{table}", Layer::Meta)))
        } else {
            (ctx.sql(sql).await?.count().await? as u64, None)
        };
        let (status, word) = match settings.status(failures) {
            TestStatus::Pass => (NodeStatus::Pass, "pass"),
            TestStatus::Warn => (NodeStatus::Warn, "warn"),
            TestStatus::Error => (NodeStatus::Fail, "fail"),
        };
        let mut message = format!("{word}: {failures} failing rows");
        if let Some(table) = stored {
            message.push_str(&format!(" (stored in {table})"));
        }
        Ok::<_, Failure>(Outcome {
            status,
            failures: Some(failures),
            ..Outcome::error(message)
        })
    };
    match run.await {
        Ok(outcome) => outcome,
        Err(failure) => Outcome::error(failure.to_string()),
    }
}
