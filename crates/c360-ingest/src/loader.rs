//! The part every format shares: counting rows, typing or rejecting each one, and handing
//! chunks of at most `batch_rows` rows to the sink.

use std::path::Path;

use c360_bronze::BronzeTable;

use crate::rejects::{Problem, RejectBuilder};
use crate::rows::{Cell, RowBuilder};
use crate::{Chunk, FileFormat, FileReport, IngestError, LoadOptions, Result};

/// Streams the rows of one file into chunks.
pub(crate) struct Loader<'s> {
    table: BronzeTable,
    path: &'s Path,
    rows: RowBuilder,
    rejects: RejectBuilder,
    batch_rows: usize,
    sink: &'s mut dyn FnMut(Chunk) -> Result<()>,
    report: FileReport,
}

impl<'s> Loader<'s> {
    pub(crate) fn new(
        path: &'s Path,
        format: FileFormat,
        opts: &LoadOptions,
        sink: &'s mut dyn FnMut(Chunk) -> Result<()>,
    ) -> Loader<'s> {
        let file = path.display().to_string();
        let file_name = path
            .file_name()
            .map_or_else(|| file.clone(), |n| n.to_string_lossy().into_owned());
        let loaded_at = opts.loaded_at.timestamp_micros();
        Loader {
            table: opts.table,
            path,
            rows: RowBuilder::new(opts.table, &file_name, loaded_at),
            rejects: RejectBuilder::new(&opts.load_id, &file, loaded_at),
            batch_rows: opts.batch_rows.max(1),
            sink,
            report: FileReport {
                file,
                format,
                rows_read: 0,
                loaded: 0,
                rejected: 0,
                reasons: Default::default(),
                ignored_columns: Vec::new(),
                missing_columns: Vec::new(),
            },
        }
    }

    /// The row typer, for readers that need the target columns' kinds.
    pub(crate) fn rows(&self) -> &RowBuilder {
        &self.rows
    }

    /// Records the file's column mapping in the report.
    pub(crate) fn set_columns(&mut self, ignored: Vec<String>, missing: Vec<String>) {
        self.report.ignored_columns = ignored;
        self.report.missing_columns = missing;
    }

    /// One input record: typed into the good batch, or rejected at its first bad column.
    /// `raw` renders the record as it arrived; it is only called for a rejected row.
    pub(crate) fn record(
        &mut self,
        line: u64,
        cells: &[Cell<'_>],
        raw: impl FnOnce() -> String,
    ) -> Result<()> {
        match self.rows.push(cells) {
            Ok(()) => {
                self.report.rows_read += 1;
                self.report.loaded += 1;
                self.flush_if_full()
            }
            Err((column, problem)) => {
                let field = self.table.schema().field(column).name().clone();
                self.reject(line, Some(&field), &problem, &raw())
            }
        }
    }

    /// One input record rejected as a whole (`field` = `None`) or at `field` (a target name).
    pub(crate) fn reject(
        &mut self,
        line: u64,
        field: Option<&str>,
        problem: &Problem,
        raw: &str,
    ) -> Result<()> {
        self.report.rows_read += 1;
        self.report.rejected += 1;
        *self
            .report
            .reasons
            .entry(problem.kind.key().to_string())
            .or_insert(0) += 1;
        self.rejects.push(line, field, problem, raw);
        self.flush_if_full()
    }

    fn pending(&self) -> usize {
        self.rows.len() + self.rejects.len()
    }

    fn flush_if_full(&mut self) -> Result<()> {
        if self.pending() >= self.batch_rows {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let arrow = |source| IngestError::Arrow {
            path: self.path.to_path_buf(),
            source,
        };
        let rows = self.rows.finish().map_err(arrow)?;
        let rejected = self.rejects.finish().map_err(arrow)?;
        (self.sink)(Chunk { rows, rejected })
    }

    /// Emits the last chunk (if any row is pending) and returns the file's report.
    pub(crate) fn finish(mut self) -> Result<FileReport> {
        if self.pending() > 0 {
            self.flush()?;
        }
        debug_assert_eq!(
            self.report.rows_read,
            self.report.loaded + self.report.rejected
        );
        Ok(self.report)
    }
}
