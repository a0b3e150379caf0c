//! The lake inside a DataFusion session: every Delta table registered as `<layer>.<name>`, and
//! a query's result streamed into one atomic table write.
//!
//! The model engine owns the [`SessionContext`]; this module only knows how to put the lake's
//! tables into it and how to turn a [`SendableRecordBatchStream`] into a Delta commit, so no
//! other crate needs delta-rs.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use deltalake::datafusion::catalog::MemorySchemaProvider;
use deltalake::datafusion::common::tree_node::TreeNodeRecursion;
use deltalake::datafusion::common::TableReference;
use deltalake::datafusion::execution::SendableRecordBatchStream;
use deltalake::datafusion::logical_expr::LogicalPlan;
use deltalake::datafusion::prelude::SessionContext;
use futures::StreamExt;

use crate::month_files::PartitionFiles;
use crate::{Lake, LakeError, Layer, Result, WriteMode, WriteOutcome};

/// The tables [`Lake::register_all`] put in a session, and the ones it could not read.
#[derive(Debug, Default, Clone)]
pub struct Registered {
    /// `layer.name` of every registered table, sorted.
    pub tables: Vec<String>,
    /// `layer.name` → why it cannot be read; these are not registered.
    pub unreadable: BTreeMap<String, String>,
}

impl Registered {
    /// When `sql` names a table that could not be read, the error saying so: a statement
    /// over it fails with why, not with "table not found".
    pub fn explain(&self, sql: &str) -> Option<LakeError> {
        let sql = sql.to_ascii_lowercase().replace('"', "");
        self.unreadable
            .iter()
            .find(|(table, _)| sql.contains(table.as_str()))
            .map(|(table, message)| LakeError::Unreadable {
                table: table.clone(),
                message: message.clone(),
            })
    }
}

