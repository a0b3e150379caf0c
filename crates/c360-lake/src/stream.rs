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

use std::collections::BTreeSet;
use std::sync::Arc;

use deltalake::datafusion::datasource::TableProvider;
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
    /// Files of version `since` are gone: the table was rewritten, not appended to.
    Rewritten {
        /// The current version.
        to: u64,
    },
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
        self.changes_between(layer, name, since, None).await
    }

    /// The rows `layer.name` gained after version `since` (all rows for `None`) up to version
    /// `upto` (the current version for `None`, or when `upto` is later). A consumer whose
    /// upstream has read the table only up to some version reads no further, so it never holds
    /// rows its upstream lacks; `upto` before `since` reads nothing and keeps the offset.
    pub async fn changes_between(
        &self,
        layer: Layer,
        name: &str,
        since: Option<u64>,
        upto: Option<u64>,
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
        let now = file_paths(&table, layer, name)?;
        let Some(since) = since else {
            let provider = table.table_provider().await.map_err(provider_err)?;
            return Ok(Changes::Rows {
                to,
                provider,
                files: now.len(),
            });
        };
        let mut old_table = self.open_existing(layer, name).await?;
        old_table
            .load_version(since)
            .await
            .map_err(|e| LakeError::delta(layer, name, e))?;
        let then = file_paths(&old_table, layer, name)?;
        if !then.is_subset(&now) {
            return Ok(Changes::Rewritten { to });
        }
        let added: Vec<String> = now.difference(&then).cloned().collect();
        let files = added.len();
        let provider = table
            .table_provider()
            .with_file_paths(added)
            .await
            .map_err(provider_err)?;
        Ok(Changes::Rows {
            to,
            provider,
            files,
        })
    }
}

/// The data files of a loaded table version, as paths relative to the table.
fn file_paths(table: &DeltaTable, layer: Layer, name: &str) -> Result<BTreeSet<String>> {
    let state = table
        .snapshot()
        .map_err(|e| LakeError::delta(layer, name, e))?;
    Ok(state
        .log_data()
        .into_iter()
        .map(|file| file.path().to_string())
        .collect())
}
