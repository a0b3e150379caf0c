//! Listing the lake's tables with their versions and sizes (`c360 tables`), and the data files
//! a table's log references that are gone from its folder.

use std::collections::BTreeSet;
use std::path::Path;

use futures::StreamExt;

use crate::{Lake, LakeError, Layer, Result};

/// One table of the lake as of its latest version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableInfo {
    /// Its layer.
    pub layer: Layer,
    /// Its name inside the layer.
    pub name: String,
    /// Latest Delta version.
    pub version: u64,
    /// Rows at that version (from the Delta log's file statistics; no data is read).
    pub rows: u64,
    /// Active Parquet files.
    pub files: u64,
    /// Bytes in those files.
    pub bytes: u64,
    /// Files of the latest version that are not in the table's folder (paths relative to
    /// it): the table is damaged, and a read of those rows fails until they are restored or
    /// the table is rebuilt.
    pub missing_files: Vec<String>,
}

impl serde::Serialize for Layer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl Lake {
    /// Every Delta table of every layer, sorted by layer then name.
    pub async fn list_tables(&self) -> Result<Vec<TableInfo>> {
        let mut out = Vec::new();
        for (layer, name) in self.table_names() {
            if let Some(info) = self.table_info(layer, &name).await? {
                out.push(info);
            }
        }
        Ok(out)
    }

    /// The `(layer, name)` of every Delta table (a folder with a `_delta_log`), sorted by
    /// layer then name. Opens nothing.
    pub fn table_names(&self) -> Vec<(Layer, String)> {
        let mut out = Vec::new();
        for layer in Layer::ALL {
            let dir = self.root.join(layer.name());
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|name| self.table_exists(layer, name))
                .collect();
            names.sort();
            out.extend(names.into_iter().map(|name| (layer, name)));
        }
        out
    }

    /// Version, rows and size of one table; `None` when it does not exist.
    pub async fn table_info(&self, layer: Layer, name: &str) -> Result<Option<TableInfo>> {
        let Some(table) = self.open(layer, name).await? else {
            return Ok(None);
        };
        let state = table
            .snapshot()
            .map_err(|e| LakeError::delta(layer, name, e))?;
        let log_store = table.log_store();
        let mut files = state.snapshot().file_views(log_store.as_ref(), None);
        let (mut rows, mut count, mut bytes) = (0u64, 0u64, 0u64);
        let present = files_in(&self.table_path(layer, name));
        let mut missing_files = Vec::new();
        while let Some(file) = files.next().await {
            let file = file.map_err(|e| LakeError::delta(layer, name, e))?;
            rows += file.num_records().unwrap_or(0) as u64;
            bytes += file.size().max(0) as u64;
            count += 1;
            let path = crate::stream::decoded(&file.path());
            if !present.contains(&path) {
                missing_files.push(path);
            }
        }
        Ok(Some(TableInfo {
            layer,
            name: name.to_string(),
            version: table.version().unwrap_or(0),
            rows,
            files: count,
            bytes,
            missing_files,
        }))
    }

    /// When `message` — a failed read's — names a file of one of the lake's tables whose data
    /// files are missing, the [`LakeError::MissingFiles`] saying which: the table to blame is
    /// the damaged one, not the reader that tripped over it.
    pub async fn damage_behind(&self, message: &str) -> Option<LakeError> {
        for (layer, name) in self.table_names() {
            if !message.contains(&format!("{layer}/{name}/")) {
                continue;
            }
            if let Err(damage @ LakeError::MissingFiles { .. }) =
                self.check_files(layer, &name).await
            {
                return Some(damage);
            }
        }
        None
    }

    /// Fails with [`LakeError::MissingFiles`] when data files of `layer.name`'s latest version
    /// are gone from its folder (one listing of the folder; no data is read).
    pub async fn check_files(&self, layer: Layer, name: &str) -> Result<()> {
        let Some(info) = self.table_info(layer, name).await? else {
            return Ok(());
        };
        if info.missing_files.is_empty() {
            return Ok(());
        }
        Err(LakeError::MissingFiles {
            table: format!("{layer}.{name}"),
            version: info.version,
            files: info.missing_files,
        })
    }
}

/// The paths of the files under `dir`, relative to it (`/`-separated), but the Delta log's.
fn files_in(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut folders = vec![(dir.to_path_buf(), String::new())];
    while let Some((folder, prefix)) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = format!("{prefix}{name}");
            match entry.file_type() {
                Ok(t) if t.is_dir() && path != "_delta_log" => {
                    folders.push((entry.path(), format!("{path}/")));
                }
                Ok(t) if t.is_file() => {
                    out.insert(path);
                }
                _ => {}
            }
        }
    }
    out
}
