//! Run history in the lake: three Delta tables of the meta layer, readable with `c360 query`
//! and by the dashboard.
//!
//! - `_c360.pipeline_runs`: one row per run. It is appended with status `running` when the run
//!   starts and replaced by its final state when the run ends (the small table is rewritten in
//!   one commit), so a run killed in between stays visible as `running` (shown as
//!   `interrupted` once its process is gone).
//! - `_c360.pipeline_task_runs`: one row per planned task of a run, appended as each task
//!   finishes (a killed run keeps the rows of the tasks it finished).
//! - `_c360.pipeline_events`: suspensions and resumptions by `c360 schedule` and
//!   `c360 pipeline resume`.
//!
//! Timestamps are operational metadata (when things ran); no business table reads them.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use arrow::array::{
    Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use c360_lake::{Lake, Layer, WriteMode};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{PipelineError, Result};

pub const RUNS_TABLE: &str = "pipeline_runs";
pub const TASK_RUNS_TABLE: &str = "pipeline_task_runs";
pub const EVENTS_TABLE: &str = "pipeline_events";

/// How a run ended (or that it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
    /// Stopped by SIGTERM/Ctrl-C after its running tasks finished.
    Cancelled,
}

/// What happened to one task in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Succeeded,
    /// Every attempt failed (or timed out).
    Failed,
    /// Not run: a task it waits for failed.
    Skipped,
    /// Not run: the run was stopped first.
    Cancelled,
}

macro_rules! names {
    ($t:ty { $($v:ident = $s:literal),* }) => {
        impl $t {
            /// The name stored in history.
            pub fn as_str(self) -> &'static str { match self { $(<$t>::$v => $s),* } }
            fn parse(text: &str) -> Option<Self> { match text { $($s => Some(<$t>::$v),)* _ => None } }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}
names!(RunStatus { Running = "running", Succeeded = "succeeded", Failed = "failed", Cancelled = "cancelled" });
names!(TaskStatus { Succeeded = "succeeded", Failed = "failed", Skipped = "skipped", Cancelled = "cancelled" });

/// One row of `_c360.pipeline_runs`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    pub run_id: String,
    pub pipeline: String,
    /// `manual`, `schedule` or `retry`.
    pub trigger: String,
    /// For a retry: the run it re-runs the failures of.
    pub retry_of: Option<String>,
    pub status: RunStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_s: Option<f64>,
    /// The tasks this run set out to run, sorted.
    pub planned_tasks: Vec<String>,
    /// Delta version of every bronze table when the run started, with its commit digest
    /// (`<table>@commit`; for `when_new_data`).
    pub bronze_versions: BTreeMap<String, u64>,
    /// The finalizer's outcome: `ok`, or what failed.
    pub finalizer: Option<String>,
    /// A one-line summary (which tasks failed).
    pub message: Option<String>,
    /// The process that ran it.
    pub pid: i64,
}

/// One row of `_c360.pipeline_task_runs`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRunRecord {
    pub run_id: String,
    pub pipeline: String,
    pub task: String,
    /// What it ran (`c360 build`, `sh -c ...`).
    pub action: String,
    pub status: TaskStatus,
    /// Attempts made (0 for skipped and cancelled tasks).
    pub attempts: i64,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_s: Option<f64>,
    /// Rows written, when known (models' rows for run/build, bronze rows gained for loads).
    pub rows: Option<i64>,
    /// Exit code of the last attempt (`None`: killed by a signal or a timeout, or not run).
    pub exit_code: Option<i64>,
    pub error: Option<String>,
}

/// One row of `_c360.pipeline_events`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRecord {
    pub pipeline: String,
    /// `suspended` or `resumed`.
    pub event: String,
    pub at: DateTime<Utc>,
    pub detail: String,
}

fn ts_field(name: &str, nullable: bool) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        nullable,
    )
}

fn text(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

static RUNS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        text("run_id", false),
        text("pipeline", false),
        text("trigger", false),
        text("retry_of", true),
        text("status", false),
        ts_field("started_at", false),
        ts_field("finished_at", true),
        Field::new("duration_s", DataType::Float64, true),
        text("planned_tasks", false),
        text("bronze_versions", false),
        text("finalizer", true),
        text("message", true),
        Field::new("pid", DataType::Int64, false),
    ]))
});

