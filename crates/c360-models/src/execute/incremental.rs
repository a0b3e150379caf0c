//! `incremental` and `append` models: streams read from their stored offsets, the model's rows
//! merged (or appended) into its table, offsets committed with those rows.
//!
//! ```text
//! decide       incremental = compiled incrementally, table exists, no full refresh,
//!              and every streamed source was only appended to since its offset
//! streams      __stream_<model>__<source>_<table> = rows the source gained since the offset
//!              (every row when rebuilding)
//! rows         compiled_sql (incremental) or rebuild_sql (rebuild)
//! write        rebuild: one overwrite;  append: one append;
//!              incremental: MERGE on unique_key (delete flag, lookback, predicates)
//!              — each with the new offsets as Delta txns of the same commit
//! ```
//!
//! An offset recognises the source version it recorded (`c360_lake::StreamOffset`): a source
//! rolled back or restored under it makes the model rebuild, and the rebuild's overwrite
//! commit carries the offsets it read up to, so the next run starts from them.
//!
//! Because offsets and rows share one commit, a crash before it leaves the previous table and
//! the previous offsets: the next run reads the same new rows again, none lost, none doubled.

use std::collections::BTreeMap;
use std::sync::Arc;

use c360_lake::datafusion::arrow::datatypes::DataType;
use c360_lake::datafusion::common::{ScalarValue, TableReference};
use c360_lake::datafusion::datasource::MemTable;
use c360_lake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use c360_lake::datafusion::prelude::SessionContext;
use c360_lake::{Appends, Changes, Lake, LakeError, Layer, WriteMode};

use super::materialize::{target, Failure, Outcome};
use super::plan::ModelPlan;
use crate::config::{Materialization, ResolvedConfig};
use crate::manifest::ManifestNode;
use crate::render::stream_relation;

/// A streamed source (or model table) of one model, and where its offset is kept.
struct Stream {
    /// `source.<source>.<table>` or `model.<name>`, as in the manifest.
    id: String,
    /// The source's name, or the streamed model's layer.
    source: String,
    table: String,
    /// The Delta `txn` app id of the offset, in the model's table.
    app_id: String,
    /// Sources only receive appends; a model's table MERGEs too.
    appends: Appends,
}

impl Stream {
    /// `models` holds the nodes of the models this one streams, by id.
    fn parse(id: &str, models: &BTreeMap<String, &ManifestNode>) -> Result<Stream, Failure> {
        let (source, table, appends) = match id.split_once('.') {
            Some(("source", rest)) => match rest.split_once('.') {
                Some((source, table)) => (source.to_string(), table.to_string(), Appends::Only),
                None => return Err(Failure::Other(format!("'{id}' is not a source id"))),
            },
            Some(("model", _)) => {
                let model = models
                    .get(id)
                    .ok_or_else(|| Failure::Other(format!("{id} has no table to stream")))?;
                let (layer, table) = target(model)?;
                (layer.name().to_string(), table, Appends::OrMerges)
            }
            _ => {
                return Err(Failure::Other(format!(
                    "'{id}' is not a source or model id"
                )))
            }
        };
        Ok(Stream {
            id: id.to_string(),
            app_id: format!("c360.stream.{source}.{table}"),
            source,
            table,
            appends,
        })
    }

    fn layer(&self) -> Result<Layer, Failure> {
        Layer::from_name(&self.source).ok_or_else(|| {
            Failure::Other(format!(
                "stream('{}', '{}'): streams read lake tables; '{}' is not a lake layer",
                self.source, self.table, self.source
            ))
        })
    }
}

/// The least offset on `stream` that the upstream models streaming the same source hold, if
/// any holds one. A model reads its stream no further: it looks the rows it reads up in its
/// upstream tables, so a row they have not read yet would be missed (`c360 run --select
/// fct_transactions` alone after new bronze rows) and, once past its offset, never read again.
async fn upstream_offset(
    lake: &Lake,
    upstream_streams: &[&ManifestNode],
    stream: &Stream,
) -> Result<Option<u64>, Failure> {
    let mut cap: Option<u64> = None;
    for upstream in upstream_streams
        .iter()
        .filter(|n| n.streams.contains(&stream.id))
    {
        let (layer, name) = target(upstream)?;
        if let Some(offset) = lake.app_version(layer, &name, &stream.app_id).await? {
            let offset = u64::try_from(offset).unwrap_or(0);
            cap = Some(cap.map_or(offset, |cap| cap.min(offset)));
        }
    }
    Ok(cap)
}

