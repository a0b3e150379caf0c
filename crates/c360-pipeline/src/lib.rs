//! Pipelines: the seed's Snowflake Tasks graph, rebuilt so that it actually runs.
//!
//! A pipeline (`[pipeline.<name>]` in c360.toml, [`config`]) is a graph of tasks with `after`
//! dependencies; each task is a c360 command line or a shell command, run as a child process
//! with a timeout and retries with exponential backoff. A pipeline may have a cron schedule in
//! a time zone, a `when_new_data` condition (run only when bronze changed since the last
//! successful run — Snowflake's `SYSTEM$STREAM_HAS_DATA`), and a finalizer that always runs and
//! sends the run summary to a webhook or a command.
//!
//! Main types:
//! - [`PipelineSet`], [`Pipeline`], [`Task`]: the parsed, validated definitions.
//! - [`TaskGraph`]: dependency order, cycles, descendants (pure).
//! - [`Executor`]: one run (or a retry of the last run's failures) against a lake, recorded in
//!   the Delta tables `_c360.pipeline_runs` and `_c360.pipeline_task_runs` ([`History`]).
//! - [`Scheduler`]: the `c360 schedule` daemon.
//! - [`WriterLock`]: the lake-wide lock every writing c360 command takes.
//! - [`CronSchedule`] and [`Clock`]: when things fire, with the clock injected.
//!
//! What it is not for: what the tasks do (the generator, the model engine, the ML crate) or
//! parsing the c360 command line (the binary checks task command lines with its own parser).
//!
//! ```
//! use c360_pipeline::PipelineSet;
//!
//! let toml: toml::Table = toml::from_str(r#"
//!     [pipeline.nightly]
//!     schedule = "0 2 * * *"
//!     timezone = "America/New_York"
//!     [pipeline.nightly.tasks.generate]
//!     c360 = "generate --customers 1000"
//!     [pipeline.nightly.tasks.build]
//!     after = ["generate"]
//!     c360 = "build"
//!     retries = 2
//! "#).unwrap();
//! let set = PipelineSet::from_toml(toml.get("pipeline").and_then(|v| v.as_table())).unwrap();
//! let nightly = set.get(None).unwrap();
//! assert_eq!(nightly.graph().topological_order(), ["generate", "build"]);
//! ```

pub mod config;
pub mod daemon;
mod error;
pub mod finalizer;
pub mod graph;
pub mod history;
pub mod lock;
pub mod process;
pub mod run;
pub mod schedule;

pub use config::{parse_duration, Action, Finalizer, Pipeline, PipelineSet, Task};
pub use daemon::Scheduler;
pub use error::{PipelineError, Result};
pub use graph::TaskGraph;
pub use history::{EventRecord, History, RunRecord, RunStatus, TaskRunRecord, TaskStatus};
pub use lock::{process_is_alive, WriterLock, LOCK_FD_ENV};
pub use process::Launcher;
pub use run::{Executor, RunOutcome, RunSummary, Trigger};
pub use schedule::{Clock, CronSchedule, SystemClock};
