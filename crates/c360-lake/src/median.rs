//! `median_of_lists(list)`: the exact median of every element of a group's integer lists, an
//! aggregate function every session of the lake has ([`crate::Lake::session_context`]).
//!
//! A mart that keeps each month's amounts as a list (one row per customer and month) gets each
//! customer's median without `array_agg` building a list of lists, `flatten` copying it and
//! `array_sort` sorting it: the input arrays are kept, each group's elements are gathered once,
//! and the middle is found by selection. NULL lists and NULL elements are skipped; a group
//! without elements gives NULL. The result is a DOUBLE: the middle element, or the mean of the
//! two middle ones, exact for integers within ±2^52 (the cents of a `DECIMAL(12, 2)` amount
//! stay below 10^12).

use std::mem::size_of;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Builder, Int64Array, ListArray};
use arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use deltalake::datafusion::common::{plan_err, DataFusionError, Result, ScalarValue};
use deltalake::datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use deltalake::datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
};

/// The function's SQL name.
const NAME: &str = "median_of_lists";

/// `median_of_lists`, ready to register in a session.
pub(crate) fn median_of_lists() -> AggregateUDF {
    AggregateUDF::from(MedianOfLists {
        signature: Signature::any(1, Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct MedianOfLists {
    signature: Signature,
}

impl AggregateUDFImpl for MedianOfLists {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [DataType::List(item)] if item.data_type() == &DataType::Int64 => Ok(DataType::Float64),
            other => plan_err!(
                "{NAME} takes one list of BIGINT (for example amounts in cents), not {other:?}"
            ),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[elements]", args.name),
            DataType::List(element_field()),
            true,
        ))])
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Elements::default()))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(GroupElements::default()))
    }
}

fn element_field() -> FieldRef {
    Arc::new(Field::new_list_field(DataType::Int64, true))
}

fn as_lists(array: &ArrayRef) -> Result<&ListArray> {
    array.as_list_opt::<i32>().ok_or_else(|| {
        DataFusionError::Internal(format!(
            "{NAME} got {} instead of a list",
            array.data_type()
        ))
    })
}

/// Appends the non-NULL elements of row `row` of `lists` to `into` (nothing for a NULL list).
fn extend_from_row(into: &mut Vec<i64>, lists: &ListArray, elements: &Int64Array, row: usize) {
    if lists.is_null(row) {
        return;
    }
    let offsets = lists.value_offsets();
    let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
    if elements.null_count() == 0 {
        into.extend_from_slice(&elements.values()[start..end]);
    } else {
        into.extend(
            (start..end)
                .filter(|&i| elements.is_valid(i))
                .map(|i| elements.value(i)),
        );
    }
}

