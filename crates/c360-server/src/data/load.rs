//! Building a [`Snapshot`] table by table, so one table that cannot be read does not take the
//! dashboard down.
//!
//! A table whose latest version cannot be read (a garbage commit, a missing data file, a bad
//! checkpoint) keeps being served at the last version this server read, when it has one; at
//! start-up with no good version it is left out, and the pages that need it say so. Either way
//! it is listed as [`Unreadable`] (on every page, in `/api/pipeline`, by name in `/health`) and
//! logged with one WARN line per reload — a reload happens only when a table's version
//! changes, never per request. A table whose version did not change is taken over from the
//! previous snapshot as it is, without reading it again.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use c360_lake::datafusion::common::TableReference;
use c360_lake::datafusion::datasource::MemTable;
use c360_lake::datafusion::prelude::{SessionConfig, SessionContext};
use c360_lake::Lake;
use serde::Serialize;
use tokio::sync::OnceCell;

use super::{Derived, FactSlot, Snapshot, Table};
use crate::customers::CustomerIndex;
use crate::error::{AppError, AppResult};

/// A table the server could not read at its latest version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unreadable {
    /// `layer.table`.
    pub table: String,
    /// The version that could not be read (from the `_delta_log` file names).
    pub version: Option<u64>,
    /// The version still served instead (`None`: the table is left out).
    pub serving: Option<u64>,
    /// Why, in one line.
    pub error: String,
}

/// The latest version of each table from its `_delta_log` file names (no data read).
pub(super) fn table_versions(root: &Path) -> BTreeMap<Table, Option<u64>> {
    Table::ALL
        .into_iter()
        .map(|t| {
            let (layer, name) = t.location();
            let log = root.join(layer.name()).join(name).join("_delta_log");
            let version = std::fs::read_dir(&log).ok().and_then(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| {
                        let name = e.file_name().into_string().ok()?;
                        name.strip_suffix(".json")?.parse::<u64>().ok()
                    })
                    .max()
            });
            (t, version)
        })
        .collect()
}

/// An error as one line per cause, joined with `: ` — without the backtraces some causes
/// carry in their text (Delta kernel errors do when `RUST_BACKTRACE` is set).
pub fn describe(err: &AppError) -> String {
    let AppError::Internal(inner) = err else {
        return err.to_string();
    };
    let mut parts: Vec<String> = Vec::new();
    for cause in inner.chain() {
        let text = cause.to_string();
        let line = text.lines().next().unwrap_or("").trim().to_string();
        if !line.is_empty() && !parts.iter().any(|p| p.contains(&line)) {
            parts.push(line);
        }
    }
    let mut out = parts.join(": ");
    if out.chars().count() > 500 {
        out = out.chars().take(500).collect::<String>() + "…";
    }
    out
}

/// Registers `table` in `ctx` from the lake (in memory unless it is the fact table) and returns
/// its columns; `None` when it vanished since its version was listed.
async fn read_table(
    lake: &Lake,
    ctx: &SessionContext,
    table: Table,
) -> AppResult<Option<Vec<String>>> {
    let (layer, name) = table.location();
    if !lake.register_table(ctx, layer, name).await? {
        return Ok(None);
    }
    let reference = TableReference::partial(layer.name(), name);
    let df = ctx.table(reference.clone()).await?;
    let columns = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    if table.in_memory() {
        let schema = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await?;
        let mem = MemTable::try_new(schema, vec![batches])?;
        ctx.deregister_table(reference.clone())?;
        ctx.register_table(reference, Arc::new(mem))?;
    }
    Ok(Some(columns))
}

/// Registers `previous`'s copy of `table` in `ctx`; its columns, or `None` when `previous` did
/// not hold the table.
async fn take_over(
    previous: &Snapshot,
    ctx: &SessionContext,
    table: Table,
) -> AppResult<Option<Vec<String>>> {
    if !previous.has(table) {
        return Ok(None);
    }
    let (layer, name) = table.location();
    let reference = TableReference::partial(layer.name(), name);
    let provider = previous.ctx.table_provider(reference.clone()).await?;
    ensure_schema(ctx, layer.name())?;
    ctx.register_table(reference, provider)?;
    Ok(previous.columns.get(&table).cloned())
}

