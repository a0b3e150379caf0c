//! The run loop: one DataFusion session over the lake, the scheduler handing out ready nodes,
//! results collected and written to `target/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use c360_lake::datafusion::prelude::SessionContext;
use c360_lake::{Lake, PeakPool, Registered};
use futures::StreamExt;

use super::materialize::{self, ModelEnv, Outcome};
use super::results::{Memory, NodeResult, NodeStatus, RunResults};
use super::rust_model::RustModels;
use crate::config::Materialization;
use crate::error::{ModelError, Result};
use crate::manifest::{Manifest, ManifestNode, ResourceType};

/// What to run and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOptions {
    /// At most this many nodes run at once (at least 1).
    pub threads: usize,
    /// Rebuild incremental and append models from scratch, resetting their stream offsets
    /// (models whose `full_refresh` config is set keep it).
    pub full_refresh: bool,
    /// The node ids to run, with selection and exclusion already applied (see
    /// [`select`](crate::select)); dependencies outside it are assumed built.
    pub selected: BTreeSet<String>,
}

impl RunOptions {
    /// Every node of `manifest`, one at a time, no full refresh.
    pub fn all(manifest: &Manifest) -> RunOptions {
        RunOptions {
            threads: 1,
            full_refresh: false,
            selected: manifest.nodes.keys().cloned().collect(),
        }
    }
}

/// Runs a compiled project against a lake. See the [module docs](super).
#[derive(Debug, Clone)]
pub struct Runner {
    project_dir: PathBuf,
    lake: Lake,
    manifest: Manifest,
    options: RunOptions,
    rust_models: RustModels,
}

impl Runner {
    /// A run of `manifest` (compiled from the project in `project_dir`, which holds the seeds
    /// and receives `target/`) against `lake`.
    pub fn new(
        project_dir: impl Into<PathBuf>,
        lake: Lake,
        manifest: Manifest,
        options: RunOptions,
    ) -> Runner {
        Runner {
            project_dir: project_dir.into(),
            lake,
            manifest,
            options,
            rust_models: RustModels::new(),
        }
    }

    /// The Rust functions `materialized='rust'` models may name.
    pub fn with_rust_models(mut self, rust_models: RustModels) -> Runner {
        self.rust_models = rust_models;
        self
    }

    /// The folder artifacts are written to: `<project>/target`.
    pub fn target_dir(&self) -> PathBuf {
        self.project_dir.join("target")
    }

    /// Runs every selected node. Failures of single nodes are recorded in the results (and
    /// skip their descendants); an `Err` means the run could not start or its artifacts could
    /// not be written.
    pub async fn run(&self) -> Result<RunResults> {
        let started = Instant::now();
        let started_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64);
        let target = self.target_dir();
        write_file(&target.join("manifest.json"), &self.manifest.to_json())?;

        let ctx = self.lake.session_context();
        let registered = self.lake.register_all(&ctx).await?;
        tracing::debug!("registered the lake's tables");

        let plan = self.manifest.dag().subgraph(&self.options.selected);
        // Ready nodes start highest first (Dag::heights): with as many nodes at once as
        // there are cores, the longest chain of models is the one that must not wait.
        let heights = plan.heights();
        let mut scheduler = plan.scheduler();
        let mut results: BTreeMap<String, NodeResult> = BTreeMap::new();
        let mut queue: std::collections::VecDeque<String> = Default::default();
        let mut running = futures::stream::FuturesUnordered::new();
        loop {
            queue.extend(scheduler.ready());
            queue
                .make_contiguous()
                .sort_by(|a, b| heights[b].cmp(&heights[a]).then_with(|| a.cmp(b)));
            while running.len() < self.options.threads.max(1) {
                let Some(id) = queue.pop_front() else { break };
                let (ctx, registered) = (&ctx, &registered);
                running.push(async move {
                    let result = self.run_node(ctx, registered, &id).await;
                    (id, result)
                });
            }
            let Some((id, result)) = running.next().await else {
                break;
            };
            let ok = result.as_ref().is_none_or(|r| r.status.is_ok());
            for skipped in scheduler.complete(&id, ok) {
                if let Some(r) = self.skipped(&skipped, &id) {
                    results.insert(skipped, r);
                }
            }
            if let Some(r) = result {
                results.insert(id, r);
            }
        }

