//! Parquet specifics: typed fast path, rejected rows rendered as JSON, unreadable files.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, Decimal128Array, Int32Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema};
use c360_bronze::{money_type, BronzeTable};
use c360_ingest::{read_file, IngestError};

use crate::*;

pub fn write_parquet(path: &Path, batches: &[RecordBatch]) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer =
        ::parquet::arrow::ArrowWriter::try_new(file, batches[0].schema(), None).unwrap();
    for batch in batches {
        writer.write(batch).unwrap();
    }
    writer.close().unwrap();
}

fn text(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

#[test]
fn bronze_typed_columns_take_the_fast_path_and_bad_rows_keep_json() {
    let dir = tempfile::tempdir().unwrap();
    let schema = Schema::new(vec![
        Field::new("transaction_id", DataType::Utf8, true),
        Field::new("customer_id", DataType::Utf8, true),
        Field::new("transaction_date", c360_bronze::timestamp_type(), true),
        Field::new("transaction_amount", money_type(), true),
        Field::new("merchant_name", DataType::Binary, true),
        Field::new("merchant_category", DataType::Utf8, true),
        Field::new("channel", DataType::Utf8, true),
        Field::new("status", DataType::Utf8, true),
        Field::new("ingested_at", DataType::Utf8, true),
        Field::new("source", DataType::Utf8, true),
        Field::new("batch_no", DataType::Int32, true),
    ]);
    let ts = micros("2025-11-14T10:30:00Z");
    let batch = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            text(&[Some("T1"), Some("T2"), Some("T3")]),
            text(&[Some("C1"), Some("C1"), Some("C2")]),
            Arc::new(
                TimestampMicrosecondArray::from(vec![Some(ts), None, Some(ts)])
                    .with_timezone("UTC"),
            ),
            Arc::new(
                Decimal128Array::from(vec![Some(1), Some(-250), Some(99_999_999_999)])
                    .with_precision_and_scale(12, 2)
                    .unwrap(),
            ),
            Arc::new(BinaryArray::from(vec![
                Some(&b"Acme"[..]),
                Some(&b"Caf\xe9"[..]),
                None,
            ])),
            text(&[Some("Retail"), Some("Dining"), None]),
            text(&[Some("Online"); 3]),
            text(&[Some("approved"); 3]),
            text(&[Some("2025-11-15 01:00:00"), None, Some("")]),
            text(&[Some("pos-feed"), Some("pos-feed"), Some(" ")]),
            Arc::new(Int32Array::from(vec![7, 7, 8])),
        ],
    )
    .unwrap();
    let path = dir.path().join("tx.pq");
    write_parquet(&path, &[batch]);
    let out = load(&path, &opts(BronzeTable::Transactions));

    assert_eq!(out.text("transaction_id"), some(&["T1", "T3"]));
    assert_eq!(out.timestamps("transaction_date"), vec![Some(ts); 2]);
    assert_eq!(
        out.money("transaction_amount"),
        vec![Some(1), Some(99_999_999_999)]
    );
    assert_eq!(out.text("merchant_name"), vec![Some("Acme".into()), None]);
    assert_eq!(
        out.timestamps("ingested_at"),
        vec![
            Some(micros("2025-11-15T01:00:00Z")),
            Some(loaded_at().timestamp_micros())
        ]
    );
    assert_eq!(out.text("source"), some(&["pos-feed", "tx.pq"]));
    assert_eq!(out.report.ignored_columns, ["batch_no"]);

    assert_eq!(
        out.rejections(),
        vec![rejection(2, Some("merchant_name"), "invalid UTF-8")]
    );
    let raw: serde_json::Value = serde_json::from_str(&out.rejected[0].raw).unwrap();
    assert_eq!(raw["transaction_id"], "T2");
    assert!(
        out.rejected[0].raw.contains("-2.5"),
        "{}",
        out.rejected[0].raw
    );
    assert!(raw["transaction_date"].is_null());
    assert_eq!(raw["batch_no"], 7);
}

