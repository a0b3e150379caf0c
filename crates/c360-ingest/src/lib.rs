//! The parsing half of `c360 load`: turns CSV, JSON-lines and Parquet files into Arrow
//! batches of the bronze schemas (`c360_bronze`), plus batches of the rows that could not be
//! typed.
//!
//! Every input row ends up in exactly one place: a good batch of the table's schema, or a
//! rejected batch of [`c360_bronze::rejected_schema`] that keeps the file, line, first failing
//! column, a reason naming the value, and the record as it arrived. A bad row is never an error
//! and never dropped; [`read_file`] only fails when the file cannot be read at all. Files are
//! streamed in chunks of at most [`LoadOptions::batch_rows`] rows, so memory stays bounded.
//!
//! What is read, for every format alike:
//! - columns match the table's by name, case-insensitively and ignoring surrounding spaces;
//!   unknown columns are ignored (and listed in the [`FileReport`]); absent optional columns
//!   are NULL; a required column absent from the file rejects every row; two names for one
//!   column are an error of the file ([`IngestError::DuplicateColumn`]; in JSON-lines, where
//!   each record has its own keys, the record is rejected);
//! - a field holds one value: a JSON object or array, or a Parquet struct, list or map, in a
//!   column is rejected (`nested_value`), never stored as text;
//! - typed values go through the parsers of [`coerce`] (empty or whitespace-only → NULL,
//!   money exact to the cent, dates and timestamps in the usual notations, timestamps to UTC),
//!   from the value's text as written: a JSON number is its digits in the file, so `1e5` is
//!   rejected in JSON as it is in CSV (no exponent notation in any format);
//!   text is kept exactly as it arrived, untrimmed (only an empty field is NULL);
//! - `source` is the file name unless the file has its own non-blank `source`, and
//!   `ingested_at` is the file's own value when it parses, else [`LoadOptions::loaded_at`].
//!
//! This crate is not for writing anything: the lake crate commits the chunks to Delta. It does
//! not validate business rules either (negative amounts, unknown customers, …): bronze keeps
//! what arrived and silver decides.
//!
//! Main types: [`read_file`] with its [`LoadOptions`], the [`Chunk`]s it hands to a sink, and
//! the [`FileReport`] it returns; [`FileFormat`] picks the reader from the file extension.
//!
//! ```
//! use c360_bronze::BronzeTable;
//! use c360_ingest::{read_file, LoadOptions};
//! use chrono::{TimeZone, Utc};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("tx.csv");
//! std::fs::write(
//!     &path,
//!     "transaction_id,customer_id,transaction_date,transaction_amount,\
//!      merchant_name,merchant_category,channel,status\n\
//!      T1,C1,2025-11-14 10:30:00,12.50,Acme,Retail,Online,approved\n\
//!      T2,C1,2025-11-14 11:00:00,abc,Acme,Retail,Online,approved\n",
//! )
//! .unwrap();
//!
//! let loaded_at = Utc.with_ymd_and_hms(2025, 11, 15, 0, 0, 0).unwrap();
//! let opts = LoadOptions::new(BronzeTable::Transactions, "load-1", loaded_at);
//! let mut chunks = Vec::new();
//! let report = read_file(&path, &opts, &mut |chunk| {
//!     chunks.push(chunk);
//!     Ok(())
//! })
//! .unwrap();
//!
//! assert_eq!((report.rows_read, report.loaded, report.rejected), (2, 1, 1));
//! assert_eq!(report.reasons["bad_number"], 1);
//! assert_eq!(chunks[0].rows.num_rows(), 1);
//! assert_eq!(chunks[0].rejected.num_rows(), 1);
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::error::ArrowError;
use c360_bronze::BronzeTable;
use chrono::{DateTime, Utc};

pub mod coerce;
mod columns;
mod csv;
mod format;
mod jsonl;
mod loader;
mod parquet;
mod rejects;
mod rows;

pub use format::FileFormat;
pub use rejects::{Problem, RejectKind};

/// Rows per chunk unless told otherwise.
pub const DEFAULT_BATCH_ROWS: usize = 65_536;

/// What a file is loaded into, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// The bronze table whose schema the rows take.
    pub table: BronzeTable,
    /// Identifies this load in the rejected rows.
    pub load_id: String,
    /// Fills `ingested_at` of rows that bring none, and `rejected_at` of rejected rows.
    pub loaded_at: DateTime<Utc>,
    /// Most rows (good and rejected together) per [`Chunk`]; 0 is taken as 1.
    pub batch_rows: usize,
    /// CSV delimiter; by default `,`, or a tab for `.tsv` files.
    pub csv_delimiter: Option<u8>,
}

