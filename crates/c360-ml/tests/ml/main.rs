//! Integration tests of c360-ml: features and leakage, the label rule, metrics on
//! hand-computed cases, training (quality, gate, determinism), scoring, drivers, registry.

mod features;
mod label;
mod lifecycle;
mod metrics;
mod synth;
mod train;

use arrow::array::{Array, BooleanArray, Float64Array, RecordBatch, StringArray};
use arrow::compute::{cast, concat_batches};
use arrow::datatypes::DataType;

/// All batches as one.
pub fn one(batches: &[RecordBatch]) -> RecordBatch {
    assert!(!batches.is_empty(), "no batches");
    concat_batches(&batches[0].schema(), batches).unwrap()
}

/// Column `name` as f64s (NULL → NaN).
pub fn f64s(batch: &RecordBatch, name: &str) -> Vec<f64> {
    let col = cast(batch.column_by_name(name).unwrap(), &DataType::Float64).unwrap();
    let col = col.as_any().downcast_ref::<Float64Array>().unwrap();
    (0..col.len())
        .map(|i| {
            if col.is_null(i) {
                f64::NAN
            } else {
                col.value(i)
            }
        })
        .collect()
}

/// Column `name` as strings.
pub fn strings(batch: &RecordBatch, name: &str) -> Vec<String> {
    let col = cast(batch.column_by_name(name).unwrap(), &DataType::Utf8).unwrap();
    let col = col.as_any().downcast_ref::<StringArray>().unwrap();
    (0..col.len()).map(|i| col.value(i).to_string()).collect()
}

/// Column `name` as booleans.
pub fn bools(batch: &RecordBatch, name: &str) -> Vec<bool> {
    let col = batch.column_by_name(name).unwrap();
    let col = col.as_any().downcast_ref::<BooleanArray>().unwrap();
    (0..col.len()).map(|i| col.value(i)).collect()
}

/// Value of column `name` for `customer`.
pub fn value_of(batch: &RecordBatch, customer: &str, name: &str) -> f64 {
    let ids = strings(batch, "customer_id");
    let i = ids
        .iter()
        .position(|c| c == customer)
        .unwrap_or_else(|| panic!("{customer} not in {ids:?}"));
    f64s(batch, name)[i]
}