/// Creates schema `name` in `ctx`'s default catalog (the lake does so when it registers a
/// table; a table taken over skips the lake).
fn ensure_schema(ctx: &SessionContext, name: &str) -> AppResult<()> {
    use c360_lake::datafusion::catalog::MemorySchemaProvider;
    let catalog = ctx
        .catalog("datafusion")
        .ok_or_else(|| anyhow::anyhow!("the session has no default catalog"))?;
    if catalog.schema(name).is_none() {
        catalog.register_schema(name, Arc::new(MemorySchemaProvider::new()))?;
    }
    Ok(())
}

/// A snapshot of the tables at `seen` (their listed versions), reading each table whose version
/// differs from `previous`'s and taking over the rest; a table that cannot be read is taken
/// over at its previous version, or left out, and reported.
pub(super) async fn build_snapshot(
    lake: &Lake,
    seen: BTreeMap<Table, Option<u64>>,
    facts: Arc<FactSlot>,
    previous: Option<&Snapshot>,
) -> AppResult<Snapshot> {
    let config = SessionConfig::new()
        .with_target_partitions(2)
        .with_information_schema(false);
    // One runtime for every snapshot: a Delta table taken over keeps its object store.
    let ctx = match previous {
        Some(p) => SessionContext::new_with_config_rt(config, p.ctx.runtime_env()),
        None => SessionContext::new_with_config(config),
    };
    let mut versions = BTreeMap::new();
    let mut columns = BTreeMap::new();
    let mut unreadable = Vec::new();
    for table in Table::ALL {
        let Some(version) = seen.get(&table).copied().flatten() else {
            versions.insert(table, None);
            continue;
        };
        let before = previous.and_then(|p| p.versions.get(&table).copied().flatten());
        let read = match previous {
            Some(p) if before == Some(version) => take_over(p, &ctx, table).await,
            _ => crate::quiet::kernel_quiet(read_table(lake, &ctx, table)).await,
        };
        let (loaded, cols) = match read {
            Ok(cols) => (cols.is_some().then_some(version), cols),
            Err(e) => {
                let fallback = match previous {
                    Some(p) => take_over(p, &ctx, table).await.ok().flatten(),
                    None => None,
                };
                let serving = fallback.is_some().then_some(before).flatten();
                let problem = Unreadable {
                    table: table.sql(),
                    version: Some(version),
                    serving,
                    error: describe(&e),
                };
                warn_unreadable(&problem);
                unreadable.push(problem);
                (serving, fallback)
            }
        };
        versions.insert(table, loaded);
        if let Some(cols) = cols {
            columns.insert(table, cols);
        }
    }
    finish(ctx, seen, versions, columns, unreadable, facts).await
}

fn warn_unreadable(u: &Unreadable) {
    let version = u.version.map_or("?".to_string(), |v| v.to_string());
    match u.serving {
        Some(serving) => tracing::warn!(
            "{} version {version} cannot be read ({}); still serving version {serving}",
            u.table,
            u.error
        ),
        None => tracing::warn!(
            "{} version {version} cannot be read ({}); the pages that need it say so",
            u.table,
            u.error
        ),
    }
}

/// The customer index over the registered tables, and the snapshot.
async fn finish(
    ctx: SessionContext,
    seen: BTreeMap<Table, Option<u64>>,
    versions: BTreeMap<Table, Option<u64>>,
    columns: BTreeMap<Table, Vec<String>>,
    unreadable: Vec<Unreadable>,
    facts: Arc<FactSlot>,
) -> AppResult<Snapshot> {
    let has = |t: Table| versions.get(&t).copied().flatten().is_some();
    let empty = Vec::new();
    let columns_of = |t: Table| -> &[String] { columns.get(&t).unwrap_or(&empty) };
    let customers = CustomerIndex::build(
        &ctx,
        has(Table::Profile),
        columns_of(Table::DimCustomer),
        columns_of(Table::Segments),
    )
    .await?;
    tracing::info!(?versions, "dashboard snapshot loaded");
    Ok(Snapshot {
        ctx,
        versions,
        seen,
        unreadable: Arc::new(unreadable),
        columns: Arc::new(columns),
        checked: Instant::now(),
        derived: Arc::new(Derived {
            customers,
            overview: OnceCell::new(),
            category_names: OnceCell::new(),
        }),
        facts,
    })
}
