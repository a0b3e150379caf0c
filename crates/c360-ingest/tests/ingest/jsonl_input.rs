//! JSON-lines specifics.

use c360_bronze::BronzeTable;

use crate::*;

const GOOD: &str = r#"{"transaction_id":"T1","customer_id":"C1","transaction_date":"2025-11-14T10:30:00Z","transaction_amount":12.5,"merchant_name":"Acme","merchant_category":"Retail","channel":"Online","status":"approved"}"#;

#[test]
fn bad_lines_are_rejected_with_their_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    for line in [
        format!("\u{feff}{GOOD}").as_bytes(), // 1
        b"", // 2: blank
        b"{not json", // 3
        b"[1, 2]", // 4
        r#"{"transaction_id":"T2","customer_id":"C1","transaction_date":"2025-11-14","transaction_amount":"abc","merchant_name":"Acme","merchant_category":"Retail","channel":"Online","status":"approved"}"#.as_bytes(), // 5
        r#"{"transaction_id":"T3","customer_id":"C1","transaction_date":"2025-11-14","transaction_amount":1,"merchant_name":"Acme","merchant_category":"Retail","channel":"Online"}"#.as_bytes(), // 6
        b"{\"transaction_id\":\"T4\xff\"}", // 7
        r#"{"transaction_id":"T5","customer_id":"C1","transaction_date":"2025-11-14","transaction_amount":-1.5,"merchant_name":null,"merchant_category":"","channel":true,"status":"declined","extra":[1]}"#.as_bytes(), // 8
        b"   \t", // 9: blank
        r#"{"transaction_id":"T6","customer_id":"C1","transaction_date":"2025-11-14","transaction_amount":1e20,"merchant_name":"Acme","merchant_category":"Retail","channel":"Online","status":"approved"}"#.as_bytes(), // 10
    ] {
        bytes.extend_from_slice(line);
        bytes.extend_from_slice(b"\r\n");
    }
    let path = write(dir.path(), "tx.ndjson", bytes);
    let out = load(&path, &opts(BronzeTable::Transactions));

    assert_eq!(
        (out.report.rows_read, out.report.loaded, out.report.rejected),
        (8, 2, 6)
    );
    assert_eq!(out.text("transaction_id"), some(&["T1", "T5"]));
    assert_eq!(
        out.money("transaction_amount"),
        vec![Some(1250), Some(-150)]
    );
    assert_eq!(out.text("merchant_name"), vec![Some("Acme".into()), None]);
    assert_eq!(
        out.text("merchant_category"),
        vec![Some("Retail".into()), None]
    );
    assert_eq!(out.text("channel"), some(&["Online", "true"]));
    assert_eq!(
        out.timestamps("transaction_date")[0],
        Some(micros("2025-11-14T10:30:00Z"))
    );
    assert_eq!(out.text("source"), some(&["tx.ndjson"; 2]));

    let rejections = out.rejections();
    assert_eq!(rejections[0].0, 3);
    assert!(
        rejections[0].2.starts_with("invalid JSON: "),
        "{}",
        rejections[0].2
    );
    assert_eq!(rejections[0].1, None);
    assert_eq!(
        rejections[1],
        rejection(4, None, "invalid JSON: expected an object, found an array")
    );
    assert_eq!(
        rejections[2],
        rejection(5, Some("transaction_amount"), "bad number 'abc'")
    );
    assert_eq!(
        rejections[3],
        rejection(6, Some("status"), "missing column 'status' in record")
    );
    assert_eq!(rejections[4], rejection(7, None, "invalid UTF-8"));
    assert_eq!(
        rejections[5],
        rejection(10, Some("transaction_amount"), "bad number '1e20'")
    );
    assert_eq!(out.rejected[1].raw, "[1, 2]");
    assert_eq!(out.rejected[4].raw, "{\"transaction_id\":\"T4\u{fffd}\"}");
    assert_eq!(out.report.missing_columns, ["status"]);
    assert_eq!(out.report.ignored_columns, ["extra"]);
    assert_eq!(out.report.reasons["invalid_json"], 2);
}
