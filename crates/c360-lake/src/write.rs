//! One table write: stream batches into Parquet files, then make them visible in one commit.
//!
//! ```text
//! lake.writer(layer, name, schema)      TableWriterBuilder   (mode, idempotency keys, stream
//!                                                             offsets, metadata)
//!     .begin().await                    TableWriter          (opens the table, checks the schema)
//! writer.file_sink()                    FileSink             (one per parallel worker)
//!     sink.write(batch).await ...       Parquet files on disk, invisible to readers
//!     sink.finish().await               StagedFiles
//! writer.stage(part, staged)            ordered by part, so layout never depends on threads
//! writer.commit().await                 WriteOutcome         (one Delta commit: all or nothing)
//! ```
//!
//! A writer that is dropped or killed before `commit` leaves only unreferenced Parquet files,
//! which readers ignore and a vacuum removes; the table stays at its previous version.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, SchemaRef};
use deltalake::kernel::engine::arrow_conversion::{TryIntoArrow, TryIntoKernel};
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, Add, MetadataExt, Remove, StructType, Transaction};
use deltalake::parquet::basic::{Compression, Encoding};
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::parquet::schema::types::ColumnPath;
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use deltalake::{DeltaTable, TableProperty};
use futures::StreamExt;
use url::Url;

use crate::{failpoint, Lake, LakeError, Layer, Result, COMMIT_VERSION_KEY};

/// Commits between two checkpoints of a table c360 creates (`delta.checkpointInterval`).
pub const CHECKPOINT_INTERVAL: u64 = 10;

/// How a write treats the rows already in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Add the new rows; keep every existing row.
    Append,
    /// Replace every existing row with the new rows (the old version stays readable by time
    /// travel until vacuumed).
    Overwrite,
}

/// A column chunk stops dictionary-encoding once its dictionary holds this many bytes. Keys
/// (ids, md5 surrogates) never repeat, and Parquet's 1 MB default has every such column hash and
/// intern ~30K values per row group before giving up — a quarter of encoding a fact table.
/// Columns of a few thousand distinct names or codes still fit.
const DICTIONARY_PAGE_LIMIT: usize = 64 * 1024;

/// Default size at which a [`FileSink`] rolls over to a new Parquet file.
const TARGET_FILE_SIZE: u64 = 128 * 1024 * 1024;

/// Configures a [`TableWriter`]; made by [`Lake::writer`].
#[must_use]
pub struct TableWriterBuilder<'a> {
    lake: &'a Lake,
    layer: Layer,
    name: String,
    schema: SchemaRef,
    mode: WriteMode,
    idempotency: Vec<(String, i64)>,
    offsets: Vec<(String, i64)>,
    metadata: BTreeMap<String, serde_json::Value>,
    target_file_size: u64,
    file_schema: Option<SchemaRef>,
}

impl Lake {
    /// Starts configuring an atomic write of `schema`-shaped batches to `layer.name`.
    pub fn writer(&self, layer: Layer, name: &str, schema: SchemaRef) -> TableWriterBuilder<'_> {
        TableWriterBuilder {
            lake: self,
            layer,
            name: name.to_string(),
            schema,
            mode: WriteMode::Append,
            idempotency: Vec::new(),
            offsets: Vec::new(),
            metadata: BTreeMap::new(),
            target_file_size: TARGET_FILE_SIZE,
            file_schema: None,
        }
    }
}

