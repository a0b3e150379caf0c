//! A model's physical plan, kept while it runs so that its spills can be counted and it can be
//! logged with its metrics afterwards: `RUST_LOG=c360_models::execute::plan=trace c360 run` prints, for every table a
//! model writes, each operator with its rows, time and memory (DataFusion's `EXPLAIN ANALYZE`
//! of the query as it really ran: with the streams of that run, inside the write).

use std::sync::Arc;

use c360_lake::datafusion::arrow::record_batch::RecordBatch;
use c360_lake::datafusion::error::Result;
use c360_lake::datafusion::execution::{SendableRecordBatchStream, TaskContext};
use c360_lake::datafusion::physical_plan::display::DisplayableExecutionPlan;
use c360_lake::datafusion::physical_plan::{self, ExecutionPlan};
use c360_lake::datafusion::prelude::DataFrame;
use c360_lake::{Layer, PeakPool};

/// The physical plan of a model's query and the task context it runs in.
pub(crate) struct ModelPlan {
    plan: Arc<dyn ExecutionPlan>,
    task_ctx: Arc<TaskContext>,
}

impl ModelPlan {
    /// Plans `frame` in its own session's task context.
    pub(crate) async fn new(frame: DataFrame) -> Result<ModelPlan> {
        let task_ctx = Arc::new(frame.task_ctx());
        let plan = frame.create_physical_plan().await?;
        Ok(ModelPlan { plan, task_ctx })
    }

    /// `plan`, run in `task_ctx`.
    pub(crate) fn from_parts(plan: Arc<dyn ExecutionPlan>, task_ctx: Arc<TaskContext>) -> Self {
        ModelPlan { plan, task_ctx }
    }

    /// One stream per output partition.
    pub(crate) fn execute_partitioned(&self) -> Result<Vec<SendableRecordBatchStream>> {
        physical_plan::execute_stream_partitioned(self.plan.clone(), self.task_ctx.clone())
    }

    /// Every row, in memory.
    pub(crate) async fn collect(&self) -> Result<Vec<RecordBatch>> {
        physical_plan::collect(self.plan.clone(), self.task_ctx.clone()).await
    }

    /// Once its streams are drained: adds the bytes the plan's operators spilled to the
    /// node's [`PeakPool`] (when it runs in one), and logs the plan with the metrics it gathered
    /// for table `layer.name` when trace logging of this module is on.
    pub(crate) fn finish(&self, layer: Layer, name: &str) {
        if let Some(pool) = self.task_ctx.memory_pool().downcast_ref::<PeakPool>() {
            pool.add_spilled(spilled_bytes(self.plan.as_ref()) as u64);
        }
        if tracing::enabled!(tracing::Level::TRACE) {
            let shown = DisplayableExecutionPlan::with_metrics(self.plan.as_ref()).indent(true);
            let relation = format!("{layer}.{name}");
            tracing::trace!(relation, "plan with metrics:\n{shown}");
        }
    }
}

/// The bytes every operator of `plan` wrote to spill files.
fn spilled_bytes(plan: &dyn ExecutionPlan) -> usize {
    let own = plan.metrics().and_then(|m| m.spilled_bytes()).unwrap_or(0);
    own + plan
        .children()
        .into_iter()
        .map(|child| spilled_bytes(child.as_ref()))
        .sum::<usize>()
}
