//! Hostile input files for `c360 load`: the same file twice, columns named twice, values that
//! coerce differently by format, empty files and partial failures. Each case checks what lands
//! in bronze and its rejects table, what is said, and the exit code.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use c360_lake::{Lake, Layer};

use crate::common::*;

const HEADER: &str = "transaction_id,customer_id,transaction_date,transaction_amount,merchant_name,merchant_category,channel,status";

/// A CSV file of transactions with one row per amount (`T1`, `T2`, …).
fn csv(dir: &Path, name: &str, amounts: &[&str]) -> PathBuf {
    let mut text = format!("{HEADER}\n");
    for (i, amount) in amounts.iter().enumerate() {
        text += &format!(
            "T{},C1,2025-11-14 10:00:00,{amount},Acme,Retail,Online,approved\n",
            i + 1
        );
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A JSON-lines record of a transaction whose amount is `amount` as written (JSON text).
fn json_record(id: &str, amount: &str, merchant: &str) -> String {
    format!(
        r#"{{"transaction_id":"{id}","customer_id":"C1","transaction_date":"2025-11-14","transaction_amount":{amount},"merchant_name":{merchant},"merchant_category":"Retail","channel":"Online","status":"approved"}}"#
    )
}

/// Runs `c360 load transactions FILES...` (plus `flags`), whatever its exit code.
fn load(lake: &Path, flags: &[&str], files: &[&Path]) -> Output {
    c360(lake)
        .args(["load", "transactions"])
        .args(flags)
        .args(files)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn rows(lake: &Path, table: &str) -> u64 {
    version_and_rows(lake, Layer::Bronze, table).map_or(0, |(_, rows)| rows)
}

/// `(line, field, reason, raw)` of every rejected row, sorted by line.
fn rejected(lake: &Path) -> Vec<(String, Option<String>, String, String)> {
    let batches = read(lake, Layer::Bronze, "_rejected_transactions");
    let column = |name| strings(&batches, name);
    let mut out: Vec<_> = column("line")
        .into_iter()
        .zip(column("field"))
        .zip(column("reason").into_iter().zip(column("raw")))
        .map(|((line, field), (reason, raw))| (line.unwrap(), field, reason.unwrap(), raw.unwrap()))
        .collect();
    out.sort_by_key(|r| r.0.parse::<u64>().unwrap());
    out
}

/// A Parquet file holding `batch`, written by the lake's own file sink into a scratch lake.
fn parquet(dir: &Path, name: &str, batch: RecordBatch) -> PathBuf {
    let scratch = dir.join("scratch-lake");
    runtime().block_on(async {
        let lake = Lake::new(&scratch);
        let writer = lake
            .writer(Layer::Bronze, "scratch", batch.schema())
            .begin()
            .await
            .unwrap();
        let mut sink = writer.file_sink().unwrap();
        sink.write(batch).await.unwrap();
        sink.finish().await.unwrap();
    });
    let written = std::fs::read_dir(scratch.join("bronze/scratch"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "parquet"))
        .unwrap();
    let path = dir.join(name);
    std::fs::rename(written, &path).unwrap();
    path
}

#[test]
fn the_same_content_twice_in_one_load_is_loaded_once() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    let f = csv(tmp.path(), "f.csv", &["1.00", "abc", "3.00"]);
    let copy = tmp.path().join("copy.csv");
    std::fs::copy(&f, &copy).unwrap();

    let out = ok(c360(&lake)
        .args(["load", "transactions"])
        .args([&f, &f, &copy]));
    let text = stdout(&out);
    let (first, copy_name) = (f.display().to_string(), copy.display().to_string());
    assert!(
        text.contains(&format!("{first}: same content as {first}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{copy_name}: same content as {first}")),
        "{text}"
    );
    assert!(
        text.contains("bronze.transactions: 2 rows loaded"),
        "{text}"
    );
    assert_eq!(rows(&lake, "transactions"), 2);
    assert_eq!(rows(&lake, "_rejected_transactions"), 1);

    // --force loads a content again, but still once per command.
    let out = ok(c360(&lake)
        .args(["load", "transactions", "--force"])
        .args([&copy, &f]));
    assert!(stdout(&out).contains("same content as"), "{}", stdout(&out));
    assert_eq!(rows(&lake, "transactions"), 4);
    assert_eq!(rows(&lake, "_rejected_transactions"), 2);
}

#[test]
fn a_column_named_twice_fails_its_file_or_rejects_its_json_record() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    let dup = tmp.path().join("dup.csv");
    std::fs::write(
        &dup,
        format!("{HEADER},Customer_ID\nT9,C1,2025-11-14,1.00,Acme,Retail,Online,approved,C2\n"),
    )
    .unwrap();
    let good = csv(tmp.path(), "good.csv", &["1.00"]);
    let json = tmp.path().join("dup.jsonl");
    let record = json_record("J1", "2.00", "\"Acme\"");
    let twice = record.replacen(
        "\"customer_id\":\"C1\"",
        "\"customer_id\":\"C1\",\"CUSTOMER_ID\":\"C2\"",
        1,
    );
    std::fs::write(&json, format!("{record}\n{twice}\n")).unwrap();

    let out = load(&lake, &[], &[&dup, &good, &json]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "{}: not loaded: {}: duplicate column 'customer_id' in the header (named by 'customer_id' and 'Customer_ID')",
            dup.display(),
            dup.display()
        )),
        "{}",
        stderr(&out)
    );
    let loaded = read(&lake, Layer::Bronze, "transactions");
    let mut ids: Vec<_> = strings(&loaded, "transaction_id")
        .into_iter()
        .flatten()
        .collect();
    ids.sort();
    assert_eq!(ids, ["J1", "T1"]);
    let rejects = rejected(&lake);
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0].0, "2");
    assert_eq!(rejects[0].1.as_deref(), Some("customer_id"));
    assert_eq!(
        rejects[0].2,
        "duplicate column 'customer_id' (named by 'customer_id' and 'CUSTOMER_ID') in record"
    );
}

