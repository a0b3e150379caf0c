//! Reading a table whose checkpoint is damaged, from its JSON commits.
//!
//! A checkpoint (`_delta_log/<v>.checkpoint.parquet`, named by `_last_checkpoint`) is a copy
//! of the table's state at version `v` that saves replaying the commits before it; c360 writes
//! one every [`crate::CHECKPOINT_INTERVAL`] commits. When one is damaged (truncated,
//! overwritten) Delta readers stop at it, although the JSON commits it summarises hold the same
//! state. [`Lake::open`](crate::Lake::open) then opens the table once more through a view of
//! its storage that hides every checkpoint file, so the state is replayed from commit 0, and
//! warns once per table and process, naming the checkpoint and how to stop the warning.
//! Nothing is written here: the next checkpoint a writer makes (visible through the same view)
//! supersedes the damaged one for the versions after it. When a commit the replay needs is gone too, the original error stands.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path as FsPath;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use deltalake::logstore::object_store::local::LocalFileSystem;
use deltalake::logstore::object_store::path::Path;
use deltalake::logstore::object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, Result as StoreResult,
};
use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use url::Url;

/// Opens the table at `url` (folder `dir`) from its JSON commits after `error` stopped the
/// normal open, when its log holds a checkpoint and every commit from version 0; `Err(error)`
/// otherwise.
pub(crate) async fn open_from_commits(
    dir: &FsPath,
    url: Url,
    table: &str,
    error: DeltaTableError,
) -> Result<DeltaTable, DeltaTableError> {
    let Some(checkpoints) = replayable_checkpoints(&dir.join("_delta_log")) else {
        return Err(error);
    };
    let store: Arc<dyn ObjectStore> = Arc::new(WithoutCheckpoints {
        inner: Arc::new(LocalFileSystem::new()),
        damaged: checkpoints.iter().cloned().collect(),
    });
    let opened = DeltaTableBuilder::from_url(url.clone())
        .map(|b| b.with_storage_backend(store, url))?
        .load()
        .await;
    let Ok(opened) = opened else {
        return Err(error);
    };
    if first_warning(table) {
        tracing::warn!(
            table,
            checkpoints = %checkpoints.join(", "),
            %error,
            "a checkpoint of the table cannot be read; the table is read from its JSON commits \
             (slower, same data). The next checkpoint a write makes supersedes it; deleting the \
             damaged checkpoint file(s) from _delta_log stops this warning"
        );
    }
    Ok(opened)
}

/// The checkpoint files of a log whose JSON commits run from version 0 without a gap, or
/// `None` when it has no checkpoint or lacks a commit.
fn replayable_checkpoints(log: &FsPath) -> Option<Vec<String>> {
    let mut checkpoints = Vec::new();
    let mut commits = BTreeSet::new();
    for entry in std::fs::read_dir(log).ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_checkpoint(&name) {
            checkpoints.push(name);
        } else if let Some(version) = name.strip_suffix(".json") {
            commits.insert(version.parse::<u64>().ok()?);
        }
    }
    let contiguous = commits.iter().copied().eq(0..commits.len() as u64);
    checkpoints.sort();
    checkpoints.retain(|name| name != "_last_checkpoint");
    (!checkpoints.is_empty() && contiguous).then_some(checkpoints)
}

/// Whether a `_delta_log` file name is (part of) a checkpoint or the pointer to the last one.
fn is_checkpoint(name: &str) -> bool {
    name == "_last_checkpoint" || name.contains(".checkpoint.")
}

/// True the first time it is asked about `table` in this process.
fn first_warning(table: &str) -> bool {
    static WARNED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    WARNED
        .lock()
        .map(|mut warned| warned.insert(table.to_string()))
        .unwrap_or(true)
}

/// An object store that shows everything of `inner` but the checkpoint files that were there
/// when the table failed to open (`damaged`) and the pointer to the last one. A checkpoint a
/// writer makes through it afterwards is seen, so the table reads from it again.
#[derive(Debug)]
struct WithoutCheckpoints {
    inner: Arc<dyn ObjectStore>,
    damaged: BTreeSet<String>,
}

impl WithoutCheckpoints {
    fn hidden(&self, path: &Path) -> bool {
        hidden_by(&self.damaged, path)
    }
}

/// Whether `path` is the last-checkpoint pointer or one of the `damaged` checkpoint files.
fn hidden_by(damaged: &BTreeSet<String>, path: &Path) -> bool {
    path.filename()
        .is_some_and(|name| name == "_last_checkpoint" || damaged.contains(name))
}

impl std::fmt::Display for WithoutCheckpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WithoutCheckpoints({})", self.inner)
    }
}

fn not_found(path: &Path) -> deltalake::logstore::object_store::Error {
    deltalake::logstore::object_store::Error::NotFound {
        path: path.to_string(),
        source: "checkpoint hidden: it cannot be read".into(),
    }
}

#[async_trait]
impl ObjectStore for WithoutCheckpoints {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> StoreResult<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> StoreResult<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> StoreResult<GetResult> {
        if self.hidden(location) {
            return Err(not_found(location));
        }
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> StoreResult<Vec<Bytes>> {
        if self.hidden(location) {
            return Err(not_found(location));
        }
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, StoreResult<Path>>,
    ) -> BoxStream<'static, StoreResult<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, StoreResult<ObjectMeta>> {
        let damaged = self.damaged.clone();
        self.inner
            .list(prefix)
            .try_filter(move |meta| futures::future::ready(!hidden_by(&damaged, &meta.location)))
            .boxed()
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, StoreResult<ObjectMeta>> {
        let damaged = self.damaged.clone();
        self.inner
            .list_with_offset(prefix, offset)
            .try_filter(move |meta| futures::future::ready(!hidden_by(&damaged, &meta.location)))
            .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> StoreResult<ListResult> {
        let mut listed = self.inner.list_with_delimiter(prefix).await?;
        listed.objects.retain(|meta| !self.hidden(&meta.location));
        Ok(listed)
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> StoreResult<()> {
        self.inner.copy_opts(from, to, options).await
    }
}
