//! Change streams over append-only tables (Snowflake Streams): the rows a table gained after a
//! version, as a DataFusion table, plus the offsets consumers keep.
//!
//! An offset ([`StreamOffset`]) is the source version a consumer has read up to, with a digest
//! of that version's commit entry. It is stored as two Delta `txn` actions (`app_id` → version,
//! `app_id@commit` → digest) *in the consumer's own table*, in the same commit as the rows it
//! produced ([`crate::TableWriterBuilder::stream_offset`], [`crate::MergeBuilder`]), so a crash
//! before that commit leaves both the rows and the offset where they were: the next run reads
//! the same changes again, and nothing is skipped or counted twice.
//!
//! The digest is how an offset recognises the version it recorded. A source rolled back (its
//! latest commit entries removed, as a restore from a backup does) and written again has a
//! version of the same number but other contents; without the digest a consumer would take the
//! new version for the one it read and skip its rows forever. When the entry at the offset's
//! version is gone or differs, or the offset has no digest, [`Lake::changes_between`] answers
//! [`Changes::Rewritten`] and the consumer rebuilds.
//!
//! The changes after version `v` are the data files present now but not at `v`. That is exact
//! for tables that only ever receive appends (bronze). When a file of `v` is gone (the table
//! was overwritten, say by a new `c360 generate`), there is no incremental answer and
//! [`Lake::changes_between`] says so with [`Changes::Rewritten`]; the consumer then rebuilds.
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
use deltalake::logstore::{get_actions, LogStore};
use deltalake::DeltaTable;
use sha2::{Digest, Sha256};

use crate::{Lake, LakeError, Layer, Result};

/// A consumer's position in a stream: the source version it has read up to, and a digest of
/// that version's commit entry (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOffset {
    /// The source version read up to.
    pub version: u64,
    /// The first 63 bits of the SHA-256 of the version's commit entry; `None` for an offset
    /// stored before offsets carried it (or whose entry had expired), which cannot be checked.
    pub commit: Option<i64>,
}

impl StreamOffset {
    /// The `(app_id, version)` `txn`s that store this offset under `app_id`, for
    /// [`crate::TableWriterBuilder::stream_offset`] and [`crate::MergeBuilder::stream_offset`].
    pub fn txns(&self, app_id: &str) -> Vec<(String, i64)> {
        let mut txns = vec![(app_id.to_string(), self.version as i64)];
        if let Some(commit) = self.commit {
            txns.push((commit_app_id(app_id), commit));
        }
        txns
    }
}

/// The `txn` app id holding the commit digest of the offset stored under `app_id`.
fn commit_app_id(app_id: &str) -> String {
    format!("{app_id}@commit")
}

/// Why a stream cannot be read incrementally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rewrite {
    /// A file of the offset's version is gone: the table was overwritten (or created again).
    Overwritten,
    /// The offset's version is past the table's last version, or its commit entry is not the
    /// one the offset recorded: the table was rolled back or restored since.
    HistoryChanged,
    /// The offset carries no commit digest to check it against (stored by an older c360).
    Unverified,
    /// Log entries after the offset expired: what happened since can no longer be told.
    Expired,
}

impl std::fmt::Display for Rewrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Rewrite::Overwritten => "was rewritten",
            Rewrite::HistoryChanged => {
                "no longer has the version it was read up to (rolled back or restored)"
            }
            Rewrite::Unverified => "was read up to an offset that records no commit digest",
            Rewrite::Expired => "has log entries that expired",
        })
    }
}

/// What a table gained after a version.
pub enum Changes {
    /// The rows added after `since` (every row when `since` is `None`), up to version `to`.
    Rows {
        /// The version read up to (the offset to store).
        to: StreamOffset,
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
        /// What was found.
        why: Rewrite,
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
        app_version(&table, layer, name, app_id).await
    }

    /// The stream offset stored under `app_id` in `layer.name` (see [`StreamOffset::txns`]):
    /// `None` when the table does not exist or holds no offset under that id.
    pub async fn stream_offset(
        &self,
        layer: Layer,
        name: &str,
        app_id: &str,
    ) -> Result<Option<StreamOffset>> {
        let Some(table) = self.open(layer, name).await? else {
            return Ok(None);
        };
        let Some(version) = app_version(&table, layer, name, app_id).await? else {
            return Ok(None);
        };
        let commit = app_version(&table, layer, name, &commit_app_id(app_id)).await?;
        Ok(Some(StreamOffset {
            version: u64::try_from(version).unwrap_or(0),
            commit,
        }))
    }

    /// The offset of a consumer that has read `layer.name` up to `version` (its digest is
    /// `None` when that version's commit entry is gone).
    pub async fn offset_at(&self, layer: Layer, name: &str, version: u64) -> Result<StreamOffset> {
        let table = self.open_existing(layer, name).await?;
        Ok(StreamOffset {
            version,
            commit: commit_digest(table.log_store().as_ref(), version, layer, name).await?,
        })
    }

