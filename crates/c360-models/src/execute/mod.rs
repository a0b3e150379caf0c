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
//! Materialisations ([`materialize`], [`incremental`], [`rust_model`]):
//! - `ephemeral`: nothing to do (already inlined as CTEs into its dependents).
//! - `view`: registered as a DataFusion view in the run's session (so descendants and tests
//!   read it); nothing is written to the lake.
//! - `table`: the query streamed into one overwrite commit of `<layer>.<name>`.
//! - `append`: the query streamed into one append commit (an overwrite when rebuilding).
//! - `incremental`: MERGE on `unique_key` (NULL keys and duplicate keys refused; rows whose
//!   `delete_flag_column` is true delete their target row; `merge_lookback` and
//!   `incremental_predicates` limit the target rows a merge may touch). Rebuilt when the
//!   table is missing, on `--full-refresh`, or when a streamed source was rewritten.
//! - `stream('src','t')` in incremental/append models: the rows the source gained since the
//!   offset stored in this model's table, offsets committed with the model's rows.
//! - `rust`: a registered [`RustModel`] returns a `DataFrame`, written as a table.
//! - `cluster_by` ([`layout`]): each output partition sorted by those columns before encoding.
//!
//! Every model's physical plan is kept while it runs and logged with its metrics at trace level
//! ([`plan`]).
//!
//! Seeds are read with DataFusion's CSV reader and overwrite `<seed layer>.<name>`. Tests count
//! the rows their query returns (a `unique` test first tries to prove the column unique from
//! 64-bit hashes, [`unique`], and runs its SQL only when two hashes meet) and apply [`TestSettings::status`](crate::TestSettings::status);
//! with `store_failures` the rows are kept in `_c360.test_failures__<test>`
//! ([`failures_table`]).
//!
//! At most [`RunOptions::threads`] nodes run at once; a node starts as soon as its
//! dependencies are done (DataFusion parallelises inside each query as well). Results are
//! reported in node id order, so `run_results.json` is byte-stable except for timings and the
//! Delta versions written (which grow with every run).

mod history;
mod incremental;
mod layout;
mod materialize;
mod plan;
mod results;
mod run;
mod rust_model;
mod unique;

pub use history::RUN_HISTORY_TABLE;
pub use materialize::failures_table;
pub use results::{NodeResult, NodeStatus, RunResults};
pub use run::{RunOptions, Runner};
pub use rust_model::{RustModel, RustModelError, RustModelInput, RustModels};
