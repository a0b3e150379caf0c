//! `c360 schedule`: a foreground daemon that fires every scheduled pipeline when its cron
//! pattern comes due.
//!
//! - A pipeline never overlaps itself: a firing that comes while its previous run is still
//!   going is skipped (and said so); missed firings collapse into one.
//! - Different pipelines may fire together; their runs queue on the lake's writer lock.
//! - A failed run, a busy lake or a history write error is reported and the daemon goes on.
//! - After `suspend_after_failures` consecutive failed runs a pipeline is suspended (an event
//!   in `_c360.pipeline_events`) until `c360 pipeline resume`; suspended pipelines are skipped.
//! - When `stop` turns true (SIGTERM, Ctrl-C) no new run starts; running ones finish their
//!   running tasks, cancel the rest, run their finalizers, and the daemon returns.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::StreamExt;

use crate::config::Pipeline;
use crate::error::Result;
use crate::history::{EventRecord, History, RunStatus};
use crate::lock::WriterLock;
use crate::process::show;
use crate::run::{Executor, RunOutcome, Trigger};

/// Fires scheduled pipelines until stopped.
#[derive(Debug)]
pub struct Scheduler {
    pub executor: Executor,
    /// Pipelines with a schedule (others are ignored).
    pub pipelines: Vec<Pipeline>,
    /// The lake's root (for the writer lock).
    pub lake_root: PathBuf,
    /// How long a run waits for another writer to release the lake.
    pub lock_wait: Duration,
}

/// Longest sleep between two looks at the clock.
const MAX_NAP: Duration = Duration::from_secs(30);

impl Scheduler {
    /// Runs until `executor.stop` turns true and the running pipelines are done. Every line
    /// worth telling the operator goes to `report`.
    pub async fn run(&self, report: &(dyn Fn(String) + Sync)) -> Result<()> {
        let clock = self.executor.clock.clone();
        let mut stop = self.executor.stop.clone();
        let mut next: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
        let now = clock.now();
        for p in &self.pipelines {
            if let Some(at) = p.schedule.as_ref().and_then(|s| s.next_after(now)) {
                report(format!(
                    "{}: `{}` ({}), next run at {}",
                    p.name,
                    p.schedule.as_ref().unwrap().pattern(),
                    p.schedule.as_ref().unwrap().timezone(),
                    at.to_rfc3339()
                ));
                next.insert(p.name.clone(), at);
            }
        }
        let mut running: FuturesUnordered<BoxFuture<'_, String>> = FuturesUnordered::new();
        let mut active: BTreeSet<String> = BTreeSet::new();
        loop {
            if *stop.borrow() {
                break;
            }
            let now = clock.now();
            let due: Vec<String> = next
                .iter()
                .filter(|(_, at)| **at <= now)
                .map(|(name, _)| name.clone())
                .collect();
            for name in due {
                let pipeline = self.pipelines.iter().find(|p| p.name == name).unwrap();
                match pipeline.schedule.as_ref().and_then(|s| s.next_after(now)) {
                    Some(at) => next.insert(name.clone(), at),
                    None => next.remove(&name),
                };
                if active.contains(&name) {
                    report(format!("{name}: still running; this firing is skipped"));
                    continue;
                }
                match History::new(self.executor.lake.clone())
                    .is_suspended(&name)
                    .await
                {
                    Ok(true) => {
                        report(format!(
                            "{name}: suspended; `c360 pipeline resume {name}` to schedule it again"
                        ));
                        continue;
                    }
                    Ok(false) => {}
                    Err(e) => report(format!(
                        "{name}: could not read its events ({e}); running it anyway"
                    )),
                }
                active.insert(name.clone());
                running.push(Box::pin(self.fire(pipeline, report)));
            }
            let nap = next
                .values()
                .min()
                .map(|at| (*at - clock.now()).to_std().unwrap_or(Duration::ZERO))
                .unwrap_or(MAX_NAP)
                .min(MAX_NAP);
            if next.is_empty() && running.is_empty() {
                report("no pipeline has a schedule left to fire".to_string());
                break;
            }
            tokio::select! {
                Some(name) = running.next(), if !running.is_empty() => {
                    active.remove(&name);
                }
                _ = tokio::time::sleep(nap) => {}
                _ = stop.changed() => {}
            }
        }
        if !running.is_empty() {
            report(format!(
                "stopping: waiting for {} running pipeline(s) to finish their running tasks",
                running.len()
            ));
        }
        while running.next().await.is_some() {}
        Ok(())
    }

