//! Why a row was rejected, and a builder for batches of rejected rows
//! (`c360_bronze::rejected_schema()`).

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Int64Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::error::ArrowError;
use c360_bronze::rejected_schema;

/// The category of a rejection: the key counted in [`FileReport::reasons`](crate::FileReport).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectKind {
    /// A money value that is not a number (including exponent notation such as `1e5`).
    BadNumber,
    /// An integer column holding something else.
    BadInteger,
    /// A date that does not parse or does not exist.
    BadDate,
    /// A timestamp that does not parse or does not exist.
    BadTimestamp,
    /// A money value with non-zero digits beyond cents.
    DecimalPlaces,
    /// A number too large for its column.
    OutOfRange,
    /// A CSV record with more or fewer fields than the header.
    FieldCount,
    /// Bytes that are not UTF-8 in a text file.
    InvalidUtf8,
    /// A JSON-lines line that is not a JSON object.
    InvalidJson,
    /// A required column absent from the file header (or a required key absent from a JSON
    /// record).
    MissingColumn,
    /// A JSON record with two keys for the same column.
    DuplicateColumn,
    /// A JSON object or array (or a Parquet struct, list or map) where one value belongs.
    NestedValue,
}

impl RejectKind {
    /// The short, stable key of this category, e.g. `bad_number`.
    pub fn key(self) -> &'static str {
        match self {
            RejectKind::BadNumber => "bad_number",
            RejectKind::BadInteger => "bad_integer",
            RejectKind::BadDate => "bad_date",
            RejectKind::BadTimestamp => "bad_timestamp",
            RejectKind::DecimalPlaces => "decimal_places",
            RejectKind::OutOfRange => "out_of_range",
            RejectKind::FieldCount => "field_count",
            RejectKind::InvalidUtf8 => "invalid_utf8",
            RejectKind::InvalidJson => "invalid_json",
            RejectKind::MissingColumn => "missing_column",
            RejectKind::DuplicateColumn => "duplicate_column",
            RejectKind::NestedValue => "nested_value",
        }
    }
}

impl std::fmt::Display for RejectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// Why one value or record could not be loaded: a category and a human-readable reason that
/// names the offending value (the `reason` column of the rejected table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The category, counted in the file report.
    pub kind: RejectKind,
    /// The full reason, e.g. `bad number 'abc'`.
    pub reason: String,
}

impl Problem {
    /// A problem of `kind` explained by `reason`.
    pub fn new(kind: RejectKind, reason: impl Into<String>) -> Problem {
        Problem {
            kind,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Accumulates rejected rows of one file into a batch of `rejected_schema()`.
pub(crate) struct RejectBuilder {
    load_id: String,
    source_file: String,
    rejected_at: i64,
    line: Int64Builder,
    field: StringBuilder,
    reason: StringBuilder,
    raw: StringBuilder,
    len: usize,
}

impl RejectBuilder {
    /// Rows will carry `load_id`, `source_file` and `rejected_at` (UTC microseconds).
    pub(crate) fn new(load_id: &str, source_file: &str, rejected_at: i64) -> RejectBuilder {
        RejectBuilder {
            load_id: load_id.to_string(),
            source_file: source_file.to_string(),
            rejected_at,
            line: Int64Builder::new(),
            field: StringBuilder::new(),
            reason: StringBuilder::new(),
            raw: StringBuilder::new(),
            len: 0,
        }
    }

    /// Rows pushed since the last [`finish`](Self::finish).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds one rejected row. `field` is the target column at fault, `None` for a problem with
    /// the record as a whole.
    pub(crate) fn push(&mut self, line: u64, field: Option<&str>, problem: &Problem, raw: &str) {
        self.line
            .append_value(i64::try_from(line).unwrap_or(i64::MAX));
        self.field.append_option(field);
        self.reason.append_value(&problem.reason);
        self.raw.append_value(raw);
        self.len += 1;
    }

    /// The rows pushed so far as one batch; the builder starts empty again.
    pub(crate) fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let n = std::mem::take(&mut self.len);
        let mut load_id = StringBuilder::with_capacity(n, n * self.load_id.len());
        let mut source_file = StringBuilder::with_capacity(n, n * self.source_file.len());
        let mut rejected_at = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
        for _ in 0..n {
            load_id.append_value(&self.load_id);
            source_file.append_value(&self.source_file);
            rejected_at.append_value(self.rejected_at);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(load_id.finish()),
            Arc::new(source_file.finish()),
            Arc::new(self.line.finish()),
            Arc::new(self.field.finish()),
            Arc::new(self.reason.finish()),
            Arc::new(self.raw.finish()),
            Arc::new(rejected_at.finish()),
        ];
        RecordBatch::try_new(rejected_schema(), columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Int64Type;

    #[test]
    fn builds_batches_of_the_rejected_schema() {
        let mut b = RejectBuilder::new("load-1", "in/x.csv", 42);
        let empty = b.finish().unwrap();
        assert_eq!(empty.num_rows(), 0);
        assert_eq!(empty.schema(), rejected_schema());

        b.push(
            3,
            Some("age"),
            &Problem::new(RejectKind::BadInteger, "bad integer 'x'"),
            "a,x",
        );
        b.push(
            5,
            None,
            &Problem::new(RejectKind::FieldCount, "expected 2 fields, found 3"),
            "a,b,c",
        );
        assert_eq!(b.len(), 2);
        let batch = b.finish().unwrap();
        assert_eq!(b.len(), 0);
        assert_eq!(batch.num_rows(), 2);
        let lines = batch.column(2).as_primitive::<Int64Type>();
        assert_eq!(lines.values().to_vec(), vec![3, 5]);
        let field = batch.column(3).as_string::<i32>();
        assert_eq!(field.value(0), "age");
        assert!(field.is_null(1));
        assert_eq!(batch.column(0).as_string::<i32>().value(1), "load-1");
        assert_eq!(batch.column(1).as_string::<i32>().value(1), "in/x.csv");
        assert_eq!(batch.column(5).as_string::<i32>().value(1), "a,b,c");
    }
}