#[test]
fn parquet_text_is_coerced_and_rejected_like_csv() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "transaction_id",
        "customer_id",
        "transaction_date",
        "transaction_amount",
        "merchant_name",
        "merchant_category",
        "channel",
        "status",
    ];
    let rows = [
        [
            "T1",
            "C1",
            "2025-11-14",
            "1.00",
            "Acme",
            "Retail",
            "Online",
            "approved",
        ],
        [
            "T2",
            "C1",
            "2025-11-14",
            "1e5",
            "Acme",
            "Retail",
            "Online",
            "approved",
        ],
        [
            "T3",
            "C1",
            "yesterday",
            "1.00",
            "Acme",
            "Retail",
            "Online",
            "approved",
        ],
    ];
    let columns: Vec<ArrayRef> = (0..names.len())
        .map(|c| Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r[c]))) as ArrayRef)
        .collect();
    let schema = Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    );
    let path = dir.path().join("tx.parquet");
    write_parquet(
        &path,
        &[RecordBatch::try_new(Arc::new(schema), columns).unwrap()],
    );
    let out = load(&path, &opts(BronzeTable::Transactions));
    assert_eq!(out.text("transaction_id"), some(&["T1"]));
    assert_eq!(
        out.rejections(),
        vec![
            rejection(2, Some("transaction_amount"), "bad number '1e5'"),
            rejection(3, Some("transaction_date"), "bad timestamp 'yesterday'"),
        ]
    );
    assert!(
        out.rejected[0]
            .raw
            .starts_with(r#"{"transaction_id":"T2","#),
        "{}",
        out.rejected[0].raw
    );
}

#[test]
fn a_missing_required_column_rejects_every_parquet_row() {
    let dir = tempfile::tempdir().unwrap();
    let schema = Schema::new(vec![Field::new("transaction_id", DataType::Utf8, true)]);
    let batch =
        RecordBatch::try_new(Arc::new(schema), vec![text(&[Some("T1"), Some("T2")])]).unwrap();
    let path = dir.path().join("tx.parquet");
    write_parquet(&path, &[batch]);
    let out = load(&path, &opts(BronzeTable::Transactions));
    assert_eq!(
        out.rejections(),
        vec![
            rejection(
                1,
                Some("customer_id"),
                "missing column 'customer_id' in file header"
            ),
            rejection(
                2,
                Some("customer_id"),
                "missing column 'customer_id' in file header"
            ),
        ]
    );
    assert_eq!(out.rejected[1].raw, r#"{"transaction_id":"T2"}"#);
    assert_eq!(out.report.missing_columns.len(), 7);
}

#[test]
fn a_file_that_is_not_parquet_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "tx.parquet", "transaction_id\nT1\n");
    let err = read_file(&path, &opts(BronzeTable::Transactions), &mut |_| Ok(())).unwrap_err();
    assert!(matches!(err, IngestError::Parquet { .. }), "{err}");
    assert!(err.to_string().contains("tx.parquet"), "{err}");
}

