//! The crate's error type, sorted by who is at fault: your pipeline definition, the lake's
//! writer lock (another process), the lake itself, or the machine.

use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T, E = PipelineError> = std::result::Result<T, E>;

/// What can go wrong defining, scheduling or running a pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The `[pipeline]` section of c360.toml is wrong; `key` is the dotted path of the culprit.
    #[error("[{key}]: {message}")]
    Config { key: String, message: String },

    /// A pipeline or task name that does not exist.
    #[error("no pipeline named '{name}'{}", hint(.known))]
    UnknownPipeline { name: String, known: Vec<String> },

    /// Another process holds the lake's writer lock.
    #[error(
        "the lake {} is being written by another c360 process ({holder}); \
         wait for it to finish, or pass --lock-timeout to wait for it",
        lake.display()
    )]
    LakeBusy { lake: PathBuf, holder: String },

    /// The run was asked to stop before it could take the lock.
    #[error("stopped while waiting for the lake's writer lock")]
    StoppedWaitingForLock,

    /// Nothing to retry: the last run of the pipeline did not fail.
    #[error("{0}")]
    NothingToRetry(String),

    /// Reading or writing run history in the lake failed.
    #[error(transparent)]
    Lake(#[from] c360_lake::LakeError),

    /// The run history tables hold something this version cannot read.
    #[error("run history table _c360.{table}: {message}")]
    History { table: String, message: String },

    /// A file or process operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl PipelineError {
    pub(crate) fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        PipelineError::Config {
            key: key.into(),
            message: message.into(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        PipelineError::Io {
            context: context.into(),
            source,
        }
    }
}

fn hint(known: &[String]) -> String {
    if known.is_empty() {
        " (c360.toml defines no [pipeline.<name>] tables)".to_string()
    } else {
        format!(" (defined: {})", known.join(", "))
    }
}
