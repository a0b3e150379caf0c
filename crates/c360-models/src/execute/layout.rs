//! How a model's rows are laid out in its files: `cluster_by` sorts each output partition of
//! the query by the clustering columns before it is encoded, without merging the partitions
//! into one global order (a global sort of a 13.5M-row fact is a single-threaded merge).
//!
//! Every file therefore covers a narrow range of the clustering columns — file and row-group
//! statistics let date filters and merges skip the rest — while the sort still uses every core.

use std::sync::Arc;

use c360_lake::datafusion::arrow::compute::SortOptions;
use c360_lake::datafusion::error::{DataFusionError, Result};
use c360_lake::datafusion::execution::SendableRecordBatchStream;
use c360_lake::datafusion::physical_expr::expressions::col;
use c360_lake::datafusion::physical_expr::{LexOrdering, PhysicalSortExpr};
use c360_lake::datafusion::physical_plan::sorts::sort::SortExec;
use c360_lake::datafusion::physical_plan::ExecutionPlan;
use c360_lake::datafusion::prelude::DataFrame;

/// The partitions of `frame`'s result as streams, each sorted by `cluster_by` (ascending,
/// NULLs last) when it names columns.
pub(crate) async fn clustered_streams(
    frame: DataFrame,
    cluster_by: &[String],
) -> Result<Vec<SendableRecordBatchStream>> {
    if cluster_by.is_empty() {
        return frame.execute_stream_partitioned().await;
    }
    let task_ctx = Arc::new(frame.task_ctx());
    let plan = frame.create_physical_plan().await?;
    let schema = plan.schema();
    let options = SortOptions {
        descending: false,
        nulls_first: false,
    };
    let exprs = cluster_by
        .iter()
        .map(|c| {
            col(c, &schema)
                .map(|e| PhysicalSortExpr::new(e, options))
                .map_err(|_| {
                    DataFusionError::Plan(format!(
                        "cluster_by column '{c}' is not in the model's output"
                    ))
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let ordering = LexOrdering::new(exprs)
        .ok_or_else(|| DataFusionError::Plan("cluster_by names no column".into()))?;
    let sort: Arc<dyn ExecutionPlan> =
        Arc::new(SortExec::new(ordering, plan).with_preserve_partitioning(true));
    let partitions = sort.properties().output_partitioning().partition_count();
    (0..partitions)
        .map(|p| sort.execute(p, task_ctx.clone()))
        .collect()
}
