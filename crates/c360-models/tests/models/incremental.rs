//! Incremental, append, stream and Rust models against a real Delta lake (fixture
//! `incremental`): runs after bronze appends give exactly the tables a full refresh gives,
//! streams read each bronze row once, keys are checked, rebuilds happen when they must.

use std::path::Path;
use std::sync::Arc;

use c360_lake::datafusion::arrow::array::{
    BooleanArray, Date32Array, Int64Array, RecordBatch, StringArray,
};
use c360_lake::datafusion::arrow::datatypes::{DataType, Field, Schema};
use c360_lake::datafusion::prelude::DataFrame;
use c360_lake::{Lake, Layer, WriteMode};
use c360_models::{
    compile, NodeStatus, Project, RunOptions, RunResults, Runner, RustModel, RustModelError,
    RustModelInput, RustModels,
};
use futures::future::BoxFuture;

use super::execute::copy_fixture;

/// One bronze event: key, sequence number, amount, day (days since 2025-01-01).
type Event = (&'static str, i64, i64, i32);

async fn append_events(lake: &Lake, events: &[Event], mode: WriteMode) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("event_key", DataType::Utf8, true),
        Field::new("seq", DataType::Int64, false),
        Field::new("amount", DataType::Int64, false),
        Field::new("event_date", DataType::Date32, false),
        Field::new("flag", DataType::Boolean, true),
    ]));
    let day0 = 20089; // 2025-01-01
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from_iter_values(events.iter().map(|e| e.0))),
            Arc::new(Int64Array::from_iter_values(events.iter().map(|e| e.1))),
            Arc::new(Int64Array::from_iter_values(events.iter().map(|e| e.2))),
            Arc::new(Date32Array::from_iter_values(
                events.iter().map(|e| day0 + e.3),
            )),
            Arc::new(BooleanArray::from(vec![None; events.len()])),
        ],
    )
    .unwrap();
    lake.writer(Layer::Bronze, "events", schema)
        .mode(mode)
        .write_batches([batch])
        .await
        .unwrap();
}

/// A Rust model: the number of rows of `silver.latest_events`.
struct CountRows;

impl RustModel for CountRows {
    fn build<'a>(
        &'a self,
        input: RustModelInput<'a>,
    ) -> BoxFuture<'a, Result<DataFrame, RustModelError>> {
        Box::pin(async move {
            assert!(input.node.depends_on.contains("model.latest_events"));
            let frame = input
                .ctx
                .sql("SELECT count(*) AS keys FROM silver.latest_events")
                .await?;
            Ok(frame)
        })
    }
}

/// Compiles (incrementally where the table exists, unless `full_refresh`) and runs.
async fn run(dir: &Path, full_refresh: bool) -> RunResults {
    let project = Project::load(dir).unwrap();
    let lake = Lake::new(dir.join("lake"));
    let exists = |m: &str| {
        !full_refresh
            && [Layer::Silver, Layer::Gold]
                .iter()
                .any(|l| lake.table_exists(*l, m))
    };
    let manifest = compile(&project, &Default::default(), &exists).unwrap();
    let mut options = RunOptions::all(&manifest);
    options.threads = 2;
    options.full_refresh = full_refresh;
    let mut rust = RustModels::new();
    rust.register("count_rows", Arc::new(CountRows));
    Runner::new(dir, lake.clone(), manifest, options)
        .with_rust_models(rust)
        .run()
        .await
        .unwrap()
}

async fn hashes(lake: &Lake) -> Vec<(String, u64, String)> {
    let mut out = Vec::new();
    for (layer, name) in [
        (Layer::Silver, "latest_events"),
        (Layer::Silver, "event_log"),
        (Layer::Silver, "daily_amounts"),
        (Layer::Gold, "key_count"),
        (Layer::Gold, "positive_total"),
        (Layer::Silver, "latest_cents"),
    ] {
        let (rows, hash) = lake.content_hash(layer, name).await.unwrap();
        out.push((name.to_string(), rows, hash));
    }
    out
}

