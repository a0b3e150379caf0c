//! The derived snapshot a recipient reads: the shared table at one Delta version, with the
//! recipient's row filter applied and the excluded columns left out and masked ones masked,
//! written as Parquet files under `<lake>/_c360/sharing/snapshots/<key>/`. The key is a digest
//! of everything that decides the content (share, schema, table, recipient, source table and
//! version, columns, filter), so a snapshot is written once per table version and recipient and
//! then reused; a recipient is never handed a file of the unfiltered table.
//!
//! A snapshot is written to a temporary folder and renamed into place with a manifest, so a
//! reader sees a complete snapshot or none.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use c360_lake::datafusion::arrow::array::RecordBatch;
use c360_lake::datafusion::arrow::compute::cast;
use c360_lake::datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use c360_lake::datafusion::parquet::arrow::ArrowWriter;
use c360_lake::datafusion::prelude::{SessionConfig, SessionContext};
use c360_lake::Lake;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::TableConfig;
use crate::error::{Result, SharingError};

/// Rows per Parquet file of a snapshot.
const ROWS_PER_FILE: usize = 1_000_000;

/// One Parquet file of a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotFile {
    /// File name inside the snapshot folder.
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// Rows.
    pub rows: u64,
}

/// A materialised, filtered snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    /// The folder name (the content key) under `_c360/sharing/snapshots/`.
    pub key: String,
    /// The source table's Delta version.
    pub version: i64,
    /// The Delta schema JSON of the shared columns.
    pub schema_string: String,
    /// The files, in order.
    pub files: Vec<SnapshotFile>,
}

/// `<lake>/_c360/sharing/snapshots`.
pub fn snapshots_dir(lake: &Lake) -> PathBuf {
    lake.meta_dir().join("sharing").join("snapshots")
}

/// The latest version of the Delta table at `path` from its log file names (no data read).
pub fn log_version(path: &Path) -> Option<i64> {
    std::fs::read_dir(path.join("_delta_log"))
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".json")?.parse::<i64>().ok()
        })
        .max()
}

/// The current version of the table shared as `table` (404 when it is not in the lake).
pub fn current_version(lake: &Lake, table: &TableConfig) -> Result<i64> {
    let (layer, name) = table.source()?;
    log_version(&lake.table_path(layer, name))
        .ok_or_else(|| SharingError::NotFound(format!("table '{}' has no data yet", table.name)))
}

fn quote(column: &str) -> String {
    format!("\"{}\"", column.replace('"', "\"\""))
}

