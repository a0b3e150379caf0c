//! Kill points: `kill -9` in the middle of a write; every table must still read at its previous
//! version.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use c360_lake::Layer;

use crate::common::*;

/// Starts `cmd` with the before-commit failpoint on `table`, waits until it holds there (data
/// files written, commit not yet), and kills it with SIGKILL.
pub(crate) fn kill_before_commit(mut cmd: Command, table: &str, marker: &Path) {
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

/// A project with one append model that copies every bronze transaction through a stream,
/// and one incremental model merging per-customer counts.
fn write_stream_project(dir: &Path) {
    let write = |path: &str, text: &str| {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("c360.toml", "name = \"streams\"\n");
    write(
        "models/sources.yml",
        "sources:\n  - name: bronze\n    tables:\n      - name: transactions\n",
    );
    write(
        "models/silver/tx_copy.sql",
        "{{ config(materialized='append') }}\n\
         select transaction_id, customer_id, transaction_amount from {{ stream('bronze', 'transactions') }}\n",
    );
}

#[test]
fn a_stream_killed_between_write_and_offset_commit_loses_and_doubles_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    let project = tmp.path().join("project");
    write_stream_project(&project);
    let marker = tmp.path().join("marker");
    let config = project.join("c360.toml");
    let run = |lake: &Path| {
        let mut cmd = Command::new(BIN);
        cmd.arg("--lake")
            .arg(lake)
            .arg("--config")
            .arg(&config)
            .arg("run")
            .env_remove("C360_LAKE")
            .env_remove("C360_FAILPOINT_BEFORE_COMMIT");
        cmd
    };
    ok(c360(&lake).args(["generate", "--customers", "100", "--months", "2", "--clean"]));
    ok(&mut run(&lake));
    ok(c360(&lake).args(["simulate", "--days", "2"]));

    // Killed with the copy's files written but neither rows nor offset committed.
    kill_before_commit(run(&lake), "silver.tx_copy", &marker);
    let (_, bronze_rows) = version_and_rows(&lake, Layer::Bronze, "transactions").unwrap();
    let (_, copied) = version_and_rows(&lake, Layer::Silver, "tx_copy").unwrap();
    assert!(
        copied < bronze_rows,
        "the killed run committed nothing ({copied} of {bronze_rows})"
    );

    // The next run reads the same new rows again: every bronze row exactly once.
    ok(&mut run(&lake));
    ok(&mut run(&lake));
    let (_, copied) = version_and_rows(&lake, Layer::Silver, "tx_copy").unwrap();
    assert_eq!(copied, bronze_rows);
    let out = ok(c360(&lake).args([
        "query",
        "--format",
        "csv",
        "select count(*) as n, count(distinct transaction_id) as d from silver.tx_copy",
    ]));
    let text = stdout(&out);
    let last = text.lines().last().unwrap();
    let (n, d) = last.split_once(',').unwrap();
    assert_eq!(n, d, "no transaction copied twice");
}
