//! The same customers as CSV, JSON-lines, typed Parquet and all-text Parquet load identically.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray, TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use c360_bronze::BronzeTable;

use crate::parquet_input::write_parquet;
use crate::*;

const NAMES: [&str; 14] = [
    "customer_id",
    "first_name",
    "last_name",
    "email",
    "age",
    "state",
    "city",
    "employment_status",
    "card_type",
    "credit_limit",
    "account_open_date",
    "updated_at",
    "ingested_at",
    "note",
];

/// The rows as text, as a CSV writer would have written them ("" = missing).
fn text_rows() -> Vec<[&'static str; 14]> {
    vec![
        [
            "C1",
            "Ann",
            "Lee",
            "ann@x.com",
            "34",
            "CA",
            "Los Angeles",
            "Employed",
            "Standard",
            "5000.5",
            "2021-03-04",
            "2025-01-02 03:04:05",
            "2025-01-03 00:00:00",
            "vip",
        ],
        [
            "C2",
            "Bob",
            "Ray",
            "bob@x.com",
            "",
            "NY",
            "New York",
            "Retired",
            "Premium",
            "12000",
            "2020-01-01",
            "2025-06-30 23:59:59.5",
            "",
            "",
        ],
        [
            "C3",
            " Cy ",
            "Doe",
            "",
            "71",
            "tx",
            "Austin, TX",
            "Student",
            "Standard",
            "0.1",
            "2019-12-31",
            "2024-02-29 00:00:00",
            "2025-01-03 12:00:00",
            "a \"quote\"",
        ],
    ]
}

fn csv_text() -> String {
    let mut out = NAMES.join(",") + "\n";
    for row in text_rows() {
        let fields: Vec<String> = row
            .iter()
            .map(|f| {
                if f.contains([',', '"']) {
                    format!("\"{}\"", f.replace('"', "\"\""))
                } else {
                    f.to_string()
                }
            })
            .collect();
        out += &(fields.join(",") + "\n");
    }
    out
}

fn jsonl_text() -> String {
    let mut out = String::new();
    for row in text_rows() {
        let mut object = serde_json::Map::new();
        for (name, value) in NAMES.iter().zip(row) {
            let json = match *name {
                _ if value.is_empty() => serde_json::Value::Null,
                "age" => serde_json::json!(value.parse::<i64>().unwrap()),
                "credit_limit" => serde_json::json!(value.parse::<f64>().unwrap()),
                _ => serde_json::json!(value),
            };
            object.insert(name.to_string(), json);
        }
        out += &(serde_json::Value::Object(object).to_string() + "\n");
    }
    out
}

