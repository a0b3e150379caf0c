use std::path::Path;

use c360_lake::Layer;

use crate::common::*;

const HEADER: &str = "transaction_id,customer_id,transaction_date,transaction_amount,merchant_name,merchant_category,channel,status\n";

/// Two good rows and one of every malformation, with the line each is on.
fn malformed_csv(dir: &Path) -> std::path::PathBuf {
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(
        b"T1,CUST00000001,2025-01-02 10:00:00,12.50,Shop,Retail,Online,approved\n",
    ); // 2 good
    bytes.extend_from_slice(
        b"T2,CUST00000001,2025-01-03 10:00:00,abc,Shop,Retail,Online,approved\n",
    ); // 3 bad number
    bytes.extend_from_slice(b"T3,CUST00000002,2025-13-45,5.00,Shop,Retail,Online,approved\n"); // 4 bad date
    bytes.extend_from_slice(b"T4,CUST00000002,2025-01-04 09:00:00,5.00,Shop,Retail,Online\n"); // 5 missing column
    bytes.extend_from_slice(
        b"T5,CUST00000002,2025-01-04 09:00:00,5.00,Shop,Retail,Online,approved,x\n",
    ); // 6 extra field
    bytes.extend_from_slice(
        b"T6,CUST00000003,2025-01-05 09:00:00,7.25,Caf\xe9,Dining,In-Store,approved\n",
    ); // 7 non-UTF-8
    bytes.extend_from_slice(
        b"T7,CUST00000003,2025-01-06 09:00:00,\"1,234.50\",\"Shop, Inc\",Retail,Online,declined\n",
    ); // 8 good
    let path = dir.join("transactions.csv");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn malformed_rows_are_rejected_with_line_field_and_reason_and_good_rows_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    let file = malformed_csv(tmp.path());
    let out = ok(c360(&lake).args(["load", "transactions"]).arg(&file));
    let text = stdout(&out);
    assert!(text.contains("7 rows read, 2 loaded, 5 rejected"), "{text}");

    let loaded = read(&lake, Layer::Bronze, "transactions");
    let mut ids: Vec<_> = strings(&loaded, "transaction_id")
        .into_iter()
        .flatten()
        .collect();
    ids.sort();
    assert_eq!(ids, ["T1", "T7"]);
    let mut amounts: Vec<_> = strings(&loaded, "transaction_amount")
        .into_iter()
        .flatten()
        .collect();
    amounts.sort();
    assert_eq!(amounts, ["12.50", "1234.50"]);
    assert!(strings(&loaded, "source")
        .iter()
        .all(|s| s.as_deref() == Some("transactions.csv")));

    let rejected = read(&lake, Layer::Bronze, "_rejected_transactions");
    let lines = strings(&rejected, "line");
    let fields = strings(&rejected, "field");
    let reasons = strings(&rejected, "reason");
    let mut rows: Vec<(i64, Option<String>, String)> = lines
        .iter()
        .zip(&fields)
        .zip(&reasons)
        .map(|((l, f), r)| {
            (
                l.as_ref().unwrap().parse().unwrap(),
                f.clone(),
                r.clone().unwrap(),
            )
        })
        .collect();
    rows.sort();
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert_eq!(rows[0].0, 3);
    assert_eq!(rows[0].1.as_deref(), Some("transaction_amount"));
    assert!(rows[0].2.contains("abc"), "{rows:?}");
    assert_eq!(
        (rows[1].0, rows[1].1.as_deref()),
        (4, Some("transaction_date"))
    );
    assert_eq!((rows[2].0, rows[2].1.as_deref()), (5, None));
    assert!(rows[2].2.contains("expected 8 fields, found 7"), "{rows:?}");
    assert_eq!((rows[3].0, rows[3].1.as_deref()), (6, None));
    assert!(rows[3].2.contains("found 9"), "{rows:?}");
    assert_eq!(
        (rows[4].0, rows[4].1.as_deref()),
        (7, Some("merchant_name"))
    );
    assert!(rows[4].2.to_lowercase().contains("utf-8"), "{rows:?}");
    let raw = strings(&rejected, "raw");
    assert!(
        raw.iter().flatten().any(|r| r.contains("T6,CUST00000003")),
        "raw kept: {raw:?}"
    );
    assert!(strings(&rejected, "source_file").iter().all(|s| s
        .as_deref()
        .is_some_and(|s| s.ends_with("transactions.csv"))));
}

