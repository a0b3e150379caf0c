//! Run history: every node result of every run appended to the Delta table
//! `_c360.run_history`, which `c360 query`, the scheduler and the dashboard read.
//!
//! The history is operational metadata, so its timestamps are the wall clock's (when the run
//! happened); no business table ever reads them.

use std::sync::{Arc, LazyLock};

use c360_lake::datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use c360_lake::datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use c360_lake::{Lake, Layer, WriteMode};

use super::results::RunResults;
use crate::error::{ModelError, Result};

/// Name of the history table in [`Layer::Meta`].
pub const RUN_HISTORY_TABLE: &str = "run_history";

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let text = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        text("run_id", false),
        text("project", false),
        Field::new(
            "run_started_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        text("unique_id", false),
        text("resource_type", false),
        text("status", false),
        text("materialized", true),
        text("relation", true),
        Field::new("rows_affected", DataType::Int64, true),
        Field::new("failures", DataType::Int64, true),
        Field::new("table_version", DataType::Int64, true),
        Field::new("execution_time", DataType::Float64, false),
        text("message", false),
        // added later: older rows read them as null (an append adding columns evolves the schema)
        Field::new("peak_memory", DataType::Int64, true),
        Field::new("spilled_bytes", DataType::Int64, true),
    ]))
});

/// Lower-case name a serde enum serialises to (`success`, `model`, …).
fn label<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Appends one row per node result of `run` to `_c360.run_history` in one commit.
pub(crate) async fn record(
    lake: &Lake,
    run: &RunResults,
    run_id: &str,
    started_at_micros: i64,
) -> Result<()> {
    let rows = &run.results;
    let n = rows.len();
    let as_i64 = |v: Option<u64>| v.map(|x| x as i64);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![run_id; n])),
        Arc::new(StringArray::from(vec![run.project.as_str(); n])),
        Arc::new(TimestampMicrosecondArray::from(vec![started_at_micros; n]).with_timezone("UTC")),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.unique_id.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| label(&r.resource_type)),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| label(&r.status)),
        )),
        Arc::new(StringArray::from_iter(
            rows.iter().map(|r| r.materialized.as_deref()),
        )),
        Arc::new(StringArray::from_iter(
            rows.iter().map(|r| r.relation.as_deref()),
        )),
        Arc::new(Int64Array::from_iter(
            rows.iter().map(|r| as_i64(r.rows_affected)),
        )),
        Arc::new(Int64Array::from_iter(
            rows.iter().map(|r| as_i64(r.failures)),
        )),
        Arc::new(Int64Array::from_iter(
            rows.iter().map(|r| as_i64(r.table_version)),
        )),
        Arc::new(Float64Array::from_iter_values(
            rows.iter().map(|r| r.execution_time),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.message.as_str()),
        )),
        Arc::new(Int64Array::from_iter(
            rows.iter().map(|r| as_i64(r.peak_memory)),
        )),
        Arc::new(Int64Array::from_iter(
            rows.iter().map(|r| as_i64(r.spilled_bytes)),
        )),
    ];
    let batch = RecordBatch::try_new(SCHEMA.clone(), columns)
        .map_err(|e| ModelError::Lake(c360_lake::LakeError::Internal(e.to_string())))?;
    lake.writer(Layer::Meta, RUN_HISTORY_TABLE, SCHEMA.clone())
        .mode(WriteMode::Append)
        .write_batches([batch])
        .await?;
    Ok(())
}
