//! Compacting string views before a hash join keeps them.
//!
//! Parquet text columns are read as string views (`Utf8View`): each value points into shared
//! data buffers. A hash join's output `take`s values from its build side, and every output
//! array keeps *all* of the build side's buffers — a handle per buffer per batch — and passes
//! 1:1 join results through without copying. Chained LEFT joins, as in
//! `customer_360_profile` (customers joined to five per-customer tables), then collect those
//! outputs as the next join's build side, whose concatenation holds every batch's handles, and
//! so on: the handles multiply by the number of batches at every level (N⁵ for five joins).
//! At 50,000 customers (7 batches) that was invisible; at 200,000 (25 batches) the profile ran
//! for minutes and the kernel killed it at 24 GiB.
//!
//! [`CompactJoinViews`] puts a [`CompactViewsExec`] on the build side and on the output
//! of every hash join whose rows carry views: a batch whose view buffers hold more than twice
//! the bytes its values use (or repeat the same buffers) is copied into compact buffers
//! (arrow's `gc`, the rule arrow's own batch coalescer applies), so a build side holds only
//! its own text, and an operator buffering a join's output — a sort — holds (and counts
//! against the memory pool) only the text of the rows it holds, not the whole build side once
//! per batch.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{ByteViewType, DataType, SchemaRef};
use deltalake::datafusion::common::config::ConfigOptions;
use deltalake::datafusion::common::tree_node::{
    Transformed, TransformedResult, TreeNode, TreeNodeRecursion,
};
use deltalake::datafusion::error::Result;
use deltalake::datafusion::execution::{SendableRecordBatchStream, TaskContext};
use deltalake::datafusion::physical_expr::PhysicalExpr;
use deltalake::datafusion::physical_optimizer::PhysicalOptimizerRule;
use deltalake::datafusion::physical_plan::joins::HashJoinExec;
use deltalake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use deltalake::datafusion::physical_plan::ChildrenPropertiesMode::Recompute;
use deltalake::datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, ReplaceChildrenOptions,
};
use futures::StreamExt;

/// The physical optimizer rule: see the module docs.
#[derive(Debug, Default)]
pub(crate) struct CompactJoinViews;

impl PhysicalOptimizerRule for CompactJoinViews {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(join) = node.downcast_ref::<HashJoinExec>() else {
                return Ok(Transformed::no(node));
            };
            let build = join.left().clone();
            if !needs_wrapper(&build) && !has_views(&node.schema()) {
                return Ok(Transformed::no(node));
            }
            let node = if needs_wrapper(&build) {
                let mut children: Vec<Arc<dyn ExecutionPlan>> =
                    node.children().into_iter().cloned().collect();
                children[0] = Arc::new(CompactViewsExec { input: build });
                node.replace_children(children, ReplaceChildrenOptions::new(Recompute))?
            } else {
                node
            };
            let node: Arc<dyn ExecutionPlan> = if has_views(&node.schema()) {
                Arc::new(CompactViewsExec { input: node })
            } else {
                node
            };
            Ok(Transformed::yes(node))
        })
        .data()
    }

    fn name(&self) -> &str {
        "compact_join_views"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Whether `plan`'s batches carry views and are not compacted already.
fn needs_wrapper(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.downcast_ref::<CompactViewsExec>().is_none() && has_views(&plan.schema())
}

fn has_views(schema: &SchemaRef) -> bool {
    schema
        .fields()
        .iter()
        .any(|f| matches!(f.data_type(), DataType::Utf8View | DataType::BinaryView))
}

/// Passes its input's batches on with sparse or repeated view buffers compacted; every other
/// property (partitioning, ordering, schema) is its input's.
#[derive(Debug)]
pub(crate) struct CompactViewsExec {
    input: Arc<dyn ExecutionPlan>,
}

impl DisplayAs for CompactViewsExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "CompactViewsExec")
    }
}

impl ExecutionPlan for CompactViewsExec {
    fn name(&self) -> &'static str {
        "CompactViewsExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(CompactViewsExec {
            input: children.swap_remove(0),
        }))
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(children, ReplaceChildrenOptions::new(Recompute))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let schema = input.schema();
        let compacted = input.map(|batch| Ok(compact(batch?)?));
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, compacted)))
    }
}

/// `batch` with every sparse view column copied into compact buffers.
fn compact(batch: RecordBatch) -> Result<RecordBatch> {
    if !batch.columns().iter().any(|c| needs_gc(c.as_ref())) {
        return Ok(batch);
    }
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|c| -> ArrayRef {
            match c.data_type() {
                DataType::Utf8View if needs_gc(c.as_ref()) => Arc::new(c.as_string_view().gc()),
                DataType::BinaryView if needs_gc(c.as_ref()) => Arc::new(c.as_binary_view().gc()),
                _ => c.clone(),
            }
        })
        .collect();
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

/// Whether a view column's buffers hold more than twice the bytes its values use (buffers
/// repeated in its list count every time).
fn needs_gc(array: &dyn Array) -> bool {
    fn sparse<T: ByteViewType + ?Sized>(array: &arrow::array::GenericByteViewArray<T>) -> bool {
        let held: usize = array.data_buffers().iter().map(|b| b.capacity()).sum();
        held > 2 * array.total_buffer_bytes_used()
    }
    match array.data_type() {
        DataType::Utf8View => sparse(array.as_string_view()),
        DataType::BinaryView => sparse(array.as_binary_view()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::StringViewArray;
    use arrow::array::UInt32Array;
    use arrow::compute::{concat, take};

    /// Values long enough not to be inlined into their views.
    fn names(n: usize) -> StringViewArray {
        StringViewArray::from_iter_values((0..n).map(|i| format!("customer name number {i:08}")))
    }

    #[test]
    fn a_take_of_concatenated_views_keeps_every_buffer_until_compacted() {
        let parts: Vec<StringViewArray> = (0..8).map(|_| names(1000)).collect();
        let refs: Vec<&dyn Array> = parts.iter().map(|a| a as &dyn Array).collect();
        let build = concat(&refs).unwrap();
        let picked = take(build.as_ref(), &UInt32Array::from(vec![0, 1, 2]), None).unwrap();
        assert!(picked.as_string_view().data_buffers().len() >= 8);
        assert!(needs_gc(picked.as_ref()));

        let schema = Arc::new(arrow::datatypes::Schema::new(vec![
            arrow::datatypes::Field::new("name", DataType::Utf8View, false),
        ]));
        let batch = RecordBatch::try_new(schema, vec![picked.clone()]).unwrap();
        let compacted = compact(batch).unwrap();
        let column = compacted.column(0).as_string_view();
        assert!(column.data_buffers().len() <= 1);
        assert!(!needs_gc(compacted.column(0).as_ref()));
        assert_eq!(
            column.iter().collect::<Vec<_>>(),
            picked.as_string_view().iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_compact_column_is_passed_on_as_it_is() {
        let array: ArrayRef = Arc::new(names(1000).gc());
        assert!(!needs_gc(array.as_ref()));
    }
}
