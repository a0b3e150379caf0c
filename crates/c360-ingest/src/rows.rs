//! Typing rows: a builder that turns one record's cells into a row of a bronze table, or says
//! which column stopped it.
//!
//! A row is typed completely before anything is appended, so a rejected row leaves no trace in
//! the good batch.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Builder, Decimal128Builder, Int32Builder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, SchemaRef};
use arrow::error::ArrowError;
use c360_bronze::{money_type, timestamp_type, BronzeTable};

use crate::coerce::{parse_date, parse_int32, parse_money, parse_timestamp, quote};
use crate::rejects::{Problem, RejectKind};

/// One field of a record, as handed over by a format reader, for one target column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell<'a> {
    /// Absent from the file, or null.
    Null,
    /// Text as it arrived, to be coerced to the column's type.
    Text(&'a str),
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// A value with parts (a JSON object or array, a Parquet struct, list or map) where one
    /// value belongs: `found` names it (`an object`), `text` shows it.
    Nested { found: &'static str, text: &'a str },
    /// Already an `INT` (Parquet with the target's own type).
    Int32(i32),
    /// Already cents of a `DECIMAL(12,2)`.
    Money(i128),
    /// Already days since the epoch.
    Date32(i32),
    /// Already UTC microseconds.
    Timestamp(i64),
}

/// The Arrow type family of a bronze column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Int32,
    Money,
    Date32,
    Timestamp,
}

impl Kind {
    fn of(data_type: &DataType) -> Kind {
        match data_type {
            DataType::Int32 => Kind::Int32,
            DataType::Date32 => Kind::Date32,
            t if *t == money_type() => Kind::Money,
            t if *t == timestamp_type() => Kind::Timestamp,
            DataType::Utf8 => Kind::Text,
            other => unreachable!("bronze schemas have no {other} columns"),
        }
    }
}

/// A typed value waiting to be appended; `Text` refers back to the cell, `DefaultSource` to the
/// file name.
#[derive(Debug, Clone, Copy)]
enum Value {
    Null,
    Text,
    DefaultSource,
    Int32(i32),
    Money(i128),
    Date32(i32),
    Timestamp(i64),
}

enum ColumnBuilder {
    Text(StringBuilder),
    Int32(Int32Builder),
    Money(Decimal128Builder),
    Date32(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
}

impl ColumnBuilder {
    fn new(kind: Kind) -> ColumnBuilder {
        match kind {
            Kind::Text => ColumnBuilder::Text(StringBuilder::new()),
            Kind::Int32 => ColumnBuilder::Int32(Int32Builder::new()),
            Kind::Money => {
                ColumnBuilder::Money(Decimal128Builder::new().with_data_type(money_type()))
            }
            Kind::Date32 => ColumnBuilder::Date32(Date32Builder::new()),
            Kind::Timestamp => ColumnBuilder::Timestamp(
                TimestampMicrosecondBuilder::new().with_data_type(timestamp_type()),
            ),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Text(b) => Arc::new(b.finish()),
            ColumnBuilder::Int32(b) => Arc::new(b.finish()),
            ColumnBuilder::Money(b) => Arc::new(b.finish()),
            ColumnBuilder::Date32(b) => Arc::new(b.finish()),
            ColumnBuilder::Timestamp(b) => Arc::new(b.finish()),
        }
    }
}

/// Builds good rows of one bronze table from cells given in the table's column order.
pub(crate) struct RowBuilder {
    schema: SchemaRef,
    kinds: Vec<Kind>,
    builders: Vec<ColumnBuilder>,
    ingested_at: Option<usize>,
    source: Option<usize>,
    default_source: String,
    default_ingested_at: i64,
    scratch: Vec<Value>,
    len: usize,
}

impl RowBuilder {
    /// A builder for `table` whose rows get `source = default_source` unless their own source
    /// is non-blank, and `ingested_at = default_ingested_at` (UTC microseconds) unless their own
    /// value parses.
    pub(crate) fn new(table: BronzeTable, default_source: &str, default_ingested_at: i64) -> Self {
        let schema = table.schema();
        let kinds: Vec<Kind> = schema
            .fields()
            .iter()
            .map(|f| Kind::of(f.data_type()))
            .collect();
        RowBuilder {
            builders: kinds.iter().map(|k| ColumnBuilder::new(*k)).collect(),
            ingested_at: schema.index_of("ingested_at").ok(),
            source: schema.index_of("source").ok(),
            default_source: default_source.to_string(),
            default_ingested_at,
            scratch: Vec::with_capacity(kinds.len()),
            kinds,
            schema,
            len: 0,
        }
    }

