//! MERGE into a table on a unique key: matched rows updated or deleted, new rows inserted, in
//! one atomic commit that only rewrites the files holding matched rows.
//!
//! ```text
//! lake.merge(layer, name, keys)         MergeBuilder    (delete flag, target limits, offsets)
//!     .execute(source).await            MergeOutcome    (one Delta commit, or none if no-op)
//! ```
//!
//! Plan (copy-on-write, like Delta's own MERGE):
//! 1. The source rows (one incremental run's output, held in memory) are checked: no key may
//!    be NULL and no key may appear twice — both are errors, nothing is written.
//! 2. The files that hold a matching target row are found by a join of the target (limited
//!    by the key range of the source, and by the caller's target predicate, e.g. a lookback
//!    window) with the source keys; file statistics skip every other file. A table laid out by
//!    a column ([`MergeBuilder::clustered_by`]) is searched first in the files whose range of
//!    it covers the source's values, and every file is searched only for the keys not found
//!    there (a row whose clustering value changed, or a key the target lacks). Source rows whose
//!    new-key flag is true (the caller's promise that the target cannot hold their key) are
//!    left out of that search and inserted as they are; when every source row carries it, no
//!    target file is read at all.
//! 3. Each matched target row is compared with its source row, reading full rows only from
//!    those files: a row whose every column is the same (NULL equal to NULL) stays where it
//!    is, so an increment that re-sends unchanged rows rewrites nothing.
//! 4. The files holding a changed or deleted row are rewritten without those rows, the new
//!    and changed source rows (minus those flagged for deletion) are added, and one commit
//!    removes the old files and adds the new.
//!
//! Keys match with `=`: since NULL keys are refused in the source, that is the same as a
//! NULL-safe match. A target row outside the target predicate is never touched, even when its
//! key matches (the predicate is the caller's promise that such rows cannot change).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use deltalake::datafusion::common::ScalarValue;
use deltalake::datafusion::datasource::MemTable;
use deltalake::datafusion::execution::SendableRecordBatchStream;
use deltalake::datafusion::prelude::SessionContext;
use deltalake::kernel::engine::arrow_conversion::TryIntoArrow;
use deltalake::protocol::{DeltaOperation, MergePredicate};
use futures::StreamExt;

use crate::session::{conform, delta_compatible};
use crate::{Lake, LakeError, Layer, Result, WriteMode};

/// File-path column added to target scans to find the files holding matched rows.
const FILE_COLUMN: &str = "__c360_file";

/// Configures a MERGE; made by [`Lake::merge`].
#[must_use]
pub struct MergeBuilder<'a> {
    lake: &'a Lake,
    layer: Layer,
    name: String,
    keys: Vec<String>,
    delete_flag: Option<String>,
    new_key_flag: Option<String>,
    target_predicates: Vec<String>,
    cluster_column: Option<String>,
    offsets: Vec<(String, i64)>,
    metadata: BTreeMap<String, serde_json::Value>,
}

/// What a MERGE did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeOutcome {
    /// The version committed (`None`: nothing to do, no commit).
    pub version: Option<u64>,
    /// Source rows inserted as new target rows.
    pub inserted: u64,
    /// Target rows replaced by a different source row (identical rows are left in place and
    /// not counted).
    pub updated: u64,
    /// Target rows deleted (matched by a source row flagged for deletion).
    pub deleted: u64,
    /// Files rewritten (removed and written again without their matched rows).
    pub files_rewritten: usize,
}

impl Lake {
    /// Starts a MERGE into the existing table `layer.name`, matching rows on `keys`.
    pub fn merge(&self, layer: Layer, name: &str, keys: Vec<String>) -> MergeBuilder<'_> {
        MergeBuilder {
            lake: self,
            layer,
            name: name.to_string(),
            keys,
            delete_flag: None,
            new_key_flag: None,
            target_predicates: Vec::new(),
            cluster_column: None,
            offsets: Vec::new(),
            metadata: BTreeMap::new(),
        }
    }
}

