//! Change streams over append-only tables (Snowflake Streams): the rows a table gained after a
//! version, as a DataFusion table, plus the offsets consumers keep.
//!
//! An offset is the source version a consumer has read up to. It is stored as a Delta `txn`
//! action (`app_id` → version) *in the consumer's own table*, in the same commit as the rows it
//! produced ([`crate::TableWriterBuilder::idempotency_key`], [`crate::MergeBuilder`]), so a
//! crash before that commit leaves both the rows and the offset where they were: the next run
//! reads the same changes again, and nothing is skipped or counted twice.
//!
//! The changes after version `v` are the data files present now but not at `v`. That is exact
//! for tables that only ever receive appends (bronze). When a file of `v` is gone (the table
//! was overwritten, say by a new `c360 generate`), there is no incremental answer and
//! [`Lake::changes_since`] says so with [`Changes::Rewritten`]; the consumer then rebuilds.
//!
//! A table that MERGEs (a model's, [`Appends::OrMerges`]) loses files without being rewritten:
//! a MERGE replaces each file it updates with a new one holding the updated rows and their
//! unchanged neighbours. Its changes after `v` are then the rows of the files added since —
//! every row inserted or updated since, plus the unchanged rows copied with them (a superset:
//! a consumer must treat a row it sees again as a no-op); rows deleted since are not in them.
//! Only an overwrite between `v` and now (the table rebuilt) makes its changes `Rewritten`.

use std::collections::BTreeSet;
use std::sync::Arc;

use deltalake::datafusion::datasource::TableProvider;
use deltalake::kernel::{Action, CommitInfo};
use deltalake::logstore::get_actions;
use deltalake::DeltaTable;

use crate::{Lake, LakeError, Layer, Result};

/// What a table gained after a version.
pub enum Changes {
    /// The rows added after `since` (every row when `since` is `None`), up to version `to`.
    Rows {
        /// The version read up to (the offset to store).
        to: u64,
        /// The new rows, as a table.
        provider: Arc<dyn TableProvider>,
        /// How many data files hold them.
        files: usize,
    },
    /// Files of version `since` are gone: the table was rewritten, not appended to (or the
    /// log entries after `since` expired, and what happened can no longer be told).
    Rewritten {
        /// The current version.
        to: u64,
    },
}

/// How a streamed table changes, which decides what a lost file means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appends {
    /// Only appended to (bronze): any file gone since the offset means the table was rewritten.
    Only,
    /// Appended to or MERGEd into (a model's table): files a MERGE replaced are expected, and
    /// only an overwrite since the offset means the table was rewritten.
    OrMerges,
}

impl Lake {
    /// The version stored under the `txn` `app_id` in `layer.name`: `None` when the table does
    /// not exist or no commit carried that id.
    pub async fn app_version(&self, layer: Layer, name: &str, app_id: &str) -> Result<Option<i64>> {
        let Some(table) = self.open(layer, name).await? else {
            return Ok(None);
        };
        let state = table
            .snapshot()
            .map_err(|e| LakeError::delta(layer, name, e))?;
        state
            .transaction_version(table.log_store().as_ref(), app_id)
            .await
            .map_err(|e| LakeError::delta(layer, name, e))
    }

    /// The rows `layer.name` gained after version `since` (all rows for `None`), read at its
    /// current version.
    pub async fn changes_since(
        &self,
        layer: Layer,
        name: &str,
        since: Option<u64>,
    ) -> Result<Changes> {
        self.changes_between(layer, name, since, None, Appends::Only)
            .await
    }

