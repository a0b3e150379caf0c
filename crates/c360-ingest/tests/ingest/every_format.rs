//! Rules that hold alike in every format (docs/bronze.md): a column named twice is never
//! resolved silently, exponent notation is not a number, a field holds one value.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, ListArray, RecordBatch, StringArray, StructArray};
use arrow::datatypes::{DataType, Field, Int32Type, Schema};
use c360_bronze::BronzeTable;
use c360_ingest::{read_file, IngestError};

use crate::parquet_input::write_parquet;
use crate::*;

const NAMES: [&str; 8] = [
    "transaction_id",
    "customer_id",
    "transaction_date",
    "transaction_amount",
    "merchant_name",
    "merchant_category",
    "channel",
    "status",
];

/// A Parquet file of text columns `names`, one row per entry of `rows`.
fn text_parquet(path: &Path, names: &[&str], rows: &[Vec<&str>]) {
    let fields: Vec<Field> = names
        .iter()
        .map(|n| Field::new(*n, DataType::Utf8, true))
        .collect();
    let columns: Vec<ArrayRef> = (0..names.len())
        .map(|c| Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r[c]))) as ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    write_parquet(path, &[batch]);
}

/// The error of a file that cannot be loaded; no chunk may reach the sink first.
fn file_error(path: &Path) -> IngestError {
    let mut chunks = 0;
    let err = read_file(path, &opts(BronzeTable::Transactions), &mut |_| {
        chunks += 1;
        Ok(())
    })
    .unwrap_err();
    assert_eq!(chunks, 0, "{err}");
    err
}

#[test]
fn a_column_named_twice_fails_a_csv_or_parquet_file_naming_file_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let header = format!("{}, Customer_ID ", NAMES.join(","));
    let row = "T1,C1,2025-11-14,1.00,Acme,Retail,Online,approved,C2";
    let csv = write(dir.path(), "dup.csv", format!("{header}\n{row}\n"));
    let err = file_error(&csv);
    assert!(matches!(err, IngestError::DuplicateColumn { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: duplicate column 'customer_id' in the header (named by 'customer_id' and ' Customer_ID '); name each column once",
            csv.display()
        )
    );

    let parquet = dir.path().join("dup.parquet");
    let mut names = NAMES.to_vec();
    names.push("CUSTOMER_ID");
    let values: Vec<&str> = row.split(',').collect();
    text_parquet(&parquet, &names, &[values]);
    let err = file_error(&parquet);
    let text = err.to_string();
    assert!(text.starts_with(&parquet.display().to_string()), "{text}");
    assert!(
        text.contains("duplicate column 'customer_id' in the schema (named by 'customer_id' and 'CUSTOMER_ID')"),
        "{text}"
    );

    // Extra columns that match no table column may repeat: they are ignored either way.
    let csv = write(
        dir.path(),
        "extras.csv",
        format!("{},note,NOTE\n{row},x\n", NAMES.join(",")),
    );
    let out = load(&csv, &opts(BronzeTable::Transactions));
    assert_eq!(out.report.loaded, 1);
    assert_eq!(out.report.ignored_columns, ["note", "NOTE"]);
}

