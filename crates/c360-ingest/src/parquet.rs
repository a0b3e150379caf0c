//! Parquet files, read with arrow's `ParquetRecordBatchReaderBuilder`.
//!
//! Columns match by name like a CSV header. A column whose Arrow type already is the target
//! type is taken as is; any other column is cast to text (timestamps, dates, decimals, integers
//! and floats all have one) and coerced exactly like CSV text, so a file loads the same whatever
//! types its writer chose. Binary columns are checked for UTF-8 value by value; a struct, list
//! or map value is rejected like a nested JSON value. `line` is the 1-based row number; `raw`
//! is the whole row rendered as a JSON object (a float that JSON cannot write, `NaN` or `inf`,
//! as a string, so the value stays visible).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use arrow::array::{
    make_array, Array, ArrayRef, AsArray, BinaryArray, RecordBatch, StringArray, StringBuilder,
};
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Field, Float64Type, Int32Type, Schema, TimeUnit,
    TimestampMicrosecondType,
};
use arrow::json::writer::LineDelimited;
use arrow::json::WriterBuilder;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::columns::ColumnMap;
use crate::loader::Loader;
use crate::rows::{Cell, Kind};
use crate::{IngestError, LoadOptions, Result};

pub(crate) fn read(path: &Path, opts: &LoadOptions, loader: &mut Loader<'_>) -> Result<()> {
    let file = File::open(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let parquet_error = |message: String| IngestError::Parquet {
        path: path.to_path_buf(),
        message,
    };
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| parquet_error(e.to_string()))?;
    let names: Vec<String> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let map = ColumnMap::new(opts.table, &names).map_err(|d| d.into_error(path, "schema"))?;
    loader.set_columns(map.ignored.clone(), map.missing_required.clone());
    let missing = map.missing_column_problem();
    let reader = builder
        .with_batch_size(opts.batch_rows.max(1))
        .build()
        .map_err(|e| parquet_error(e.to_string()))?;

    let schema = opts.table.schema();
    let kinds = loader.rows().kinds().to_vec();
    let mut rows_before = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| parquet_error(e.to_string()))?;
        if let Some((column, problem)) = &missing {
            for i in 0..batch.num_rows() {
                loader.reject(
                    rows_before + i as u64 + 1,
                    Some(column),
                    problem,
                    &render_row(&batch, i),
                )?;
            }
            rows_before += batch.num_rows() as u64;
            continue;
        }
        let sources = map
            .target_to_source
            .iter()
            .zip(schema.fields())
            .zip(&kinds)
            .map(|((source, field), kind)| match source {
                None => Ok(Source::Absent),
                Some(i) => Source::new(batch.column(*i), field.data_type(), *kind)
                    .map_err(|message| parquet_error(format!("column '{}': {message}", names[*i]))),
            })
            .collect::<Result<Vec<_>>>()?;
        for i in 0..batch.num_rows() {
            let cells: Vec<Cell<'_>> = sources.iter().map(|s| s.cell(i)).collect();
            loader.record(rows_before + i as u64 + 1, &cells, || render_row(&batch, i))?;
        }
        rows_before += batch.num_rows() as u64;
    }
    Ok(())
}

/// One file column, ready to hand out the cell of each row for its target column.
enum Source {
    Absent,
    Text(StringArray),
    /// A struct, list or map column: its values are rejected, shown as text.
    Nested(StringArray, &'static str),
    Bytes(BinaryArray),
    Typed(ArrayRef, Kind),
}

impl Source {
    fn new(array: &ArrayRef, target: &DataType, kind: Kind) -> std::result::Result<Source, String> {
        let array = &without_timezone(array);
        // Microsecond timestamps are UTC instants whatever zone they are shown in (and those
        // without a zone are taken as UTC, like text without an offset): no parsing needed.
        let same_instant = kind == Kind::Timestamp
            && matches!(
                array.data_type(),
                DataType::Timestamp(TimeUnit::Microsecond, _)
            );
        if kind != Kind::Text && (array.data_type() == target || same_instant) {
            return Ok(Source::Typed(array.clone(), kind));
        }
        if let Some(found) = nested_type(array.data_type()) {
            return Ok(Source::Nested(format_as_text(array)?, found));
        }
        if is_binary(array.data_type()) {
            let bytes = cast(array, &DataType::Binary).map_err(|e| e.to_string())?;
            return Ok(Source::Bytes(bytes.as_binary::<i32>().clone()));
        }
        let text = match cast(array, &DataType::Utf8) {
            Ok(text) => text.as_string::<i32>().clone(),
            Err(_) => format_as_text(array)?,
        };
        Ok(Source::Text(text))
    }

    fn cell(&self, row: usize) -> Cell<'_> {
        match self {
            Source::Absent => Cell::Null,
            Source::Text(a) if a.is_valid(row) => Cell::Text(a.value(row)),
            Source::Nested(a, found) if a.is_valid(row) => Cell::Nested {
                found,
                text: a.value(row),
            },
            Source::Bytes(a) if a.is_valid(row) => match std::str::from_utf8(a.value(row)) {
                Ok(text) => Cell::Text(text),
                Err(_) => Cell::InvalidUtf8,
            },
            Source::Typed(a, kind) if a.is_valid(row) => match kind {
                Kind::Int32 => Cell::Int32(a.as_primitive::<Int32Type>().value(row)),
                Kind::Money => Cell::Money(a.as_primitive::<Decimal128Type>().value(row)),
                Kind::Date32 => Cell::Date32(a.as_primitive::<Date32Type>().value(row)),
                Kind::Timestamp => {
                    Cell::Timestamp(a.as_primitive::<TimestampMicrosecondType>().value(row))
                }
                Kind::Text => Cell::Text(a.as_string::<i32>().value(row)),
            },
            _ => Cell::Null,
        }
    }
}

