//! One pipeline run: the planned tasks started in dependency order (siblings in parallel, up
//! to `max_parallel`), retried with backoff, a failure skipping its descendants, every task's
//! outcome recorded as it finishes, then the finalizer, then the run's final row.
//!
//! ```text
//! Executor::run(pipeline, trigger, lock)     when_new_data? → plan every task
//! Executor::retry(pipeline, lock)            plan the tasks the last run did not finish
//!   record_start → tasks (progress, attempts, history rows) → finalizer → record_end
//! ```
//!
//! A stop request (SIGTERM/Ctrl-C, through the `stop` channel) lets the running tasks finish,
//! starts nothing new (not even a retry), marks the rest `cancelled`, and still runs the
//! finalizer.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use c360_lake::{Lake, Layer};
use chrono::{DateTime, Utc};
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use serde::Serialize;
use tokio::sync::watch;

use crate::config::{Action, Pipeline, Task};
use crate::error::{PipelineError, Result};
use crate::finalizer::finalize;
use crate::history::{History, RunRecord, RunStatus, TaskRunRecord, TaskStatus};
use crate::lock::WriterLock;
use crate::process::{AttemptOutcome, Launcher};
use crate::schedule::Clock;

/// Why a run started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// `c360 pipeline run`.
    Manual,
    /// `c360 schedule`.
    Schedule,
    /// `c360 pipeline retry` of the run with this id.
    Retry { of: String },
}

impl Trigger {
    fn name(&self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Schedule => "schedule",
            Trigger::Retry { .. } => "retry",
        }
    }
}

/// A finished run: its row and its tasks' rows (also the finalizer's JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    #[serde(flatten)]
    pub run: RunRecord,
    pub tasks: Vec<TaskRunRecord>,
}

/// What `Executor::run` did (returned once per run, so the size difference does not matter).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    Ran(RunSummary),
    /// `when_new_data` and no bronze table changed since the start of this successful run.
    NoNewData {
        since_run: String,
    },
}

/// Runs pipelines against one lake.
#[derive(Debug, Clone)]
pub struct Executor {
    pub lake: Lake,
    pub launcher: Launcher,
    pub clock: Arc<dyn Clock>,
    /// Turns true when the run should stop after its running tasks.
    pub stop: watch::Receiver<bool>,
}

/// The result of one task, all attempts included.
struct TaskResult {
    record: TaskRunRecord,
}