/// Runs an incremental or append model. `rebuild` is the run's (or the model's) full refresh.
pub(crate) async fn run(
    ctx: &SessionContext,
    lake: &Lake,
    node: &ManifestNode,
    config: &ResolvedConfig,
    rebuild: bool,
    upstream_streams: &[&ManifestNode],
    streamed_models: &BTreeMap<String, &ManifestNode>,
) -> Result<Outcome, Failure> {
    let (layer, name) = target(node)?;
    let relation = format!("{layer}.{name}");
    let streams = node
        .streams
        .iter()
        .map(|id| Stream::parse(id, streamed_models))
        .collect::<Result<Vec<_>, _>>()?;

    let mut caps = Vec::new();
    for stream in &streams {
        caps.push(upstream_offset(lake, upstream_streams, stream).await?);
    }

    let mut incremental = node.is_incremental && !rebuild && lake.table_exists(layer, &name);
    let mut why_rebuild = None;
    let mut changes = Vec::new();
    if incremental {
        for (stream, &cap) in streams.iter().zip(&caps) {
            let since = lake.stream_offset(layer, &name, &stream.app_id).await?;
            if since.is_none() && stream.appends == Appends::OrMerges {
                // A table built before it streamed this model: every row of the model would
                // be a change, which a rebuild handles at a fraction of the cost.
                why_rebuild = Some(format!(
                    "it holds no offset on {}.{} yet",
                    stream.source, stream.table
                ));
                incremental = false;
                break;
            }
            match lake
                .changes_between(stream.layer()?, &stream.table, since, cap, stream.appends)
                .await?
            {
                Changes::Rewritten { why, .. } => {
                    why_rebuild = Some(format!(
                        "{}.{} {why} since this model last read it",
                        stream.source, stream.table
                    ));
                    incremental = false;
                    break;
                }
                rows @ Changes::Rows { .. } => changes.push((since, rows)),
            }
        }
    }
    if !incremental {
        changes.clear();
        for (stream, &cap) in streams.iter().zip(&caps) {
            changes.push((
                None,
                lake.changes_between(stream.layer()?, &stream.table, None, cap, stream.appends)
                    .await?,
            ));
        }
    }

    // Register each stream for this model only; offsets that moved go into the commit.
    let mut offsets: Vec<(String, i64)> = Vec::new();
    let mut registered = Vec::new();
    for (stream, (since, change)) in streams.iter().zip(changes) {
        let Changes::Rows { to, provider, .. } = change else {
            unreachable!("rewritten sources were turned into rebuilds above");
        };
        if since != Some(to) {
            offsets.extend(to.txns(&stream.app_id));
        }
        let reference =
            TableReference::bare(stream_relation(&node.name, &stream.source, &stream.table));
        ctx.deregister_table(reference.clone())?;
        ctx.register_table(reference.clone(), provider)?;
        registered.push(reference);
    }
    tracing::debug!(node = %node.name, incremental, "streams registered");
    let result = write(ctx, lake, node, config, incremental, &offsets).await;
    for reference in registered {
        ctx.deregister_table(reference)?;
    }
    let mut outcome = result?;
    lake.register_table(ctx, layer, &name).await?;
    if let Some(why) = why_rebuild {
        outcome.message = format!("{} (rebuilt: {why})", outcome.message);
    }
    outcome.message = outcome.message.replace("{relation}", &relation);
    Ok(outcome)
}

