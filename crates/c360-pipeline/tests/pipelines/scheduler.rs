//! The `c360 schedule` daemon with second-level cron patterns.

use std::sync::Mutex;
use std::time::Duration;

use c360_lake::Lake;
use c360_pipeline::{History, RunStatus, Scheduler};

use crate::common::*;

async fn run_scheduler_for(
    fx: &Fixture,
    pipelines: Vec<c360_pipeline::Pipeline>,
    seconds: f64,
) -> Vec<String> {
    let scheduler = Scheduler {
        executor: fx.executor(),
        pipelines,
        lake_root: fx.lake(),
        lock_wait: Duration::from_secs(60),
    };
    let stop = fx.stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
        stop.send(true).unwrap();
    });
    let reports = Mutex::new(Vec::new());
    let report = |line: String| reports.lock().unwrap().push(line);
    tokio::time::timeout(
        Duration::from_secs_f64(seconds + 20.0),
        scheduler.run(&report),
    )
    .await
    .expect("the scheduler stops")
    .unwrap();
    reports.into_inner().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pipeline_never_overlaps_itself() {
    let fx = Fixture::new();
    let p = pipeline(
        "[pipeline.slow]\nschedule = \"* * * * * *\"\n[pipeline.slow.tasks.nap]\nshell = \"sleep 1.6\"\n",
        "slow",
    );
    let reports = run_scheduler_for(&fx, vec![p], 4.5).await;
    let runs = History::new(Lake::new(fx.lake()))
        .runs(Some("slow"))
        .await
        .unwrap();
    assert!(runs.len() >= 2, "{runs:?}\n{reports:?}");
    for pair in runs.windows(2) {
        assert!(
            pair[1].started_at >= pair[0].finished_at.unwrap(),
            "{pair:?}"
        );
    }
    assert!(runs.iter().all(|r| r.trigger == "schedule"), "{runs:?}");
    // Every run succeeds, except that the last one may have been fired just before the stop
    // and cancelled before its task started (on a busy machine, recording its start can take
    // longer than the half second left).
    let (last, earlier) = runs.split_last().unwrap();
    assert!(
        earlier.iter().all(|r| r.status == RunStatus::Succeeded),
        "{runs:?}"
    );
    assert!(
        matches!(last.status, RunStatus::Succeeded | RunStatus::Cancelled),
        "{runs:?}"
    );
    assert!(
        reports
            .iter()
            .any(|r| r.contains("still running; this firing is skipped")),
        "{reports:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn consecutive_failures_suspend_a_pipeline_and_the_daemon_survives_them() {
    let fx = Fixture::new();
    let log = fx.path("log");
    let failing = pipeline(
        "[pipeline.bad]\nschedule = \"* * * * * *\"\nsuspend_after_failures = 2\n[pipeline.bad.tasks.boom]\nshell = \"exit 1\"\n",
        "bad",
    );
    let healthy = pipeline(
        &format!(
            "[pipeline.good]\nschedule = \"*/2 * * * * *\"\n[pipeline.good.tasks.ok]\nshell = \"echo ok >> {}\"\n",
            log.display()
        ),
        "good",
    );
    let reports = run_scheduler_for(&fx, vec![failing, healthy], 5.5).await;
    let history = History::new(Lake::new(fx.lake()));
    let bad = history.runs(Some("bad")).await.unwrap();
    assert_eq!(
        bad.len(),
        2,
        "suspended after the second failure: {reports:?}"
    );
    assert!(bad.iter().all(|r| r.status == RunStatus::Failed));
    assert!(history.is_suspended("bad").await.unwrap());
    assert!(
        reports.iter().any(|r| r.contains("bad: suspended")),
        "{reports:?}"
    );
    assert!(
        lines(&log).len() >= 2,
        "the healthy pipeline kept running: {reports:?}"
    );
}
