//! Query results as [`Frame`]s of JSON values: money (DECIMAL) as exact strings, dates as
//! `YYYY-MM-DD`, timestamps as `YYYY-MM-DDTHH:MM:SS` (UTC), integers and doubles as numbers.

use c360_lake::datafusion::arrow::array::{Array, ArrayRef, RecordBatch};
use c360_lake::datafusion::arrow::datatypes::{DataType, TimeUnit};
use c360_lake::datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::Serialize;
use serde_json::Value;

use crate::error::AppResult;

/// Query rows as JSON values: money (DECIMAL) as exact strings, dates as `YYYY-MM-DD`,
/// timestamps as RFC 3339, integers and doubles as numbers.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// Column names, in query order.
    pub columns: Vec<String>,
    /// Rows, each with one value per column.
    pub rows: Vec<Vec<Value>>,
}

impl Frame {
    /// Converts record batches.
    pub fn from_batches(batches: &[RecordBatch]) -> AppResult<Frame> {
        let mut frame = Frame::default();
        let Some(first) = batches.first() else {
            return Ok(frame);
        };
        frame.columns = first
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        for batch in batches {
            let columns = batch.columns();
            let start = frame.rows.len();
            frame
                .rows
                .extend((0..batch.num_rows()).map(|_| Vec::with_capacity(columns.len())));
            for column in columns {
                let values = column_values(column)?;
                for (i, v) in values.into_iter().enumerate() {
                    frame.rows[start + i].push(v);
                }
            }
        }
        Ok(frame)
    }

    /// The index of column `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// Value of `name` in row `row` (NULL when absent).
    pub fn get(&self, row: usize, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.index(name)
            .and_then(|i| self.rows.get(row).and_then(|r| r.get(i)))
            .unwrap_or(&NULL)
    }

    /// The first row as a JSON object (None when empty).
    pub fn first_object(&self) -> Option<serde_json::Map<String, Value>> {
        let row = self.rows.first()?;
        Some(
            self.columns
                .iter()
                .cloned()
                .zip(row.iter().cloned())
                .collect(),
        )
    }

    /// Replaces names and emails with masked forms (for roles that must not see them).
    pub fn mask_pii(&mut self) {
        for (i, column) in self.columns.iter().enumerate() {
            let Some(kind) = crate::mask::pii_kind(column) else {
                continue;
            };
            for row in &mut self.rows {
                if let Some(Value::String(s)) = row.get_mut(i) {
                    *s = crate::mask::mask(kind, s);
                }
            }
        }
    }
}

/// Serialises as an array of objects with keys in column order.
impl Serialize for Frame {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Row<'a>(&'a [String], &'a [Value]);
        impl Serialize for Row<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.0.len()))?;
                for (k, v) in self.0.iter().zip(self.1) {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
        let mut seq = s.serialize_seq(Some(self.rows.len()))?;
        for row in &self.rows {
            seq.serialize_element(&Row(&self.columns, row))?;
        }
        seq.end()
    }
}

fn column_values(column: &ArrayRef) -> AppResult<Vec<Value>> {
    use c360_lake::datafusion::arrow::array::AsArray;
    use c360_lake::datafusion::arrow::compute::cast;
    use c360_lake::datafusion::arrow::datatypes as dt;
    // Every row's value through `value`, NULL rows as JSON null.
    let each = |value: &dyn Fn(usize) -> Value| -> Vec<Value> {
        (0..column.len())
            .map(|i| {
                if column.is_null(i) {
                    Value::Null
                } else {
                    value(i)
                }
            })
            .collect()
    };
    let out: Vec<Value> = match column.data_type() {
        DataType::Null => vec![Value::Null; column.len()],
        DataType::Boolean => {
            let a = column.as_boolean();
            each(&|i| Value::Bool(a.value(i)))
        }
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            let c = cast(column, &DataType::Int64)?;
            let a = c.as_primitive::<dt::Int64Type>();
            each(&|i| Value::from(a.value(i)))
        }
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
            let c = cast(column, &DataType::UInt64)?;
            let a = c.as_primitive::<dt::UInt64Type>();
            each(&|i| Value::from(a.value(i)))
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            let c = cast(column, &DataType::Float64)?;
            let a = c.as_primitive::<dt::Float64Type>();
            each(&|i| {
                serde_json::Number::from_f64(a.value(i))
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            })
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let c = cast(column, &DataType::Utf8)?;
            let a = c.as_string::<i32>();
            each(&|i| Value::String(a.value(i).to_string()))
        }
        DataType::Timestamp(_, _) => {
            let c = cast(column, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            let a = c.as_primitive::<dt::TimestampMicrosecondType>();
            each(&|i| {
                chrono::DateTime::from_timestamp_micros(a.value(i))
                    .map(|t| Value::String(t.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string()))
                    .unwrap_or(Value::Null)
            })
        }
        // Decimals (exact), dates, lists and anything else: Arrow's display text.
        _ => {
            let options = FormatOptions::default();
            let formatter = ArrayFormatter::try_new(column.as_ref(), &options)?;
            each(&|i| Value::String(formatter.value(i).to_string()))
        }
    };
    Ok(out)
}
