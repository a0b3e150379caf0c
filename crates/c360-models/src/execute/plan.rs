//! A model's physical plan, kept while it runs so that it can be logged with its metrics
//! afterwards: `RUST_LOG=c360_models::execute::plan=trace c360 run` prints, for every table a
//! model writes, each operator with its rows, time and memory (DataFusion's `EXPLAIN ANALYZE`
//! of the query as it really ran: with the streams of that run, inside the write).

use std::sync::Arc;

use c360_lake::datafusion::arrow::record_batch::RecordBatch;
use c360_lake::datafusion::error::Result;
use c360_lake::datafusion::execution::{SendableRecordBatchStream, TaskContext};
use c360_lake::datafusion::physical_plan::display::DisplayableExecutionPlan;
use c360_lake::datafusion::physical_plan::{self, ExecutionPlan};
use c360_lake::datafusion::prelude::DataFrame;
use c360_lake::Layer;

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

    /// Logs the plan with the metrics it gathered (once its streams are drained) for table
    /// `layer.name`, when trace logging of this module is on.
    pub(crate) fn log_metrics(&self, layer: Layer, name: &str) {
        if tracing::enabled!(tracing::Level::TRACE) {
            let shown = DisplayableExecutionPlan::with_metrics(self.plan.as_ref()).indent(true);
            let relation = format!("{layer}.{name}");
            tracing::trace!(relation, "plan with metrics:\n{shown}");
        }
    }
}
