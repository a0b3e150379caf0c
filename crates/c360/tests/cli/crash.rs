//! `kill -9` in the middle of a write: every table must still read at its previous version.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use c360_lake::Layer;

use crate::common::*;

/// Starts `cmd` with the before-commit failpoint on `table`, waits until it holds there (data
/// files written, commit not yet), and kills it with SIGKILL.
fn kill_before_commit(mut cmd: Command, table: &str, marker: &Path) {
    cmd.env(
        "C360_FAILPOINT_BEFORE_COMMIT",
        format!("{table}:{}", marker.display()),
    );
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let started = Instant::now();
    while !marker.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("c360 exited ({status}) before reaching the failpoint");
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "failpoint never reached"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    std::fs::remove_file(marker).unwrap();
}

fn parquet_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "parquet")
        })
        .count()
}

#[test]
fn killing_generate_leaves_tables_at_their_previous_version() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    let marker = tmp.path().join("marker");
    ok(c360(&lake).args(["generate", "--customers", "200"]));
    let customers = content_hash(&lake, Layer::Bronze, "customers");
    let transactions = content_hash(&lake, Layer::Bronze, "transactions");
    let files_before = parquet_files(&lake.join("bronze/transactions"));

    // Killed before the customers commit: nothing changes.
    let mut cmd = c360(&lake);
    cmd.args(["generate", "--customers", "300", "--seed", "5"]);
    kill_before_commit(cmd, "bronze.customers", &marker);
    assert_eq!(
        version_and_rows(&lake, Layer::Bronze, "customers")
            .unwrap()
            .0,
        0
    );
    assert_eq!(content_hash(&lake, Layer::Bronze, "customers"), customers);

    // Killed before the transactions commit: its data files are on disk but invisible.
    let mut cmd = c360(&lake);
    cmd.args(["generate", "--customers", "300", "--seed", "5"]);
    kill_before_commit(cmd, "bronze.transactions", &marker);
    assert!(
        parquet_files(&lake.join("bronze/transactions")) > files_before,
        "data files were written"
    );
    assert_eq!(
        version_and_rows(&lake, Layer::Bronze, "transactions")
            .unwrap()
            .0,
        0
    );
    assert_eq!(
        content_hash(&lake, Layer::Bronze, "transactions"),
        transactions
    );
    // The customers commit of that run landed whole, at the next version.
    assert_eq!(
        version_and_rows(&lake, Layer::Bronze, "customers")
            .unwrap()
            .0,
        1
    );

    // A clean re-run completes normally.
    ok(c360(&lake).args(["generate", "--customers", "300", "--seed", "5"]));
    assert_eq!(
        version_and_rows(&lake, Layer::Bronze, "transactions")
            .unwrap()
            .0,
        1
    );
}

#[test]
fn killing_load_leaves_the_table_at_its_previous_version_and_a_rerun_loads_once() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    let marker = tmp.path().join("marker");
    let header = "transaction_id,customer_id,transaction_date,transaction_amount,merchant_name,merchant_category,channel,status\n";
    let first = tmp.path().join("first.csv");
    std::fs::write(
        &first,
        format!("{header}A1,C1,2025-01-01 10:00:00,1.00,S,Retail,Online,approved\n"),
    )
    .unwrap();
    ok(c360(&lake).args(["load", "transactions"]).arg(&first));
    let before = content_hash(&lake, Layer::Bronze, "transactions");

    let second = tmp.path().join("second.csv");
    let mut body = header.to_string();
    for i in 0..500 {
        body.push_str(&format!(
            "B{i},C1,2025-01-02 10:00:00,2.00,S,Retail,Online,approved\n"
        ));
    }
    body.push_str("B-bad,C1,2025-01-02 10:00:00,nope,S,Retail,Online,approved\n");
    std::fs::write(&second, body).unwrap();
    let mut cmd = c360(&lake);
    cmd.args(["load", "transactions"]).arg(&second);
    kill_before_commit(cmd, "bronze.transactions", &marker);
    assert_eq!(
        version_and_rows(&lake, Layer::Bronze, "transactions")
            .unwrap()
            .0,
        0
    );
    assert_eq!(content_hash(&lake, Layer::Bronze, "transactions"), before);

    ok(c360(&lake).args(["load", "transactions"]).arg(&second));
    assert_eq!(
        version_and_rows(&lake, Layer::Bronze, "transactions")
            .unwrap()
            .1,
        501
    );
    // The reject was committed before the kill and is not recorded twice.
    assert_eq!(
        version_and_rows(&lake, Layer::Bronze, "_rejected_transactions")
            .unwrap()
            .1,
        1
    );
}
