//! Errors of the lake, sorted by who is at fault: the caller's input (a bad table name, a
//! schema that does not match), the environment (I/O), or the Delta layer underneath.

use std::path::PathBuf;

use crate::Layer;

/// Result alias of this crate.
pub type Result<T, E = LakeError> = std::result::Result<T, E>;

/// What can go wrong in the lake.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    /// A table name that is not a single `[A-Za-z_][A-Za-z0-9_]*` segment.
    #[error(
        "invalid table name '{name}': use letters, digits and '_' (not starting with a digit)"
    )]
    InvalidTableName {
        /// The rejected name.
        name: String,
    },
    /// A lake path that cannot be turned into a URL.
    #[error("invalid lake path {path}")]
    InvalidPath {
        /// The path.
        path: PathBuf,
    },
    /// The table does not exist.
    #[error("table {table} does not exist (run `c360 generate` or `c360 load` first)")]
    TableNotFound {
        /// `layer.table`.
        table: String,
    },
    /// Batches whose schema differs from the table's.
    #[error("schema of {table} does not match the data written to it: {detail}")]
    SchemaMismatch {
        /// `layer.table`.
        table: String,
        /// What differs.
        detail: String,
    },
    /// A file-system failure.
    #[error("I/O error at {path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A failure inside delta-rs while reading or committing a table.
    #[error("Delta table {table}: {source}")]
    Delta {
        /// `layer.table`.
        table: String,
        /// The underlying error.
        #[source]
        source: Box<deltalake::DeltaTableError>,
    },
    /// A table whose log cannot be opened (a damaged commit, say).
    #[error("{table} cannot be read: {message}")]
    Unreadable {
        /// `layer.table`.
        table: String,
        /// Why.
        message: String,
    },
    /// Data files the table's latest version references are gone from its folder.
    #[error(
        "{table} is damaged: version {version} references {} data file(s) that are missing \
         (first: {}); restore them from a backup, or rebuild the table (a model: `c360 run \
         --full-refresh --select <model>`)",
        files.len(),
        files.first().map(String::as_str).unwrap_or("")
    )]
    MissingFiles {
        /// `layer.table`.
        table: String,
        /// The version whose files are missing.
        version: u64,
        /// Their paths, relative to the table's folder.
        files: Vec<String>,
    },
    /// A failure while reading a table back through DataFusion.
    #[error("reading {table}: {message}")]
    Read {
        /// `layer.table`.
        table: String,
        /// What failed.
        message: String,
    },
    /// A MERGE whose keys are unusable: NULL, duplicated, or missing from the source.
    #[error("merge into {table}: {message}")]
    MergeKey {
        /// `layer.table`.
        table: String,
        /// What is wrong with the keys.
        message: String,
    },
    /// A SQL statement given to [`crate::Lake::query`] that failed to plan or run, or that
    /// would write (queries are read-only).
    #[error("query failed: {0}")]
    Query(String),
    /// A misuse of this crate's API (our bug, not the user's).
    #[error("internal error: {0}")]
    Internal(String),
}

impl LakeError {
    pub(crate) fn delta(layer: Layer, name: &str, source: deltalake::DeltaTableError) -> LakeError {
        LakeError::Delta {
            table: format!("{layer}.{name}"),
            source: Box::new(source),
        }
    }
}