/// The median of `values` (reordered in place), NULL when empty.
fn median(values: &mut [i64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (_, &mut upper, _) = values.select_nth_unstable(n / 2);
    if n % 2 == 1 {
        return Some(upper as f64);
    }
    // the lower middle is the largest of the elements before the upper one
    let lower = values[..n / 2].iter().copied().max().unwrap_or(upper);
    Some((i128::from(lower) + i128::from(upper)) as f64 / 2.0)
}

/// One list per group: `lengths[g]` elements of `elements` each, in order.
fn list_array(lengths: &[usize], elements: Vec<i64>) -> ListArray {
    ListArray::new(
        element_field(),
        OffsetBuffer::from_lengths(lengths.iter().copied()),
        Arc::new(Int64Array::new(ScalarBuffer::from(elements), None)),
        None,
    )
}

/// Where each group's lists are: the input arrays are kept as they came (no element is copied
/// while rows arrive), and each group holds the (array, row) of its lists. Elements are
/// gathered once per group, when its median or its partial state is asked for. Input rows and
/// partial states are both lists of elements, so updating and merging are the same operation.
#[derive(Debug, Default)]
struct GroupElements {
    arrays: Vec<ListArray>,
    groups: Vec<Vec<(u32, u32)>>,
}

impl GroupElements {
    fn add(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        let lists = as_lists(&values[0])?;
        let array = u32::try_from(self.arrays.len())
            .map_err(|_| DataFusionError::Internal(format!("{NAME}: too many input batches")))?;
        self.groups.resize_with(total_num_groups, Vec::new);
        for (row, &group) in group_indices.iter().enumerate() {
            if lists.is_null(row) || filter.is_some_and(|f| !f.is_valid(row) || !f.value(row)) {
                continue;
            }
            self.groups[group].push((array, row as u32));
        }
        self.arrays.push(lists.clone());
        Ok(())
    }

    /// The positions of groups `emit_to`, which leave the accumulator, and the arrays they
    /// point into (kept until no group is left).
    fn take(&mut self, emit_to: EmitTo) -> (Vec<Vec<(u32, u32)>>, Vec<ListArray>) {
        let groups = emit_to.take_needed(&mut self.groups);
        let arrays = if self.groups.is_empty() {
            std::mem::take(&mut self.arrays)
        } else {
            self.arrays.clone()
        };
        (groups, arrays)
    }
}

/// Appends the elements at `positions` (array, row) of `arrays` to `into`.
fn gather(arrays: &[ListArray], positions: &[(u32, u32)], into: &mut Vec<i64>) {
    for &(array, row) in positions {
        let lists = &arrays[array as usize];
        let elements = lists.values().as_primitive::<Int64Type>();
        extend_from_row(into, lists, elements, row as usize);
    }
}

impl GroupsAccumulator for GroupElements {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.add(values, group_indices, opt_filter, total_num_groups)
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.add(values, group_indices, None, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let (groups, arrays) = self.take(emit_to);
        let mut medians = Float64Builder::with_capacity(groups.len());
        let mut elements = Vec::new();
        for positions in &groups {
            elements.clear();
            gather(&arrays, positions, &mut elements);
            medians.append_option(median(&mut elements));
        }
        Ok(Arc::new(medians.finish()))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let (groups, arrays) = self.take(emit_to);
        let length = |&(array, row): &(u32, u32)| arrays[array as usize].value_length(row as usize);
        let total: i32 = groups.iter().flatten().map(length).sum();
        let mut elements = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        let mut lengths = Vec::with_capacity(groups.len());
        for positions in &groups {
            let before = elements.len();
            gather(&arrays, positions, &mut elements);
            lengths.push(elements.len() - before);
        }
        Ok(vec![Arc::new(list_array(&lengths, elements))])
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        // An input row already is a state: its list (under the state's element field: a list
        // read from Parquet names its elements 'element'), NULL where the filter leaves it out
        let (_, offsets, elements, nulls) = as_lists(&values[0])?.clone().into_parts();
        let nulls = match opt_filter {
            None => nulls,
            Some(filter) => {
                let kept = NullBuffer::from_iter(
                    (0..filter.len()).map(|row| filter.is_valid(row) && filter.value(row)),
                );
                NullBuffer::union(nulls.as_ref(), Some(&kept))
            }
        };
        Ok(vec![Arc::new(ListArray::new(
            element_field(),
            offsets,
            elements,
            nulls,
        ))])
    }

    fn size(&self) -> usize {
        self.arrays
            .iter()
            .map(Array::get_array_memory_size)
            .sum::<usize>()
            + self.groups.capacity() * size_of::<Vec<(u32, u32)>>()
            + self
                .groups
                .iter()
                .map(|g| g.capacity() * size_of::<(u32, u32)>())
                .sum::<usize>()
    }
}

/// The single-group accumulator (an aggregate without GROUP BY, or a window).
#[derive(Debug, Default)]
struct Elements {
    elements: Vec<i64>,
}

impl Accumulator for Elements {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let lists = as_lists(&values[0])?;
        let elements = lists.values().as_primitive::<Int64Type>();
        for row in 0..lists.len() {
            extend_from_row(&mut self.elements, lists, elements, row);
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.update_batch(states)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let list = list_array(&[self.elements.len()], self.elements.clone());
        Ok(vec![ScalarValue::List(Arc::new(list))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(median(&mut self.elements)))
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.elements.capacity() * size_of::<i64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_row_converts_to_a_state_under_the_state_field() {
        // as read from Parquet: the elements are named 'element'
        let read = ListArray::new(
            Arc::new(Field::new("element", DataType::Int64, true)),
            OffsetBuffer::from_lengths([2, 1, 0]),
            Arc::new(Int64Array::from(vec![5, 1, 7])),
            None,
        );
        let filter = BooleanArray::from(vec![Some(true), Some(false), None]);
        let state = GroupElements::default()
            .convert_to_state(&[Arc::new(read)], Some(&filter))
            .unwrap();
        let lists = state[0].as_list::<i32>();
        assert_eq!(lists.data_type(), &DataType::List(element_field()));
        assert_eq!(
            (lists.is_valid(0), lists.is_valid(1), lists.is_valid(2)),
            (true, false, false)
        );
        assert_eq!(lists.value(0).as_primitive::<Int64Type>().values(), &[5, 1]);
    }

    #[test]
    fn the_median_is_the_middle_or_the_mean_of_the_two_middles() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [7]), Some(7.0));
        assert_eq!(median(&mut [9, 1, 5]), Some(5.0));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2.5));
        assert_eq!(median(&mut [-3, 10]), Some(3.5));
        assert_eq!(median(&mut [5, 5, 5, 1]), Some(5.0));
    }
}