    /// The target columns' kinds, in schema order.
    pub(crate) fn kinds(&self) -> &[Kind] {
        &self.kinds
    }

    /// Rows appended since the last [`finish`](Self::finish).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Types `cells` (one per target column, in schema order) and appends them as a row, or
    /// returns the first target column (in schema order) that cannot be typed, with why.
    pub(crate) fn push(&mut self, cells: &[Cell<'_>]) -> Result<(), (usize, Problem)> {
        debug_assert_eq!(cells.len(), self.kinds.len());
        self.scratch.clear();
        for (column, cell) in cells.iter().enumerate() {
            let value = self.value(column, *cell).map_err(|p| (column, p))?;
            self.scratch.push(value);
        }
        for ((builder, value), cell) in self.builders.iter_mut().zip(&self.scratch).zip(cells) {
            match (builder, *value) {
                (ColumnBuilder::Text(b), Value::Text) => match cell {
                    Cell::Text(s) => b.append_value(s),
                    _ => b.append_null(),
                },
                (ColumnBuilder::Text(b), Value::DefaultSource) => {
                    b.append_value(&self.default_source)
                }
                (ColumnBuilder::Int32(b), Value::Int32(v)) => b.append_value(v),
                (ColumnBuilder::Money(b), Value::Money(v)) => b.append_value(v),
                (ColumnBuilder::Date32(b), Value::Date32(v)) => b.append_value(v),
                (ColumnBuilder::Timestamp(b), Value::Timestamp(v)) => b.append_value(v),
                (ColumnBuilder::Text(b), _) => b.append_null(),
                (ColumnBuilder::Int32(b), _) => b.append_null(),
                (ColumnBuilder::Money(b), _) => b.append_null(),
                (ColumnBuilder::Date32(b), _) => b.append_null(),
                (ColumnBuilder::Timestamp(b), _) => b.append_null(),
            }
        }
        self.len += 1;
        Ok(())
    }

    fn value(&self, column: usize, cell: Cell<'_>) -> Result<Value, Problem> {
        let kind = self.kinds[column];
        if let Cell::Nested { found, text } = cell {
            // Every bronze column holds one value, `source` and `ingested_at` included.
            return Err(Problem::new(
                RejectKind::NestedValue,
                format!("expected a single value, found {found} {}", quote(text)),
            ));
        }
        if Some(column) == self.source {
            return Ok(match cell {
                Cell::Text(s) if !s.trim().is_empty() => Value::Text,
                _ => Value::DefaultSource,
            });
        }
        if Some(column) == self.ingested_at {
            // The file's own ingestion time when it has a usable one, else the load's.
            let own = match cell {
                Cell::Text(s) => parse_timestamp(s).ok().flatten(),
                Cell::Timestamp(v) => Some(v),
                _ => None,
            };
            return Ok(Value::Timestamp(own.unwrap_or(self.default_ingested_at)));
        }
        let text = match cell {
            Cell::Null => return Ok(Value::Null),
            Cell::InvalidUtf8 => {
                return Err(Problem::new(RejectKind::InvalidUtf8, "invalid UTF-8"))
            }
            Cell::Text(s) => s,
            Cell::Int32(v) if kind == Kind::Int32 => return Ok(Value::Int32(v)),
            Cell::Money(v) if kind == Kind::Money => return Ok(Value::Money(v)),
            Cell::Date32(v) if kind == Kind::Date32 => return Ok(Value::Date32(v)),
            Cell::Timestamp(v) if kind == Kind::Timestamp => return Ok(Value::Timestamp(v)),
            typed => unreachable!("typed cell {typed:?} given for a {kind:?} column"),
        };
        Ok(match kind {
            // Text is kept as it arrived; only an empty field is a gap.
            Kind::Text if text.is_empty() => Value::Null,
            Kind::Text => Value::Text,
            Kind::Int32 => parse_int32(text)?.map_or(Value::Null, Value::Int32),
            Kind::Money => parse_money(text)?.map_or(Value::Null, Value::Money),
            Kind::Date32 => parse_date(text)?.map_or(Value::Null, Value::Date32),
            Kind::Timestamp => parse_timestamp(text)?.map_or(Value::Null, Value::Timestamp),
        })
    }

    /// The rows appended so far as one batch of the table's schema; the builder starts empty.
    pub(crate) fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        self.len = 0;
        let columns = self
            .builders
            .iter_mut()
            .map(ColumnBuilder::finish)
            .collect();
        RecordBatch::try_new(self.schema.clone(), columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Decimal128Type, Int32Type, TimestampMicrosecondType};

    fn customers() -> RowBuilder {
        RowBuilder::new(BronzeTable::Customers, "file.csv", 99)
    }

    #[test]
    fn types_a_row_and_fills_defaults() {
        let mut b = customers();
        let mut cells = vec![Cell::Null; 16];
        cells[0] = Cell::Text(" C1 ");
        cells[3] = Cell::Text("   ");
        cells[4] = Cell::Text("34.0");
        cells[9] = Cell::Text("$5,000");
        cells[13] = Cell::Text("2025-01-01T00:00:00Z");
        cells[14] = Cell::Text("garbage"); // ingested_at: falls back to the load time
        cells[15] = Cell::Text("  "); // source: blank → the file name
        b.push(&cells).unwrap();
        let batch = b.finish().unwrap();
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.column(0).as_string::<i32>().value(0), " C1 ");
        assert!(batch.column(1).is_null(0));
        assert_eq!(batch.column(3).as_string::<i32>().value(0), "   ");
        assert_eq!(batch.column(4).as_primitive::<Int32Type>().value(0), 34);
        assert_eq!(
            batch.column(9).as_primitive::<Decimal128Type>().value(0),
            500_000
        );
        assert_eq!(
            batch
                .column(13)
                .as_primitive::<TimestampMicrosecondType>()
                .value(0),
            1_735_689_600_000_000
        );
        assert_eq!(
            batch
                .column(14)
                .as_primitive::<TimestampMicrosecondType>()
                .value(0),
            99
        );
        assert_eq!(batch.column(15).as_string::<i32>().value(0), "file.csv");
    }

