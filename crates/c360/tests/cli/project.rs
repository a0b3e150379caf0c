//! `c360 compile` and `c360 ls` on the model engine's example project.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../c360-models/tests/fixtures/basic"
);

/// A copy of the example project and a `c360` command pointed at it.
fn project() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("project");
    copy_dir(Path::new(FIXTURE), &dir);
    (tmp, dir)
}

fn c360_in(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--config")
        .arg(dir.join("c360.toml"))
        .arg("--lake")
        .arg(dir.join("lake"))
        .env_remove("C360_LAKE");
    cmd
}

#[test]
fn compile_writes_a_byte_stable_manifest() {
    let (_tmp, dir) = project();
    let out = ok(c360_in(&dir).arg("compile"));
    assert!(stdout(&out).contains("Compiled"), "{}", stdout(&out));
    let first = std::fs::read(dir.join("target/manifest.json")).unwrap();
    ok(c360_in(&dir).arg("compile"));
    assert_eq!(
        first,
        std::fs::read(dir.join("target/manifest.json")).unwrap()
    );
    let manifest: serde_json::Value = serde_json::from_slice(&first).unwrap();
    assert!(manifest["nodes"]["model.stg_customers"]["compiled_sql"]
        .as_str()
        .unwrap()
        .contains("bronze.customers"));
}

#[test]
fn ls_selects_with_graph_operators_and_exclusions() {
    let (_tmp, dir) = project();
    let names = |args: &[&str]| -> Vec<String> {
        stdout(&ok(c360_in(&dir).arg("ls").args(args)))
            .lines()
            .map(String::from)
            .collect()
    };
    let all = names(&["--resource-type", "model"]);
    assert!(all.contains(&"model.stg_customers".to_string()), "{all:?}");
    let upstream = names(&["-s", "+dim_customer", "--resource-type", "model"]);
    assert!(
        upstream.contains(&"model.stg_customers".to_string()),
        "{upstream:?}"
    );
    assert!(upstream.contains(&"model.dim_customer".to_string()));
    let excluded = names(&[
        "-s",
        "+dim_customer",
        "--exclude",
        "stg_customers",
        "--resource-type",
        "model",
    ]);
    assert!(
        !excluded.contains(&"model.stg_customers".to_string()),
        "{excluded:?}"
    );
}

#[test]
fn a_selector_matching_nothing_and_a_missing_project_are_clear_errors() {
    let (_tmp, dir) = project();
    let out = c360_in(&dir)
        .args(["ls", "-s", "no_such_model"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no_such_model"));

    let empty = tempfile::tempdir().unwrap();
    let out = c360_in(empty.path()).arg("compile").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("c360.toml"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A two-model project over generated bronze data.
fn spend_project(dir: &Path) {
    let write = |path: &str, text: &str| {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("c360.toml", "name = \"spend\"\nlake = \"lake\"\n[models.silver]\nmaterialized = \"table\"\n[models.gold]\nmaterialized = \"table\"\n");
    write(
        "models/sources.yml",
        "sources:\n  - name: bronze\n    tables:\n      - name: transactions\n",
    );
    write(
        "models/silver/stg_tx.sql",
        "select transaction_id, customer_id, transaction_amount from {{ source('bronze', 'transactions') }} where status = 'approved'",
    );
    write(
        "models/gold/spend.sql",
        "select customer_id, sum(transaction_amount) as spend, count(*) as n from {{ ref('stg_tx') }} group by customer_id",
    );
    write(
        "models/gold/schema.yml",
        "models:\n  - name: spend\n    columns:\n      - name: customer_id\n        tests: [unique, not_null]\n",
    );
}

#[test]
fn build_runs_models_and_tests_over_generated_bronze() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spend");
    spend_project(&dir);
    let mut generate = Command::new(BIN);
    generate.arg("--config").arg(dir.join("c360.toml")).args([
        "generate",
        "--customers",
        "50",
        "--clean",
    ]);
    ok(&mut generate);
    let mut build = Command::new(BIN);
    build
        .arg("--config")
        .arg(dir.join("c360.toml"))
        .arg("build");
    let out = ok(&mut build);
    let text = stdout(&out);
    assert!(
        text.contains("PASS  test.unique_spend_customer_id"),
        "{text}"
    );
    let spend = read(&dir.join("lake"), c360_lake::Layer::Gold, "spend");
    assert_eq!(spend.iter().map(|b| b.num_rows()).sum::<usize>(), 50);
    assert!(dir.join("target/run_results.json").is_file());
    // Every node of the run is in the lake's run history, readable with `c360 query`.
    let mut query = Command::new(BIN);
    query.arg("--config").arg(dir.join("c360.toml")).args([
        "query",
        "--format",
        "csv",
        "SELECT unique_id, status FROM _c360.run_history ORDER BY unique_id",
    ]);
    let history = stdout(&ok(&mut query));
    assert!(history.contains("model.spend,success"), "{history}");
    assert!(
        history.contains("test.unique_spend_customer_id,pass"),
        "{history}"
    );

    // `c360 test` alone re-runs only the tests against the built tables.
    let mut test = Command::new(BIN);
    test.arg("--config").arg(dir.join("c360.toml")).arg("test");
    let text = stdout(&ok(&mut test));
    assert!(
        text.contains("PASS") && !text.contains("model.spend"),
        "{text}"
    );

    // Trace logging of the plan module shows each model's plan with the metrics of its run;
    // a model's session_options reach its own query and no other.
    std::fs::write(
        dir.join("models/gold/spend.sql"),
        "{{ config(session_options={'datafusion.execution.target_partitions': '7'}) }}\n\
         select customer_id, sum(transaction_amount) as spend, count(*) as n from {{ ref('stg_tx') }} group by customer_id",
    )
    .unwrap();
    let mut traced = Command::new(BIN);
    let out = traced
        .arg("--config")
        .arg(dir.join("c360.toml"))
        .arg("run")
        .env("RUST_LOG", "c360_models::execute::plan=trace")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = String::from_utf8_lossy(&out.stderr);
    let plan_of = |relation: &str| {
        log.split("plan with metrics:")
            .find(|plan| plan.contains(&format!("relation=\"{relation}\"")))
            .unwrap_or_else(|| panic!("no plan of {relation} in:\n{log}"))
    };
    let spend_plan = plan_of("gold.spend");
    assert!(
        spend_plan.contains("AggregateExec") && spend_plan.contains("output_rows=50,"),
        "{spend_plan}"
    );
    assert!(
        spend_plan.contains("partitioning=Hash([customer_id@0], 7)"),
        "{spend_plan}"
    );
    let stg_plan = plan_of("silver.stg_tx");
    assert!(
        !stg_plan.contains("(7)") && !stg_plan.contains(", 7)") && !stg_plan.contains("7 groups"),
        "{stg_plan}"
    );

    // A broken model fails the run, names itself, and skips what depends on it.
    std::fs::write(
        dir.join("models/silver/stg_tx.sql"),
        "select no_such_column from {{ source('bronze', 'transactions') }}",
    )
    .unwrap();
    let mut run = Command::new(BIN);
    let out = run
        .arg("--config")
        .arg(dir.join("c360.toml"))
        .arg("run")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("ERROR model.stg_tx") && text.contains("SKIP  model.spend"),
        "{text}"
    );
}