impl TableWriterBuilder<'_> {
    /// Append (the default) or overwrite.
    pub fn mode(mut self, mode: WriteMode) -> Self {
        self.mode = mode;
        self
    }

    /// Records `(app_id, version)` as a Delta `txn` action in the commit. Before writing, ask
    /// [`TableWriter::is_applied`] whether a commit already carried this key at this version or
    /// later, and skip the data it covers — that is how a retried load is applied once.
    pub fn idempotency_key(mut self, app_id: impl Into<String>, version: i64) -> Self {
        self.idempotency.push((app_id.into(), version));
        self
    }

    /// Records `(app_id, version)` as a Delta `txn` action in the commit, whatever version an
    /// earlier commit recorded under `app_id`: a stream offset (see [`crate::StreamOffset`]),
    /// which moves back when its source was rolled back and the consumer rebuilt.
    pub fn stream_offset(mut self, app_id: impl Into<String>, version: i64) -> Self {
        self.offsets.push((app_id.into(), version));
        self
    }

    /// Stores `value` under `key` in the commit's metadata (readable with
    /// [`Lake::latest_commit_metadata`] and by any Delta client's history).
    pub fn commit_metadata(mut self, key: impl Into<String>, value: serde_json::Value) -> Self {
        self.metadata.insert(key.into(), value);
        self
    }

    /// Size at which a file sink starts a new Parquet file.
    pub fn target_file_size(mut self, bytes: u64) -> Self {
        self.target_file_size = bytes;
        self
    }

    /// The Arrow schema of the batches handed to file sinks, when it differs from the table's
    /// only in how strings are held (`Utf8View` for `Utf8`): Parquet stores both alike, so the
    /// views are encoded as they are instead of being copied into contiguous strings first.
    pub fn file_schema(mut self, schema: SchemaRef) -> Self {
        self.file_schema = Some(schema);
        self
    }

    /// The whole write for batches already in memory: [`begin`](Self::begin), one file sink
    /// fed every non-empty batch, one commit (also with no rows: the table is created, or an
    /// overwrite empties it).
    pub async fn write_batches(
        self,
        batches: impl IntoIterator<Item = RecordBatch>,
    ) -> Result<WriteOutcome> {
        let mut writer = self.begin().await?;
        let mut sink = writer.file_sink()?;
        for batch in batches {
            if batch.num_rows() > 0 {
                sink.write(batch).await?;
            }
        }
        writer.stage(0, sink.finish().await?);
        writer.commit().await
    }

    /// Opens the table (or prepares to create it) and checks that the schema fits.
    pub async fn begin(self) -> Result<TableWriter> {
        let TableWriterBuilder {
            lake,
            layer,
            name,
            schema,
            mode,
            idempotency,
            offsets,
            metadata,
            target_file_size,
            file_schema,
        } = self;
        let url = lake.table_url(layer, &name)?;
        let table = lake.open(layer, &name).await?;
        let mut applied = BTreeSet::new();
        let mut replace_schema = false;
        if let Some(table) = &table {
            let state = table
                .snapshot()
                .map_err(|e| LakeError::delta(layer, &name, e))?;
            let current: arrow::datatypes::Schema = state
                .schema()
                .as_ref()
                .try_into_arrow()
                .map_err(|e| LakeError::delta(layer, &name, e.into()))?;
            let differs = schema_differs(&current, &schema);
            match (differs, mode) {
                // Schema evolution as Delta's `mergeSchema` allows it for appends: new
                // columns after the existing ones, which older files read back as nulls.
                (Some(_), WriteMode::Append) if only_adds_columns(&current, &schema) => {
                    replace_schema = true
                }
                (Some(detail), WriteMode::Append) => {
                    return Err(LakeError::SchemaMismatch {
                        table: format!("{layer}.{name}"),
                        detail,
                    })
                }
                (Some(_), WriteMode::Overwrite) => replace_schema = true,
                (None, _) => {}
            }
            for (app_id, version) in &idempotency {
                let seen = state
                    .transaction_version(table.log_store().as_ref(), app_id)
                    .await
                    .map_err(|e| LakeError::delta(layer, &name, e))?;
                if seen.is_some_and(|v| v >= *version) {
                    applied.insert(app_id.clone());
                }
            }
        }
        Ok(TableWriter {
            layer,
            name,
            url,
            file_schema: file_schema.unwrap_or_else(|| schema.clone()),
            schema,
            mode,
            table,
            replace_schema,
            idempotency,
            applied,
            offsets,
            metadata,
            target_file_size,
            staged: BTreeMap::new(),
            removes: Vec::new(),
            operation: None,
        })
    }
}

/// Whether `wanted` is `current` with more columns after its last one.
fn only_adds_columns(current: &arrow::datatypes::Schema, wanted: &SchemaRef) -> bool {
    let (have, want) = (current.fields(), wanted.fields());
    want.len() > have.len()
        && have
            .iter()
            .zip(want.iter())
            .all(|(h, w)| h.name() == w.name() && h.data_type() == w.data_type())
}