impl Executor {
    fn history(&self) -> History {
        History::new(self.lake.clone())
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Runs every task of `pipeline` (unless `when_new_data` finds nothing new and `force` is
    /// false). The caller holds the lake's writer `lock`.
    pub async fn run(
        &self,
        pipeline: &Pipeline,
        trigger: Trigger,
        force: bool,
        lock: &WriterLock,
    ) -> Result<RunOutcome> {
        let bronze = self.bronze_versions().await?;
        if pipeline.when_new_data && !force {
            let runs = self.history().runs(Some(&pipeline.name)).await?;
            if let Some(last_ok) = runs.iter().rev().find(|r| r.status == RunStatus::Succeeded) {
                if last_ok.bronze_versions == bronze {
                    return Ok(RunOutcome::NoNewData {
                        since_run: last_ok.run_id.clone(),
                    });
                }
            }
        }
        let planned = pipeline.tasks.keys().cloned().collect();
        self.execute(pipeline, trigger, planned, bronze, lock)
            .await
            .map(RunOutcome::Ran)
    }

    /// Re-runs the tasks of `pipeline`'s last run that did not succeed (failed, skipped,
    /// cancelled, or never finished because the run was killed); the ones that succeeded are
    /// not run again.
    pub async fn retry(&self, pipeline: &Pipeline, lock: &WriterLock) -> Result<RunSummary> {
        let history = self.history();
        let runs = history.runs(Some(&pipeline.name)).await?;
        let last = runs.last().ok_or_else(|| {
            PipelineError::NothingToRetry(format!("pipeline '{}' has never run", pipeline.name))
        })?;
        if last.status == RunStatus::Succeeded {
            return Err(PipelineError::NothingToRetry(format!(
                "the last run of '{}' ({}) succeeded",
                pipeline.name, last.run_id
            )));
        }
        let done: BTreeSet<String> = history
            .task_runs(Some(&last.run_id))
            .await?
            .into_iter()
            .filter(|t| t.status == TaskStatus::Succeeded)
            .map(|t| t.task)
            .collect();
        let mut planned = BTreeSet::new();
        for task in &last.planned_tasks {
            if !pipeline.tasks.contains_key(task) {
                return Err(PipelineError::config(
                    format!("pipeline.{}.tasks", pipeline.name),
                    format!(
                        "run {} planned task '{task}', which is no longer defined; run the pipeline instead of retrying",
                        last.run_id
                    ),
                ));
            }
            if !done.contains(task) {
                planned.insert(task.clone());
            }
        }
        let bronze = self.bronze_versions().await?;
        let trigger = Trigger::Retry {
            of: last.run_id.clone(),
        };
        self.execute(pipeline, trigger, planned, bronze, lock).await
    }

    async fn execute(
        &self,
        pipeline: &Pipeline,
        trigger: Trigger,
        planned: BTreeSet<String>,
        bronze_versions: BTreeMap<String, u64>,
        lock: &WriterLock,
    ) -> Result<RunSummary> {
        let history = self.history();
        let started_at = self.clock.now();
        let started = Instant::now();
        let run_id = format!(
            "{}-{}-{}",
            pipeline.name,
            started_at.format("%Y%m%dT%H%M%S"),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let mut run = RunRecord {
            run_id: run_id.clone(),
            pipeline: pipeline.name.clone(),
            trigger: trigger.name().to_string(),
            retry_of: match &trigger {
                Trigger::Retry { of } => Some(of.clone()),
                _ => None,
            },
            status: RunStatus::Running,
            started_at,
            finished_at: None,
            duration_s: None,
            planned_tasks: planned.iter().cloned().collect(),
            bronze_versions,
            finalizer: None,
            message: None,
            pid: i64::from(std::process::id()),
        };
        history.record_start(&run).await?;
        let (lock_var, lock_fd) = lock.share_with_children()?;
        let env = vec![
            (lock_var.to_string(), lock_fd),
            ("C360_PIPELINE_RUN_ID".to_string(), run_id.clone()),
        ];

        let graph = pipeline.graph();
        let mut progress = graph.progress(&planned);
        let mut tasks: Vec<TaskRunRecord> = Vec::new();
        {
            let mut running = FuturesUnordered::new();
            let mut queue = std::collections::VecDeque::new();
            loop {
                if self.stopping() {
                    for name in progress.take_waiting().into_iter().chain(queue.drain(..)) {
                        tasks.push(self.not_run(
                            &run,
                            &pipeline.tasks[&name],
                            TaskStatus::Cancelled,
                            "the run was stopped before this task started",
                        ));
                        history.record_tasks(&tasks[tasks.len() - 1..]).await?;
                    }
                } else {
                    queue.extend(progress.ready());
                    while running.len() < pipeline.max_parallel {
                        let Some(name) = queue.pop_front() else { break };
                        let task = &pipeline.tasks[&name];
                        running.push(self.run_task(&run, task, &env));
                    }
                }
                let Some(result) = running.next().await else {
                    break;
                };
                let TaskResult { record } = result;
                let ok = record.status == TaskStatus::Succeeded;
                let failed_task = record.task.clone();
                history.record_tasks(std::slice::from_ref(&record)).await?;
                tasks.push(record);
                let mut skipped = Vec::new();
                for name in progress.complete(&failed_task, ok) {
                    skipped.push(self.not_run(
                        &run,
                        &pipeline.tasks[&name],
                        TaskStatus::Skipped,
                        &format!("upstream task '{failed_task}' failed"),
                    ));
                }
                history.record_tasks(&skipped).await?;
                tasks.extend(skipped);
            }
        }

        let count = |s: TaskStatus| tasks.iter().filter(|t| t.status == s).count();
        run.status = if count(TaskStatus::Failed) > 0 {
            RunStatus::Failed
        } else if count(TaskStatus::Cancelled) > 0 {
            RunStatus::Cancelled
        } else {
            RunStatus::Succeeded
        };
        let failed: Vec<&str> = tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Failed)
            .map(|t| t.task.as_str())
            .collect();
        run.message = Some(match run.status {
            RunStatus::Failed => format!(
                "failed: {}; skipped {}",
                failed.join(", "),
                count(TaskStatus::Skipped)
            ),
            RunStatus::Cancelled => format!(
                "stopped; {} task(s) cancelled",
                count(TaskStatus::Cancelled)
            ),
            _ => format!("{} task(s) succeeded", count(TaskStatus::Succeeded)),
        });
        run.finished_at = Some(self.clock.now());
        run.duration_s = Some(started.elapsed().as_secs_f64());
        tasks.sort_by(|a, b| {
            (a.started_at.is_none(), a.started_at, &a.task).cmp(&(
                b.started_at.is_none(),
                b.started_at,
                &b.task,
            ))
        });
        let mut summary = RunSummary { run, tasks };
        if let Some(finalizer) = &pipeline.finalizer {
            let json = serde_json::to_string(&summary).unwrap_or_default();
            summary.run.finalizer = Some(finalize(finalizer, &self.launcher, &json).await);
        }
        history.record_end(&summary.run).await?;
        Ok(summary)
    }

    fn not_run(
        &self,
        run: &RunRecord,
        task: &Task,
        status: TaskStatus,
        why: &str,
    ) -> TaskRunRecord {
        TaskRunRecord {
            run_id: run.run_id.clone(),
            pipeline: run.pipeline.clone(),
            task: task.name.clone(),
            action: task.action.describe(),
            status,
            attempts: 0,
            started_at: None,
            finished_at: None,
            duration_s: None,
            rows: None,
            exit_code: None,
            error: Some(why.to_string()),
        }
    }

    /// Every attempt of one task, with the rows it wrote.
    async fn run_task(&self, run: &RunRecord, task: &Task, env: &[(String, String)]) -> TaskResult {
        let started_at = self.clock.now();
        let started = Instant::now();
        let bronze_before = self.bronze_rows().await;
        let mut attempts = 0;
        let outcome = loop {
            attempts += 1;
            tracing::info!(task = %task.name, attempt = attempts, "starting {}", task.action.describe());
            let outcome = self
                .launcher
                .attempt(&task.name, &task.action, task.timeout, env)
                .await;
            if outcome.succeeded() || attempts > task.retries || self.stopping() {
                break outcome;
            }
            let wait = task.backoff(attempts);
            tracing::warn!(task = %task.name, error = ?outcome.error, "attempt {attempts} failed; retrying in {wait:?}");
            if self.sleep_unless_stopped(wait).await {
                break outcome;
            }
        };
        let rows = self
            .rows_written(task, &outcome, started_at, bronze_before)
            .await;
        TaskResult {
            record: TaskRunRecord {
                run_id: run.run_id.clone(),
                pipeline: run.pipeline.clone(),
                task: task.name.clone(),
                action: task.action.describe(),
                status: if outcome.succeeded() {
                    TaskStatus::Succeeded
                } else {
                    TaskStatus::Failed
                },
                attempts: i64::from(attempts),
                started_at: Some(started_at),
                finished_at: Some(self.clock.now()),
                duration_s: Some(started.elapsed().as_secs_f64()),
                rows,
                exit_code: outcome.exit_code,
                error: outcome.error.clone(),
            },
        }
    }

    /// Sleeps `wait`; true if a stop was requested meanwhile.
    async fn sleep_unless_stopped(&self, wait: Duration) -> bool {
        let mut stop = self.stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(wait) => self.stopping(),
            _ = stop.wait_for(|s| *s) => true,
        }
    }

    /// Rows a c360 task wrote: the models' and seeds' rows of its own engine run (found in
    /// `_c360.run_history` by the child's pid) for `run`/`build`, the rows bronze gained for
    /// `generate`, `simulate` and `load`; `None` for anything else.
    async fn rows_written(
        &self,
        task: &Task,
        outcome: &AttemptOutcome,
        started_at: DateTime<Utc>,
        bronze_before: BTreeMap<String, (u64, u64)>,
    ) -> Option<i64> {
        let Action::C360(words) = &task.action else {
            return None;
        };
        match words.first().map(String::as_str) {
            Some("run" | "build") => self.engine_rows(outcome.pid?, started_at).await,
            Some(cmd @ ("generate" | "simulate" | "load")) => {
                let after = self.bronze_rows().await;
                // `generate` replaces the tables it commits to; the others append.
                let gained: u64 = after
                    .iter()
                    .map(|(t, (version, rows))| match bronze_before.get(t) {
                        Some((v, _)) if v == version => 0,
                        Some((_, before)) if cmd != "generate" => rows.saturating_sub(*before),
                        _ => *rows,
                    })
                    .sum();
                Some(gained as i64)
            }
            _ => None,
        }
    }

    async fn engine_rows(&self, pid: u32, started_at: DateTime<Utc>) -> Option<i64> {
        use arrow::array::{Array, Int64Array, StringArray, TimestampMicrosecondArray};
        if !self.lake.table_exists(Layer::Meta, "run_history") {
            return None;
        }
        let suffix = format!("-{pid}");
        let since = started_at.timestamp_micros() - 5_000_000;
        let sql = format!(
            "select run_id, run_started_at, resource_type, rows_affected from _c360.run_history \
             where run_id like '%{suffix}'"
        );
        let batches = self.lake.query(&sql, None).await.ok()?;
        let mut total = None;
        for b in batches {
            let cast = |name: &str, t: &arrow::datatypes::DataType| {
                arrow::compute::cast(b.column_by_name(name)?, t).ok()
            };
            let kinds = cast("resource_type", &arrow::datatypes::DataType::Utf8)?;
            let kinds = kinds.as_any().downcast_ref::<StringArray>()?;
            let rows = cast("rows_affected", &arrow::datatypes::DataType::Int64)?;
            let rows = rows.as_any().downcast_ref::<Int64Array>()?;
            let at = cast(
                "run_started_at",
                &arrow::datatypes::DataType::Timestamp(
                    arrow::datatypes::TimeUnit::Microsecond,
                    Some("UTC".into()),
                ),
            )?;
            let at = at.as_any().downcast_ref::<TimestampMicrosecondArray>()?;
            for i in 0..b.num_rows() {
                if at.value(i) >= since && kinds.value(i) != "test" && rows.is_valid(i) {
                    *total.get_or_insert(0) += rows.value(i);
                }
            }
        }
        total
    }

    /// Delta version of every bronze table, and beside each (`<table>@commit`) a digest of
    /// that version's commit entry, so a table rolled back and written again up to the same
    /// version number still reads as changed.
    pub async fn bronze_versions(&self) -> Result<BTreeMap<String, u64>> {
        let mut out = BTreeMap::new();
        for (name, version, _) in self.bronze_tables().await? {
            let offset = self.lake.offset_at(Layer::Bronze, &name, version).await?;
            if let Some(commit) = offset.commit {
                out.insert(format!("{name}@commit"), commit as u64);
            }
            out.insert(name, version);
        }
        Ok(out)
    }

    /// (version, rows) of every bronze table; empty if the logs cannot be read.
    async fn bronze_rows(&self) -> BTreeMap<String, (u64, u64)> {
        self.bronze_tables()
            .await
            .map(|tables| {
                tables
                    .into_iter()
                    .map(|(t, v, rows)| (t, (v, rows)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// (name, version, rows) of every bronze table, from the Delta logs.
    async fn bronze_tables(&self) -> Result<Vec<(String, u64, u64)>> {
        let mut out = Vec::new();
        for (layer, name) in self.lake.table_names() {
            if layer != Layer::Bronze {
                continue;
            }
            if let Some(info) = self.lake.table_info(layer, &name).await? {
                out.push((name, info.version, info.rows));
            }
        }
        Ok(out)
    }
}
