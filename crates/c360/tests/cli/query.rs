use c360_lake::Layer;

use crate::common::*;

#[test]
fn query_reads_lake_tables_in_every_format_and_refuses_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    ok(c360(&lake).args(["generate", "--customers", "40", "--clean"]));
    let (_, rows) = version_and_rows(&lake, Layer::Bronze, "transactions").unwrap();

    let json = stdout(&ok(c360(&lake).args([
        "query",
        "--format",
        "json",
        "SELECT count(*) AS n FROM bronze.transactions",
    ])));
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value[0]["n"].as_u64(), Some(rows));

    let csv = stdout(&ok(c360(&lake).args([
        "query",
        "--format",
        "csv",
        "--limit",
        "3",
        "SELECT customer_id FROM bronze.customers ORDER BY customer_id",
    ])));
    assert_eq!(
        csv,
        "customer_id\nCUST00000001\nCUST00000002\nCUST00000003\n"
    );

    let table = stdout(&ok(c360(&lake).args(["query", "SELECT 1 AS one"])));
    assert!(table.contains("| one |"), "{table}");

    for statement in [
        "CREATE TABLE x AS SELECT 1",
        "DROP TABLE bronze.customers",
        "SELECT * FROM gold.absent",
    ] {
        let out = c360(&lake).args(["query", statement]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{statement}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("query failed"),
            "{statement}"
        );
    }
    assert_eq!(
        version_and_rows(&lake, Layer::Bronze, "customers")
            .unwrap()
            .1,
        40
    );
}