    #[test]
    fn the_first_bad_column_in_schema_order_wins_and_nothing_is_appended() {
        let mut b = customers();
        let mut cells = vec![Cell::Null; 16];
        cells[4] = Cell::Text("old");
        cells[9] = Cell::Text("lots");
        let (column, problem) = b.push(&cells).unwrap_err();
        assert_eq!(column, 4);
        assert_eq!(problem.reason, "bad integer 'old'");
        cells[4] = Cell::InvalidUtf8;
        assert_eq!(b.push(&cells).unwrap_err().1.kind, RejectKind::InvalidUtf8);
        cells[4] = Cell::Null;
        cells[15] = Cell::Nested {
            found: "an array",
            text: "[1]",
        };
        let (column, problem) = b.push(&cells).unwrap_err();
        assert_eq!((column, problem.kind), (9, RejectKind::BadNumber));
        cells[9] = Cell::Null;
        let (column, problem) = b.push(&cells).unwrap_err();
        assert_eq!((column, problem.kind), (15, RejectKind::NestedValue));
        assert_eq!(
            problem.reason,
            "expected a single value, found an array '[1]'"
        );
        assert_eq!(b.len(), 0);
        let batch = b.finish().unwrap();
        assert_eq!(batch.num_rows(), 0);
    }

    #[test]
    fn typed_cells_pass_through() {
        let mut b = customers();
        let mut cells = vec![Cell::Null; 16];
        cells[4] = Cell::Int32(40);
        cells[9] = Cell::Money(-1);
        cells[10] = Cell::Date32(3);
        cells[14] = Cell::Timestamp(7);
        cells[15] = Cell::Text("crm-export");
        b.push(&cells).unwrap();
        let batch = b.finish().unwrap();
        assert_eq!(
            batch.column(9).as_primitive::<Decimal128Type>().value(0),
            -1
        );
        assert_eq!(
            batch
                .column(14)
                .as_primitive::<TimestampMicrosecondType>()
                .value(0),
            7
        );
        assert_eq!(batch.column(15).as_string::<i32>().value(0), "crm-export");
    }
}