static TASK_RUNS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        text("run_id", false),
        text("pipeline", false),
        text("task", false),
        text("action", false),
        text("status", false),
        Field::new("attempts", DataType::Int64, false),
        ts_field("started_at", true),
        ts_field("finished_at", true),
        Field::new("duration_s", DataType::Float64, true),
        Field::new("rows", DataType::Int64, true),
        Field::new("exit_code", DataType::Int64, true),
        text("error", true),
    ]))
});

static EVENTS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        text("pipeline", false),
        text("event", false),
        ts_field("at", false),
        text("detail", false),
    ]))
});

fn micros(t: &DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn ts_array(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from_iter(values).with_timezone("UTC"))
}

fn strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(StringArray::from_iter(values))
}

fn batch(schema: &SchemaRef, columns: Vec<ArrayRef>, table: &str) -> Result<RecordBatch> {
    RecordBatch::try_new(schema.clone(), columns).map_err(|e| PipelineError::History {
        table: table.to_string(),
        message: e.to_string(),
    })
}

fn runs_batch(run: &RunRecord) -> Result<RecordBatch> {
    let planned = run.planned_tasks.join(",");
    let bronze = serde_json::to_string(&run.bronze_versions).unwrap_or_default();
    let one = |s: &str| strings(std::iter::once(Some(s)));
    let opt = |s: &Option<String>| strings(std::iter::once(s.as_deref()));
    batch(
        &RUNS_SCHEMA,
        vec![
            one(&run.run_id),
            one(&run.pipeline),
            one(&run.trigger),
            opt(&run.retry_of),
            one(run.status.as_str()),
            ts_array(std::iter::once(Some(micros(&run.started_at)))),
            ts_array(std::iter::once(run.finished_at.as_ref().map(micros))),
            Arc::new(Float64Array::from(vec![run.duration_s])),
            one(&planned),
            one(&bronze),
            opt(&run.finalizer),
            opt(&run.message),
            Arc::new(Int64Array::from(vec![run.pid])),
        ],
        RUNS_TABLE,
    )
}

fn task_runs_batch(rows: &[TaskRunRecord]) -> Result<RecordBatch> {
    batch(
        &TASK_RUNS_SCHEMA,
        vec![
            strings(rows.iter().map(|r| Some(r.run_id.as_str()))),
            strings(rows.iter().map(|r| Some(r.pipeline.as_str()))),
            strings(rows.iter().map(|r| Some(r.task.as_str()))),
            strings(rows.iter().map(|r| Some(r.action.as_str()))),
            strings(rows.iter().map(|r| Some(r.status.as_str()))),
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.attempts),
            )),
            ts_array(rows.iter().map(|r| r.started_at.as_ref().map(micros))),
            ts_array(rows.iter().map(|r| r.finished_at.as_ref().map(micros))),
            Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.duration_s))),
            Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.rows))),
            Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.exit_code))),
            strings(rows.iter().map(|r| r.error.as_deref())),
        ],
        TASK_RUNS_TABLE,
    )
}

/// Reads and writes the pipeline history tables of one lake.
#[derive(Debug, Clone)]
pub struct History {
    lake: Lake,
}

impl History {
    pub fn new(lake: Lake) -> History {
        History { lake }
    }

    async fn append(&self, table: &str, batch: RecordBatch) -> Result<()> {
        self.lake
            .writer(Layer::Meta, table, batch.schema())
            .mode(WriteMode::Append)
            .write_batches([batch])
            .await?;
        Ok(())
    }

    /// Appends a run's first row (status `running`).
    pub async fn record_start(&self, run: &RunRecord) -> Result<()> {
        self.append(RUNS_TABLE, runs_batch(run)?).await
    }

