//! The c360 lake: Delta Lake tables laid out by medallion layer, and the only crate that talks
//! to delta-rs.
//!
//! A lake is a folder (`./lake` by default) holding `<lake>/{bronze,silver,gold}/<table>` Delta
//! tables plus `<lake>/_c360/` for c360's own bookkeeping. Every table any Delta reader can open
//! (Spark, DuckDB, Polars, the Python `deltalake` package).
//!
//! What it offers:
//! - [`Lake`]: table paths per [`Layer`], opening tables, listing them with row counts and
//!   versions ([`Lake::list_tables`]), reading them back ([`Lake::scan`], [`Lake::content_hash`]).
//! - [`TableWriter`]: an atomic, streaming write. Batches are encoded to Parquet files as they
//!   arrive (several [`FileSink`]s may run in parallel), and nothing is visible until
//!   [`TableWriter::commit`] writes one Delta commit. A crash before that leaves the table
//!   exactly at its previous version. Writes can carry an idempotency key (a Delta `txn`
//!   action), so a retried load or simulation is applied once.
//!   [`TableWriterBuilder::write_batches`] does the whole write for batches already in memory.
//! - [`Lake::merge`]: MERGE on a unique key ([`MergeBuilder`]), rewriting only the files that
//!   hold matched rows, with a delete flag and target limits (lookback windows).
//! - Change streams ([`Lake::changes_since`], [`Lake::changes_between`],
//!   [`Lake::stream_offset`]): the rows a table gained (or a MERGE rewrote, [`Appends`]) after
//!   a version, and the consumer offsets ([`StreamOffset`]) stored with the consumer's commits,
//!   which recognise a source rolled back under them.
//! - The lake in a DataFusion session (`session.rs`): [`Lake::register_all`] puts every table
//!   in a `SessionContext` as `layer.table`, [`Lake::write_stream`] turns a query's result
//!   into one atomic write, and [`Lake::query`] answers read-only SQL (`c360 query`). Every
//!   [`Lake::session_context`] also has the aggregate `median_of_lists` (`median.rs`), and
//!   draws from the lake's memory pool ([`MemoryLimit`], spilling beyond it; `memory.rs`,
//!   with [`PeakPool`] to measure one unit of work). DataFusion
//!   is re-exported as [`datafusion`], so other crates use the same version without delta-rs.
//!
//! What it is not for: deciding what rows mean (that is the generator, the loader and the
//! model engine) or planning model runs (the model engine owns its session and its SQL).
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use arrow::array::{Int64Array, RecordBatch};
//! use arrow::datatypes::{DataType, Field, Schema};
//! use c360_lake::{Lake, Layer, WriteMode};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let lake = Lake::new(dir.path());
//! let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
//! let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![1, 2, 3]))]).unwrap();
//!
//! let mut writer = lake.writer(Layer::Silver, "numbers", schema).mode(WriteMode::Append).begin().await.unwrap();
//! let mut sink = writer.file_sink().unwrap();
//! sink.write(batch).await.unwrap();
//! writer.stage(0, sink.finish().await.unwrap());
//! let outcome = writer.commit().await.unwrap();
//! assert_eq!(outcome.rows_written, 3);
//!
//! let tables = lake.list_tables().await.unwrap();
//! assert_eq!(tables[0].name, "numbers");
//! assert_eq!(tables[0].rows, 3);
//! # });
//! ```

mod catalog;
mod compact;
mod error;
mod failpoint;
mod median;
mod memory;
mod merge;
mod month_files;
mod recover;
mod scan;
mod session;
mod stream;
mod write;

use std::path::{Path, PathBuf};

use deltalake::DeltaTable;
use url::Url;

/// The DataFusion this crate's Delta tables plug into; use it (not a separately declared
/// `datafusion` dependency) so sessions, providers and streams are the same types.
pub use deltalake::datafusion;

pub use catalog::TableInfo;
pub use error::{LakeError, Result};
pub use memory::{process_peak_rss, MemoryLimit, PeakPool, DEFAULT_MEMORY_SHARE_PERCENT};
pub use merge::{MergeBuilder, MergeOutcome};
pub use session::Registered;
pub use stream::{Appends, Changes, Rewrite, StreamOffset};
pub use write::{
    FileSink, SinkFactory, StagedFiles, TableWriter, TableWriterBuilder, WriteMode, WriteOutcome,
    CHECKPOINT_INTERVAL,
};

/// A medallion layer of the lake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// Raw data as it arrived (append-only).
    Bronze,
    /// Cleaned and conformed data.
    Silver,
    /// Star schema, marts, ML outputs and the 360 profile.
    Gold,
    /// c360's own tables (`_c360/`): run history, and later offsets and model registry.
    Meta,
}

impl Layer {
    /// Every layer, in data-flow order, then c360's own tables.
    pub const ALL: [Layer; 4] = [Layer::Bronze, Layer::Silver, Layer::Gold, Layer::Meta];

    /// The layer's folder name, also its name in `layer.table` references.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Bronze => "bronze",
            Layer::Silver => "silver",
            Layer::Gold => "gold",
            Layer::Meta => "_c360",
        }
    }

    /// Parses `bronze`, `silver`, `gold` or `_c360` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Layer> {
        Layer::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A lake rooted at a local folder.