impl MergeBuilder<'_> {
    /// A boolean column of the source: a matched target row whose source row has it true is
    /// deleted, and such a source row is never inserted. The column is not stored.
    pub fn delete_flag(mut self, column: impl Into<String>) -> Self {
        self.delete_flag = Some(column.into());
        self
    }

    /// A boolean column of the source: a source row with it true carries a key the target does
    /// not hold — the caller's promise, not checked — so it is inserted without its key being
    /// looked up in the target. The column is not stored.
    pub fn new_key_flag(mut self, column: impl Into<String>) -> Self {
        self.new_key_flag = Some(column.into());
        self
    }

    /// A SQL condition on target columns; only target rows satisfying it may be updated or
    /// deleted (and only files that may hold such rows are read). Several are ANDed.
    pub fn target_predicate(mut self, sql: impl Into<String>) -> Self {
        self.target_predicates.push(sql.into());
        self
    }

    /// The column the target's files are laid out by (`cluster_by`). Matched rows are looked
    /// for first in the files whose statistics of it cover the source rows' values, where a
    /// row that kept its value is; only the keys not found there are looked up in every file.
    /// Ignored when the source lacks the column. The result is the same; only the files read
    /// differ (a key lookup in a table laid out by date reads a few dates' files, not all).
    pub fn clustered_by(mut self, column: impl Into<String>) -> Self {
        self.cluster_column = Some(column.into());
        self
    }

    /// Records `(app_id, version)` as a Delta `txn` in the commit: a stream offset, recorded
    /// whatever an earlier commit recorded (see [`crate::TableWriterBuilder::stream_offset`]).
    pub fn stream_offset(mut self, app_id: impl Into<String>, version: i64) -> Self {
        self.offsets.push((app_id.into(), version));
        self
    }

    /// Stores `value` under `key` in the commit's metadata.
    pub fn commit_metadata(mut self, key: impl Into<String>, value: serde_json::Value) -> Self {
        self.metadata.insert(key.into(), value);
        self
    }

    /// Runs the merge with the rows of `source`.
    pub async fn execute(self, mut source: SendableRecordBatchStream) -> Result<MergeOutcome> {
        let MergeBuilder {
            lake,
            layer,
            name,
            keys,
            delete_flag,
            new_key_flag,
            target_predicates,
            cluster_column,
            offsets,
            metadata,
        } = self;
        let table_name = format!("{layer}.{name}");
        let read_err = |message: String| LakeError::Read {
            table: table_name.clone(),
            message,
        };
        let df_err = |e: deltalake::datafusion::error::DataFusionError| read_err(e.to_string());

        // 1. The source, in memory, conformed to Delta types.
        let source_schema = delta_compatible(&source.schema());
        let mut batches: Vec<RecordBatch> = Vec::new();
        while let Some(batch) = source.next().await {
            let batch = batch.map_err(df_err)?;
            if batch.num_rows() > 0 {
                batches.push(conform(batch, &source_schema)?);
            }
        }
        for key in &keys {
            let index = source_schema
                .index_of(key)
                .map_err(|_| LakeError::MergeKey {
                    table: table_name.clone(),
                    message: format!("unique_key column '{key}' is not in the model's output"),
                })?;
            let nulls: usize = batches.iter().map(|b| b.column(index).null_count()).sum();
            if nulls > 0 {
                return Err(LakeError::MergeKey {
                    table: table_name.clone(),
                    message: format!(
                        "{nulls} row(s) have a NULL unique_key column '{key}'; keys must not be NULL"
                    ),
                });
            }
        }
        let flags: Vec<(&str, &String)> = [
            ("delete flag", &delete_flag),
            ("new-key flag", &new_key_flag),
        ]
        .into_iter()
        .filter_map(|(what, column)| column.as_ref().map(|c| (what, c)))
        .collect();
        for (what, column) in &flags {
            source_schema
                .index_of(column)
                .map_err(|_| LakeError::MergeKey {
                    table: table_name.clone(),
                    message: format!("{what} column '{column}' is not in the model's output"),
                })?;
        }
        let target_schema: SchemaRef = Arc::new(Schema::new(
            source_schema
                .fields()
                .iter()
                .filter(|f| !flags.iter().any(|(_, column)| *column == f.name()))
                .cloned()
                .collect::<Vec<_>>(),
        ));

        let table = lake.open_existing(layer, &name).await?;
        let state = table
            .snapshot()
            .map_err(|e| LakeError::delta(layer, &name, e))?;
        let current: Schema = state
            .schema()
            .as_ref()
            .try_into_arrow()
            .map_err(|e| LakeError::delta(layer, &name, e.into()))?;
        if let Some(detail) = crate::write::schema_differs(&current, &target_schema) {
            return Err(LakeError::SchemaMismatch {
                table: table_name.clone(),
                detail,
            });
        }

        let ctx = lake.session_context();
        build_joins_on_source(&ctx);
        table
            .update_datafusion_session(&ctx.state())
            .map_err(|e| LakeError::delta(layer, &name, e))?;
        let memtable = MemTable::try_new(source_schema.clone(), vec![batches]).map_err(df_err)?;
        ctx.register_table("__source", Arc::new(memtable))
            .map_err(df_err)?;
        // The source rows whose keys are looked up in the target.
        let lookup_filter = match &new_key_flag {
            Some(flag) => format!("NOT coalesce({}, false)", quote(flag)),
            None => "true".to_string(),
        };
        create_view(
            &ctx,
            "__lookup",
            &format!("SELECT * FROM __source WHERE {lookup_filter}"),
        )
        .await
        .map_err(df_err)?;
        let lookups = scalar_u64(&ctx, "SELECT count(*) FROM __lookup")
            .await
            .map_err(df_err)?;
        let target = table
            .table_provider()
            .with_file_column(FILE_COLUMN)
            .await
            .map_err(df_err)?;
        ctx.register_table("__target", target).map_err(df_err)?;

        let quoted_keys: Vec<String> = keys.iter().map(|k| quote(k)).collect();
        let key_list = quoted_keys.join(", ");
        let duplicates = scalar_u64(
            &ctx,
            &format!(
                "SELECT count(*) FROM (SELECT {key_list} FROM __source GROUP BY {key_list} HAVING count(*) > 1)"
            ),
        )
        .await
        .map_err(df_err)?;
        if duplicates > 0 {
            return Err(LakeError::MergeKey {
                table: table_name.clone(),
                message: format!(
                    "{duplicates} unique_key value(s) appear more than once in the model's output"
                ),
            });
        }

        // 2. The target rows the merge may touch, and the files holding them.
        let flag_true = match &delete_flag {
            Some(flag) => format!("coalesce(s.{}, false)", quote(flag)),
            None => "false".to_string(),
        };
        let join_on = keys_equal(&quoted_keys, "t", "s");
        let limits: Vec<String> = target_predicates.iter().map(|p| format!("({p})")).collect();
        let s_keys = quoted_keys
            .iter()
            .map(|k| format!("s.{k}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut candidate_files: BTreeSet<String> = BTreeSet::new();
        // The lookups not found yet: all of them, or those the clustered search left.
        let mut unmatched = (lookups > 0).then_some("__lookup");
        let near = match &cluster_column {
            Some(column) if lookups > 0 && source_schema.index_of(column).is_ok() => {
                key_range(&ctx, "__lookup", column).await.map_err(df_err)?
            }
            _ => None,
        };
        if let Some(near) = near {
            let filter = conjunction(limits.iter().chain([&near]));
            cache_view(
                &ctx,
                "__found",
                &format!(
                    "SELECT CAST(t.{FILE_COLUMN} AS VARCHAR) AS file, {s_keys} FROM \
                     __lookup s JOIN (SELECT * FROM __target WHERE {filter}) t ON {join_on}"
                ),
            )
            .await
            .map_err(df_err)?;
            candidate_files.extend(
                strings(&ctx, "SELECT DISTINCT file FROM __found")
                    .await
                    .map_err(df_err)?,
            );
            let found = scalar_u64(&ctx, "SELECT count(*) FROM __found")
                .await
                .map_err(df_err)?;
            unmatched = (found < lookups).then_some("__unmatched");
            if unmatched.is_some() {
                let found_on = keys_equal(&quoted_keys, "s", "f");
                create_view(
                    &ctx,
                    "__unmatched",
                    &format!("SELECT s.* FROM __lookup s LEFT ANTI JOIN __found f ON {found_on}"),
                )
                .await
                .map_err(df_err)?;
            }
        }
        if let Some(lookup) = unmatched {
            let mut limits = limits.clone();
            if let Some(range) = key_range(&ctx, lookup, &keys[0]).await.map_err(df_err)? {
                limits.push(range);
            }
            let target_filter = conjunction(&limits);
            let sql = format!(
                "SELECT DISTINCT CAST(t.{FILE_COLUMN} AS VARCHAR) AS file FROM \
                 {lookup} s JOIN (SELECT * FROM __target WHERE {target_filter}) t ON {join_on}"
            );
            candidate_files.extend(strings(&ctx, &sql).await.map_err(df_err)?);
        }
        let candidate_files: Vec<String> = candidate_files.into_iter().collect();
        // Target rows the comparison below may touch: the caller's predicates (the files are
        // already limited to those holding a matched row).
        let target_filter = conjunction(&limits);

        // 3. Compare each matched row with its source row (full rows, read only from the files
        //    found above): an identical row is left where it is, so re-sending unchanged rows
        //    rewrites nothing. The files to rewrite hold a changed or deleted row.
        let columns = target_schema
            .fields()
            .iter()
            .map(|f| quote(f.name()))
            .collect::<Vec<_>>();
        let mut files: Vec<String> = Vec::new();
        let (mut updated, mut deleted, mut unchanged) = (0u64, 0u64, 0u64);
        if !candidate_files.is_empty() {
            let candidates = table
                .table_provider()
                .with_file_paths(candidate_files)
                .with_file_column(FILE_COLUMN)
                .await
                .map_err(df_err)?;
            ctx.register_table("__candidates", candidates)
                .map_err(df_err)?;
            let same = columns
                .iter()
                .map(|c| format!("(t.{c} IS NOT DISTINCT FROM s.{c})"))
                .collect::<Vec<_>>()
                .join(" AND ");
            cache_view(
                &ctx,
                "__compared",
                &format!(
                    "SELECT CAST(t.{FILE_COLUMN} AS VARCHAR) AS file, {flag_true} AS del, \
                     ({same}) AS same, {s_keys} FROM \
                     __lookup s JOIN (SELECT * FROM __candidates WHERE {target_filter}) t ON {join_on}"
                ),
            )
            .await
            .map_err(df_err)?;
            let counts = ctx
                .sql(
                    "SELECT count(*) FILTER (WHERE NOT del AND NOT same), \
                     count(*) FILTER (WHERE del), count(*) FILTER (WHERE NOT del AND same) \
                     FROM __compared",
                )
                .await
                .map_err(df_err)?
                .collect()
                .await
                .map_err(df_err)?;
            if let Some(batch) = counts.first().filter(|b| b.num_rows() > 0) {
                let value = |col: usize| ScalarValue::try_from_array(batch.column(col), 0);
                updated = as_u64(&value(0).map_err(df_err)?);
                deleted = as_u64(&value(1).map_err(df_err)?);
                unchanged = as_u64(&value(2).map_err(df_err)?);
            }
            files = strings(
                &ctx,
                "SELECT DISTINCT file FROM __compared WHERE del OR NOT same ORDER BY file",
            )
            .await
            .map_err(df_err)?;
        } else {
            // No matches: register an empty comparison so the SQL below has one shape.
            create_view(
                &ctx,
                "__compared",
                &format!(
                    "SELECT {key_list}, false AS del, false AS same FROM __lookup WHERE false"
                ),
            )
            .await
            .map_err(df_err)?;
        }
        // Source rows written: not flagged for deletion and not identical to their target row.
        let kept_source = format!(
            "SELECT s.* FROM __source s LEFT ANTI JOIN \
             (SELECT {key_list} FROM __compared WHERE same AND NOT del) u ON {unchanged_on} \
             WHERE NOT {flag_true}",
            unchanged_on = keys_equal(&quoted_keys, "s", "u")
        );
        let inserted = scalar_u64(
            &ctx,
            &format!("SELECT count(*) FROM __source s WHERE NOT {flag_true}"),
        )
        .await
        .map_err(df_err)?
            - updated
            - unchanged;
        if files.is_empty() && inserted == 0 && offsets.is_empty() {
            return Ok(MergeOutcome::default());
        }

        // 4. Rewrite those files without their changed or deleted rows, add the source rows.
        let t_columns = columns
            .iter()
            .map(|c| format!("t.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let s_columns = columns
            .iter()
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut writer = lake
            .writer(layer, &name, target_schema.clone())
            .mode(WriteMode::Append);
        for (app, version) in offsets {
            writer = writer.stream_offset(app, version);
        }
        for (key, value) in metadata {
            writer = writer.commit_metadata(key, value);
        }
        let mut writer = writer.begin().await?;
        let mut sink = writer.file_sink()?;
        if !files.is_empty() {
            let rewritten = table
                .table_provider()
                .with_file_paths(files.clone())
                .await
                .map_err(df_err)?;
            ctx.register_table("__rewritten", rewritten)
                .map_err(df_err)?;
            // Rows outside the target predicate are kept even when their key matches.
            let touchable = if limits.is_empty() {
                "true".to_string()
            } else {
                format!("coalesce({}, false)", conjunction(&limits))
            };
            let kept = format!(
                "SELECT {t_columns} FROM \
                 (SELECT {key_list} FROM __compared WHERE del OR NOT same) s \
                 RIGHT ANTI JOIN (SELECT *, {touchable} AS __c360_touchable FROM __rewritten) t \
                 ON {join_on} AND t.__c360_touchable"
            );
            let mut rows = ctx
                .sql(&kept)
                .await
                .map_err(df_err)?
                .execute_stream()
                .await
                .map_err(df_err)?;
            while let Some(batch) = rows.next().await {
                let batch = batch.map_err(df_err)?;
                if batch.num_rows() > 0 {
                    sink.write(conform(batch, &target_schema)?).await?;
                }
            }
        }
        let mut rows = ctx
            .sql(&format!("SELECT {s_columns} FROM ({kept_source}) s"))
            .await
            .map_err(df_err)?
            .execute_stream()
            .await
            .map_err(df_err)?;
        while let Some(batch) = rows.next().await {
            let batch = batch.map_err(df_err)?;
            if batch.num_rows() > 0 {
                sink.write(conform(batch, &target_schema)?).await?;
            }
        }
        writer.stage(0, sink.finish().await?);

        let log_store = table.log_store();
        let mut removes = Vec::new();
        let mut views = state.snapshot().file_views(log_store.as_ref(), None);
        while let Some(view) = views.next().await {
            let view = view.map_err(|e| LakeError::delta(layer, &name, e))?;
            let path = view.path().to_string();
            if files
                .iter()
                .any(|f| f == &path || f.ends_with(&format!("/{path}")))
            {
                removes.push(view.remove_action(true));
            }
        }
        if removes.len() != files.len() {
            return Err(LakeError::Internal(format!(
                "merge into {table_name}: {} file(s) to rewrite, {} found in the log",
                files.len(),
                removes.len()
            )));
        }
        let files_rewritten = removes.len();
        writer.replace_files(
            removes,
            DeltaOperation::Merge {
                predicate: Some(target_filter.clone()),
                merge_predicate: Some(join_on.clone()),
                matched_predicates: vec![MergePredicate {
                    action_type: "update".into(),
                    predicate: None,
                }],
                not_matched_predicates: vec![MergePredicate {
                    action_type: "insert".into(),
                    predicate: None,
                }],
                not_matched_by_source_predicates: Vec::new(),
            },
        );
        let out = writer.commit().await?;
        Ok(MergeOutcome {
            version: Some(out.version),
            inserted,
            updated,
            deleted,
            files_rewritten,
        })
    }
}

/// Every join of a MERGE pairs the source, held in memory and small next to the target, with
/// target rows: the source is written on the left of each join, and the hash table is always
/// built on that side (one partition, never the target's). The target is then streamed past
/// it, and the join's dynamic filter is evaluated while the target's Parquet is decoded, so
/// full target rows are decoded only where a key matches. DataFusion's default would hash-
/// partition both sides once the source passes 1 MB (a day of transactions does), shuffling
/// every candidate row of the target between partitions.
fn build_joins_on_source(ctx: &SessionContext) {
    let state = ctx.state_ref();
    let mut state = state.write();
    let optimizer = &mut state.config_mut().options_mut().optimizer;
    optimizer.hash_join_single_partition_threshold = usize::MAX;
    optimizer.hash_join_single_partition_threshold_rows = usize::MAX;
}

/// `"name"`, for SQL.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `t.key BETWEEN min AND max` over the keys of `source`, as SQL literals so the scan of the
/// target can skip files by their statistics; `None` when the source is empty or the key's
/// type has no simple literal.
async fn key_range(
    ctx: &SessionContext,
    source: &str,
    key: &str,
) -> std::result::Result<Option<String>, deltalake::datafusion::error::DataFusionError> {
    let k = quote(key);
    let batches = ctx
        .sql(&format!("SELECT min({k}), max({k}) FROM {source}"))
        .await?
        .collect()
        .await?;
    let Some(batch) = batches.first() else {
        return Ok(None);
    };
    let min = ScalarValue::try_from_array(batch.column(0), 0)?;
    let max = ScalarValue::try_from_array(batch.column(1), 0)?;
    let literal = |v: &ScalarValue| -> Option<String> {
        match v {
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)) => Some(format!("'{}'", s.replace('\'', "''"))),
            ScalarValue::Int64(Some(n)) => Some(n.to_string()),
            ScalarValue::Int32(Some(n)) => Some(n.to_string()),
            ScalarValue::Date32(Some(_)) => Some(format!("DATE '{v}'")),
            _ => None,
        }
    };
    Ok(match (literal(&min), literal(&max)) {
        (Some(lo), Some(hi)) => Some(format!("({k} >= {lo} AND {k} <= {hi})")),
        _ => None,
    })
}

/// `a.k = b.k AND ...` over the (quoted) key columns.
fn keys_equal(quoted_keys: &[String], a: &str, b: &str) -> String {
    quoted_keys
        .iter()
        .map(|k| format!("{a}.{k} = {b}.{k}"))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The SQL conditions ANDed (`true` for none).
fn conjunction<'a>(conditions: impl IntoIterator<Item = &'a String>) -> String {
    let parts: Vec<&str> = conditions.into_iter().map(String::as_str).collect();
    if parts.is_empty() {
        "true".to_string()
    } else {
        parts.join(" AND ")
    }
}

/// Registers `sql` as view `name`: evaluated again by every query that reads it.
async fn create_view(
    ctx: &SessionContext,
    name: &str,
    sql: &str,
) -> std::result::Result<(), deltalake::datafusion::error::DataFusionError> {
    ctx.sql(&format!("CREATE VIEW {name} AS {sql}"))
        .await?
        .collect()
        .await?;
    Ok(())
}

/// Evaluates `sql` once, keeps the rows in memory and registers them as `name`.
async fn cache_view(
    ctx: &SessionContext,
    name: &str,
    sql: &str,
) -> std::result::Result<(), deltalake::datafusion::error::DataFusionError> {
    let rows = ctx.sql(sql).await?.cache().await?;
    ctx.register_table(name, rows.into_view())?;
    Ok(())
}

/// The values of the first (string) column `sql` returns, NULLs skipped.
async fn strings(
    ctx: &SessionContext,
    sql: &str,
) -> std::result::Result<Vec<String>, deltalake::datafusion::error::DataFusionError> {
    let batches = ctx.sql(sql).await?.collect().await?;
    let mut out = Vec::new();
    for batch in &batches {
        for row in 0..batch.num_rows() {
            if let ScalarValue::Utf8(Some(v)) | ScalarValue::Utf8View(Some(v)) =
                ScalarValue::try_from_array(batch.column(0), row)?
            {
                out.push(v);
            }
        }
    }
    Ok(out)
}

/// The single integer a `SELECT count(*) ...` returns.
async fn scalar_u64(
    ctx: &SessionContext,
    sql: &str,
) -> std::result::Result<u64, deltalake::datafusion::error::DataFusionError> {
    let batches = ctx.sql(sql).await?.collect().await?;
    Ok(batches
        .first()
        .filter(|b| b.num_rows() > 0)
        .map(|b| ScalarValue::try_from_array(b.column(0), 0))
        .transpose()?
        .map_or(0, |v| as_u64(&v)))
}

fn as_u64(value: &ScalarValue) -> u64 {
    match value {
        ScalarValue::Int64(Some(n)) => *n as u64,
        ScalarValue::UInt64(Some(n)) => *n,
        _ => 0,
    }
}