    /// Replaces a run's row with its final state: the table is rewritten in one commit (it
    /// holds one small row per run, and only the writer-lock holder writes it).
    pub async fn record_end(&self, run: &RunRecord) -> Result<()> {
        let mut runs = self.runs(None).await?;
        runs.retain(|r| r.run_id != run.run_id);
        runs.push(run.clone());
        let batches = runs.iter().map(runs_batch).collect::<Result<Vec<_>>>()?;
        self.lake
            .writer(Layer::Meta, RUNS_TABLE, RUNS_SCHEMA.clone())
            .mode(WriteMode::Overwrite)
            .write_batches(batches)
            .await?;
        Ok(())
    }

    /// Appends task rows in one commit.
    pub async fn record_tasks(&self, rows: &[TaskRunRecord]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        self.append(TASK_RUNS_TABLE, task_runs_batch(rows)?).await
    }

    /// Appends a suspension or resumption.
    pub async fn record_event(&self, event: &EventRecord) -> Result<()> {
        let b = batch(
            &EVENTS_SCHEMA,
            vec![
                strings(std::iter::once(Some(event.pipeline.as_str()))),
                strings(std::iter::once(Some(event.event.as_str()))),
                ts_array(std::iter::once(Some(micros(&event.at)))),
                strings(std::iter::once(Some(event.detail.as_str()))),
            ],
            EVENTS_TABLE,
        )?;
        self.append(EVENTS_TABLE, b).await
    }

    async fn read(&self, table: &str) -> Result<Vec<RecordBatch>> {
        if !self.lake.table_exists(Layer::Meta, table) {
            return Ok(Vec::new());
        }
        Ok(self.lake.read_all(Layer::Meta, table).await?)
    }

    /// Every run (of `pipeline`, or all), oldest first (by start, then run id).
    pub async fn runs(&self, pipeline: Option<&str>) -> Result<Vec<RunRecord>> {
        let mut out = Vec::new();
        for b in self.read(RUNS_TABLE).await? {
            let c = Columns::new(&b, RUNS_TABLE);
            for i in 0..b.num_rows() {
                let status = c.text("status", i)?;
                out.push(RunRecord {
                    run_id: c.text("run_id", i)?,
                    pipeline: c.text("pipeline", i)?,
                    trigger: c.text("trigger", i)?,
                    retry_of: c.opt_text("retry_of", i)?,
                    status: RunStatus::parse(&status).ok_or_else(|| c.bad("status", &status))?,
                    started_at: c
                        .ts("started_at", i)?
                        .ok_or_else(|| c.bad("started_at", "NULL"))?,
                    finished_at: c.ts("finished_at", i)?,
                    duration_s: c.f64("duration_s", i)?,
                    planned_tasks: c
                        .text("planned_tasks", i)?
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                    bronze_versions: serde_json::from_str(&c.text("bronze_versions", i)?)
                        .map_err(|e| c.bad("bronze_versions", &e.to_string()))?,
                    finalizer: c.opt_text("finalizer", i)?,
                    message: c.opt_text("message", i)?,
                    pid: c.i64("pid", i)?.unwrap_or(0),
                });
            }
        }
        out.retain(|r| pipeline.is_none_or(|p| r.pipeline == p));
        out.sort_by(|a, b| (a.started_at, &a.run_id).cmp(&(b.started_at, &b.run_id)));
        Ok(out)
    }

