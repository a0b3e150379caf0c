//! The lake's tables open in other Delta readers: the Python `deltalake` package and DuckDB
//! (through pyarrow), with the same row counts c360 reports. Needs `python3` with the packages
//! of requirements-dev.txt (scripts/test and .ci/run install them).

use std::collections::BTreeMap;
use std::process::Command;

use crate::common::*;

#[test]
fn bronze_tables_open_in_python_deltalake_and_duckdb_with_the_same_row_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    ok(c360(&lake).args(["generate", "--customers", "200"]));
    ok(c360(&lake).args(["simulate", "--days", "2"]));
    let bad = tmp.path().join("bad.csv");
    std::fs::write(&bad, "customer_id,age\nCUST1,abc\n").unwrap();
    let _ = c360(&lake)
        .args(["load", "customers"])
        .arg(&bad)
        .output()
        .unwrap();

    let listed: serde_json::Value = serde_json::from_str(&stdout(&ok(
        c360(&lake).args(["tables", "--format", "json"])
    )))
    .unwrap();
    let ours: BTreeMap<String, u64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                format!(
                    "{}.{}",
                    t["layer"].as_str().unwrap(),
                    t["name"].as_str().unwrap()
                ),
                t["rows"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(ours.contains_key("bronze._rejected_customers"), "{ours:?}");

    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/interop_check.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .arg(&lake)
        .output()
        .expect(
        "python3 is needed for the interoperability check (pip install -r requirements-dev.txt)",
    );
    assert!(
        out.status.success(),
        "interop check failed (pip install -r requirements-dev.txt?):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut theirs = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let table = row["table"].as_str().unwrap().to_string();
        assert_eq!(row["deltalake_rows"], row["duckdb_rows"], "{table}");
        theirs.insert(table, row["deltalake_rows"].as_u64().unwrap());
    }
    assert_eq!(theirs, ours);
}
