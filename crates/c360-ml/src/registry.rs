//! The model registry: one pretty-printed JSON file per trained model, `v<N>.json` in a folder
//! (the lake's `_c360/models/churn/`). Versions count up from 1; a file is written under a
//! temporary name and linked into place only if its version is still free, so two trainers
//! racing never overwrite each other and a reader never sees half a file.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::model::TrainedModel;
use crate::{MlError, Result};

/// A folder of versioned model files.
#[derive(Debug, Clone)]
pub struct Registry {
    dir: PathBuf,
}

impl Registry {
    /// The registry in `dir` (created on the first save).
    pub fn new(dir: impl Into<PathBuf>) -> Registry {
        Registry { dir: dir.into() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of `version`.
    pub fn path_of(&self, version: u32) -> PathBuf {
        self.dir.join(format!("v{version}.json"))
    }

    /// Every saved version, ascending (an absent folder has none). Files not named
    /// `v<N>.json` are ignored.
    pub fn versions(&self) -> Result<Vec<u32>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(MlError::io(&self.dir)(e)),
        };
        let mut versions = Vec::new();
        for entry in entries {
            let entry = entry.map_err(MlError::io(&self.dir))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(n) = name
                .strip_prefix('v')
                .and_then(|s| s.strip_suffix(".json"))
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u32>().ok())
            {
                versions.push(n);
            }
        }
        versions.sort_unstable();
        Ok(versions)
    }

    /// Saves `model` as the next version, sets `model.version` and returns it.
    pub fn save(&self, model: &mut TrainedModel) -> Result<u32> {
        std::fs::create_dir_all(&self.dir).map_err(MlError::io(&self.dir))?;
        let mut version = self.versions()?.last().copied().unwrap_or(0) + 1;
        loop {
            model.version = Some(version);
            let json = model.to_json()?;
            let tmp = self
                .dir
                .join(format!(".v{version}.json.{}.tmp", std::process::id()));
            std::fs::write(&tmp, json.as_bytes()).map_err(MlError::io(&tmp))?;
            let target = self.path_of(version);
            let linked = std::fs::hard_link(&tmp, &target);
            let _ = std::fs::remove_file(&tmp);
            match linked {
                Ok(()) => return Ok(version),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => version += 1,
                Err(e) => {
                    model.version = None;
                    return Err(MlError::io(target)(e));
                }
            }
        }
    }

    /// Loads `version`.
    pub fn load(&self, version: u32) -> Result<TrainedModel> {
        let path = self.path_of(version);
        let json = std::fs::read_to_string(&path).map_err(MlError::io(&path))?;
        let model = TrainedModel::from_json(&json).map_err(|reason| MlError::ModelFile {
            path: path.clone(),
            reason,
        })?;
        if model.version != Some(version) {
            return Err(MlError::ModelFile {
                path,
                reason: format!("the file says version {:?}", model.version),
            });
        }
        Ok(model)
    }

    /// Every saved model, by ascending version.
    pub fn list(&self) -> Result<Vec<TrainedModel>> {
        self.versions()?.into_iter().map(|v| self.load(v)).collect()
    }

    /// The promoted model with the highest version, if any: the one that scores.
    pub fn latest_promoted(&self) -> Result<Option<TrainedModel>> {
        for version in self.versions()?.into_iter().rev() {
            let model = self.load(version)?;
            if model.promoted {
                return Ok(Some(model));
            }
        }
        Ok(None)
    }

    /// The latest model trained for `as_of` on `data_version`, if any (lets a re-run skip
    /// training on unchanged data).
    pub fn find(&self, as_of: NaiveDate, data_version: &str) -> Result<Option<TrainedModel>> {
        for version in self.versions()?.into_iter().rev() {
            let model = self.load(version)?;
            if model.training_as_of == as_of && model.data_version == data_version {
                return Ok(Some(model));
            }
        }
        Ok(None)
    }
}