    /// The task rows of `run_id` (all runs when `None`), by run then task start.
    pub async fn task_runs(&self, run_id: Option<&str>) -> Result<Vec<TaskRunRecord>> {
        let mut out = Vec::new();
        for b in self.read(TASK_RUNS_TABLE).await? {
            let c = Columns::new(&b, TASK_RUNS_TABLE);
            for i in 0..b.num_rows() {
                let id = c.text("run_id", i)?;
                if run_id.is_some_and(|r| r != id) {
                    continue;
                }
                let status = c.text("status", i)?;
                out.push(TaskRunRecord {
                    run_id: id,
                    pipeline: c.text("pipeline", i)?,
                    task: c.text("task", i)?,
                    action: c.text("action", i)?,
                    status: TaskStatus::parse(&status).ok_or_else(|| c.bad("status", &status))?,
                    attempts: c.i64("attempts", i)?.unwrap_or(0),
                    started_at: c.ts("started_at", i)?,
                    finished_at: c.ts("finished_at", i)?,
                    duration_s: c.f64("duration_s", i)?,
                    rows: c.i64("rows", i)?,
                    exit_code: c.i64("exit_code", i)?,
                    error: c.opt_text("error", i)?,
                });
            }
        }
        out.sort_by(|a, b| {
            let key = |t: &TaskRunRecord| {
                (
                    t.run_id.clone(),
                    t.started_at.is_none(),
                    t.started_at,
                    t.task.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        Ok(out)
    }

    /// Suspensions and resumptions of `pipeline`, oldest first.
    pub async fn events(&self, pipeline: &str) -> Result<Vec<EventRecord>> {
        let mut out = Vec::new();
        for b in self.read(EVENTS_TABLE).await? {
            let c = Columns::new(&b, EVENTS_TABLE);
            for i in 0..b.num_rows() {
                if c.text("pipeline", i)? != pipeline {
                    continue;
                }
                out.push(EventRecord {
                    pipeline: pipeline.to_string(),
                    event: c.text("event", i)?,
                    at: c.ts("at", i)?.ok_or_else(|| c.bad("at", "NULL"))?,
                    detail: c.text("detail", i)?,
                });
            }
        }
        out.sort_by_key(|e| e.at);
        Ok(out)
    }

    /// Whether `pipeline` is suspended (its latest event is a suspension).
    pub async fn is_suspended(&self, pipeline: &str) -> Result<bool> {
        Ok(self
            .events(pipeline)
            .await?
            .last()
            .is_some_and(|e| e.event == "suspended"))
    }
}

/// Typed access to the columns of one history batch, whatever string or timestamp flavour
/// the reader returned (strings may come back as views).
struct Columns {
    columns: BTreeMap<String, ArrayRef>,
    table: &'static str,
}

impl Columns {
    fn new(batch: &RecordBatch, table: &'static str) -> Self {
        let wanted = |t: &DataType| match t {
            DataType::Utf8View | DataType::LargeUtf8 => Some(DataType::Utf8),
            DataType::Timestamp(unit, tz)
                if *unit != TimeUnit::Microsecond || tz.as_deref() != Some("UTC") =>
            {
                Some(DataType::Timestamp(
                    TimeUnit::Microsecond,
                    Some("UTC".into()),
                ))
            }
            _ => None,
        };
        let columns = batch
            .schema()
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(field, array)| {
                let array = match wanted(field.data_type()) {
                    Some(to) => arrow::compute::cast(array, &to).unwrap_or_else(|_| array.clone()),
                    None => array.clone(),
                };
                (field.name().clone(), array)
            })
            .collect();
        Columns { columns, table }
    }

    fn bad(&self, column: &str, detail: &str) -> PipelineError {
        PipelineError::History {
            table: self.table.to_string(),
            message: format!("column {column}: unexpected {detail}"),
        }
    }

    fn column<T: 'static>(&self, name: &str) -> Result<&T> {
        self.columns
            .get(name)
            .and_then(|c| c.as_any().downcast_ref::<T>())
            .ok_or_else(|| self.bad(name, "type or missing column"))
    }

    fn opt_text(&self, name: &str, i: usize) -> Result<Option<String>> {
        let c = self.column::<StringArray>(name)?;
        Ok(c.is_valid(i).then(|| c.value(i).to_string()))
    }

    fn text(&self, name: &str, i: usize) -> Result<String> {
        self.opt_text(name, i)?
            .ok_or_else(|| self.bad(name, "NULL"))
    }

    fn i64(&self, name: &str, i: usize) -> Result<Option<i64>> {
        let c = self.column::<Int64Array>(name)?;
        Ok(c.is_valid(i).then(|| c.value(i)))
    }

    fn f64(&self, name: &str, i: usize) -> Result<Option<f64>> {
        let c = self.column::<Float64Array>(name)?;
        Ok(c.is_valid(i).then(|| c.value(i)))
    }

    fn ts(&self, name: &str, i: usize) -> Result<Option<DateTime<Utc>>> {
        let c = self.column::<TimestampMicrosecondArray>(name)?;
        Ok(c.is_valid(i)
            .then(|| DateTime::from_timestamp_micros(c.value(i)))
            .flatten())
    }
}