/// Writes the model's rows: rebuild, append or merge.
async fn write(
    ctx: &SessionContext,
    lake: &Lake,
    node: &ManifestNode,
    config: &ResolvedConfig,
    incremental: bool,
    offsets: &[(String, i64)],
) -> Result<Outcome, Failure> {
    let (layer, name) = target(node)?;
    let missing = || Failure::Other(format!("model {} has no compiled SQL", node.name));
    let sql = if incremental {
        node.compiled_sql.as_deref().ok_or_else(missing)?
    } else {
        node.rebuild_sql
            .as_deref()
            .or(node.compiled_sql.as_deref())
            .ok_or_else(missing)?
    };
    let flag = config.delete_flag_column.as_deref();
    let new_key_flag = config.new_key_flag_column.as_deref();

    if !incremental {
        // A full build keeps only rows not flagged for deletion, without the flag columns.
        let flags: Vec<String> = flag.into_iter().chain(new_key_flag).map(quote).collect();
        let sql = if flags.is_empty() {
            sql.to_string()
        } else {
            let kept = flag.map_or("true".to_string(), |f| {
                format!("NOT coalesce({}, false)", quote(f))
            });
            format!(
                "SELECT * EXCLUDE ({}) FROM ({sql}) WHERE {kept}",
                flags.join(", ")
            )
        };
        let frame = ctx.sql(&sql).await?;
        let out = super::layout::write_clustered(
            lake,
            layer,
            &name,
            WriteMode::Overwrite,
            frame,
            &config.cluster_by,
            offsets,
        )
        .await?;
        return Ok(Outcome::written("{relation}", "built", &out));
    }

    if node.materialized == Some(Materialization::Append) || config.unique_key.is_empty() {
        let plan = ModelPlan::new(ctx.sql(sql).await?).await?;
        let streams = plan.execute_partitioned()?;
        let out = lake
            .write_partitions(layer, &name, WriteMode::Append, streams, offsets)
            .await?;
        plan.finish(layer, &name);
        return Ok(Outcome::written("{relation}", "appended to", &out));
    }

    // MERGE: the run's rows are held in memory (one increment), so the lookback bound can be
    // computed from them without running the query twice.
    let frame = ctx.sql(sql).await?;
    let schema = Arc::new(frame.schema().as_arrow().clone());
    let plan = ModelPlan::new(frame).await?;
    let batches = plan.collect().await?;
    tracing::debug!(node = %node.name, "rows to merge computed");
    plan.finish(layer, &name);
    let mut merge = lake.merge(layer, &name, config.unique_key.clone());
    if let Some(flag) = flag {
        merge = merge.delete_flag(flag);
    }
    if let Some(flag) = new_key_flag {
        merge = merge.new_key_flag(flag);
    }
    // Laid out by one column: matched rows are looked for first where that column puts them.
    if let [column] = config.cluster_by.as_slice() {
        merge = merge.clustered_by(column.clone());
    }
    for predicate in &config.incremental_predicates {
        merge = merge.target_predicate(predicate.clone());
    }
    if let Some(lookback) = &config.merge_lookback {
        if let Some(bound) =
            lookback_bound(&schema, &batches, &lookback.column, lookback.days).await?
        {
            merge = merge.target_predicate(bound);
        }
    }
    for (app_id, version) in offsets {
        merge = merge.stream_offset(app_id.clone(), *version);
    }
    let rows = futures::stream::iter(batches.into_iter().map(Ok));
    let source = Box::pin(RecordBatchStreamAdapter::new(schema, rows));
    let out = merge.execute(source).await.map_err(|e| match e {
        // The model's columns changed since the table was built (a new project version):
        // a MERGE cannot add or change columns, a rebuild can.
        LakeError::SchemaMismatch { .. } => Failure::Other(format!(
            "{e}; the model's columns changed since its table was built: rebuild it with \
             --full-refresh"
        )),
        other => Failure::Lake(other),
    })?;
    let affected = out.inserted + out.updated + out.deleted;
    Ok(Outcome {
        rows_affected: Some(affected),
        table_version: out.version,
        ..Outcome::success(format!(
            "merged into {{relation}}: {} inserted, {} updated, {} deleted ({} files rewritten)",
            out.inserted, out.updated, out.deleted, out.files_rewritten
        ))
    })
}

/// `merge_lookback`: target rows may be touched only when `column` is at least the newest
/// incoming value minus `days` days. `None` when no row comes in.
async fn lookback_bound(
    schema: &c360_lake::datafusion::arrow::datatypes::SchemaRef,
    batches: &[c360_lake::datafusion::arrow::array::RecordBatch],
    column: &str,
    days: u32,
) -> Result<Option<String>, Failure> {
    let field = schema.field_with_name(column).map_err(|_| {
        Failure::Other(format!(
            "merge_lookback column '{column}' is not in the model's output"
        ))
    })?;
    let ctx = SessionContext::new();
    ctx.register_table(
        "rows",
        Arc::new(MemTable::try_new(schema.clone(), vec![batches.to_vec()])?),
    )?;
    let c = quote(column);
    let bound = ctx
        .sql(&format!(
            "SELECT CAST(CAST(max({c}) AS DATE) - INTERVAL '{days} days' AS VARCHAR) FROM rows"
        ))
        .await?
        .collect()
        .await?;
    let value = match bound.first() {
        Some(b) if b.num_rows() > 0 => ScalarValue::try_from_array(b.column(0), 0)?,
        _ => return Ok(None),
    };
    let date = match value {
        ScalarValue::Utf8(Some(d)) | ScalarValue::Utf8View(Some(d)) => d,
        _ => return Ok(None),
    };
    Ok(Some(match field.data_type() {
        DataType::Date32 | DataType::Date64 => format!("{c} >= DATE '{date}'"),
        DataType::Timestamp(_, _) => format!("{c} >= TIMESTAMP '{date} 00:00:00'"),
        other => {
            return Err(Failure::Other(format!(
                "merge_lookback column '{column}' must be a date or timestamp, not {other}"
            )))
        }
    }))
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