/// A timestamp column with its time zone dropped: the values (UTC instants) stay the same, and
/// its text is then UTC without an offset, which needs no time-zone database to produce.
fn without_timezone(array: &ArrayRef) -> ArrayRef {
    match array.data_type() {
        DataType::Timestamp(unit, Some(_)) => array
            .to_data()
            .into_builder()
            .data_type(DataType::Timestamp(*unit, None))
            .build()
            .map_or_else(|_| array.clone(), make_array),
        _ => array.clone(),
    }
}

/// What a value of a nested type is, for a reason: `a struct`, `a list`, `a map`.
fn nested_type(data_type: &DataType) -> Option<&'static str> {
    match data_type {
        DataType::Struct(_) => Some("a struct"),
        DataType::Map(_, _) => Some("a map"),
        t if t.is_nested() => Some("a list"),
        _ => None,
    }
}

fn is_binary(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_)
    )
}

/// Text of every value of a column `cast` cannot turn into text, through arrow's display code.
fn format_as_text(array: &ArrayRef) -> std::result::Result<StringArray, String> {
    let formatter =
        ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default()).map_err(|e| {
            format!(
                "cannot read values of type {} as text: {e}",
                array.data_type()
            )
        })?;
    let mut out = StringBuilder::with_capacity(array.len(), 0);
    for row in 0..array.len() {
        if array.is_valid(row) {
            out.append_value(formatter.value(row).to_string());
        } else {
            out.append_null();
        }
    }
    Ok(out.finish())
}

/// Row `row` of `batch` as one JSON object (every column of the file, nulls included).
fn render_row(batch: &RecordBatch, row: usize) -> String {
    let one = batch.slice(row, 1);
    let mut fields: Vec<Field> = Vec::with_capacity(one.num_columns());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(one.num_columns());
    for (field, column) in one.schema().fields().iter().zip(one.columns()) {
        match shown_as_text(column) {
            Some(text) => {
                fields.push(field.as_ref().clone().with_data_type(DataType::Utf8));
                columns.push(text);
            }
            None => {
                fields.push(field.as_ref().clone());
                columns.push(column.clone());
            }
        }
    }
    let one = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap_or(one);
    let mut writer = WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, LineDelimited>(Vec::new());
    if writer.write(&one).and_then(|()| writer.finish()).is_ok() {
        let text = String::from_utf8_lossy(&writer.into_inner())
            .trim_end()
            .to_string();
        if !text.is_empty() {
            return text;
        }
    }
    // Types the JSON writer does not know (binary, …): text, numbers and booleans by hand.
    let mut object = serde_json::Map::new();
    for (field, column) in one.schema().fields().iter().zip(one.columns()) {
        object.insert(field.name().clone(), json_value(column));
    }
    serde_json::Value::Object(object).to_string()
}

/// A one-value column the JSON writer would not show as it is, as text: a zoned timestamp as
/// UTC text (arrow cannot show named zones without a zone database), a float that JSON has no
/// number for (`NaN`, `inf`, `-inf`; the writer would show `null`).
fn shown_as_text(column: &ArrayRef) -> Option<ArrayRef> {
    match column.data_type() {
        DataType::Timestamp(_, Some(_)) => {
            let text = cast(&without_timezone(column), &DataType::Utf8).ok()?;
            let zoned: StringArray = text
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(|v| format!("{v}Z")))
                .collect();
            Some(Arc::new(zoned))
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            let wide = cast(column, &DataType::Float64).ok()?;
            let wide = wide.as_primitive::<Float64Type>();
            let non_finite = wide.iter().flatten().any(|v| !v.is_finite());
            non_finite
                .then(|| cast(column, &DataType::Utf8).ok())
                .flatten()
        }
        _ => None,
    }
}

/// The first value of `column` as JSON: binary as (lossy) UTF-8 text, integers and booleans
/// as themselves, anything else as its display text.
fn json_value(column: &ArrayRef) -> serde_json::Value {
    use serde_json::Value;
    if column.is_null(0) {
        return Value::Null;
    }
    if is_binary(column.data_type()) {
        if let Ok(bytes) = cast(column, &DataType::Binary) {
            let bytes = bytes.as_binary::<i32>().value(0);
            return Value::String(String::from_utf8_lossy(bytes).into_owned());
        }
    }
    let Ok(formatter) = ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default()) else {
        return Value::Null;
    };
    let text = formatter.value(0).to_string();
    let exact = column.data_type().is_integer() || *column.data_type() == DataType::Boolean;
    match serde_json::from_str::<Value>(&text) {
        Ok(value @ (Value::Number(_) | Value::Bool(_))) if exact => value,
        _ => Value::String(text),
    }
}
