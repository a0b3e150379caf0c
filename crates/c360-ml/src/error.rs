//! Errors of the churn model, sorted by who is at fault: the input tables or data (a missing
//! column, too little data to train), the caller (a bad parameter, an unknown model version),
//! the environment (I/O on the registry), or our own bug.

use std::path::PathBuf;

use c360_lake::datafusion::error::DataFusionError;

/// Result alias of this crate.
pub type Result<T, E = MlError> = std::result::Result<T, E>;

/// What can go wrong while building features, training, scoring or using the registry.
#[derive(Debug, thiserror::Error)]
pub enum MlError {
    /// A feature, label or scoring query failed to plan or run (a missing table or column, a
    /// type the SQL cannot handle).
    #[error("{stage} query failed: {source}")]
    Query {
        /// Which query: `features`, `training data` or `scoring`.
        stage: &'static str,
        /// The underlying DataFusion error.
        #[source]
        source: Box<DataFusionError>,
    },
    /// Batches that do not have the columns or types this crate expects.
    #[error("unexpected data in {what}: {detail}")]
    Schema {
        /// Which data (`training data`, `features`).
        what: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// Not enough data to train or evaluate (no rows, a single class, a holdout without
    /// positives).
    #[error("not enough data to train the churn model: {0}")]
    InsufficientData(String),
    /// A parameter outside its valid range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// The model needs a feature the data does not have.
    #[error("the model uses feature `{0}`, which the data does not have")]
    MissingFeature(String),
    /// A model file that cannot be read or parsed.
    #[error("model file {path}: {reason}")]
    ModelFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A file-system failure in the registry.
    #[error("I/O error at {path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Building an output batch failed (our bug).
    #[error("building {what}: {source}")]
    Arrow {
        /// Which output.
        what: &'static str,
        /// The underlying Arrow error.
        #[source]
        source: arrow::error::ArrowError,
    },
}

impl MlError {
    pub(crate) fn query(stage: &'static str) -> impl FnOnce(DataFusionError) -> MlError {
        move |e| MlError::Query {
            stage,
            source: Box::new(e),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> MlError {
        let path = path.into();
        move |source| MlError::Io { path, source }
    }
}
