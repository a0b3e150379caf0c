//! One run at a time: order, parallelism, failures, retries, timeouts, finalizers, stop,
//! `when_new_data` and history.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use c360_lake::{Lake, Layer, WriteMode};
use c360_pipeline::{History, RunOutcome, RunStatus, RunSummary, TaskStatus, Trigger};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

fn ran(outcome: RunOutcome) -> RunSummary {
    match outcome {
        RunOutcome::Ran(summary) => summary,
        other => panic!("expected a run, got {other:?}"),
    }
}

fn status_of(summary: &RunSummary, task: &str) -> TaskStatus {
    summary
        .tasks
        .iter()
        .find(|t| t.task == task)
        .unwrap()
        .status
}

/// A shell step that logs `start NAME`, sleeps, logs `end NAME`.
fn step(log: &std::path::Path, name: &str, sleep: &str) -> String {
    let log = log.display();
    format!("echo start {name} >> {log}; sleep {sleep}; echo end {name} >> {log}")
}

#[tokio::test(flavor = "multi_thread")]
async fn tasks_run_in_dependency_order_and_siblings_run_in_parallel() {
    let fx = Fixture::new();
    let log = fx.path("log");
    let p = pipeline(
        &format!(
            r#"
            [pipeline.p.tasks.a]
            shell = "{a}"
            [pipeline.p.tasks.b]
            after = ["a"]
            shell = "{b}"
            [pipeline.p.tasks.c]
            after = ["a"]
            shell = "{c}"
            [pipeline.p.tasks.d]
            after = ["b", "c"]
            shell = "{d}"
            "#,
            a = step(&log, "a", "0.1"),
            b = step(&log, "b", "0.8"),
            c = step(&log, "c", "0.8"),
            d = step(&log, "d", "0"),
        ),
        "p",
    );
    let started = std::time::Instant::now();
    let summary = ran(fx
        .executor()
        .run(&p, Trigger::Manual, false, &fx.lock())
        .await
        .unwrap());
    assert_eq!(summary.run.status, RunStatus::Succeeded);
    let lines = lines(&log);
    let at = |l: &str| {
        lines
            .iter()
            .position(|x| x == l)
            .unwrap_or_else(|| panic!("{l} in {lines:?}"))
    };
    assert!(at("end a") < at("start b") && at("end a") < at("start c"));
    assert!(
        at("start b") < at("end c") && at("start c") < at("end b"),
        "b and c overlap: {lines:?}"
    );
    assert!(at("end b") < at("start d") && at("end c") < at("start d"));
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "siblings did not run one after the other"
    );

    // History holds the run and its four tasks.
    let history = History::new(Lake::new(fx.lake()));
    let runs = history.runs(Some("p")).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Succeeded);
    assert_eq!(runs[0].planned_tasks, ["a", "b", "c", "d"]);
    let tasks = history.task_runs(Some(&runs[0].run_id)).await.unwrap();
    assert_eq!(tasks.len(), 4);
    assert!(tasks
        .iter()
        .all(|t| t.status == TaskStatus::Succeeded && t.attempts == 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_task_skips_its_descendants_and_the_finalizer_still_runs() {
    let fx = Fixture::new();
    let summary_file = fx.path("summary.json");
    let p = pipeline(
        &format!(
            r#"
            [pipeline.p.tasks.a]
            shell = "true"
            [pipeline.p.tasks.b]
            after = ["a"]
            shell = "echo 'error: bad things' >&2; exit 4"
            [pipeline.p.tasks.c]
            after = ["b"]
            shell = "true"
            [pipeline.p.tasks.e]
            after = ["c"]
            shell = "true"
            [pipeline.p.tasks.d]
            after = ["a"]
            shell = "true"
            [pipeline.p.finalizer]
            command = "cat > {}"
            "#,
            summary_file.display()
        ),
        "p",
    );
    let summary = ran(fx
        .executor()
        .run(&p, Trigger::Manual, false, &fx.lock())
        .await
        .unwrap());
    assert_eq!(summary.run.status, RunStatus::Failed);
    assert_eq!(status_of(&summary, "a"), TaskStatus::Succeeded);
    assert_eq!(status_of(&summary, "b"), TaskStatus::Failed);
    assert_eq!(status_of(&summary, "c"), TaskStatus::Skipped);
    assert_eq!(status_of(&summary, "e"), TaskStatus::Skipped);
    assert_eq!(
        status_of(&summary, "d"),
        TaskStatus::Succeeded,
        "a sibling branch still runs"
    );
    let b = summary.tasks.iter().find(|t| t.task == "b").unwrap();
    assert_eq!(
        (b.exit_code, b.error.as_deref()),
        (Some(4), Some("bad things"))
    );
    assert_eq!(summary.run.finalizer.as_deref(), Some("ok"));

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary_file).unwrap()).unwrap();
    assert_eq!(json["status"], "failed");
    assert_eq!(json["pipeline"], "p");
    let tasks = json["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 5);
    let c = tasks.iter().find(|t| t["task"] == "c").unwrap();
    assert_eq!(c["status"], "skipped");
    assert_eq!(c["error"], "upstream task 'b' failed");
}

/// Accepts one HTTP request on loopback and returns its body.
async fn one_request(listener: tokio::net::TcpListener) -> String {
    let (mut socket, _) = listener.accept().await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = socket.read(&mut chunk).await.unwrap();
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                assert!(text.starts_with("POST /hook "), "{text}");
                assert!(text
                    .to_ascii_lowercase()
                    .contains("content-type: application/json"));
                socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await
                    .unwrap();
                return String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).to_string();
            }
        }
        if n == 0 {
            panic!("connection closed early: {text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_finalizer_posts_the_summary_to_a_webhook_even_after_a_failure() {
    let fx = Fixture::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let server = tokio::spawn(one_request(listener));
    let p = pipeline(
        &format!(
            r#"
            [pipeline.p.tasks.only]
            shell = "exit 1"
            [pipeline.p.finalizer]
            webhook = "{url}"
            timeout = "5s"
            "#
        ),
        "p",
    );
    let summary = ran(fx
        .executor()
        .run(&p, Trigger::Manual, false, &fx.lock())
        .await
        .unwrap());
    let body = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["run_id"], summary.run.run_id.as_str());
    assert_eq!(json["status"], "failed");
    assert_eq!(json["tasks"][0]["status"], "failed");
    assert_eq!(summary.run.finalizer.as_deref(), Some("ok"));

    // A webhook nobody answers is reported with the run, and does not fail it further.
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_url = format!("http://{}/hook", dead.local_addr().unwrap());
    drop(dead);
    let p = pipeline(
        &format!("[pipeline.p.tasks.only]\nshell = \"true\"\n[pipeline.p.finalizer]\nwebhook = \"{dead_url}\"\ntimeout = \"2s\"\n"),
        "p",
    );
    let summary = ran(fx
        .executor()
        .run(&p, Trigger::Manual, false, &fx.lock())
        .await
        .unwrap());
    assert_eq!(summary.run.status, RunStatus::Succeeded);
    assert!(summary
        .run
        .finalizer
        .as_deref()
        .unwrap()
        .starts_with("webhook: "));
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_reruns_only_what_did_not_succeed() {
    let fx = Fixture::new();
    let log = fx.path("log");
    let fixed = fx.path("fixed");
    let p = pipeline(
        &format!(
            r#"
            [pipeline.p.tasks.a]
            shell = "echo a >> {log}"
            [pipeline.p.tasks.b]
            after = ["a"]
            shell = "echo b >> {log}; test -e {fixed}"
            [pipeline.p.tasks.c]
            after = ["b"]
            shell = "echo c >> {log}"
            [pipeline.p.tasks.d]
            after = ["a"]
            shell = "echo d >> {log}"
            "#,
            log = log.display(),
            fixed = fixed.display()
        ),
        "p",
    );
    let exec = fx.executor();
    let first = ran(exec
        .run(&p, Trigger::Manual, false, &fx.lock())
        .await
        .unwrap());
    assert_eq!(first.run.status, RunStatus::Failed);
    let mut seen = lines(&log);
    seen.sort();
    assert_eq!(seen, ["a", "b", "d"]);

    std::fs::write(&fixed, "").unwrap();
    std::fs::remove_file(&log).unwrap();
    let retry = exec.retry(&p, &fx.lock()).await.unwrap();
    assert_eq!(retry.run.status, RunStatus::Succeeded);
    assert_eq!(
        retry.run.retry_of.as_deref(),
        Some(first.run.run_id.as_str())
    );
    assert_eq!(retry.run.planned_tasks, ["b", "c"]);
    assert_eq!(
        lines(&log),
        ["b", "c"],
        "a and d succeeded before and are not re-run"
    );

    let err = exec.retry(&p, &fx.lock()).await.unwrap_err();
    assert!(err.to_string().contains("succeeded"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_attempts_are_retried_with_backoff_and_timeouts_kill() {
    let fx = Fixture::new();
    let counter = fx.path("counter");
    // Fails on attempts 1 and 2, succeeds on 3.
    let flaky = format!(
        "echo x >> {c}; test $(wc -l < {c}) -ge 3",
        c = counter.display()
    );
    let p = pipeline(
        &format!(
            r#"
            [pipeline.p.tasks.flaky]
            shell = "{flaky}"
            retries = 2
            retry_delay = "200ms"
            [pipeline.p.tasks.slow]
            shell = "sleep 30"
            timeout = "300ms"
            retries = 1
            retry_delay = "10ms"
            "#
        ),
        "p",
    );
    let started = std::time::Instant::now();
    let summary = ran(fx
        .executor()
        .run(&p, Trigger::Manual, false, &fx.lock())
        .await
        .unwrap());
    let flaky = summary.tasks.iter().find(|t| t.task == "flaky").unwrap();
    assert_eq!((flaky.status, flaky.attempts), (TaskStatus::Succeeded, 3));
    assert!(flaky.duration_s.unwrap() >= 0.6, "waited 200ms then 400ms");
    let slow = summary.tasks.iter().find(|t| t.task == "slow").unwrap();
    assert_eq!((slow.status, slow.attempts), (TaskStatus::Failed, 2));
    assert!(
        slow.error.as_deref().unwrap().contains("timed out"),
        "{slow:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stop_lets_the_running_task_finish_and_cancels_the_rest() {
    let fx = Fixture::new();
    let log = fx.path("log");
    let summary_file = fx.path("summary.json");
    let p = pipeline(
        &format!(
            r#"
            [pipeline.p.tasks.a]
            shell = "{a}"
            [pipeline.p.tasks.b]
            after = ["a"]
            shell = "echo b >> {log}"
            [pipeline.p.finalizer]
            command = "cat > {summary}"
            "#,
            a = step(&log, "a", "1"),
            log = log.display(),
            summary = summary_file.display()
        ),
        "p",
    );
    let exec = fx.executor();
    let stop = fx.stop.clone();
    let log_for_stopper = log.clone();
    tokio::spawn(async move {
        while !lines(&log_for_stopper).contains(&"start a".to_string()) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.send(true).unwrap();
    });
    let summary = ran(exec
        .run(&p, Trigger::Manual, false, &fx.lock())
        .await
        .unwrap());
    assert_eq!(summary.run.status, RunStatus::Cancelled);
    assert_eq!(status_of(&summary, "a"), TaskStatus::Succeeded);
    assert_eq!(status_of(&summary, "b"), TaskStatus::Cancelled);
    assert_eq!(lines(&log), ["start a", "end a"]);
    assert!(summary_file.exists(), "the finalizer ran");
}

fn bronze_batch(n: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![n]))]).unwrap()
}

async fn append_bronze(lake: &Lake, n: i64) {
    let batch = bronze_batch(n);
    lake.writer(Layer::Bronze, "events", batch.schema())
        .mode(WriteMode::Append)
        .write_batches([batch])
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn when_new_data_skips_while_bronze_is_unchanged() {
    let fx = Fixture::new();
    let lake = Lake::new(fx.lake());
    let log = fx.path("log");
    let p = pipeline(
        &format!(
            "[pipeline.stream]\nwhen_new_data = true\n[pipeline.stream.tasks.merge]\nshell = \"echo ran >> {}\"\n",
            log.display()
        ),
        "stream",
    );
    let exec = fx.executor();
    append_bronze(&lake, 1).await;
    ran(exec
        .run(&p, Trigger::Manual, false, &fx.lock())
        .await
        .unwrap());
    let outcome = exec
        .run(&p, Trigger::Manual, false, &fx.lock())
        .await
        .unwrap();
    let RunOutcome::NoNewData { since_run } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(lines(&log).len(), 1);

    append_bronze(&lake, 2).await;
    let again = ran(exec
        .run(&p, Trigger::Manual, false, &fx.lock())
        .await
        .unwrap());
    assert_ne!(again.run.run_id, since_run);
    assert_eq!(again.run.bronze_versions["events"], 1);
    assert_eq!(lines(&log).len(), 2);
    // `force` runs even without new data.
    ran(exec
        .run(&p, Trigger::Manual, true, &fx.lock())
        .await
        .unwrap());
    assert_eq!(lines(&log).len(), 3);

    // Rolled back (version 1's commit entry removed) and written again up to version 1:
    // the same version number, other data — new data.
    std::fs::remove_file(
        lake.table_path(Layer::Bronze, "events")
            .join("_delta_log/00000000000000000001.json"),
    )
    .unwrap();
    append_bronze(&lake, 3).await;
    let rewritten = ran(exec
        .run(&p, Trigger::Manual, false, &fx.lock())
        .await
        .unwrap());
    assert_eq!(rewritten.run.bronze_versions["events"], 1);
    assert_eq!(lines(&log).len(), 4);
}