        let results: Vec<NodeResult> = results.into_values().collect();
        let run = RunResults {
            project: self.manifest.project.clone(),
            success: results.iter().all(|r| r.status.is_ok()),
            elapsed: started.elapsed().as_secs_f64(),
            peak_rss: c360_lake::process_peak_rss(),
            results,
        };
        write_file(&target.join("run_results.json"), &run.to_json())?;
        tracing::debug!("nodes done; recording the run");
        let run_id = format!("run-{started_at}-{}", std::process::id());
        super::history::record(&self.lake, &run, &run_id, started_at).await?;
        Ok(run)
    }

    /// Runs one node; `None` for nodes that are not reported (sources).
    async fn run_node(
        &self,
        ctx: &SessionContext,
        registered: &Registered,
        id: &str,
    ) -> Option<NodeResult> {
        let node = self.manifest.node(id)?;
        let started = Instant::now();
        tracing::debug!(node = id, "started");
        // The node's own view of the session, so the memory its operators hold is measured.
        let (node_ctx, memory) = PeakPool::session(ctx);
        let ctx = &node_ctx;
        let outcome = match node.resource_type {
            ResourceType::Source => return None,
            ResourceType::Seed => {
                materialize::load_seed(ctx, &self.lake, &self.project_dir, node).await
            }
            ResourceType::Model => {
                let env = ModelEnv {
                    ctx,
                    lake: &self.lake,
                    full_refresh: self.options.full_refresh,
                    rust_models: &self.rust_models,
                    vars: &self.manifest.vars,
                    upstream_streams: self.upstream_streams(id),
                    streamed_models: node
                        .streams
                        .iter()
                        .filter(|s| s.starts_with("model."))
                        .filter_map(|s| Some((s.clone(), self.manifest.node(s)?)))
                        .collect(),
                };
                materialize::run_model(&env, node).await
            }
            ResourceType::Test => {
                let tested = node
                    .test
                    .as_ref()
                    .and_then(|t| t.attached_node.as_deref())
                    .and_then(|id| self.manifest.node(id))
                    .and_then(|n| n.relation.as_deref());
                materialize::run_test(ctx, &self.lake, node, tested).await
            }
        };
        let outcome = self.blame(outcome, node, registered).await;
        tracing::debug!(
            node = id,
            seconds = started.elapsed().as_secs_f64(),
            "finished"
        );
        let memory = Memory {
            peak: memory.peak() as u64,
            spilled: memory.spilled(),
        };
        Some(self.result(id, outcome, started.elapsed().as_secs_f64(), Some(memory)))
    }

    /// A failed node's message leads with the table to blame when the failure comes from a
    /// table it reads — one the run could not open, or one whose data files are missing —
    /// rather than from the node itself.
    async fn blame(
        &self,
        mut outcome: Outcome,
        node: &ManifestNode,
        registered: &Registered,
    ) -> Outcome {
        if outcome.status != NodeStatus::Error {
            return outcome;
        }
        let cause = match node
            .compiled_sql
            .as_deref()
            .and_then(|sql| registered.explain(sql))
        {
            Some(unreadable) => Some(unreadable),
            None => self.lake.damage_behind(&outcome.message).await,
        };
        if let Some(cause) = cause {
            outcome.message = format!("{cause} (this node failed with: {})", outcome.message);
        }
        outcome
    }

    /// The incremental and append models upstream of `id` that stream a source.
    fn upstream_streams(&self, id: &str) -> Vec<&ManifestNode> {
        self.manifest
            .dag()
            .ancestors(&id.to_string())
            .iter()
            .filter_map(|ancestor| self.manifest.node(ancestor))
            .filter(|n| {
                !n.streams.is_empty()
                    && matches!(
                        n.materialized,
                        Some(Materialization::Incremental | Materialization::Append)
                    )
            })
            .collect()
    }

    fn result(
        &self,
        id: &str,
        outcome: Outcome,
        seconds: f64,
        memory: Option<Memory>,
    ) -> NodeResult {
        let node = &self.manifest.nodes[id];
        let materialized = match node.resource_type {
            ResourceType::Model => node.materialized.map(|m| m.name().to_string()),
            ResourceType::Seed => Some("seed".to_string()),
            _ => None,
        };
        let relation = match node.resource_type {
            ResourceType::Model | ResourceType::Seed => node.relation.clone(),
            _ => None,
        };
        NodeResult {
            unique_id: id.to_string(),
            resource_type: node.resource_type,
            status: outcome.status,
            materialized,
            relation,
            rows_affected: outcome.rows_affected,
            failures: outcome.failures,
            table_version: outcome.table_version,
            message: outcome.message,
            execution_time: seconds,
            peak_memory: memory.map(|m| m.peak),
            spilled_bytes: memory.map(|m| m.spilled).filter(|&b| b > 0),
        }
    }

    /// The result of a node skipped because `cause` failed; `None` for sources.
    fn skipped(&self, id: &str, cause: &str) -> Option<NodeResult> {
        let node = self.manifest.node(id)?;
        if node.resource_type == ResourceType::Source {
            return None;
        }
        let outcome = Outcome {
            status: NodeStatus::Skipped,
            rows_affected: None,
            failures: None,
            table_version: None,
            message: format!("skipped: upstream {cause} failed"),
        };
        Some(self.result(id, outcome, 0.0, None))
    }
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    }
    std::fs::write(path, text).map_err(|e| ModelError::io(path, e))
}