    /// One scheduled run, reported; returns the pipeline's name.
    async fn fire(&self, pipeline: &Pipeline, report: &(dyn Fn(String) + Sync)) -> String {
        let name = pipeline.name.clone();
        let command = format!("c360 schedule (pipeline {name})");
        let lock = match WriterLock::acquire_async(
            &self.lake_root,
            &command,
            self.lock_wait,
            self.executor.stop.clone(),
        )
        .await
        {
            Ok(lock) => lock,
            Err(e) => {
                report(format!("{name}: not run: {e}"));
                return name;
            }
        };
        match self
            .executor
            .run(pipeline, Trigger::Schedule, false, &lock)
            .await
        {
            Ok(RunOutcome::NoNewData { since_run }) => report(format!(
                "{name}: no new bronze data since run {since_run}; skipped"
            )),
            Ok(RunOutcome::Ran(summary)) => {
                let run = &summary.run;
                report(format!(
                    "{name}: run {} {} in {} ({})",
                    run.run_id,
                    run.status,
                    show(Duration::from_secs_f64(run.duration_s.unwrap_or(0.0))),
                    run.message.as_deref().unwrap_or("")
                ));
                if run.status == RunStatus::Failed {
                    if let Err(e) = self.suspend_if_failing(pipeline, report).await {
                        report(format!("{name}: could not check consecutive failures: {e}"));
                    }
                }
            }
            Err(e) => report(format!("{name}: run failed to execute: {e}")),
        }
        name
    }

    async fn suspend_if_failing(
        &self,
        pipeline: &Pipeline,
        report: &(dyn Fn(String) + Sync),
    ) -> Result<()> {
        let history = History::new(self.executor.lake.clone());
        let runs = history.runs(Some(&pipeline.name)).await?;
        let failures = consecutive_failures(runs.iter().map(|r| r.status));
        if failures >= pipeline.suspend_after_failures as usize {
            let detail = format!("{failures} consecutive failed runs");
            history
                .record_event(&EventRecord {
                    pipeline: pipeline.name.clone(),
                    event: "suspended".to_string(),
                    at: self.executor.clock.now(),
                    detail: detail.clone(),
                })
                .await?;
            report(format!(
                "{}: suspended after {detail}; `c360 pipeline resume {}` to schedule it again",
                pipeline.name, pipeline.name
            ));
        }
        Ok(())
    }
}

/// Failed runs at the end of `statuses` (oldest first), ignoring runs still going.
pub fn consecutive_failures(statuses: impl DoubleEndedIterator<Item = RunStatus>) -> usize {
    statuses
        .rev()
        .filter(|s| *s != RunStatus::Running)
        .take_while(|s| *s == RunStatus::Failed)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use RunStatus::*;

    #[test]
    fn consecutive_failures_count_back_from_the_latest_run() {
        assert_eq!(
            consecutive_failures([Succeeded, Failed, Failed].into_iter()),
            2
        );
        assert_eq!(consecutive_failures([Failed, Succeeded].into_iter()), 0);
        assert_eq!(
            consecutive_failures([Failed, Running, Failed].into_iter()),
            2
        );
        assert_eq!(
            consecutive_failures([Failed, Cancelled, Failed].into_iter()),
            1
        );
    }
}