#[test]
fn a_json_record_naming_a_column_twice_is_rejected_with_line_field_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#""transaction_id":"T1","transaction_date":"2025-11-14","transaction_amount":"1.00","merchant_name":"Acme","merchant_category":"Retail","channel":"Online","status":"approved""#;
    let lines = [
        format!(r#"{{"customer_id":"C1",{good},"note":1,"note":2}}"#),
        format!(r#"{{"customer_id":"C1",{good},"customer_id":"C2"}}"#),
        format!(r#"{{"customer_id":"C1",{good}," Customer_ID":"C2"}}"#),
    ];
    let path = write(dir.path(), "dup.jsonl", lines.join("\n"));
    let out = load(&path, &opts(BronzeTable::Transactions));
    assert_eq!(out.text("customer_id"), some(&["C1"]));
    assert_eq!(
        out.rejections(),
        vec![
            rejection(
                2,
                Some("customer_id"),
                "duplicate column 'customer_id' (named by 'customer_id' and 'customer_id') in record"
            ),
            rejection(
                3,
                Some("customer_id"),
                "duplicate column 'customer_id' (named by 'customer_id' and ' Customer_ID') in record"
            ),
        ]
    );
    assert_eq!(out.rejected[0].raw, lines[1]);
    assert_eq!(out.report.reasons["duplicate_column"], 2);
    assert_eq!(out.report.ignored_columns, ["note"]);
}

#[test]
fn exponent_notation_is_rejected_and_json_numbers_keep_their_digits_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let amounts = ["100000.00", "1e5", "1.5E2", "0.10000000000000001"];
    let rows: Vec<Vec<&str>> = amounts
        .iter()
        .map(|a| {
            vec![
                "T",
                "C1",
                "2025-11-14",
                a,
                "Acme",
                "Retail",
                "Online",
                "approved",
            ]
        })
        .collect();
    let csv_text: Vec<String> = std::iter::once(NAMES.join(","))
        .chain(rows.iter().map(|r| r.join(",")))
        .collect();
    let csv = write(dir.path(), "tx.csv", csv_text.join("\n"));
    let jsonl_line = |amount: &str| {
        format!(
            r#"{{"transaction_id":"T","customer_id":"C1","transaction_date":"2025-11-14","transaction_amount":{amount},"merchant_name":"Acme","merchant_category":"Retail","channel":"Online","status":"approved"}}"#
        )
    };
    // JSON numbers as written, and the same values as JSON strings.
    let numbers: Vec<String> = amounts.iter().map(|a| jsonl_line(a)).collect();
    let json_numbers = write(dir.path(), "numbers.jsonl", numbers.join("\n"));
    let strings: Vec<String> = amounts
        .iter()
        .map(|a| jsonl_line(&format!("\"{a}\"")))
        .collect();
    let json_strings = write(dir.path(), "strings.jsonl", strings.join("\n"));
    let parquet = dir.path().join("tx.parquet");
    text_parquet(&parquet, &NAMES, &rows);

    let o = opts(BronzeTable::Transactions);
    let csv = load(&csv, &o);
    // CSV lines count the header; JSON lines and Parquet rows do not have one.
    let expected = |first: i64| {
        vec![
            rejection(first, Some("transaction_amount"), "bad number '1e5'"),
            rejection(first + 1, Some("transaction_amount"), "bad number '1.5E2'"),
            rejection(
                first + 2,
                Some("transaction_amount"),
                "more than 2 decimal places in '0.10000000000000001'",
            ),
        ]
    };
    assert_eq!(csv.rejections(), expected(3));
    assert_eq!(csv.money("transaction_amount"), vec![Some(10_000_000)]);
    for path in [&json_numbers, &json_strings, &parquet] {
        let out = load(path, &o);
        assert_eq!(out.rejections(), expected(2), "{}", path.display());
        assert_eq!(out.money("transaction_amount"), vec![Some(10_000_000)]);
    }
}

#[test]
fn a_nested_value_in_a_column_is_rejected_in_json_and_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let line = |merchant: &str, channel: &str| {
        format!(
            r#"{{"transaction_id":"T","customer_id":"C1","transaction_date":"2025-11-14","transaction_amount":1,"merchant_name":{merchant},"merchant_category":"Retail","channel":{channel},"status":"approved","extra":{{"kept":"out"}}}}"#
        )
    };
    let lines = [
        line(r#""Acme""#, r#""Online""#),
        line(r#"{"name":"Acme"}"#, r#""Online""#),
        line(r#""Acme""#, r#"["Online"]"#),
        line("null", r#""Online""#),
    ];
    let path = write(dir.path(), "tx.jsonl", lines.join("\n"));
    let out = load(&path, &opts(BronzeTable::Transactions));
    assert_eq!(out.text("merchant_name"), vec![Some("Acme".into()), None]);
    assert_eq!(
        out.rejections(),
        vec![
            rejection(
                2,
                Some("merchant_name"),
                r#"expected a single value, found an object '{"name":"Acme"}'"#
            ),
            rejection(
                3,
                Some("channel"),
                r#"expected a single value, found an array '["Online"]'"#
            ),
        ]
    );
    assert_eq!(out.report.reasons["nested_value"], 2);

    let list =
        ListArray::from_iter_primitive::<Int32Type, _, _>(vec![None, Some(vec![Some(1), Some(2)])]);
    let point = StructArray::from(vec![(
        Arc::new(Field::new("a", DataType::Int32, true)),
        Arc::new(Int32Array::from(vec![7, 8])) as ArrayRef,
    )]);
    let mut fields: Vec<Field> = NAMES
        .iter()
        .map(|n| Field::new(*n, DataType::Utf8, true))
        .collect();
    fields[4] = Field::new("merchant_name", list.data_type().clone(), true);
    fields[6] = Field::new("channel", point.data_type().clone(), true);
    let row = [
        "T",
        "C1",
        "2025-11-14",
        "1.00",
        "",
        "Retail",
        "",
        "approved",
    ];
    let mut columns: Vec<ArrayRef> = row
        .iter()
        .map(|v| Arc::new(StringArray::from(vec![*v, *v])) as ArrayRef)
        .collect();
    columns[4] = Arc::new(list);
    columns[6] = Arc::new(point);
    let parquet = dir.path().join("nested.parquet");
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    write_parquet(&parquet, &[batch]);
    let out = load(&parquet, &opts(BronzeTable::Transactions));
    let rejections = out.rejections();
    assert_eq!(rejections.len(), 2, "{rejections:?}");
    assert_eq!(
        rejections[0],
        rejection(
            1,
            Some("channel"),
            "expected a single value, found a struct '{a: 7}'"
        )
    );
    assert_eq!(
        rejections[1],
        rejection(
            2,
            Some("merchant_name"),
            "expected a single value, found a list '[1, 2]'"
        )
    );
}
