//! Running the `run` fixture end to end against a real Delta lake in a temp dir: a bronze
//! table written through the lake, silver and gold models, a seed, a view, tests that pass and
//! warn, a failing model that skips its descendant, and the artifacts in `target/`.

use std::path::Path;
use std::sync::Arc;

use c360_lake::datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use c360_lake::datafusion::arrow::datatypes::{DataType, Field, Schema};
use c360_lake::datafusion::arrow::util::pretty::pretty_format_batches;
use c360_lake::datafusion::prelude::SessionContext;
use c360_lake::{Lake, Layer, WriteMode};
use c360_models::{
    compile, parse_selectors, select, NodeStatus, Project, RunOptions, RunResults, Runner,
};

use crate::fixture;

/// Copies fixture `name` into a fresh temp dir (runs write `lake/` and `target/` into it).
pub(crate) fn copy_fixture(name: &str) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let dest = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &dest);
            } else {
                std::fs::copy(entry.path(), dest).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&fixture(name), dir.path());
    dir
}

/// Writes `bronze.transactions` (one row with a negative amount, one with an unexpected
/// status) through the lake's own writer.
async fn write_bronze(lake: &Lake) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("transaction_id", DataType::Int64, false),
        Field::new("customer_id", DataType::Int64, false),
        Field::new("amount", DataType::Float64, false),
        Field::new("status", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5])),
            Arc::new(Int64Array::from(vec![10, 10, 11, 12, 12])),
            Arc::new(Float64Array::from(vec![5.0, 7.5, 2.5, 1.0, -1.0])),
            Arc::new(StringArray::from(vec![
                "ok",
                "ok",
                "refunded",
                "chargeback",
                "ok",
            ])),
        ],
    )
    .unwrap();
    lake.writer(Layer::Bronze, "transactions", schema)
        .mode(WriteMode::Append)
        .write_batches([batch])
        .await
        .unwrap();
}

/// Compiles the project in `dir` and runs `selectors` (everything when empty).
async fn run(dir: &Path, selectors: &[&str]) -> RunResults {
    let project = Project::load(dir).unwrap();
    let manifest = compile(&project, &Default::default(), &|_| false).unwrap();
    let mut options = RunOptions::all(&manifest);
    options.threads = 2;
    if !selectors.is_empty() {
        options.selected = select(&manifest, &parse_selectors(selectors).unwrap(), &[]).unwrap();
    }
    Runner::new(dir, Lake::new(dir.join("lake")), manifest, options)
        .run()
        .await
        .unwrap()
}

/// `sql` over the lake's tables, as a pretty table.
async fn query(lake: &Lake, sql: &str) -> String {
    let ctx = SessionContext::new();
    lake.register_all(&ctx).await.unwrap();
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    pretty_format_batches(&batches).unwrap().to_string()
}

fn statuses(results: &RunResults) -> Vec<(&str, NodeStatus)> {
    results
        .results
        .iter()
        .map(|r| (r.unique_id.as_str(), r.status))
        .collect()
}