#[test]
fn zoned_timestamps_of_any_unit_load_as_utc_instants() {
    use arrow::array::{TimestampMillisecondArray, TimestampNanosecondArray};
    let dir = tempfile::tempdir().unwrap();
    let ts = micros("2025-11-14T10:30:00.123456Z");
    let names = [
        "transaction_id",
        "customer_id",
        "transaction_amount",
        "merchant_name",
        "merchant_category",
        "channel",
        "status",
    ];
    let mut fields: Vec<Field> = names
        .iter()
        .map(|n| Field::new(*n, DataType::Utf8, true))
        .collect();
    let mut columns: Vec<ArrayRef> = vec![
        text(&[Some("T1"), Some("T2")]),
        text(&[Some("C1"), Some("C1")]),
        text(&[Some("1.00"), Some("oops")]),
        text(&[Some("Acme"); 2]),
        text(&[Some("Retail"); 2]),
        text(&[Some("Online"); 2]),
        text(&[Some("approved"); 2]),
    ];
    let nanos =
        TimestampNanosecondArray::from(vec![ts * 1000 + 789, ts * 1000]).with_timezone("UTC");
    fields.push(Field::new(
        "transaction_date",
        nanos.data_type().clone(),
        true,
    ));
    columns.push(Arc::new(nanos));
    let millis =
        TimestampMillisecondArray::from(vec![ts / 1000, ts / 1000]).with_timezone("+05:00");
    fields.push(Field::new("ingested_at", millis.data_type().clone(), true));
    columns.push(Arc::new(millis));
    let named = TimestampMicrosecondArray::from(vec![ts, ts]).with_timezone("America/New_York");
    fields.push(Field::new("seen_at", named.data_type().clone(), true));
    columns.push(Arc::new(named));
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let path = dir.path().join("tx.parquet");
    write_parquet(&path, &[batch]);

    let out = load(&path, &opts(BronzeTable::Transactions));
    assert_eq!(out.timestamps("transaction_date"), vec![Some(ts)]);
    assert_eq!(out.timestamps("ingested_at"), vec![Some(ts - 456)]);
    assert_eq!(
        out.rejections(),
        vec![rejection(
            2,
            Some("transaction_amount"),
            "bad number 'oops'"
        )]
    );
    let raw: serde_json::Value = serde_json::from_str(&out.rejected[0].raw).unwrap();
    assert_eq!(raw["transaction_date"], "2025-11-14T10:30:00.123456Z");
    assert_eq!(raw["ingested_at"], "2025-11-14T10:30:00.123Z");
    assert_eq!(raw["seen_at"], "2025-11-14T10:30:00.123456Z");
}

#[test]
fn a_float_that_is_not_a_number_is_rejected_and_shown_in_raw() {
    use arrow::array::Float64Array;
    let dir = tempfile::tempdir().unwrap();
    let n = 4;
    let schema = Schema::new(vec![
        Field::new("transaction_id", DataType::Utf8, true),
        Field::new("customer_id", DataType::Utf8, true),
        Field::new("transaction_date", DataType::Utf8, true),
        Field::new("transaction_amount", DataType::Float64, true),
        Field::new("merchant_name", DataType::Utf8, true),
        Field::new("merchant_category", DataType::Utf8, true),
        Field::new("channel", DataType::Utf8, true),
        Field::new("status", DataType::Utf8, true),
    ]);
    let mut columns = vec![text(&[Some("T1"), Some("T2"), Some("T3"), Some("T4")])];
    for value in ["C1", "2025-11-14"] {
        columns.push(text(&vec![Some(value); n]));
    }
    columns.push(Arc::new(Float64Array::from(vec![
        f64::NAN,
        12.5,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ])));
    for value in ["Acme", "Retail", "Online", "approved"] {
        columns.push(text(&vec![Some(value); n]));
    }
    let path = dir.path().join("floats.parquet");
    write_parquet(
        &path,
        &[RecordBatch::try_new(Arc::new(schema), columns).unwrap()],
    );
    let out = load(&path, &opts(BronzeTable::Transactions));
    assert_eq!(out.money("transaction_amount"), vec![Some(1250)]);
    assert_eq!(
        out.rejections(),
        vec![
            rejection(1, Some("transaction_amount"), "bad number 'NaN'"),
            rejection(3, Some("transaction_amount"), "bad number 'inf'"),
            rejection(4, Some("transaction_amount"), "bad number '-inf'"),
        ]
    );
    let raw: Vec<serde_json::Value> = out
        .rejected
        .iter()
        .map(|r| serde_json::from_str(&r.raw).unwrap())
        .collect();
    assert_eq!(
        raw[0]["transaction_amount"], "NaN",
        "{}",
        out.rejected[0].raw
    );
    assert_eq!(raw[1]["transaction_amount"], "inf");
    assert_eq!(raw[2]["transaction_amount"], "-inf");
    assert_eq!(raw[0]["transaction_id"], "T1");
}
