//! `materialized='rust'`: models whose body is a Rust function registered by the program that
//! runs the engine (the `c360` binary registers the churn models of `c360-ml`).
//!
//! The model file still declares the inputs, with `ref()` calls (usually in a comment), so
//! the DAG orders it like any other model:
//!
//! ```sql
//! {{ config(materialized='rust', rust_function='churn_predictions') }}
//! -- inputs: {{ ref('fct_transactions') }}, {{ ref('dim_customer') }}
//! ```
//!
//! The function receives the run's DataFusion session (every lake table and this run's views
//! registered as `layer.name`), the lake, the node and the run's variables, and returns a
//! `DataFrame`; the engine writes it as the model's table in one atomic overwrite.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use c360_lake::datafusion::prelude::{DataFrame, SessionContext};
use c360_lake::Lake;
use futures::future::BoxFuture;

use crate::manifest::ManifestNode;

/// The error a Rust model returns; shown as the node's message.
pub type RustModelError = Box<dyn std::error::Error + Send + Sync>;

/// What a Rust model is given.
pub struct RustModelInput<'a> {
    /// The run's session: lake tables and views as `layer.name`.
    pub ctx: &'a SessionContext,
    /// The lake (for side files such as a model registry under `_c360/`).
    pub lake: &'a Lake,
    /// The model's node: name, configuration, dependencies.
    pub node: &'a ManifestNode,
    /// The run's variables (`[vars]` with `--var` overrides).
    pub vars: &'a BTreeMap<String, serde_json::Value>,
}

/// A model body written in Rust.
pub trait RustModel: Send + Sync {
    /// Builds the model's rows.
    fn build<'a>(
        &'a self,
        input: RustModelInput<'a>,
    ) -> BoxFuture<'a, Result<DataFrame, RustModelError>>;
}

/// The Rust functions a run may call, by the name models give in `rust_function`.
#[derive(Clone, Default)]
pub struct RustModels {
    functions: BTreeMap<String, Arc<dyn RustModel>>,
}

impl RustModels {
    /// An empty registry.
    pub fn new() -> RustModels {
        RustModels::default()
    }

    /// Registers `model` under `name` (replacing an earlier one of that name).
    pub fn register(&mut self, name: impl Into<String>, model: Arc<dyn RustModel>) -> &mut Self {
        self.functions.insert(name.into(), model);
        self
    }

    /// The function registered as `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn RustModel>> {
        self.functions.get(name)
    }

    /// Registered names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.functions.keys().map(String::as_str)
    }
}

impl fmt::Debug for RustModels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}