/// The snapshot of `table` for `recipient` at the source's current version, written first if
/// it does not exist yet.
pub async fn materialise(
    lake: &Lake,
    share: &str,
    schema: &str,
    table: &TableConfig,
    recipient: &str,
) -> Result<Snapshot> {
    let (layer, name) = table.source()?;
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    // The version read must be the version registered: retry if a commit lands in between.
    let mut version = current_version(lake, table)?;
    for _ in 0..3 {
        if !lake.register_table(&ctx, layer, name).await? {
            return Err(SharingError::NotFound(format!(
                "table '{}' has no data yet",
                table.name
            )));
        }
        let after = current_version(lake, table)?;
        if after == version {
            break;
        }
        version = after;
    }
    let source = format!("{}.{}", layer.name(), name);
    let columns: Vec<String> = ctx
        .table(&source)
        .await?
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    for c in table.exclude_columns.iter().chain(&table.mask_columns) {
        if !columns.contains(c) {
            return Err(SharingError::Config(format!(
                "table '{}': column '{c}' is not in {source}",
                table.name
            )));
        }
    }
    let text_columns: Vec<String> = ctx
        .table(&source)
        .await?
        .schema()
        .fields()
        .iter()
        .filter(|f| {
            matches!(
                f.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            )
        })
        .map(|f| f.name().clone())
        .collect();
    let select: Vec<String> = columns
        .iter()
        .filter(|c| !table.exclude_columns.contains(c))
        .map(|c| {
            let q = quote(c);
            if !table.mask_columns.contains(c) {
                q
            } else if text_columns.contains(c) {
                format!("CASE WHEN {q} IS NULL THEN NULL ELSE concat(substr({q}, 1, 1), '***') END AS {q}")
            } else {
                format!("CASE WHEN FALSE THEN {q} END AS {q}")
            }
        })
        .collect();
    if select.is_empty() {
        return Err(SharingError::Config(format!(
            "table '{}' shares no column",
            table.name
        )));
    }
    let filter = table.filter_for(recipient);
    let sql = format!(
        "SELECT {} FROM {source}{}",
        select.join(", "),
        filter.map_or(String::new(), |f| format!(" WHERE ({f})"))
    );
    let mut hasher = Sha256::new();
    for part in [
        share,
        schema,
        &table.name,
        recipient,
        &source,
        &version.to_string(),
        &sql,
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    let key = hex::encode(&hasher.finalize()[..16]);
    let dir = snapshots_dir(lake).join(&key);
    if let Some(existing) = read_manifest(&dir)? {
        return Ok(existing);
    }
    let df = ctx.sql(&sql).await?;
    let shared = shareable_schema(df.schema().as_arrow())?;
    let schema_string = delta_schema(&shared)?;
    let tmp = snapshots_dir(lake).join(format!(".{key}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    let mut stream = df.execute_stream().await?;
    let mut files = Vec::new();
    let mut writer: Option<(String, ArrowWriter<std::fs::File>, u64)> = None;
    while let Some(batch) = stream.next().await {
        let batch = conform(&batch?, &shared)?;
        if batch.num_rows() == 0 {
            continue;
        }
        if writer
            .as_ref()
            .is_some_and(|(_, _, rows)| *rows >= ROWS_PER_FILE as u64)
        {
            files.push(close(&tmp, writer.take().expect("open writer"))?);
        }
        if writer.is_none() {
            let name = format!("part-{:05}.parquet", files.len());
            let file = std::fs::File::create(tmp.join(&name)).map_err(|e| io(&tmp, e))?;
            writer = Some((name, ArrowWriter::try_new(file, shared.clone(), None)?, 0));
        }
        let (_, w, rows) = writer.as_mut().expect("open writer");
        w.write(&batch)?;
        *rows += batch.num_rows() as u64;
    }
    if let Some(open) = writer.take() {
        files.push(close(&tmp, open)?);
    }
    let snapshot = Snapshot {
        key: key.clone(),
        version,
        schema_string,
        files,
    };
    let manifest =
        serde_json::to_vec_pretty(&snapshot).map_err(|e| SharingError::Lake(e.to_string()))?;
    std::fs::write(tmp.join(MANIFEST), manifest).map_err(|e| io(&tmp, e))?;
    if std::fs::rename(&tmp, &dir).is_err() {
        // Another request wrote the same snapshot first: use it.
        let _ = std::fs::remove_dir_all(&tmp);
        if let Some(existing) = read_manifest(&dir)? {
            return Ok(existing);
        }
        return Err(SharingError::Lake(format!(
            "could not place snapshot {key}"
        )));
    }
    tracing::info!(share, schema, table = %table.name, recipient, version, key, "sharing snapshot written");
    Ok(snapshot)
}

const MANIFEST: &str = "_manifest.json";

/// One warning per shared table that hides a column (masked or left out) while sharing in
/// clear a column it is derived from or that is derived from it
/// ([`crate::config::DERIVED_COLUMNS`]), checked against each source's current columns.
/// `c360 serve` logs them at start-up. A source that cannot be opened is skipped here (a query
/// of it fails on its own).
pub async fn exposure_warnings(lake: &Lake, config: &crate::SharingConfig) -> Vec<String> {
    let mut out = Vec::new();
    for share in &config.shares {
        for schema in &share.schemas {
            for table in &schema.tables {
                let Ok((layer, name)) = table.source() else {
                    continue;
                };
                let ctx = SessionContext::new();
                let Ok(true) = lake.register_table(&ctx, layer, name).await else {
                    continue;
                };
                let Ok(df) = ctx.table(format!("{}.{name}", layer.name())).await else {
                    continue;
                };
                let columns: Vec<String> = df
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect();
                for (hidden, clear) in table.exposures(&columns) {
                    out.push(format!(
                        "sharing: {}.{}.{} hides '{hidden}' but shares '{clear}' in clear, which \
                         gives it away (one is derived from the other): exclude or mask '{clear}' too",
                        share.name, schema.name, table.name
                    ));
                }
            }
        }
    }
    out
}

fn io(path: &Path, e: std::io::Error) -> SharingError {
    SharingError::Lake(format!("{}: {e}", path.display()))
}

fn read_manifest(dir: &Path) -> Result<Option<Snapshot>> {
    match std::fs::read(dir.join(MANIFEST)) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| SharingError::Lake(format!("{}: {e}", dir.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(dir, e)),
    }
}

fn close(
    dir: &Path,
    (name, writer, rows): (String, ArrowWriter<std::fs::File>, u64),
) -> Result<SnapshotFile> {
    writer.close()?;
    let size = std::fs::metadata(dir.join(&name))
        .map_err(|e| io(dir, e))?
        .len();
    Ok(SnapshotFile { name, size, rows })
}

/// The Arrow types written: what every Delta Sharing client reads (text as Utf8, unsigned as
/// the next signed type, timestamps as microseconds in UTC).
fn shareable_type(t: &DataType) -> Result<DataType> {
    Ok(match t {
        DataType::Utf8View | DataType::LargeUtf8 | DataType::Utf8 => DataType::Utf8,
        DataType::UInt8 => DataType::Int16,
        DataType::UInt16 => DataType::Int32,
        DataType::UInt32 | DataType::UInt64 => DataType::Int64,
        DataType::Timestamp(_, _) => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        DataType::Date64 => DataType::Date32,
        DataType::LargeBinary | DataType::BinaryView => DataType::Binary,
        t @ (DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::Float32
        | DataType::Float64
        | DataType::Date32
        | DataType::Binary
        | DataType::Decimal128(_, _)) => t.clone(),
        other => {
            return Err(SharingError::Config(format!(
                "column type {other} cannot be shared; exclude the column"
            )))
        }
    })
}

fn shareable_schema(schema: &Schema) -> Result<SchemaRef> {
    let fields = schema
        .fields()
        .iter()
        .map(|f| Ok(Field::new(f.name(), shareable_type(f.data_type())?, true)))
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(c.clone())
            } else {
                Ok(cast(c, f.data_type())?)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// The Delta schema JSON (`{"type":"struct","fields":[…]}`) of a shareable Arrow schema.
pub fn delta_schema(schema: &Schema) -> Result<String> {
    let fields: Vec<serde_json::Value> = schema
        .fields()
        .iter()
        .map(|f| {
            let t = match f.data_type() {
                DataType::Utf8 => "string".to_string(),
                DataType::Int8 => "byte".into(),
                DataType::Int16 => "short".into(),
                DataType::Int32 => "integer".into(),
                DataType::Int64 => "long".into(),
                DataType::Float32 => "float".into(),
                DataType::Float64 => "double".into(),
                DataType::Boolean => "boolean".into(),
                DataType::Binary => "binary".into(),
                DataType::Date32 => "date".into(),
                DataType::Timestamp(_, _) => "timestamp".into(),
                DataType::Decimal128(p, s) => format!("decimal({p},{s})"),
                other => {
                    return Err(SharingError::Config(format!(
                        "column type {other} cannot be shared"
                    )))
                }
            };
            Ok(serde_json::json!({"name": f.name(), "type": t, "nullable": true, "metadata": {}}))
        })
        .collect::<Result<_>>()?;
    Ok(serde_json::json!({"type": "struct", "fields": fields}).to_string())
}