#[test]
fn the_same_file_is_loaded_once_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    let file = malformed_csv(tmp.path());
    ok(c360(&lake).args(["load", "transactions"]).arg(&file));
    let first = version_and_rows(&lake, Layer::Bronze, "transactions").unwrap();
    let out = ok(c360(&lake).args(["load", "transactions"]).arg(&file));
    assert!(stdout(&out).contains("already loaded"), "{}", stdout(&out));
    assert_eq!(
        version_and_rows(&lake, Layer::Bronze, "transactions").unwrap(),
        first
    );
    assert_eq!(
        version_and_rows(&lake, Layer::Bronze, "_rejected_transactions")
            .unwrap()
            .1,
        5
    );

    ok(c360(&lake)
        .args(["load", "transactions", "--force"])
        .arg(&file));
    assert_eq!(
        version_and_rows(&lake, Layer::Bronze, "transactions")
            .unwrap()
            .1,
        4
    );
    assert_eq!(
        version_and_rows(&lake, Layer::Bronze, "_rejected_transactions")
            .unwrap()
            .1,
        10
    );
}

#[test]
fn exit_code_is_1_when_nothing_could_be_read_and_3_when_some_files_failed() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    let all_bad = tmp.path().join("bad.csv");
    std::fs::write(
        &all_bad,
        format!("{HEADER}T1,C,2025-01-01,abc,S,Retail,Online,approved\n"),
    )
    .unwrap();
    let out = c360(&lake)
        .args(["load", "transactions"])
        .arg(&all_bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing could be loaded"));
    // The bad row is still accounted for.
    assert_eq!(
        version_and_rows(&lake, Layer::Bronze, "_rejected_transactions")
            .unwrap()
            .1,
        1
    );

    let missing = tmp.path().join("missing.csv");
    let good = malformed_csv(tmp.path());
    let out = c360(&lake)
        .args(["load", "transactions"])
        .arg(&missing)
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.csv"));
    assert_eq!(
        version_and_rows(&lake, Layer::Bronze, "transactions")
            .unwrap()
            .1,
        2
    );
}

#[test]
fn customers_load_from_json_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    let file = tmp.path().join("customers.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"Customer_ID":"CUST00000001","first_name":"Ann","last_name":"Lee","email":"ann@x.com","age":41,"state":"CA","city":"Fresno","employment_status":"Employed","card_type":"Standard","credit_limit":12000,"account_open_date":"2021-03-04","updated_at":"2021-03-04 10:00:00"}"#,
            "\n",
            r#"{"customer_id":"CUST00000002","first_name":"Bo","last_name":"Ng","email":"bo@x.com","age":"old","state":"NY","city":"Albany","employment_status":"Student","card_type":"Standard","credit_limit":5000,"account_open_date":"2022-01-01","updated_at":"2022-01-01T00:00:00Z"}"#,
            "\n"
        ),
    )
    .unwrap();
    let out = ok(c360(&lake).args(["load", "customers"]).arg(&file));
    assert!(
        stdout(&out).contains("2 rows read, 1 loaded, 1 rejected"),
        "{}",
        stdout(&out)
    );
    let customers = read(&lake, Layer::Bronze, "customers");
    assert_eq!(
        strings(&customers, "credit_limit"),
        [Some("12000.00".to_string())]
    );
    let rejected = read(&lake, Layer::Bronze, "_rejected_customers");
    assert_eq!(strings(&rejected, "field"), [Some("age".to_string())]);
}