#[test]
fn ignored_columns_are_listed_per_file() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    let extra = tmp.path().join("extra.csv");
    std::fs::write(
        &extra,
        format!("{HEADER},note,Loyalty Tier\nT1,C1,2025-11-14,1.00,Acme,Retail,Online,approved,x,gold\n"),
    )
    .unwrap();
    let plain = csv(tmp.path(), "plain.csv", &["2.00"]);
    let out = ok(c360(&lake)
        .args(["load", "transactions"])
        .args([&extra, &plain]));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "{}: ignored columns (not in bronze.transactions): note, Loyalty Tier",
            extra.display()
        )),
        "{text}"
    );
    assert_eq!(text.matches("ignored columns").count(), 1, "{text}");
}

#[test]
fn coercion_is_the_same_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    let csv_file = csv(tmp.path(), "tx.csv", &["1e5", "100000.00"]);
    let json = tmp.path().join("tx.jsonl");
    let lines = [
        json_record("J1", "1e5", "\"Acme\""),
        json_record("J2", "100000.00", "\"Acme\""),
        json_record("J3", "1.00", r#"{"name":"Acme","id":7}"#),
        json_record("J4", "0.30000000000000004", "\"Acme\""),
    ];
    std::fs::write(&json, lines.join("\n")).unwrap();
    let schema = Schema::new(
        HEADER
            .split(',')
            .map(|name| match name {
                "transaction_amount" => Field::new(name, DataType::Float64, true),
                _ => Field::new(name, DataType::Utf8, true),
            })
            .collect::<Vec<_>>(),
    );
    let columns: Vec<ArrayRef> = HEADER
        .split(',')
        .map(|name| match name {
            "transaction_amount" => Arc::new(Float64Array::from(vec![f64::NAN, 12.5])) as ArrayRef,
            "transaction_id" => Arc::new(StringArray::from(vec!["P1", "P2"])),
            "transaction_date" => Arc::new(StringArray::from(vec!["2025-11-14"; 2])),
            _ => Arc::new(StringArray::from(vec!["x"; 2])),
        })
        .collect();
    let batch = RecordBatch::try_new(Arc::new(schema), columns).unwrap();
    let pq = parquet(tmp.path(), "tx.parquet", batch);

    ok(c360(&lake)
        .args(["load", "transactions"])
        .args([&csv_file, &json, &pq]));
    let loaded = read(&lake, Layer::Bronze, "transactions");
    let mut amounts: Vec<_> = strings(&loaded, "transaction_amount")
        .into_iter()
        .flatten()
        .collect();
    amounts.sort();
    assert_eq!(amounts, ["100000.00", "100000.00", "12.50"]);
    let rejects: Vec<_> = rejected(&lake)
        .into_iter()
        .map(|(line, field, reason, raw)| (line, field.unwrap(), reason, raw))
        .collect();
    let reasons: Vec<(&str, &str, &str)> = rejects
        .iter()
        .map(|(line, field, reason, _)| (line.as_str(), field.as_str(), reason.as_str()))
        .collect();
    for expected in [
        ("2", "transaction_amount", "bad number '1e5'"), // CSV
        ("1", "transaction_amount", "bad number '1e5'"), // JSON
        (
            "3",
            "merchant_name",
            r#"expected a single value, found an object '{"name":"Acme","id":7}'"#,
        ),
        (
            "4",
            "transaction_amount",
            "more than 2 decimal places in '0.30000000000000004'",
        ),
        ("1", "transaction_amount", "bad number 'NaN'"), // Parquet
    ] {
        assert!(reasons.contains(&expected), "{expected:?} in {reasons:?}");
    }
    assert_eq!(rejects.len(), 5, "{reasons:?}");
    let nan = rejects.iter().find(|r| r.2 == "bad number 'NaN'").unwrap();
    assert!(
        nan.3.contains(r#""transaction_amount":"NaN""#),
        "raw: {}",
        nan.3
    );
}

#[test]
fn empty_files_are_reported_and_partial_failures_exit_3() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    let empty = tmp.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let header_only = csv(tmp.path(), "header.csv", &[]);
    let good = csv(tmp.path(), "good.csv", &["1.00", "2.00"]);

    // A 0-byte CSV alone: an error naming it, nothing loaded, exit 1.
    let out = load(&lake, &[], &[&empty]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "{}: not loaded: {}: no header line",
            empty.display(),
            empty.display()
        )),
        "{}",
        stderr(&out)
    );
    // A header and no rows: loads, with a warning saying 0 rows.
    let out = load(&lake, &[], &[&header_only]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("warning: {}: 0 rows", header_only.display())),
        "{}",
        stderr(&out)
    );

    // --strict: one failed file fails the command and nothing is committed.
    let out = load(&lake, &["--strict"], &[&good, &empty]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nothing was committed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(rows(&lake, "transactions"), 0);

    // Without it: the good file is loaded, the failure is named, exit 3.
    let out = load(&lake, &[], &[&good, &empty]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 of 2 file(s) failed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(rows(&lake, "transactions"), 2);

    // The failed file was not recorded as loaded: it fails again rather than being skipped.
    let out = load(&lake, &[], &[&empty, &good]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no header line"), "{}", stderr(&out));
    assert!(!stdout(&out).contains(&format!("{}: already loaded", empty.display())));
    assert_eq!(rows(&lake, "transactions"), 2);

    let help = ok(c360(&lake).args(["load", "--help"]));
    let help = stdout(&help);
    assert!(
        help.contains("Exit codes:") && help.contains("3  some files failed"),
        "{help}"
    );
    assert!(help.contains("--strict"), "{help}");
}
