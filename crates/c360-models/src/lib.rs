//! The c360 model engine: reads a dbt-style SQL project, compiles it into a
//! [`Manifest`] — every model's final SQL, configuration and dependencies, every data test's
//! query — and runs it against the lake with the DAG, scheduler and selection ([`Runner`]).
//!
//! A project is a folder:
//!
//! ```text
//! c360.toml            name, lake, [vars], [models] / [models.<folder>] defaults, [seeds]
//! models/**/*.sql      models (Jinja + SQL); the first folder (silver|gold) is the layer
//! models/**/*.yml      descriptions, columns, generic tests, config, sources
//! macros/*.sql         Jinja macros, callable everywhere
//! seeds/*.csv          reference tables
//! tests/*.sql          singular tests (rows returned = failures)
//! ```
//!
//! The phases, one module each, each with its own inputs (dbt-fusion's split):
//!
//! 1. loader — [`Project::load`]: files found, `c360.toml` and YAML parsed strictly.
//! 2. configuration — [`ModelConfig`] levels merged into a checked [`ResolvedConfig`].
//! 3. Jinja — `ref`, `source`, `stream`, `var`, `config`, `is_incremental`, `this`, macros;
//!    rendered twice (discovery, then compile), errors with file and line.
//! 4. DAG — [`Dag`]: generic, no I/O; topological order, cycles, waves, [`Scheduler`].
//! 5. selection — [`select`] with [`Selector`]s (`m`, `+m`, `m+`, `tag:x`, `path:dir`).
//! 6. tests — generic tests expanded into [`TestNode`]s; [`TestSettings::status`] applies
//!    severity and thresholds.
//! 7. compile — [`compile`] → [`Manifest`], byte-stable JSON via [`Manifest::to_json`]
//!    (ephemeral models inlined as CTEs).
//!
//! 8. execution — [`Runner`] runs a manifest against a [`c360_lake::Lake`] in one DataFusion
//!    session: seeds loaded, `table` models overwritten atomically, `incremental` models
//!    merged on `unique_key` (with a delete flag and lookback limits), `append` models
//!    appended, `stream()` sources read from the offset stored in the model's own commit,
//!    `rust` models built by registered [`RustModel`]s, views registered in the session,
//!    tests counted (failures stored on request) into [`RunResults`], `target/manifest.json`
//!    and `target/run_results.json` written, and every result appended to
//!    `_c360.run_history`.
//!
//! The compile phases never read the lake: whether an incremental model has a table to add to
//! is a question the caller answers through `compile`'s `is_incremental` argument.
//!
//! ```
//! use std::collections::BTreeMap;
//! use c360_models::{compile, select, parse_selectors, Materialization, Project};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let write = |path: &str, text: &str| {
//!     let p = dir.path().join(path);
//!     std::fs::create_dir_all(p.parent().unwrap()).unwrap();
//!     std::fs::write(p, text).unwrap();
//! };
//! write("c360.toml", "name = \"demo\"\n[vars]\nmin_amount = 0\n[models.silver]\nmaterialized = \"table\"\n");
//! write("models/sources.yml", "sources:\n  - name: bronze\n    tables:\n      - name: transactions\n");
//! write("models/silver/stg_tx.sql",
//!       "select * from {{ source('bronze', 'transactions') }} where amount > {{ var('min_amount') }}");
//! write("models/gold/spend.sql", "select customer_id, sum(amount) as spend from {{ ref('stg_tx') }} group by 1");
//! write("models/gold/spend.yml",
//!       "models:\n  - name: spend\n    columns:\n      - name: customer_id\n        tests: [unique, not_null]\n");
//!
//! let project = Project::load(dir.path()).unwrap();
//! let manifest = compile(&project, &BTreeMap::new(), &|_model| false).unwrap();
//!
//! let spend = &manifest.nodes["model.spend"];
//! assert_eq!(spend.materialized, Some(Materialization::View));
//! assert_eq!(spend.compiled_sql.as_deref(),
//!            Some("select customer_id, sum(amount) as spend from silver.stg_tx group by 1"));
//! assert!(spend.depends_on.contains("model.stg_tx"));
//! assert!(manifest.nodes.contains_key("test.unique_spend_customer_id"));
//!
//! // Byte-stable artifacts, and selection over the graph.
//! assert_eq!(manifest.to_json(), compile(&project, &BTreeMap::new(), &|_| false).unwrap().to_json());
//! let chosen = select(&manifest, &parse_selectors(&["+spend"]).unwrap(), &[]).unwrap();
//! assert!(chosen.contains("model.stg_tx") && chosen.contains("test.not_null_spend_customer_id"));
//! ```

mod compile;
mod config;
mod dag;
mod error;
mod execute;
mod inline;
mod manifest;
mod project;
mod project_file;
mod properties;
mod render;
mod select;
mod tests_def;

pub use compile::compile;
pub use config::{Lookback, Materialization, ModelConfig, ModelLayer, ResolvedConfig, CONFIG_KEYS};
pub use dag::{Dag, DagError, NodeState, Scheduler};
pub use error::{ModelError, Result};
pub use execute::{
    failures_table, NodeResult, NodeStatus, RunOptions, RunResults, Runner, RustModel,
    RustModelError, RustModelInput, RustModels, RUN_HISTORY_TABLE,
};
pub use manifest::{parse_vars, ColumnInfo, Manifest, ManifestNode, ResourceType, TestInfo};
pub use project::{MacroFile, ModelFile, Project, Seed, SingularTest, Source, PROJECT_FILE};
pub use project_file::{FolderDefaults, ProjectFile};
pub use properties::{
    ColumnProperties, ModelProperties, SeedProperties, SourceProperties, SourceTableProperties,
    TestKind, TestSpec,
};
pub use render::{ephemeral_relation, stream_relation};
pub use select::{parse_selectors, select, SelectMethod, Selector};
pub use tests_def::{Severity, TestConfig, TestNode, TestSettings, TestStatus, Threshold};