    /// The rows `layer.name` gained after version `since` (all rows for `None`) up to version
    /// `upto` (the current version for `None`, or when `upto` is later). A consumer whose
    /// upstream has read the table only up to some version reads no further, so it never holds
    /// rows its upstream lacks; `upto` before `since` reads nothing and keeps the offset.
    /// `appends` says what a file gone since `since` means (see the module docs).
    pub async fn changes_between(
        &self,
        layer: Layer,
        name: &str,
        since: Option<u64>,
        upto: Option<u64>,
        appends: Appends,
    ) -> Result<Changes> {
        let mut table = self.open_existing(layer, name).await?;
        let current = table.version().unwrap_or(0);
        let to = upto.map_or(current, |upto| upto.min(current));
        let to = since.map_or(to, |since| to.max(since));
        if to < current {
            table
                .load_version(to)
                .await
                .map_err(|e| LakeError::delta(layer, name, e))?;
        }
        let provider_err = |e: deltalake::datafusion::error::DataFusionError| LakeError::Read {
            table: format!("{layer}.{name}"),
            message: e.to_string(),
        };
        let Some(since) = since else {
            let files = table
                .snapshot()
                .map_err(|e| LakeError::delta(layer, name, e))?
                .log_data()
                .num_files();
            let provider = table.table_provider().await.map_err(provider_err)?;
            return Ok(Changes::Rows {
                to,
                provider,
                files,
            });
        };
        if since > current {
            // offsets past the table's last version: the table was created again since
            return Ok(Changes::Rewritten { to: current });
        }
        let Some(log) = LogChanges::read(&table, since, to, layer, name).await? else {
            return Ok(Changes::Rewritten { to });
        };
        let rewritten = match appends {
            Appends::Only => log.removed_older,
            Appends::OrMerges => log.removed_older && log.overwritten,
        };
        if rewritten {
            return Ok(Changes::Rewritten { to });
        }
        let files = log.added.len();
        let provider = table
            .table_provider()
            .with_file_paths(log.added)
            .await
            .map_err(provider_err)?;
        Ok(Changes::Rows {
            to,
            provider,
            files,
        })
    }
}

/// What the commits after one version, up to another, did to a table's files: read from those
/// commits' log entries alone, so a stream costs one small JSON read per commit instead of the
/// table's file list at two versions.
struct LogChanges {
    /// The files added after `since` and still there at `to`, as paths relative to the table.
    added: BTreeSet<String>,
    /// Whether a file of version `since` was removed by `to`.
    removed_older: bool,
    /// Whether a commit overwrote the table (a `WRITE` in mode `Overwrite`, or a `CREATE`).
    overwritten: bool,
}

impl LogChanges {
    /// The changes of commits `since + 1 ..= to`, or `None` when one of their log entries is
    /// gone (expired by log cleanup): the changes cannot be read incrementally then.
    async fn read(
        table: &DeltaTable,
        since: u64,
        to: u64,
        layer: Layer,
        name: &str,
    ) -> Result<Option<LogChanges>> {
        let store = table.log_store();
        let mut added = BTreeSet::new();
        let mut removed_older = false;
        let mut overwritten = false;
        for version in since + 1..=to {
            let delta_err = |e| LakeError::delta(layer, name, e);
            let Some(entry) = store.read_commit_entry(version).await.map_err(delta_err)? else {
                return Ok(None);
            };
            for action in get_actions(version, &entry).map_err(delta_err)? {
                match action {
                    Action::Add(add) => {
                        added.insert(decoded(&add.path));
                    }
                    Action::Remove(remove) => {
                        // A file added since and removed again was never visible at `since`.
                        removed_older |= !added.remove(&decoded(&remove.path));
                    }
                    Action::CommitInfo(info) => overwritten |= overwrites(&info),
                    _ => {}
                }
            }
        }
        Ok(Some(LogChanges {
            added,
            removed_older,
            overwritten,
        }))
    }
}

/// A log entry's path as the snapshot's file list spells it (percent-decoded).
fn decoded(path: &str) -> String {
    percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .into_owned()
}

/// Whether a commit replaced the table's contents: a `WRITE` in mode `Overwrite`, or the table
/// created (again).
fn overwrites(info: &CommitInfo) -> bool {
    let mode = info
        .operation_parameters
        .as_ref()
        .and_then(|p| p.get("mode"))
        .and_then(|m| m.as_str());
    match info.operation.as_deref() {
        Some("WRITE") => mode == Some("Overwrite"),
        Some(op) => op.starts_with("CREATE"),
        None => false,
    }
}