#[derive(Debug, Clone)]
pub struct Lake {
    root: PathBuf,
    /// The memory pool and spill files every session of this lake shares (`memory.rs`).
    runtime: std::sync::Arc<datafusion::execution::runtime_env::RuntimeEnv>,
    memory_limit: MemoryLimit,
}

impl Lake {
    /// A lake at `root`. Nothing is created until a table is written.
    pub fn new(root: impl Into<PathBuf>) -> Lake {
        Lake {
            root: root.into(),
            runtime: std::sync::Arc::new(Default::default()),
            memory_limit: MemoryLimit::Unlimited,
        }
    }

    /// The lake's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of table `name` in `layer`.
    pub fn table_path(&self, layer: Layer, name: &str) -> PathBuf {
        self.root.join(layer.name()).join(name)
    }

    /// The folder for c360's own state (run history, offsets, models).
    pub fn meta_dir(&self) -> PathBuf {
        self.root.join(Layer::Meta.name())
    }

    fn table_url(&self, layer: Layer, name: &str) -> Result<Url> {
        validate_table_name(name)?;
        let path = self.table_path(layer, name);
        std::fs::create_dir_all(&path).map_err(|source| LakeError::Io {
            path: path.clone(),
            source,
        })?;
        let abs = std::fs::canonicalize(&path).map_err(|source| LakeError::Io {
            path: path.clone(),
            source,
        })?;
        Url::from_directory_path(&abs).map_err(|()| LakeError::InvalidPath { path: abs })
    }

    /// Whether table `layer.name` exists (has a Delta log). Reads no data.
    pub fn table_exists(&self, layer: Layer, name: &str) -> bool {
        self.table_path(layer, name).join("_delta_log").is_dir()
    }

    /// Opens an existing table at its latest version; `None` when it does not exist yet. A table
    /// whose checkpoint is damaged is read from its JSON commits (`recover.rs`).
    pub async fn open(&self, layer: Layer, name: &str) -> Result<Option<DeltaTable>> {
        if !self.table_exists(layer, name) {
            return Ok(None);
        }
        let url = self.table_url(layer, name)?;
        let table = match deltalake::open_table(url.clone()).await {
            Ok(table) => table,
            Err(error) => {
                let dir = self.table_path(layer, name);
                recover::open_from_commits(&dir, url, &format!("{layer}.{name}"), error)
                    .await
                    .map_err(|e| LakeError::delta(layer, name, e))?
            }
        };
        Ok(Some(table))
    }

    /// Opens an existing table, or fails with [`LakeError::TableNotFound`].
    pub async fn open_existing(&self, layer: Layer, name: &str) -> Result<DeltaTable> {
        self.open(layer, name)
            .await?
            .ok_or_else(|| LakeError::TableNotFound {
                table: format!("{layer}.{name}"),
            })
    }

    /// The latest value that a commit of this table stored under `key` in its commit metadata
    /// (see [`TableWriter::commit_metadata`]), with the table version it was committed at.
    pub async fn latest_commit_metadata(
        &self,
        layer: Layer,
        name: &str,
        key: &str,
    ) -> Result<Option<(i64, serde_json::Value)>> {
        use futures::StreamExt;
        let Some(table) = self.open(layer, name).await? else {
            return Ok(None);
        };
        let mut history = table.history(None);
        let mut best: Option<(i64, serde_json::Value)> = None;
        while let Some(info) = history.next().await {
            let info = info.map_err(|e| LakeError::delta(layer, name, e))?;
            let (Some(value), Some(version)) =
                (info.info.get(key), info.info.get(COMMIT_VERSION_KEY))
            else {
                continue;
            };
            let version = version.as_i64().unwrap_or(-1);
            if best.as_ref().is_none_or(|(v, _)| version > *v) {
                best = Some((version, value.clone()));
            }
        }
        Ok(best)
    }
}

/// Commit-metadata key under which every c360 commit records the table version it wrote, so
/// metadata can be ordered without trusting timestamps.
const COMMIT_VERSION_KEY: &str = "c360.readVersion";

/// Table names are single path segments of letters, digits and `_` (no traversal, no layers).
fn validate_table_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(LakeError::InvalidTableName {
            name: name.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_names_round_trip() {
        for layer in Layer::ALL {
            assert_eq!(Layer::from_name(layer.name()), Some(layer));
        }
        assert_eq!(Layer::from_name("GOLD"), Some(Layer::Gold));
        assert_eq!(Layer::from_name("_c360"), Some(Layer::Meta));
        assert_eq!(Layer::from_name("platinum"), None);
    }

    #[test]
    fn table_names_cannot_escape_the_lake() {
        assert!(validate_table_name("stg_transactions").is_ok());
        assert!(validate_table_name("_rejected_customers").is_ok());
        for bad in ["", "../x", "a/b", "a.b", "9lives", "x y"] {
            assert!(validate_table_name(bad).is_err(), "{bad}");
        }
    }
}