/// run_results.json with timings and table versions (which grow every run) zeroed.
/// The results without timings, Delta versions and memory figures (which depend on what ran
/// beside a node); each model still reports its `peak_memory`.
fn without_timings(path: &Path) -> serde_json::Value {
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json["elapsed"] = 0.into();
    assert!(json["peak_rss"].as_u64().unwrap() > 0);
    json["peak_rss"] = 0.into();
    for r in json["results"].as_array_mut().unwrap() {
        r["execution_time"] = 0.into();
        for varying in ["table_version", "peak_memory"] {
            if r.get(varying).is_some() {
                r[varying] = 0.into();
            }
        }
        if r["status"] != "skipped" {
            assert!(r.get("peak_memory").is_some(), "{r}");
        }
    }
    json
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_runs_end_to_end() {
    let dir = copy_fixture("run");
    let lake = Lake::new(dir.path().join("lake"));
    write_bronze(&lake).await;

    let results = run(dir.path(), &[]).await;
    assert_eq!(
        statuses(&results),
        [
            ("model.after_broken", NodeStatus::Skipped),
            ("model.broken", NodeStatus::Error),
            ("model.customer_spend", NodeStatus::Success),
            ("model.status_summary", NodeStatus::Success),
            ("model.stg_tx", NodeStatus::Success),
            ("seed.status_codes", NodeStatus::Success),
            ("test.accepted_values_stg_tx_status", NodeStatus::Warn),
            ("test.not_null_customer_spend_customer_id", NodeStatus::Pass),
            ("test.not_null_stg_tx_transaction_id", NodeStatus::Pass),
            ("test.unique_customer_spend_customer_id", NodeStatus::Pass),
            ("test.unique_stg_tx_transaction_id", NodeStatus::Pass),
        ],
        "{results:#?}"
    );
    assert!(!results.success);
    let broken = results.get("model.broken").unwrap();
    assert!(
        broken.message.contains("no_such_column"),
        "{}",
        broken.message
    );
    assert!(results
        .get("model.after_broken")
        .unwrap()
        .message
        .contains("model.broken"));
    assert_eq!(results.get("model.stg_tx").unwrap().rows_affected, Some(4));
    assert_eq!(
        results.get("seed.status_codes").unwrap().rows_affected,
        Some(3)
    );
    assert_eq!(
        results
            .get("test.accepted_values_stg_tx_status")
            .unwrap()
            .failures,
        Some(1)
    );

    // Tables are in the lake; the view and the failed models are not; the run is in the history.
    let tables: Vec<String> = lake
        .list_tables()
        .await
        .unwrap()
        .into_iter()
        .map(|t| format!("{}.{} {}", t.layer, t.name, t.rows))
        .collect();
    assert_eq!(
        tables,
        [
            "bronze.transactions 5",
            "silver.status_codes 3",
            "silver.stg_tx 4",
            "gold.customer_spend 3",
            // one history row per node of the run
            "_c360.run_history 11"
        ]
    );
    assert_eq!(
        query(
            &lake,
            "select * from gold.customer_spend order by customer_id"
        )
        .await,
        "\
+-------------+-------+--------------+
| customer_id | spend | transactions |
+-------------+-------+--------------+
| 10          | 12.5  | 2            |
| 11          | 2.5   | 1            |
| 12          | 1.0   | 1            |
+-------------+-------+--------------+"
    );

    // Artifacts: the manifest, and results that differ only in timings and Delta versions
    // between equal runs.
    let target = dir.path().join("target");
    assert!(target.join("manifest.json").is_file());
    let first = without_timings(&target.join("run_results.json"));
    assert_eq!(first["results"].as_array().unwrap().len(), 11);
    let again = run(dir.path(), &[]).await;
    assert_eq!(statuses(&again), statuses(&results));
    assert_eq!(without_timings(&target.join("run_results.json")), first);
    // Tables were overwritten, not appended to.
    assert_eq!(
        lake.table_info(Layer::Silver, "stg_tx")
            .await
            .unwrap()
            .unwrap()
            .rows,
        4
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_selection_runs_only_its_nodes_and_views_serve_their_tests() {
    let dir = copy_fixture("run");
    let lake = Lake::new(dir.path().join("lake"));
    write_bronze(&lake).await;

    // Build the upstream first, then only the view (a selection treats unselected parents as
    // built, so the view reads stg_tx and the seed from the lake).
    run(dir.path(), &["stg_tx", "status_codes"]).await;
    let results = run(dir.path(), &["status_summary"]).await;
    assert_eq!(
        statuses(&results),
        [("model.status_summary", NodeStatus::Success)]
    );
    assert!(results.success);
    assert_eq!(
        results.get("model.status_summary").unwrap().rows_affected,
        None
    );
    assert!(lake
        .table_info(Layer::Gold, "status_summary")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_source_fails_the_model_and_skips_everything_downstream() {
    let dir = copy_fixture("run");
    // No bronze table written.
    let results = run(dir.path(), &["stg_tx+"]).await;
    assert_eq!(results.status("model.stg_tx"), Some(NodeStatus::Error));
    for id in [
        "model.customer_spend",
        "model.status_summary",
        "test.unique_stg_tx_transaction_id",
    ] {
        assert_eq!(results.status(id), Some(NodeStatus::Skipped), "{id}");
    }
    assert!(dir.path().join("target/run_results.json").is_file());
}
