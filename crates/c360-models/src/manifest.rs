//! The compile phase's output: every node of a project — models with their final SQL,
//! configuration and dependencies, seeds, sources, data tests — in one [`Manifest`] that
//! serialises byte-stably (written by the executor as `target/manifest.json`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::config::{Materialization, ResolvedConfig};
use crate::dag::Dag;
use crate::error::{ModelError, Result};
use crate::properties::TestKind;
use crate::tests_def::TestSettings;

/// Everything compiled from a project, keyed by node id (`model.x`, `seed.x`,
/// `source.s.t`, `test.x`).
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// The project name.
    pub project: String,
    /// The variables the SQL was rendered with (`[vars]` overridden by `--var`).
    pub vars: BTreeMap<String, serde_json::Value>,
    /// Every node.
    pub nodes: BTreeMap<String, ManifestNode>,
    #[serde(skip)]
    dag: Dag<String>,
}

/// What kind of node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceType {
    /// A SQL (or Rust) model.
    Model,
    /// A data test.
    Test,
    /// A CSV seed.
    Seed,
    /// A declared source table.
    Source,
}

/// One node of the manifest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManifestNode {
    /// The model, seed, test or `source.table` name.
    pub name: String,
    /// What kind of node.
    pub resource_type: ResourceType,
    /// The file that defines it, relative to the project.
    pub path: String,
    /// The name SQL uses for it: `silver.x`, `bronze.t`, or `__ephemeral_x`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    /// The lake layer it lives in (a source's name for sources).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// Models: how the result is stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub materialized: Option<Materialization>,
    /// Ids of the nodes it reads.
    pub depends_on: BTreeSet<String>,
    /// Ids of the sources it reads as streams (only their new rows; see
    /// [`stream_relation`](crate::stream_relation)).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub streams: BTreeSet<String>,
    /// Ids of the ephemeral models inlined as CTEs into `compiled_sql`, in inlining order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ephemeral_ctes: Vec<String>,
    /// Whether `compiled_sql` was rendered with `is_incremental()` true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub is_incremental: bool,
    /// Models: the resolved configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<ResolvedConfig>,
    /// Tests: what is tested and how failures count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<TestInfo>,
    /// Models and tests: the SQL to run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compiled_sql: Option<String>,
    /// Incremental models compiled incrementally: the SQL of a full build, run instead when
    /// the executor finds it must rebuild (no table yet, or a stream's source was rewritten).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebuild_sql: Option<String>,
    /// Documented columns, in property-file order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<ColumnInfo>,
    /// Free text from the property file.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Tags, for selection.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub tags: BTreeSet<String>,
}

/// A documented column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnInfo {
    /// Its name.
    pub name: String,
    /// Free text.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The declared type, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
}

/// A test's metadata.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestInfo {
    /// `unique`, `not_null`, `accepted_values`, `relationships`, `expression`,
    /// `accepted_range` or `singular`.
    pub kind: String,
    /// Generic tests: the arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<TestKind>,
    /// Generic tests: the node under test.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached_node: Option<String>,
    /// Column tests: the column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Severity, thresholds, `where`, `store_failures`.
    pub settings: TestSettings,
}

impl Manifest {
    pub(crate) fn new(
        project: String,
        vars: BTreeMap<String, serde_json::Value>,
        nodes: BTreeMap<String, ManifestNode>,
        dag: Dag<String>,
    ) -> Manifest {
        Manifest {
            project,
            vars,
            nodes,
            dag,
        }
    }

    /// The manifest as pretty JSON with a final newline; the same project, variables and
    /// incremental answers give the same bytes.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("manifest types always serialise");
        s.push('\n');
        s
    }

    /// The dependency graph of every node (sources, seeds, models, tests).
    pub fn dag(&self) -> &Dag<String> {
        &self.dag
    }

    /// A node by id.
    pub fn node(&self, id: &str) -> Option<&ManifestNode> {
        self.nodes.get(id)
    }
}

/// Parses `--var KEY=VALUE` arguments into overrides for [`compile`](crate::compile).
pub fn parse_vars<S: AsRef<str>>(args: &[S]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for arg in args {
        let text = arg.as_ref();
        match text.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                out.insert(k.trim().to_string(), v.to_string());
            }
            _ => {
                return Err(ModelError::InvalidVar {
                    text: text.to_string(),
                })
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vars_parse() {
        let v = parse_vars(&["as_of=2025-11-14", "x=a=b"]).unwrap();
        assert_eq!(v["as_of"], "2025-11-14");
        assert_eq!(v["x"], "a=b");
        assert!(matches!(
            parse_vars(&["nope"]),
            Err(ModelError::InvalidVar { .. })
        ));
    }
}
