//! Listing the lake's tables with their versions and sizes (`c360 tables`).

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
            for name in names {
                if let Some(info) = self.table_info(layer, &name).await? {
                    out.push(info);
                }
            }
        }
        Ok(out)
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
        while let Some(file) = files.next().await {
            let file = file.map_err(|e| LakeError::delta(layer, name, e))?;
            rows += file.num_records().unwrap_or(0) as u64;
            bytes += file.size().max(0) as u64;
            count += 1;
        }
        Ok(Some(TableInfo {
            layer,
            name: name.to_string(),
            version: table.version().unwrap_or(0),
            rows,
            files: count,
            bytes,
        }))
    }
}