    /// The rows `layer.name` gained after version `since` (all rows for `None`), read at its
    /// current version.
    pub async fn changes_since(
        &self,
        layer: Layer,
        name: &str,
        since: Option<StreamOffset>,
    ) -> Result<Changes> {
        self.changes_between(layer, name, since, None, Appends::Only)
            .await
    }

    /// The rows `layer.name` gained after offset `since` (all rows for `None`) up to version
    /// `upto` (the current version for `None`, or when `upto` is later). A consumer whose
    /// upstream has read the table only up to some version reads no further, so it never holds
    /// rows its upstream lacks; `upto` before `since` reads nothing and keeps the offset.
    /// `appends` says what a file gone since `since` means (see the module docs).
    pub async fn changes_between(
        &self,
        layer: Layer,
        name: &str,
        since: Option<StreamOffset>,
        upto: Option<u64>,
        appends: Appends,
    ) -> Result<Changes> {
        let mut table = self.open_existing(layer, name).await?;
        let current = table.version().unwrap_or(0);
        if let Some(since) = since {
            let store = table.log_store();
            if let Some(why) = check_offset(store.as_ref(), since, current, layer, name).await? {
                return Ok(Changes::Rewritten { to: current, why });
            }
        }
        let to = upto.map_or(current, |upto| upto.min(current));
        let to = since.map_or(to, |since| to.max(since.version));
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
            let commit = commit_digest(table.log_store().as_ref(), to, layer, name).await?;
            return Ok(Changes::Rows {
                to: StreamOffset {
                    version: to,
                    commit,
                },
                provider,
                files,
            });
        };
        let Some(log) = LogChanges::read(&table, since.version, to, layer, name).await? else {
            return Ok(Changes::Rewritten {
                to,
                why: Rewrite::Expired,
            });
        };
        let rewritten = match appends {
            Appends::Only => log.removed_older,
            Appends::OrMerges => log.removed_older && log.overwritten,
        };
        if rewritten {
            return Ok(Changes::Rewritten {
                to,
                why: Rewrite::Overwritten,
            });
        }
        let files = log.added.len();
        let provider = table
            .table_provider()
            .with_file_paths(log.added)
            .await
            .map_err(provider_err)?;
        Ok(Changes::Rows {
            to: StreamOffset {
                version: to,
                commit: log.last_commit.or(since.commit),
            },
            provider,
            files,
        })
    }
}

/// Why the offset `since` no longer names a version of the table (whose last version is
/// `current`), or `None` when it still does.
async fn check_offset(
    store: &dyn LogStore,
    since: StreamOffset,
    current: u64,
    layer: Layer,
    name: &str,
) -> Result<Option<Rewrite>> {
    if since.version > current {
        return Ok(Some(Rewrite::HistoryChanged));
    }
    let Some(recorded) = since.commit else {
        return Ok(Some(Rewrite::Unverified));
    };
    Ok(
        match commit_digest(store, since.version, layer, name).await? {
            None => Some(Rewrite::Expired),
            Some(digest) if digest != recorded => Some(Rewrite::HistoryChanged),
            Some(_) => None,
        },
    )
}

/// The digest of version `version`'s commit entry, `None` when the entry is gone.
async fn commit_digest(
    store: &dyn LogStore,
    version: u64,
    layer: Layer,
    name: &str,
) -> Result<Option<i64>> {
    let entry = store
        .read_commit_entry(version)
        .await
        .map_err(|e| LakeError::delta(layer, name, e))?;
    Ok(entry.map(|bytes| digest(&bytes)))
}

/// The first 63 bits of the SHA-256 of a commit entry (a `txn` version is a signed 64-bit
/// integer; a non-negative one reads the same in every Delta client).
fn digest(entry: &[u8]) -> i64 {
    let hash = Sha256::digest(entry);
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    (u64::from_be_bytes(first) >> 1) as i64
}

/// The version stored under the `txn` `app_id` in `table`.
async fn app_version(
    table: &DeltaTable,
    layer: Layer,
    name: &str,
    app_id: &str,
) -> Result<Option<i64>> {
    let state = table
        .snapshot()
        .map_err(|e| LakeError::delta(layer, name, e))?;
    state
        .transaction_version(table.log_store().as_ref(), app_id)
        .await
        .map_err(|e| LakeError::delta(layer, name, e))
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
    /// The digest of commit `to`'s entry (`None` when `to` is `since`: no entry was read).
    last_commit: Option<i64>,
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
        let mut last_commit = None;
        for version in since + 1..=to {
            let delta_err = |e| LakeError::delta(layer, name, e);
            let Some(entry) = store.read_commit_entry(version).await.map_err(delta_err)? else {
                return Ok(None);
            };
            if version == to {
                last_commit = Some(digest(&entry));
            }
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
            last_commit,
        }))
    }
}

/// A log entry's path as the snapshot's file list spells it (percent-decoded).
pub(crate) fn decoded(path: &str) -> String {
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
