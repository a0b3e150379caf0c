//! The execution half: runs a compiled [`Manifest`](crate::Manifest) against the lake with
//! DataFusion — seeds loaded, models materialised, data tests run — and writes
//! `target/manifest.json` and `target/run_results.json` into the project folder.
//!
//! ```text
//! Runner::new(project_dir, lake, manifest, RunOptions)   what to run and where
//!     .run().await                                      one DataFusion session over the lake;
//!                                                       Scheduler hands out ready nodes,
//!                                                       a failure skips its descendants
//!     -> RunResults                                     per node: status, rows, time, message
//! ```
//!
//! Materialisations in this slice ([`materialize`]):
//! - `ephemeral`: nothing to do (already inlined as CTEs into its dependents).
//! - `view`: registered as a DataFusion view in the run's session (so descendants and tests
//!   read it); nothing is written to the lake.
//! - `table`: the query streamed into one overwrite commit of `<layer>.<name>`.
//! - `append`: the query streamed into one append commit (an overwrite on full refresh).
//! - `incremental` and `rust`: reported as errors ("not supported yet"); descendants skip.
//!
//! Seeds are read with DataFusion's CSV reader and overwrite `<seed layer>.<name>`. Tests count
//! the rows their query returns and apply [`TestSettings::status`](crate::TestSettings::status).
//!
//! Ready nodes are run concurrently, at most [`RunOptions::threads`] at a time, on the
//! caller's task (DataFusion parallelises inside each query). Results are reported in node id
//! order, so `run_results.json` is byte-stable except for timings and the Delta versions
//! written (which grow with every run).

mod history;
mod materialize;
mod results;
mod run;

pub use history::RUN_HISTORY_TABLE;
pub use results::{NodeResult, NodeStatus, RunResults};
pub use run::{RunOptions, Runner};