impl LoadOptions {
    /// Options for loading into `table`, with [`DEFAULT_BATCH_ROWS`] and the default delimiter.
    pub fn new(table: BronzeTable, load_id: impl Into<String>, loaded_at: DateTime<Utc>) -> Self {
        LoadOptions {
            table,
            load_id: load_id.into(),
            loaded_at,
            batch_rows: DEFAULT_BATCH_ROWS,
            csv_delimiter: None,
        }
    }
}

/// A piece of one file: its good rows and its rejected rows, in file order within each.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// Rows of the bronze schema of [`LoadOptions::table`].
    pub rows: RecordBatch,
    /// Rows of [`c360_bronze::rejected_schema`].
    pub rejected: RecordBatch,
}

/// What happened to one file. `rows_read == loaded + rejected` always holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The path as given.
    pub file: String,
    /// The format it was read as.
    pub format: FileFormat,
    /// Records read (blank lines and the CSV header are not records).
    pub rows_read: u64,
    /// Records in the good batches.
    pub loaded: u64,
    /// Records in the rejected batches.
    pub rejected: u64,
    /// Rejected records by [`RejectKind::key`], e.g. `bad_number → 3`.
    pub reasons: BTreeMap<String, u64>,
    /// File columns that match no column of the table (for JSON-lines: unknown keys, sorted,
    /// at most 100).
    pub ignored_columns: Vec<String>,
    /// Required columns the file lacks (for JSON-lines: required keys absent from at least
    /// one record, sorted).
    pub missing_columns: Vec<String>,
}

/// Why a file could not be read at all. Bad rows are never errors.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file cannot be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file's extension names no format this loader reads.
    #[error(
        "{}: unsupported file type (expected .csv, .tsv, .txt, .parquet, .pq, .jsonl, .ndjson or .json)",
        path.display()
    )]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
    },
    /// The file is not Parquet, or is a damaged one.
    #[error("{}: cannot read as Parquet: {message}", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What the Parquet reader said.
        message: String,
    },
    /// A CSV file with no header line: empty, or nothing but blank lines.
    #[error("{}: no header line (the file is empty); a CSV file starts with a header naming its columns", path.display())]
    NoHeader {
        /// The file.
        path: PathBuf,
    },
    /// Two columns of the file's header (CSV) or schema (Parquet) match the same table column:
    /// which one to load would be a guess, so the file is not read.
    #[error(
        "{}: duplicate column '{column}' in the {place} (named by '{first}' and '{second}'); name each column once",
        path.display()
    )]
    DuplicateColumn {
        /// The file.
        path: PathBuf,
        /// `header` (CSV) or `schema` (Parquet).
        place: &'static str,
        /// The table column both names match.
        column: String,
        /// The first name, as written.
        first: String,
        /// The second name, as written.
        second: String,
    },
    /// The CSV reader failed in a way that is not about one record.
    #[error("{}: cannot read as CSV (line {}): {message}", path.display(), line.map_or("?".to_string(), |l| l.to_string()))]
    Csv {
        /// The file.
        path: PathBuf,
        /// Where, if known.
        line: Option<u64>,
        /// What the CSV reader said.
        message: String,
    },
    /// A batch could not be assembled: a bug in this crate, not a problem with the file.
    #[error("internal error building batches from {}: {source}", path.display())]
    Arrow {
        /// The file being read.
        path: PathBuf,
        /// Arrow's error.
        source: ArrowError,
    },
    /// The sink refused a chunk; reading stopped.
    #[error("{0}")]
    Sink(String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, IngestError>;

/// Reads `path` (format from its extension) into chunks of `opts.table`, handing each to
/// `sink` as soon as it is full, and returns what happened.
///
/// A sink error stops the read and is returned as is. Chunks already handed over stay with
/// the sink: a caller that wants all-or-nothing commits only after `read_file` returns `Ok`.
pub fn read_file(
    path: &Path,
    opts: &LoadOptions,
    sink: &mut dyn FnMut(Chunk) -> Result<()>,
) -> Result<FileReport> {
    let format = FileFormat::from_path(path)?;
    let mut loader = loader::Loader::new(path, format, opts, sink);
    match format {
        FileFormat::Csv => crate::csv::read(path, opts, &mut loader)?,
        FileFormat::JsonLines => jsonl::read(path, opts, &mut loader)?,
        FileFormat::Parquet => crate::parquet::read(path, opts, &mut loader)?,
    }
    loader.finish()
}
