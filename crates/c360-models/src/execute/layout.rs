//! How a model's rows are laid out in its files (`cluster_by`):
//! - one DATE column: every file holds one calendar month of it (the lake splits each batch
//!   by month as it encodes; nothing is buffered or sorted), so file statistics let date
//!   filters and merges skip the other months;
//! - anything else: each output partition of the query is sorted by the columns before it is
//!   encoded, without merging the partitions into one global order (a global sort of a
//!   13.5M-row fact is a single-threaded merge), so every file covers a narrow range.

use std::sync::Arc;

use c360_lake::datafusion::arrow::compute::SortOptions;
use c360_lake::datafusion::arrow::datatypes::DataType;
use c360_lake::datafusion::error::{DataFusionError, Result};
use c360_lake::datafusion::physical_expr::expressions::col;
use c360_lake::datafusion::physical_expr::{LexOrdering, PhysicalSortExpr};
use c360_lake::datafusion::physical_plan::sorts::sort::SortExec;
use c360_lake::datafusion::prelude::DataFrame;
use c360_lake::{Lake, Layer, WriteMode, WriteOutcome};

use super::materialize::Failure;
use super::plan::ModelPlan;

/// Sorted runs of this size are merged (DataFusion's default, 1 MB, makes hundreds of runs
/// per partition, and the merge gathers rows from all of them into every output batch).
const SORT_RUN_BYTES: usize = 32 * 1024 * 1024;

/// Writes the result of `frame` to `layer.name`, laid out by `cluster_by` (see the module
/// docs), recording `offsets` in the same commit.
pub(crate) async fn write_clustered(
    lake: &Lake,
    layer: Layer,
    name: &str,
    mode: WriteMode,
    frame: DataFrame,
    cluster_by: &[String],
    offsets: &[(String, i64)],
) -> std::result::Result<WriteOutcome, Failure> {
    let month_column = match cluster_by {
        [column] => frame
            .schema()
            .field_with_unqualified_name(column)
            .is_ok_and(|f| f.data_type() == &DataType::Date32)
            .then_some(column),
        _ => None,
    };
    let plan = match month_column {
        Some(_) => ModelPlan::new(frame).await?,
        None => sorted(frame, cluster_by).await?,
    };
    let streams = plan.execute_partitioned()?;
    let out = match month_column {
        Some(column) => {
            lake.write_partitions_by_month(layer, name, mode, streams, offsets, column)
                .await?
        }
        None => {
            lake.write_partitions(layer, name, mode, streams, offsets)
                .await?
        }
    };
    plan.finish(layer, name);
    Ok(out)
}

/// The plan of `frame` with each output partition sorted by `cluster_by` (ascending, NULLs
/// last) when it names columns.
async fn sorted(frame: DataFrame, cluster_by: &[String]) -> Result<ModelPlan> {
    if cluster_by.is_empty() {
        return ModelPlan::new(frame).await;
    }
    let task_ctx = frame.task_ctx();
    let mut config = task_ctx.session_config().clone();
    config.options_mut().execution.sort_in_place_threshold_bytes = SORT_RUN_BYTES;
    let task_ctx = Arc::new(task_ctx.with_session_config(config));
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
    let sort = SortExec::new(ordering, plan).with_preserve_partitioning(true);
    Ok(ModelPlan::from_parts(Arc::new(sort), task_ctx))
}
