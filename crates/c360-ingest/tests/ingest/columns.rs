//! Column matching: case and surrounding spaces do not matter; extra columns are ignored.

use c360_bronze::BronzeTable;

use crate::*;

#[test]
fn columns_match_by_case_and_space_and_extras_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "Status , NOTE,Channel,merchant_category, Merchant_Name,Transaction_Amount,TRANSACTION_DATE,customer_id, transaction_id ,Extra\n\
        approved,hello,Online,Retail,Acme,9.99,2025-11-14,C1,T1,x\n";
    let path = write(dir.path(), "tx.csv", csv);
    let out = load(&path, &opts(BronzeTable::Transactions));
    assert_eq!(out.report.loaded, 1);
    assert_eq!(out.text("transaction_id"), some(&["T1"]));
    assert_eq!(out.text("status"), some(&["approved"]));
    assert_eq!(out.money("transaction_amount"), vec![Some(999)]);
    assert_eq!(out.report.ignored_columns, [" NOTE", "Extra"]);
    assert!(out.report.missing_columns.is_empty());
}

#[test]
fn json_keys_match_like_a_header() {
    let dir = tempfile::tempdir().unwrap();
    let line = r#"{" Transaction_ID ":"T1","CUSTOMER_ID":"C1","transaction_date":"2025-11-14","transaction_amount":"9.99","merchant_name":"Acme","merchant_category":"Retail","channel":"Online","status":"approved","zzz":1,"aaa":null}"#;
    let path = write(dir.path(), "tx.jsonl", format!("{line}\n"));
    let out = load(&path, &opts(BronzeTable::Transactions));
    assert_eq!(out.text("transaction_id"), some(&["T1"]));
    assert_eq!(out.text("customer_id"), some(&["C1"]));
    assert_eq!(out.report.ignored_columns, ["aaa", "zzz"]);
}
