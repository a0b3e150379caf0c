//! Files larger than `batch_rows` are emitted as several chunks.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use c360_bronze::BronzeTable;

use crate::*;

const HEADER: &str = "transaction_id,customer_id,transaction_date,transaction_amount,merchant_name,merchant_category,channel,status";

fn row(i: usize) -> [String; 8] {
    // Every fourth row has a bad amount.
    let amount = if i % 4 == 3 {
        "x".to_string()
    } else {
        format!("{i}.00")
    };
    [
        format!("T{i}"),
        "C1".into(),
        "2025-11-14".into(),
        amount,
        "Acme".into(),
        "Retail".into(),
        "Online".into(),
        "approved".into(),
    ]
}

fn check_chunks(out: &Loaded, n: usize) {
    let sizes: Vec<usize> = out
        .chunks
        .iter()
        .map(|c| c.rows.num_rows() + c.rejected.num_rows())
        .collect();
    assert_eq!(sizes, [3, 3, 3, 1]);
    assert_eq!(out.report.rows_read, n as u64);
    assert_eq!(out.report.rejected, 2);
    let ids: Vec<String> = out.text("transaction_id").into_iter().flatten().collect();
    let expected: Vec<String> = (0..n)
        .filter(|i| i % 4 != 3)
        .map(|i| format!("T{i}"))
        .collect();
    assert_eq!(ids, expected);
}

#[test]
fn every_format_streams_in_chunks_of_batch_rows() {
    let dir = tempfile::tempdir().unwrap();
    let n = 10;
    let mut o = opts(BronzeTable::Transactions);
    o.batch_rows = 3;

    let mut csv = format!("{HEADER}\n");
    for i in 0..n {
        csv.push_str(&row(i).join(","));
        csv.push('\n');
    }
    let out = load(&write(dir.path(), "tx.csv", csv), &o);
    check_chunks(&out, n);
    let lines: Vec<i64> = out.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, [5, 9]);

    let names: Vec<&str> = HEADER.split(',').collect();
    let mut jsonl = String::new();
    for i in 0..n {
        let object: serde_json::Map<String, serde_json::Value> = names
            .iter()
            .zip(row(i))
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
            .collect();
        jsonl.push_str(&serde_json::Value::Object(object).to_string());
        jsonl.push('\n');
    }
    let out = load(&write(dir.path(), "tx.jsonl", jsonl), &o);
    check_chunks(&out, n);
    let lines: Vec<i64> = out.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, [4, 8]);

    let columns: Vec<ArrayRef> = (0..names.len())
        .map(|c| {
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| row(i)[c].clone()),
            )) as ArrayRef
        })
        .collect();
    let schema = Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    );
    let batch = RecordBatch::try_new(Arc::new(schema), columns).unwrap();
    let path = dir.path().join("tx.parquet");
    crate::parquet_input::write_parquet(&path, &[batch]);
    let out = load(&path, &o);
    check_chunks(&out, n);
    let lines: Vec<i64> = out.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, [4, 8]);
}

#[test]
fn batch_rows_zero_is_taken_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let csv = format!("{HEADER}\n{}\n{}\n", row(0).join(","), row(1).join(","));
    let mut o = opts(BronzeTable::Transactions);
    o.batch_rows = 0;
    let out = load(&write(dir.path(), "tx.csv", csv), &o);
    assert_eq!(out.chunks.len(), 2);
}
