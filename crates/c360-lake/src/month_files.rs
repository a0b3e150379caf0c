//! Writes laid out by calendar month: each Parquet file holds the rows of one month of a DATE
//! column, so file statistics let a date filter or a merge skip every other month. That is
//! the layout a sort by the date gives at file granularity, without buffering a whole
//! partition to sort it: each batch is split by month once and every month streams into its
//! own file sink. [`PartitionFiles`] is every write worker's set of sinks, laid out by month or
//! not.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use arrow::array::{Array, Date32Array, RecordBatch, UInt32Array};
use arrow::compute::take_record_batch;

use crate::write::{FileSink, SinkFactory, StagedFiles};
use crate::{LakeError, Result};

/// The bucket of rows whose date is NULL (after every month).
const NO_DATE: i32 = i32::MAX;

/// `year * 12 + month - 1` of a date given as days since 1970-01-01 (proleptic Gregorian;
/// H. Hinnant's `civil_from_days`).
pub(crate) fn month_of(days: i32) -> i32 {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year * 12 + month - 1) as i32
}

/// The file sinks of one write worker: one per calendar month of the DATE column at
/// `date_column` (opened as months appear), or a single one (month key 0) without it.
pub(crate) struct PartitionFiles {
    sinks: SinkFactory,
    date_column: Option<usize>,
    months: BTreeMap<i32, FileSink>,
}

impl PartitionFiles {
    pub(crate) fn new(sinks: SinkFactory, date_column: Option<usize>) -> PartitionFiles {
        PartitionFiles {
            sinks,
            date_column,
            months: BTreeMap::new(),
        }
    }

    /// Hands `batch` to its sink, split by month when the write is laid out by month.
    pub(crate) async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        let Some(date_column) = self.date_column else {
            return self.sink(0)?.write(batch).await;
        };
        let dates = batch
            .column(date_column)
            .as_any()
            .downcast_ref::<Date32Array>()
            .ok_or_else(|| {
                LakeError::Internal("the column a write is laid out by is not a DATE".into())
            })?;
        // The rows of a batch span few months: a short list beats a map.
        let mut rows_of: Vec<(i32, Vec<u32>)> = Vec::new();
        for row in 0..batch.num_rows() {
            let month = if dates.is_null(row) {
                NO_DATE
            } else {
                month_of(dates.value(row))
            };
            match rows_of.iter_mut().find(|(m, _)| *m == month) {
                Some((_, rows)) => rows.push(row as u32),
                None => rows_of.push((month, vec![row as u32])),
            }
        }
        for (month, rows) in rows_of {
            let part = if rows.len() == batch.num_rows() {
                batch.clone()
            } else {
                take_record_batch(&batch, &UInt32Array::from(rows))
                    .map_err(|e| LakeError::Internal(format!("splitting a batch by month: {e}")))?
            };
            self.sink(month)?.write(part).await?;
        }
        Ok(())
    }

    fn sink(&mut self, month: i32) -> Result<&mut FileSink> {
        Ok(match self.months.entry(month) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(self.sinks.sink()?),
        })
    }

    /// Closes every sink; returns the files by month (an empty partition has none).
    pub(crate) async fn finish(self) -> Result<BTreeMap<i32, StagedFiles>> {
        let mut staged = BTreeMap::new();
        for (month, sink) in self.months {
            staged.insert(month, sink.finish().await?);
        }
        Ok(staged)
    }
}

#[cfg(test)]
mod tests {
    use super::month_of;

    #[test]
    fn months_are_counted_from_year_zero() {
        // every 7th day from 1427 to 2517, against arrow's own calendar
        for days in (-200_000..200_000)
            .step_by(7)
            .chain([-1, 0, 11_016, 20_422, 20_423])
        {
            let date = arrow::temporal_conversions::date32_to_datetime(days).unwrap();
            let text = date.format("%Y-%m").to_string();
            let (year, month) = text.split_once('-').unwrap();
            let expected = year.parse::<i32>().unwrap() * 12 + month.parse::<i32>().unwrap() - 1;
            assert_eq!(month_of(days), expected, "{text}");
        }
    }
}
