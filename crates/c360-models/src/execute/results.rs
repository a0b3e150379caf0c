//! What a run did, node by node: the content of `target/run_results.json`.

use serde::Serialize;

use crate::manifest::ResourceType;

/// The outcome of one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeStatus {
    /// A model or seed was built.
    Success,
    /// A model or seed failed (or a test's query could not run).
    Error,
    /// Not run because something it depends on failed.
    Skipped,
    /// A test found no failures (or fewer than its thresholds).
    Pass,
    /// A test's failures crossed `warn_if` (or it has severity `warn`).
    Warn,
    /// A test's failures crossed `error_if`.
    Fail,
}

impl NodeStatus {
    /// Whether descendants may run after this outcome.
    pub fn is_ok(self) -> bool {
        matches!(
            self,
            NodeStatus::Success | NodeStatus::Pass | NodeStatus::Warn
        )
    }
}

/// One node's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeResult {
    /// `model.x`, `seed.x`, `test.x`.
    pub unique_id: String,
    /// What kind of node.
    pub resource_type: ResourceType,
    /// What happened.
    pub status: NodeStatus,
    /// Models and seeds: how the result was stored (`table`, `view`, `seed`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub materialized: Option<String>,
    /// Models and seeds: the relation built (`silver.x`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    /// Rows written (tables, appends, seeds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_affected: Option<u64>,
    /// Tests: failing rows found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failures: Option<u64>,
    /// The Delta version written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_version: Option<u64>,
    /// A one-line summary or the error.
    pub message: String,
    /// Wall-clock seconds spent on the node (with `table_version` and `peak_memory`, the only
    /// fields that change between equal runs).
    pub execution_time: f64,
    /// The most bytes the node's query operators held at once in the engine's memory pool
    /// (hash tables, sort and aggregate buffers; not the Parquet writer's buffers). `None` for
    /// skipped nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_memory: Option<u64>,
    /// Bytes the node's query operators wrote to spill files because the memory limit was
    /// reached; absent when nothing spilled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spilled_bytes: Option<u64>,
}

/// What one node held in memory and spilled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Memory {
    pub peak: u64,
    pub spilled: u64,
}

/// Every node's result, in node id order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunResults {
    /// The project name.
    pub project: String,
    /// Whether every node succeeded, passed or warned.
    pub success: bool,
    /// Wall-clock seconds for the whole run.
    pub elapsed: f64,
    /// The process's peak resident memory in bytes (`VmHWM`), read when the nodes are done;
    /// `None` where it cannot be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_rss: Option<u64>,
    /// One entry per selected model, seed and test (sources are not listed).
    pub results: Vec<NodeResult>,
}

impl RunResults {
    /// The result of node `id`.
    pub fn get(&self, id: &str) -> Option<&NodeResult> {
        self.results.iter().find(|r| r.unique_id == id)
    }

    /// The status of node `id`.
    pub fn status(&self, id: &str) -> Option<NodeStatus> {
        self.get(id).map(|r| r.status)
    }

    /// Results with `status`.
    pub fn with_status(&self, status: NodeStatus) -> impl Iterator<Item = &NodeResult> {
        self.results.iter().filter(move |r| r.status == status)
    }

    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("run results always serialise");
        s.push('\n');
        s
    }
}
