//! The access log: one row per table read (who read which table version when, how many rows and
//! files were handed out), appended to the Delta table `_c360.sharing_access_log` so it is in the
//! lake with the data it describes and the dashboard's data-quality page can show it.

use std::sync::Arc;

use c360_lake::datafusion::arrow::array::{
    Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use c360_lake::datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use c360_lake::{Lake, Layer, WriteMode};
use chrono::{DateTime, Utc};
use tokio::sync::Mutex;

use crate::error::Result;

/// Name of the log table in `_c360`.
pub const TABLE: &str = "sharing_access_log";

/// One read.
#[derive(Debug, Clone)]
pub struct Access {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub recipient: String,
    /// `share.schema.table` as the recipient named it.
    pub share: String,
    /// Schema.
    pub schema: String,
    /// Table.
    pub table: String,
    /// The lake table behind it.
    pub source: String,
    /// The source table's Delta version read.
    pub version: i64,
    /// `query` or `metadata`.
    pub action: &'static str,
    /// Rows in the files handed out.
    pub rows: i64,
    /// Files handed out.
    pub files: i64,
}

/// Appends accesses, one commit each, one at a time.
pub struct AccessLog {
    lake: Lake,
    lock: Mutex<()>,
}

fn schema() -> SchemaRef {
    let text = |n: &str| Field::new(n, DataType::Utf8, false);
    Arc::new(Schema::new(vec![
        Field::new(
            "accessed_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        text("recipient"),
        text("share"),
        text("schema"),
        text("table_name"),
        text("source_table"),
        Field::new("table_version", DataType::Int64, false),
        text("action"),
        Field::new("rows", DataType::Int64, false),
        Field::new("files", DataType::Int64, false),
    ]))
}

impl AccessLog {
    /// The log of `lake`.
    pub fn new(lake: Lake) -> AccessLog {
        AccessLog {
            lake,
            lock: Mutex::new(()),
        }
    }

    /// Appends `access` (one Delta commit).
    pub async fn record(&self, a: &Access) -> Result<()> {
        let _one_at_a_time = self.lock.lock().await;
        let schema = schema();
        let s = |v: &str| Arc::new(StringArray::from(vec![v.to_string()]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(
                    TimestampMicrosecondArray::from(vec![a.at.timestamp_micros()])
                        .with_timezone("UTC"),
                ),
                s(&a.recipient),
                s(&a.share),
                s(&a.schema),
                s(&a.table),
                s(&a.source),
                Arc::new(Int64Array::from(vec![a.version])),
                s(a.action),
                Arc::new(Int64Array::from(vec![a.rows])),
                Arc::new(Int64Array::from(vec![a.files])),
            ],
        )?;
        self.lake
            .writer(Layer::Meta, TABLE, schema)
            .mode(WriteMode::Append)
            .write_batches([batch])
            .await?;
        Ok(())
    }
}
