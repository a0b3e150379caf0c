//! A source rolled back under its streams: bronze loses its latest commit (as a restore from a
//! backup does) and is then written again at the same version numbers. The stream offsets
//! must notice that the version they recorded is gone, the models rebuild, and the rows
//! written after the rollback reach silver and gold — never a run reporting success with
//! bronze rows missing.

use c360_lake::Layer;

use crate::common::*;
use crate::kill::kill_before_commit;

/// The tables a lost bronze row would be missing from, with their content hashes.
const CHECKED: [(Layer, &str); 5] = [
    (Layer::Silver, "stg_transactions"),
    (Layer::Silver, "quarantine_transactions"),
    (Layer::Silver, "transactions_conservation"),
    (Layer::Gold, "fct_transactions"),
    (Layer::Gold, "metric_customer_ltv"),
];

#[test]
fn rows_written_after_a_bronze_rollback_reach_silver_and_gold() {
    let p = Setup::new();
    p.ok(&["generate", "--customers", "1000"]);
    p.ok(&["build"]);
    p.ok(&["simulate", "--days", "3"]);
    p.ok(&["run"]);

    // The table rolls back one version: its latest commit entry is removed.
    let log = p.lake.join("bronze/transactions/_delta_log");
    let latest = log.join("00000000000000000001.json");
    assert!(latest.exists(), "simulate should have committed version 1");
    std::fs::remove_file(&latest).unwrap();
    // killed before the rebuild's commit: the next run starts over from the same state
    let mut run = p.c360();
    run.arg("run");
    kill_before_commit(
        run,
        "silver.int_transactions",
        &p.lake.with_extension("marker"),
    );
    let out = p.ok(&["run"]);
    assert!(out.contains("0 failed"), "{out}");

    // Written again: a new version 1 with other rows.
    p.ok(&["simulate", "--days", "3"]);
    let out = p.ok(&["run"]);
    assert!(out.contains("0 failed"), "{out}");
    // Every table a full build of the same bronze makes is what the incremental runs left.
    let fresh = tempfile::tempdir().unwrap();
    copy_dir(&p.lake.join("bronze"), &fresh.path().join("bronze"));
    ok(p.c360_on(fresh.path()).arg("run"));
    for (layer, table) in CHECKED {
        assert_eq!(
            content_hash(&p.lake, layer, table),
            content_hash(fresh.path(), layer, table),
            "{layer}.{table} differs from a full build after the rollback"
        );
    }
    let conservation = read(&p.lake, Layer::Silver, "transactions_conservation");
    let bronze_rows = version_and_rows(&p.lake, Layer::Bronze, "transactions")
        .unwrap()
        .1;
    assert_eq!(
        strings(&conservation, "bronze_rows"),
        [Some(bronze_rows.to_string())]
    );
}

/// The audit on the conservation identity fails a run that leaves bronze rows unaccounted for.
#[test]
fn a_run_fails_when_bronze_rows_are_unaccounted_for() {
    let p = Setup::new();
    p.ok(&["generate", "--customers", "300"]);
    p.ok(&["run"]);
    // A model that loses rows: stg_transactions keeps all but one transaction.
    let model = p
        .project
        .join("models/silver/transactions/stg_transactions.sql");
    let sql = std::fs::read_to_string(&model).unwrap();
    std::fs::write(
        &model,
        format!(
            "select * from ({}) as kept\nwhere transaction_id <> (select min(transaction_id) from {{{{ ref('int_transactions') }}}})\n",
            sql.trim_end().trim_end_matches(';')
        ),
    )
    .unwrap();
    let out = p.c360().args(["run", "--full-refresh"]).output().unwrap();
    let text = stdout(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("assert_transactions_conserved"),
        "the failing audit is named: {text}"
    );
}