/// Returns a description of the first difference in column names or types, if any.
pub(crate) fn schema_differs(
    current: &arrow::datatypes::Schema,
    wanted: &SchemaRef,
) -> Option<String> {
    let have: Vec<_> = current
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    let want: Vec<_> = wanted
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    if have == want {
        return None;
    }
    let show = |cols: &[(String, arrow::datatypes::DataType)]| {
        cols.iter()
            .map(|(n, t)| format!("{n} {t}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Some(format!(
        "table has ({}), data has ({})",
        show(&have),
        show(&want)
    ))
}

/// An open, uncommitted write to one table. See the module docs for the protocol.
pub struct TableWriter {
    layer: Layer,
    name: String,
    url: Url,
    schema: SchemaRef,
    file_schema: SchemaRef,
    mode: WriteMode,
    table: Option<DeltaTable>,
    replace_schema: bool,
    idempotency: Vec<(String, i64)>,
    applied: BTreeSet<String>,
    offsets: Vec<(String, i64)>,
    metadata: BTreeMap<String, serde_json::Value>,
    target_file_size: u64,
    staged: BTreeMap<usize, StagedFiles>,
    removes: Vec<Remove>,
    operation: Option<DeltaOperation>,
}

impl TableWriter {
    /// `layer.table`, for messages.
    pub fn table_name(&self) -> String {
        format!("{}.{}", self.layer, self.name)
    }

    /// The version the table had when the write began (`None`: it did not exist).
    pub fn read_version(&self) -> Option<u64> {
        self.table.as_ref().and_then(|t| t.version())
    }

    /// True when a previous commit already carried idempotency key `app_id` at this write's
    /// version or later: the data it covers was written before and must not be written again.
    pub fn is_applied(&self, app_id: &str) -> bool {
        self.applied.contains(app_id)
    }

    /// A sink that encodes batches into new Parquet files of this table. Sinks are independent;
    /// run one per worker and hand each result to [`TableWriter::stage`].
    pub fn file_sink(&self) -> Result<FileSink> {
        self.sink_factory().sink()
    }

    /// Makes file sinks of this table where the writer is not at hand (inside a worker that
    /// opens a sink per group of rows).
    pub fn sink_factory(&self) -> SinkFactory {
        SinkFactory {
            layer: self.layer,
            name: self.name.clone(),
            url: self.url.clone(),
            file_schema: self.file_schema.clone(),
            target_file_size: self.target_file_size,
        }
    }

    /// Adds the files of one sink to the commit. `part` orders files in the commit, so the
    /// table's layout depends on the parts, never on which thread finished first.
    pub fn stage(&mut self, part: usize, files: StagedFiles) {
        let entry = self.staged.entry(part).or_default();
        entry.adds.extend(files.adds);
        entry.rows += files.rows;
    }

    /// Rows staged so far.
    pub fn staged_rows(&self) -> u64 {
        self.staged.values().map(|s| s.rows).sum()
    }

    /// Also removes these existing files in the commit (a merge rewriting the files it
    /// touched), recorded as `operation` in the table history.
    pub(crate) fn replace_files(&mut self, removes: Vec<Remove>, operation: DeltaOperation) {
        self.removes = removes;
        self.operation = Some(operation);
    }

    /// Commits every staged file (and, for an overwrite, removes every previous file) in one
    /// Delta commit.
    pub async fn commit(self) -> Result<WriteOutcome> {
        let TableWriter {
            layer,
            name,
            url,
            schema,
            file_schema: _,
            mode,
            table,
            replace_schema,
            idempotency,
            applied,
            offsets,
            metadata,
            target_file_size: _,
            staged,
            removes,
            operation,
        } = self;
        let delta_err = |e: deltalake::DeltaTableError| LakeError::delta(layer, &name, e);
        let rows_written: u64 = staged.values().map(|s| s.rows).sum();
        let adds: Vec<Add> = staged.into_values().flat_map(|s| s.adds).collect();
        let files_added = adds.len();
        let read_version = table
            .as_ref()
            .and_then(|t| t.version())
            .map_or(-1, |v| v as i64);

        let txns: Vec<Transaction> = idempotency
            .into_iter()
            .filter(|(app, _)| !applied.contains(app))
            .chain(offsets)
            .map(|(app, version)| Transaction::new(app, version))
            .collect();
        let mut app_metadata: HashMap<String, serde_json::Value> = metadata.into_iter().collect();
        app_metadata.insert(COMMIT_VERSION_KEY.into(), read_version.into());
        let properties = CommitProperties::default()
            .with_metadata(app_metadata)
            .with_application_transactions(txns);

        failpoint::before_commit(&format!("{layer}.{name}")).await;

        let Some(table) = table else {
            // First write: create the table and add its files in the same commit.
            let columns: StructType = schema
                .as_ref()
                .try_into_kernel()
                .map_err(|e| delta_err(e.into()))?;
            let table = deltalake::DeltaTableBuilder::from_url(url)
                .and_then(|b| b.build())
                .map_err(delta_err)?;
            let created = table
                .create()
                .with_table_name(name.clone())
                .with_columns(columns.fields().cloned())
                // A checkpoint every CHECKPOINT_INTERVAL commits: opening a table replays at
                // most that many JSON commits (Delta's default is 100), and a run opens each
                // table several times
                .with_configuration_property(
                    TableProperty::CheckpointInterval,
                    Some(CHECKPOINT_INTERVAL.to_string()),
                )
                .with_actions(adds.into_iter().map(Action::Add))
                .with_commit_properties(properties)
                .await
                .map_err(delta_err)?;
            return Ok(WriteOutcome {
                version: created.version().unwrap_or(0),
                rows_written,
                files_added,
                files_removed: 0,
            });
        };

        let state = table.snapshot().map_err(delta_err)?;
        let mut actions: Vec<Action> = adds.into_iter().map(Action::Add).collect();
        let mut files_removed = removes.len();
        actions.extend(removes.into_iter().map(Action::Remove));
        if mode == WriteMode::Overwrite {
            let log_store = table.log_store();
            let mut files = state.snapshot().file_views(log_store.as_ref(), None);
            while let Some(file) = files.next().await {
                actions.push(Action::Remove(file.map_err(delta_err)?.remove_action(true)));
                files_removed += 1;
            }
        }
        if replace_schema {
            let columns: StructType = schema
                .as_ref()
                .try_into_kernel()
                .map_err(|e| delta_err(e.into()))?;
            let metadata = state
                .metadata()
                .clone()
                .with_schema(&columns)
                .map_err(|e| delta_err(e.into()))?;
            actions.push(Action::Metadata(metadata));
        }
        let operation = operation.unwrap_or(DeltaOperation::Write {
            mode: match mode {
                WriteMode::Append => SaveMode::Append,
                WriteMode::Overwrite => SaveMode::Overwrite,
            },
            partition_by: None,
            predicate: None,
        });
        let finalized = CommitBuilder::from(properties)
            .with_actions(actions)
            .build(Some(state), table.log_store(), operation)
            .await
            .map_err(delta_err)?;
        Ok(WriteOutcome {
            version: finalized.version(),
            rows_written,
            files_added,
            files_removed,
        })
    }
}

/// Opens [`FileSink`]s of one uncommitted write; made by [`TableWriter::sink_factory`].
#[derive(Debug, Clone)]
pub struct SinkFactory {
    layer: Layer,
    name: String,
    url: Url,
    file_schema: SchemaRef,
    target_file_size: u64,
}

impl SinkFactory {
    /// A new sink (see [`TableWriter::file_sink`]).
    pub fn sink(&self) -> Result<FileSink> {
        let mut properties = WriterProperties::builder()
            .set_compression(Compression::LZ4_RAW)
            .set_max_row_group_row_count(Some(256 * 1024))
            .set_dictionary_page_size_limit(DICTIONARY_PAGE_LIMIT);
        for path in integer_list_elements(&self.file_schema) {
            properties = properties
                .set_column_dictionary_enabled(path.clone(), false)
                .set_column_encoding(path, Encoding::DELTA_BINARY_PACKED);
        }
        let properties = properties.build();
        let writer =
            RecordBatchWriter::try_new(self.url.as_str(), self.file_schema.clone(), None, None)
                .map_err(|e| LakeError::delta(self.layer, &self.name, e))?
                .with_writer_properties(properties)
                .with_target_file_size(self.target_file_size);
        Ok(FileSink {
            layer: self.layer,
            name: self.name.clone(),
            writer,
            rows: 0,
        })
    }
}

/// The Parquet paths of the elements of the schema's top-level integer lists, which are
/// written delta-encoded: a list of amounts in cents (sorted, as `customer_monthly_spend`
/// keeps them) takes a byte or two per element instead of eight, and decodes faster than the
/// plain values through LZ4.
fn integer_list_elements(schema: &SchemaRef) -> Vec<ColumnPath> {
    schema
        .fields()
        .iter()
        .filter_map(|f| match f.data_type() {
            DataType::List(item) if item.data_type().is_integer() => Some(ColumnPath::new(vec![
                f.name().clone(),
                "list".to_string(),
                item.name().clone(),
            ])),
            _ => None,
        })
        .collect()
}

/// Encodes batches into Parquet files of one table; made by [`TableWriter::file_sink`].
pub struct FileSink {
    layer: Layer,
    name: String,
    writer: RecordBatchWriter,
    rows: u64,
}

impl FileSink {
    /// Encodes one batch (its schema must be the writer's).
    pub async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        self.rows += batch.num_rows() as u64;
        self.writer
            .write(batch)
            .await
            .map_err(|e| LakeError::delta(self.layer, &self.name, e))
    }

    /// Rows written to this sink so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Closes the sink's files; they become visible only when the writer commits.
    pub async fn finish(mut self) -> Result<StagedFiles> {
        let adds = self
            .writer
            .flush()
            .await
            .map_err(|e| LakeError::delta(self.layer, &self.name, e))?;
        Ok(StagedFiles {
            adds,
            rows: self.rows,
        })
    }
}

/// Parquet files written but not yet committed.
#[derive(Debug, Default)]
pub struct StagedFiles {
    adds: Vec<Add>,
    rows: u64,
}

impl StagedFiles {
    /// Rows in these files.
    pub fn rows(&self) -> u64 {
        self.rows
    }
}

/// What a committed write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    /// The table version the commit created.
    pub version: u64,
    /// Rows added.
    pub rows_written: u64,
    /// Parquet files added.
    pub files_added: usize,
    /// Parquet files logically removed (overwrite).
    pub files_removed: usize,
}