fn assert_success(results: &RunResults) {
    for r in &results.results {
        assert!(
            r.status.is_ok(),
            "{}: {:?} {}",
            r.unique_id,
            r.status,
            r.message
        );
    }
}

const FIRST: &[Event] = &[
    ("a", 1, 10, 0),
    ("b", 2, 20, 0),
    ("c", 3, 30, 1),
    ("a", 4, 11, 2),
];
const SECOND: &[Event] = &[
    ("b", 5, -1, 3), // b's latest event is invalid: b is removed
    ("c", 6, 31, 3), // c updated
    ("d", 7, 40, 4), // new key
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_runs_equal_a_full_refresh() {
    let dir = copy_fixture("incremental");
    let lake = Lake::new(dir.path().join("lake"));
    append_events(&lake, FIRST, WriteMode::Append).await;
    let first = run(dir.path(), false).await;
    assert_success(&first);
    assert_eq!(
        first.get("model.latest_events").unwrap().rows_affected,
        Some(3)
    );

    append_events(&lake, SECOND, WriteMode::Append).await;
    let second = run(dir.path(), false).await;
    assert_success(&second);
    let merged = second.get("model.latest_events").unwrap();
    assert!(merged.message.contains("merged"), "{}", merged.message);
    assert!(
        merged.message.contains("1 inserted, 1 updated, 1 deleted"),
        "{}",
        merged.message
    );
    // The append model read only the three new events.
    assert_eq!(
        second.get("model.event_log").unwrap().rows_affected,
        Some(3)
    );
    assert!(second
        .get("model.daily_amounts")
        .unwrap()
        .message
        .contains("merged"));
    // latest_cents read the rows latest_events wrote (the rewritten file of a, b and c now
    // holds a and c; d) and removed b
    let cents = second.get("model.latest_cents").unwrap();
    assert!(
        cents.message.contains("1 inserted, 1 updated, 1 deleted"),
        "{}",
        cents.message
    );
    let incremental = hashes(&lake).await;
    assert_eq!(incremental[0].1, 3, "a, c, d");
    assert_eq!(incremental[5].1, 3, "a, c, d");
    let ephemeral = second.get("model.positive_events").unwrap();
    assert!(
        ephemeral.message.contains("inlined"),
        "{}",
        ephemeral.message
    );
    assert_eq!(incremental[4].1, 1);
    assert_eq!(incremental[1].1, 7, "every event once");

    // A run with nothing new changes nothing.
    let third = run(dir.path(), false).await;
    assert_success(&third);
    assert_eq!(third.get("model.event_log").unwrap().rows_affected, Some(0));
    assert_eq!(
        third.get("model.latest_cents").unwrap().rows_affected,
        Some(0)
    );
    assert_eq!(hashes(&lake).await, incremental);

    let full = run(dir.path(), true).await;
    assert_success(&full);
    assert!(full
        .get("model.latest_events")
        .unwrap()
        .message
        .contains("built"));
    assert_eq!(hashes(&lake).await, incremental);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewritten_source_rebuilds_its_stream_models() {
    let dir = copy_fixture("incremental");
    let lake = Lake::new(dir.path().join("lake"));
    append_events(&lake, FIRST, WriteMode::Append).await;
    assert_success(&run(dir.path(), false).await);
    // Bronze replaced (a new `c360 generate`): offsets no longer describe it.
    append_events(&lake, SECOND, WriteMode::Overwrite).await;
    let again = run(dir.path(), false).await;
    assert_success(&again);
    let log = again.get("model.event_log").unwrap();
    assert!(log.message.contains("rebuilt"), "{}", log.message);
    // latest_events was rebuilt (overwritten), so what streams it is rebuilt too
    let cents = again.get("model.latest_cents").unwrap();
    assert!(
        cents
            .message
            .contains("rebuilt: silver.latest_events was rewritten"),
        "{}",
        cents.message
    );
    assert_eq!(
        lake.content_hash(Layer::Silver, "latest_cents")
            .await
            .unwrap()
            .0,
        2
    );
    assert_eq!(
        lake.content_hash(Layer::Silver, "event_log")
            .await
            .unwrap()
            .0,
        3
    );
    assert_eq!(
        lake.content_hash(Layer::Silver, "latest_events")
            .await
            .unwrap()
            .0,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_keys_fail_the_model_and_keep_the_table() {
    let dir = copy_fixture("incremental");
    std::fs::write(
        dir.path().join("models/silver/null_keys.sql"),
        "{{ config(unique_key='k') }}\n\
         select case when seq > 2 then event_key end as k, seq from {{ ref('event_log') }}\n",
    )
    .unwrap();
    let lake = Lake::new(dir.path().join("lake"));
    append_events(&lake, &FIRST[..2], WriteMode::Append).await;
    assert_success(&run(dir.path(), false).await);
    let before = lake.content_hash(Layer::Silver, "null_keys").await.unwrap();
    append_events(&lake, &FIRST[2..], WriteMode::Append).await;
    let results = run(dir.path(), false).await;
    let r = results.get("model.null_keys").unwrap();
    assert_eq!(r.status, NodeStatus::Error);
    assert!(
        r.message.contains("NULL unique_key column 'k'"),
        "{}",
        r.message
    );
    assert_eq!(
        lake.content_hash(Layer::Silver, "null_keys").await.unwrap(),
        before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_whose_columns_changed_asks_for_a_full_refresh() {
    let dir = copy_fixture("incremental");
    let model = dir.path().join("models/silver/changing.sql");
    std::fs::write(
        &model,
        "{{ config(unique_key='event_key') }}\n\
         select event_key, max(seq) as seq from {{ ref('event_log') }} group by event_key\n",
    )
    .unwrap();
    let lake = Lake::new(dir.path().join("lake"));
    append_events(&lake, &FIRST[..2], WriteMode::Append).await;
    assert_success(&run(dir.path(), false).await);
    let before = lake.content_hash(Layer::Silver, "changing").await.unwrap();

    // A new version of the model adds a column: a MERGE cannot, and says what to do.
    std::fs::write(
        &model,
        "{{ config(unique_key='event_key') }}\n\
         select event_key, max(seq) as seq, count(*) as events from {{ ref('event_log') }} \
         group by event_key\n",
    )
    .unwrap();
    append_events(&lake, &FIRST[2..], WriteMode::Append).await;
    let results = run(dir.path(), false).await;
    let r = results.get("model.changing").unwrap();
    assert_eq!(r.status, NodeStatus::Error);
    assert!(r.message.contains("--full-refresh"), "{}", r.message);
    assert_eq!(
        lake.content_hash(Layer::Silver, "changing").await.unwrap(),
        before
    );

    assert_success(&run(dir.path(), true).await);
    let rebuilt = lake.read_all(Layer::Silver, "changing").await.unwrap();
    assert_eq!(rebuilt[0].num_columns(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unregistered_rust_function_is_a_clear_error() {
    let dir = copy_fixture("incremental");
    let lake = Lake::new(dir.path().join("lake"));
    append_events(&lake, FIRST, WriteMode::Append).await;
    let project = Project::load(dir.path()).unwrap();
    let manifest = compile(&project, &Default::default(), &|_| false).unwrap();
    let options = RunOptions::all(&manifest);
    let results = Runner::new(dir.path(), lake, manifest, options)
        .run()
        .await
        .unwrap();
    let r = results.get("model.key_count").unwrap();
    assert_eq!(r.status, NodeStatus::Error);
    assert!(
        r.message
            .contains("no Rust function 'count_rows' is registered"),
        "{}",
        r.message
    );
}
