//! Corrupt logs and data files: what each command does with a damaged table. A table whose
//! checkpoint is damaged is still read (from its JSON commits); a table with a garbage commit
//! or a missing data file is named by every command that meets it, which exits non-zero, while
//! the other tables stay readable.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use c360_lake::{Lake, Layer, WriteMode};

use crate::common::*;

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `silver.numbers` written in `commits` commits of one row each (1, 2, …).
fn numbers_table(lake: &Path, commits: i64) {
    let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    let lake = Lake::new(lake);
    runtime().block_on(async {
        for n in 1..=commits {
            let batch =
                RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![n]))])
                    .unwrap();
            lake.writer(Layer::Silver, "numbers", schema.clone())
                .mode(WriteMode::Append)
                .write_batches([batch])
                .await
                .unwrap();
        }
    });
}

fn log_dir(lake: &Path, table: &str) -> PathBuf {
    lake.join(table.replace('.', "/")).join("_delta_log")
}

#[test]
fn a_damaged_checkpoint_is_read_around_from_the_json_commits() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    numbers_table(&lake, 12); // versions 0..=11, a checkpoint at 9 (the tenth commit)
    let checkpoint =
        log_dir(&lake, "silver.numbers").join("00000000000000000009.checkpoint.parquet");
    assert!(checkpoint.exists());
    std::fs::write(&checkpoint, b"PAR1 not a parquet file").unwrap();

    let out = ok(c360(&lake).args([
        "query",
        "select count(*) as n, sum(n) as total from silver.numbers",
        "--format",
        "csv",
    ]));
    assert_eq!(stdout(&out), "n,total\n12,78\n");
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(
        warning.contains("checkpoint") && warning.contains("silver.numbers"),
        "the fallback is said once: {warning}"
    );
    // the next write makes the table whole: its own checkpoint supersedes the damaged one
    numbers_table(&lake, 9); // versions 12..=20, a checkpoint at 19
    let out = ok(c360(&lake).args(["query", "select count(*) from silver.numbers"]));
    assert!(stdout(&out).contains("21"), "{}", stdout(&out));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("checkpoint"));
}

#[test]
fn a_damaged_checkpoint_without_its_commits_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    numbers_table(&lake, 11);
    let log = log_dir(&lake, "silver.numbers");
    std::fs::write(
        log.join("00000000000000000009.checkpoint.parquet"),
        b"garbage",
    )
    .unwrap();
    std::fs::remove_file(log.join("00000000000000000003.json")).unwrap();
    let out = c360(&lake).arg("tables").output().unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("silver.numbers"), "{}", text(&out));
}

/// `c360` on `lake` with the project file `config`.
fn with_project(lake: &Path, config: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(BIN);
    cmd.arg("--config")
        .arg(config)
        .arg("--lake")
        .arg(lake)
        .env_remove("C360_LAKE")
        .env_remove("RUST_LOG");
    cmd
}

/// A 300-customer lake, built.
fn built_lake(tmp: &tempfile::TempDir) -> (PathBuf, PathBuf) {
    let project = tmp.path().join("project");
    copy_dir(Path::new(PROJECT), &project);
    let lake = lake_dir(tmp);
    ok(c360(&lake).args(["generate", "--customers", "300"]));
    let config = project.join("c360.toml");
    ok(with_project(&lake, &config).arg("run"));
    (lake, config)
}

#[test]
fn a_garbage_commit_is_named_and_the_other_tables_stay_readable() {
    let tmp = tempfile::tempdir().unwrap();
    let (lake, config) = built_lake(&tmp);
    let (version, _) = version_and_rows(&lake, Layer::Gold, "customer_360_profile").unwrap();
    let next =
        log_dir(&lake, "gold.customer_360_profile").join(format!("{:020}.json", version + 1));
    std::fs::write(&next, b"{ this is not a Delta commit\n").unwrap();

    let out = c360(&lake).arg("tables").output().unwrap();
    assert!(!out.status.success());
    let listed = text(&out);
    assert!(
        listed.contains("gold.customer_360_profile") && listed.contains("ERROR"),
        "{listed}"
    );
    assert!(
        listed.contains("gold.fct_transactions"),
        "others listed: {listed}"
    );

    ok(c360(&lake).args(["query", "select count(*) from gold.dim_customer"]));
    let out = c360(&lake)
        .args(["query", "select count(*) from gold.customer_360_profile"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("gold.customer_360_profile cannot be read"),
        "{}",
        text(&out)
    );

    // a run rebuilds what it can; the models reading the damaged table name it
    let out = with_project(&lake, &config).arg("run").output().unwrap();
    assert!(!out.status.success(), "{}", text(&out));
}

#[test]
fn a_missing_data_file_is_blamed_on_its_table_by_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let (lake, config) = built_lake(&tmp);
    let fact = lake.join("gold/fct_transactions");
    let file = std::fs::read_dir(&fact)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "parquet"))
        .unwrap();
    std::fs::remove_file(&file).unwrap();

    let out = c360(&lake).arg("tables").output().unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("gold.fct_transactions") && text(&out).contains("missing"),
        "{}",
        text(&out)
    );

    // count(*) is answered from statistics, but the table is damaged: the query says so
    let out = c360(&lake)
        .args(["query", "select count(*) from gold.fct_transactions"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("gold.fct_transactions is damaged"),
        "{}",
        text(&out)
    );

    // the run fails, and the failing models name the damaged table, not themselves
    let out = with_project(&lake, &config)
        .args(["run", "--full-refresh", "--select", "customer_behaviour"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("gold.fct_transactions is damaged"),
        "{}",
        text(&out)
    );
}