/// The lake tables (`layer.name`) a plan scans, subqueries included, in order of first scan.
pub(crate) fn scanned_tables(plan: &LogicalPlan) -> Vec<(Layer, String)> {
    let mut out: Vec<(Layer, String)> = Vec::new();
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let layer = scan.table_name.schema().and_then(Layer::from_name);
            if let Some(layer) = layer {
                let table = (layer, scan.table_name.table().to_string());
                if !out.contains(&table) {
                    out.push(table);
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    out
}

/// The catalog DataFusion registers tables in by default.
const DEFAULT_CATALOG: &str = "datafusion";

impl Lake {
    /// Runs one read-only SQL statement over every table of the lake, addressed as
    /// `layer.table` (`SELECT * FROM gold.dim_customer`), and returns at most `limit` rows.
    /// DDL, DML and `SET` statements are refused. A statement over a table that cannot be read,
    /// or whose data files are missing, fails naming that table (even when statistics alone
    /// could answer it, as `count(*)` can).
    pub async fn query(&self, sql: &str, limit: Option<usize>) -> Result<Vec<RecordBatch>> {
        use deltalake::datafusion::execution::context::SQLOptions;
        let ctx = self.session_context();
        let registered = self.register_all(&ctx).await?;
        let read_only = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let query_err =
            |e: deltalake::datafusion::error::DataFusionError| LakeError::Query(e.to_string());
        let mut frame = match ctx.sql_with_options(sql, read_only).await {
            Ok(frame) => frame,
            Err(e) => return Err(registered.explain(sql).unwrap_or_else(|| query_err(e))),
        };
        for (layer, name) in scanned_tables(frame.logical_plan()) {
            self.check_files(layer, &name).await?;
        }
        if let Some(limit) = limit {
            frame = frame.limit(0, Some(limit)).map_err(query_err)?;
        }
        frame.collect().await.map_err(query_err)
    }

    /// Registers every existing Delta table of the lake in `ctx` as `<layer>.<name>` (schemas
    /// `bronze`, `silver` and `gold` of the default catalog are created, even when empty, so
    /// later registrations and `CREATE VIEW`s have somewhere to go). A table that cannot be
    /// opened (a damaged log) is left out with a warning and listed in
    /// [`Registered::unreadable`], so one broken table does not stop queries of the others.
    pub async fn register_all(&self, ctx: &SessionContext) -> Result<Registered> {
        ensure_schemas(ctx)?;
        let mut out = Registered::default();
        for (layer, name) in self.table_names() {
            let table = format!("{layer}.{name}");
            match self.register_table(ctx, layer, &name).await {
                Ok(true) => out.tables.push(table),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(%table, error = %e, "the table cannot be read; left out");
                    out.unreadable.insert(table, e.to_string());
                }
            }
        }
        Ok(out)
    }

    /// Registers (or re-registers, replacing an earlier registration) table `layer.name` at its
    /// latest version in `ctx`. Returns `false` when the table does not exist.
    pub async fn register_table(
        &self,
        ctx: &SessionContext,
        layer: Layer,
        name: &str,
    ) -> Result<bool> {
        ensure_schemas(ctx)?;
        let Some(table) = self.open(layer, name).await? else {
            return Ok(false);
        };
        let df_err = |e: deltalake::datafusion::error::DataFusionError| LakeError::Read {
            table: format!("{layer}.{name}"),
            message: e.to_string(),
        };
        table
            .update_datafusion_session(&ctx.state())
            .map_err(|e| LakeError::delta(layer, name, e))?;
        let provider = table.table_provider().await.map_err(df_err)?;
        let reference = TableReference::partial(layer.name(), name);
        ctx.deregister_table(reference.clone()).map_err(df_err)?;
        ctx.register_table(reference, provider).map_err(df_err)?;
        Ok(true)
    }

    /// Streams a query result into `layer.name` as one atomic commit (one [`crate::FileSink`]).
    /// The table is created on first write. Column types Delta cannot store as they are are
    /// widened first: string and binary views become plain strings and binaries, timestamps of
    /// any unit become microseconds.
    pub async fn write_stream(
        &self,
        layer: Layer,
        name: &str,
        mode: WriteMode,
        stream: SendableRecordBatchStream,
    ) -> Result<WriteOutcome> {
        self.write_stream_with_offsets(layer, name, mode, stream, &[])
            .await
    }

    /// [`Lake::write_stream`], also recording `(app_id, version)` `txn`s (stream offsets, see
    /// [`Lake::changes_since`]) in the same commit.
    pub async fn write_stream_with_offsets(
        &self,
        layer: Layer,
        name: &str,
        mode: WriteMode,
        stream: SendableRecordBatchStream,
        offsets: &[(String, i64)],
    ) -> Result<WriteOutcome> {
        self.write_partitions(layer, name, mode, vec![stream], offsets)
            .await
    }

    /// Streams the partitions of a query result (`DataFrame::execute_stream_partitioned`)
    /// into one atomic write, encoding each partition's Parquet files on its own task, so
    /// every core encodes. Files are ordered by partition in the commit. Records `offsets` as
    /// `txn`s of the same commit. All partitions must have the same schema.
    pub async fn write_partitions(
        &self,
        layer: Layer,
        name: &str,
        mode: WriteMode,
        streams: Vec<SendableRecordBatchStream>,
        offsets: &[(String, i64)],
    ) -> Result<WriteOutcome> {
        self.write_laid_out(layer, name, mode, streams, offsets, None)
            .await
    }

    /// [`Lake::write_partitions`], with every file holding the rows of one calendar month of
    /// the DATE column `date_column` (see `month_files`); files are ordered by month, then
    /// partition, in the commit.
    pub async fn write_partitions_by_month(
        &self,
        layer: Layer,
        name: &str,
        mode: WriteMode,
        streams: Vec<SendableRecordBatchStream>,
        offsets: &[(String, i64)],
        date_column: &str,
    ) -> Result<WriteOutcome> {
        self.write_laid_out(layer, name, mode, streams, offsets, Some(date_column))
            .await
    }

    async fn write_laid_out(
        &self,
        layer: Layer,
        name: &str,
        mode: WriteMode,
        streams: Vec<SendableRecordBatchStream>,
        offsets: &[(String, i64)],
        date_column: Option<&str>,
    ) -> Result<WriteOutcome> {
        let Some(first) = streams.first() else {
            return Err(LakeError::Internal(format!(
                "write to {layer}.{name} without a stream"
            )));
        };
        let target = delta_file_schema(&first.schema());
        let date_column = date_column
            .map(|c| {
                target.index_of(c).map_err(|_| {
                    LakeError::Internal(format!("{layer}.{name} has no column '{c}' to lay out by"))
                })
            })
            .transpose()?;
        let mut builder = self
            .writer(layer, name, delta_compatible(&target))
            .file_schema(target.clone())
            .mode(mode);
        for (app_id, version) in offsets {
            builder = builder.stream_offset(app_id.clone(), *version);
        }
        let mut writer = builder.begin().await?;
        let mut tasks = Vec::with_capacity(streams.len());
        for mut stream in streams {
            let sinks = writer.sink_factory();
            let target = target.clone();
            let table = format!("{layer}.{name}");
            tasks.push(tokio::spawn(async move {
                let mut files = PartitionFiles::new(sinks, date_column);
                while let Some(batch) = stream.next().await {
                    let batch = batch.map_err(|e| LakeError::Read {
                        table: table.clone(),
                        message: e.to_string(),
                    })?;
                    if batch.num_rows() == 0 {
                        continue;
                    }
                    files.write(conform(batch, &target)?).await?;
                }
                files.finish().await
            }));
        }
        let mut staged = BTreeMap::new();
        for (partition, task) in tasks.into_iter().enumerate() {
            let files = task
                .await
                .map_err(|e| LakeError::Internal(format!("a write task failed: {e}")))??;
            for (month, files) in files {
                staged.insert((month, partition), files);
            }
        }
        for (part, files) in staged.into_values().enumerate() {
            writer.stage(part, files);
        }
        writer.commit().await
    }
}

/// A join whose smaller side is estimated below this size (and DataFusion's 128K rows) builds one
/// hash table that every partition of the other side probes, instead of hash-partitioning both
/// sides. DataFusion's 1 MB default repartitioned the 13.5M-row fact by customer_id (a copy of
/// every row) to join the 50K-row, ~10 MB dim_customer: 1 CPU-second of its ~17.
const BROADCAST_JOIN_BYTES: usize = 32 * 1024 * 1024;

impl Lake {
    /// A DataFusion session tuned for lake tables, drawing from the lake's memory pool
    /// ([`Lake::with_memory_limit`]): small join sides are broadcast (see
    /// [`BROADCAST_JOIN_BYTES`]), and Parquet filters are evaluated while decoding (late
    /// materialisation: a selective filter, or a join's dynamic filter, decodes the other
    /// columns only for the rows that pass), cheapest filters first; the build side of a hash
    /// join keeps only its own text (`compact.rs`). It has the aggregate `median_of_lists`
    /// (`median.rs`).
    pub fn session_context(&self) -> SessionContext {
        let mut config = deltalake::datafusion::prelude::SessionConfig::new();
        let options = config.options_mut();
        options.execution.parquet.pushdown_filters = true;
        options.execution.parquet.reorder_filters = true;
        options.optimizer.hash_join_single_partition_threshold = BROADCAST_JOIN_BYTES;
        if let crate::MemoryLimit::Bytes(limit) = self.memory_limit() {
            // A sort sets this much aside per partition to merge its spilled runs (10 MB by
            // default): under a small limit that reservation alone would fail the sort.
            let execution = &mut options.execution;
            execution.sort_spill_reservation_bytes =
                execution.sort_spill_reservation_bytes.min(limit / 16);
        }
        let state = deltalake::datafusion::execution::SessionStateBuilder::new()
            .with_default_features()
            .with_config(config)
            .with_runtime_env(self.runtime.clone())
            .with_physical_optimizer_rule(Arc::new(crate::compact::CompactJoinViews))
            .build();
        let ctx = SessionContext::new_with_state(state);
        ctx.register_udaf(crate::median::median_of_lists());
        ctx
    }
}

/// Creates the `bronze`, `silver` and `gold` schemas in the default catalog when missing.
fn ensure_schemas(ctx: &SessionContext) -> Result<()> {
    let catalog = ctx.catalog(DEFAULT_CATALOG).ok_or_else(|| {
        LakeError::Internal(format!("session has no '{DEFAULT_CATALOG}' catalog"))
    })?;
    for layer in Layer::ALL {
        if catalog.schema(layer.name()).is_none() {
            catalog
                .register_schema(layer.name(), Arc::new(MemorySchemaProvider::new()))
                .map_err(|e| LakeError::Internal(e.to_string()))?;
        }
    }
    Ok(())
}

/// The schema a Delta table stores for `schema` (see [`Lake::write_stream`]).
pub(crate) fn delta_compatible(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let ty = match f.data_type() {
                DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
                DataType::BinaryView | DataType::LargeBinary => DataType::Binary,
                DataType::Timestamp(_, tz) => {
                    DataType::Timestamp(TimeUnit::Microsecond, tz.clone())
                }
                DataType::Date64 => DataType::Date32,
                // Delta names a list's item `element` (and reads it back so): a list written
                // under DataFusion's `item` would not match the table's schema on a later write.
                DataType::List(item) | DataType::LargeList(item) => DataType::List(Arc::new(
                    Field::new("element", item.data_type().clone(), true),
                )),
                other => other.clone(),
            };
            // Query results often claim non-null columns; a table must accept later writes.
            Field::new(f.name(), ty, true)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// [`delta_compatible`], but string and binary views stay views: the Parquet encoding of a
/// view column is the same as of its plain column, and skipping the cast saves copying every
/// string of a write (see [`TableWriterBuilder::file_schema`](crate::TableWriterBuilder::file_schema)).
pub(crate) fn delta_file_schema(schema: &SchemaRef) -> SchemaRef {
    let compatible = delta_compatible(schema);
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .zip(compatible.fields())
        .map(|(f, c)| match f.data_type() {
            DataType::Utf8View | DataType::BinaryView => {
                c.as_ref().clone().with_data_type(f.data_type().clone())
            }
            _ => c.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// Casts `batch` to `target` (same columns, compatible types).
pub(crate) fn conform(batch: RecordBatch, target: &SchemaRef) -> Result<RecordBatch> {
    if batch.schema().as_ref() == target.as_ref() {
        return Ok(batch);
    }
    let columns = batch
        .columns()
        .iter()
        .zip(target.fields())
        .map(|(col, field)| {
            if col.data_type() == field.data_type() {
                Ok(col.clone())
            } else {
                arrow::compute::cast(col, field.data_type())
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| LakeError::Internal(format!("casting a batch for Delta: {e}")))?;
    RecordBatch::try_new(target.clone(), columns)
        .map_err(|e| LakeError::Internal(format!("casting a batch for Delta: {e}")))
}