fn string_batch() -> RecordBatch {
    let rows = text_rows();
    let columns: Vec<ArrayRef> = (0..NAMES.len())
        .map(|c| {
            let values: Vec<Option<&str>> = rows
                .iter()
                .map(|r| Some(r[c]).filter(|v| !v.is_empty()))
                .collect();
            Arc::new(StringArray::from(values)) as ArrayRef
        })
        .collect();
    let schema = Schema::new(
        NAMES
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(Arc::new(schema), columns).unwrap()
}

/// Same values with the types a data-frame writer would pick.
fn typed_batch() -> RecordBatch {
    let strings = string_batch();
    let ts = |s: &str| micros(&format!("{}Z", s.replace(' ', "T")));
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (c, name) in NAMES.iter().enumerate() {
        let rows = text_rows();
        let values: Vec<Option<&str>> = rows
            .iter()
            .map(|r| Some(r[c]).filter(|v| !v.is_empty()))
            .collect();
        let (field, column): (Field, ArrayRef) = match *name {
            "age" => (
                Field::new(*name, DataType::Int64, true),
                Arc::new(Int64Array::from(
                    values
                        .iter()
                        .map(|v| v.map(|v| v.parse().unwrap()))
                        .collect::<Vec<_>>(),
                )),
            ),
            "credit_limit" => (
                Field::new(*name, DataType::Float64, true),
                Arc::new(Float64Array::from(
                    values
                        .iter()
                        .map(|v| v.map(|v| v.parse().unwrap()))
                        .collect::<Vec<_>>(),
                )),
            ),
            "account_open_date" => (
                Field::new(*name, DataType::Date32, true),
                Arc::new(Date32Array::from(
                    values.iter().map(|v| v.map(days)).collect::<Vec<_>>(),
                )),
            ),
            "updated_at" => (
                Field::new(*name, c360_bronze::timestamp_type(), true),
                Arc::new(
                    TimestampMicrosecondArray::from(
                        values.iter().map(|v| v.map(ts)).collect::<Vec<_>>(),
                    )
                    .with_timezone("UTC"),
                ),
            ),
            "ingested_at" => (
                Field::new(
                    *name,
                    DataType::Timestamp(TimeUnit::Millisecond, None),
                    true,
                ),
                Arc::new(TimestampMillisecondArray::from(
                    values
                        .iter()
                        .map(|v| v.map(|v| ts(v) / 1000))
                        .collect::<Vec<_>>(),
                )),
            ),
            _ => (
                Field::new(*name, DataType::Utf8, true),
                strings.column(c).clone(),
            ),
        };
        fields.push(field);
        columns.push(column);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

/// The loaded rows without `source` (which is the file name, so differs by format).
fn without_source(out: &Loaded) -> RecordBatch {
    let keep: Vec<usize> = (0..out.rows.num_columns() - 1).collect();
    assert_eq!(
        out.rows.schema().field(out.rows.num_columns() - 1).name(),
        "source"
    );
    out.rows.project(&keep).unwrap()
}

#[test]
fn csv_jsonl_and_parquet_give_identical_rows() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(BronzeTable::Customers);
    let csv = load(&write(dir.path(), "customers.csv", csv_text()), &o);
    let jsonl = load(&write(dir.path(), "customers.jsonl", jsonl_text()), &o);
    let typed_path = dir.path().join("typed.parquet");
    write_parquet(&typed_path, &[typed_batch()]);
    let typed = load(&typed_path, &o);
    let text_path = dir.path().join("text.parquet");
    write_parquet(&text_path, &[string_batch()]);
    let text = load(&text_path, &o);

    for (name, out) in [
        ("csv", &csv),
        ("jsonl", &jsonl),
        ("typed parquet", &typed),
        ("text parquet", &text),
    ] {
        assert_eq!(out.report.rejected, 0, "{name}: {:?}", out.rejected);
        assert_eq!(out.report.loaded, 3, "{name}");
        assert_eq!(out.report.ignored_columns, ["note"], "{name}");
    }
    let expected = without_source(&csv);
    assert_eq!(without_source(&jsonl), expected, "jsonl");
    assert_eq!(without_source(&typed), expected, "typed parquet");
    assert_eq!(without_source(&text), expected, "text parquet");

    // And the values are the right ones.
    assert_eq!(csv.text("first_name"), some(&["Ann", "Bob", " Cy "]));
    assert_eq!(csv.ints("age"), vec![Some(34), None, Some(71)]);
    assert_eq!(
        csv.money("credit_limit"),
        vec![Some(500_050), Some(1_200_000), Some(10)]
    );
    assert_eq!(
        csv.dates("account_open_date"),
        vec![
            Some(days("2021-03-04")),
            Some(days("2020-01-01")),
            Some(days("2019-12-31"))
        ]
    );
    assert_eq!(
        csv.timestamps("updated_at"),
        vec![
            Some(micros("2025-01-02T03:04:05Z")),
            Some(micros("2025-06-30T23:59:59.5Z")),
            Some(micros("2024-02-29T00:00:00Z")),
        ]
    );
    assert_eq!(
        csv.timestamps("ingested_at"),
        vec![
            Some(micros("2025-01-03T00:00:00Z")),
            Some(loaded_at().timestamp_micros()),
            Some(micros("2025-01-03T12:00:00Z")),
        ]
    );
    assert_eq!(csv.text("email")[2], None);
    assert_eq!(csv.text("source"), some(&["customers.csv"; 3]));
    assert_eq!(typed.text("source"), some(&["typed.parquet"; 3]));
}
