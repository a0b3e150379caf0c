//! `c360.toml`, parsed with a strict schema: `name`, `lake`, `[vars]`, `[models]` with
//! per-folder defaults (`[models.silver]`, `[models.gold.marts]`, ...) and `[seeds]`. Unknown
//! keys are errors naming the line; a `[models.x]` table must name an existing folder.
//!
//! `[server]` and `[pipeline]` belong to other crates (the dashboard and the scheduler): they
//! are kept here as raw tables and parsed, just as strictly, by their owners.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{ModelConfig, ModelLayer, CONFIG_KEYS};
use crate::error::{closest, line_of_offset, ModelError, Result};

/// The project file's name.
pub const PROJECT_FILE: &str = "c360.toml";

/// What `c360.toml` says.
#[derive(Debug, Clone)]
pub struct ProjectFile {
    pub name: String,
    pub lake: Option<PathBuf>,
    /// `memory_limit`, for the binary to parse (`4GiB`, `25%`, `unlimited`).
    pub memory_limit: Option<String>,
    pub vars: BTreeMap<String, serde_json::Value>,
    pub seed_layer: ModelLayer,
    pub defaults: FolderDefaults,
    /// `[server]`, for `c360 serve` to parse.
    pub server: Option<toml::Table>,
    /// `[pipeline]`, for the scheduler to parse.
    pub pipeline: Option<toml::Table>,
}

/// `[models]` of `c360.toml`: a config level and the levels of sub-folders.
#[derive(Debug, Clone, Default)]
pub struct FolderDefaults {
    config: ModelConfig,
    folders: BTreeMap<String, FolderDefaults>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectToml {
    name: String,
    #[serde(default)]
    lake: Option<PathBuf>,
    #[serde(default)]
    memory_limit: Option<String>,
    #[serde(default)]
    vars: toml::Table,
    #[serde(default)]
    models: toml::Table,
    #[serde(default)]
    seeds: SeedsToml,
    #[serde(default)]
    server: Option<toml::Table>,
    #[serde(default)]
    pipeline: Option<toml::Table>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedsToml {
    #[serde(default)]
    layer: Option<ModelLayer>,
}

impl FolderDefaults {
    /// `[models]` merged with each level of `folders` that has a table, outer to inner.
    pub(crate) fn config_for(&self, folders: &[String]) -> ModelConfig {
        let mut level = self;
        let mut config = level.config.clone();
        for folder in folders {
            match level.folders.get(folder) {
                Some(next) => {
                    config = config.merged(&next.config);
                    level = next;
                }
                None => break,
            }
        }
        config
    }
}

impl ProjectFile {
    /// Parses the text of `root/c360.toml` (the binary also reads `lake` from it).
    pub fn parse(root: &Path, text: &str) -> Result<ProjectFile> {
        let parsed: ProjectToml = toml::from_str(text).map_err(|e| ModelError::ProjectFile {
            file: PROJECT_FILE.into(),
            line: e.span().map(|s| line_of_offset(text, s.start)),
            message: e.message().to_string(),
        })?;
        Ok(ProjectFile {
            defaults: folder_defaults(&parsed.models, &[], root, text)?,
            vars: parsed
                .vars
                .iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
            seed_layer: parsed.seeds.layer.unwrap_or(ModelLayer::Silver),
            name: parsed.name,
            lake: parsed.lake,
            memory_limit: parsed.memory_limit,
            server: parsed.server,
            pipeline: parsed.pipeline,
        })
    }
}

/// Builds the folder-defaults tree of `[models]`: config keys at each level, sub-tables named
/// after folders that must exist.
fn folder_defaults(
    table: &toml::Table,
    at: &[String],
    root: &Path,
    text: &str,
) -> Result<FolderDefaults> {
    let section = std::iter::once("models")
        .chain(at.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(".");
    let mut config = toml::Table::new();
    let mut folders = BTreeMap::new();
    for (key, value) in table {
        if CONFIG_KEYS.contains(&key.as_str()) {
            config.insert(key.clone(), value.clone());
        } else if let toml::Value::Table(sub) = value {
            let mut path: Vec<String> = at.to_vec();
            path.push(key.clone());
            let dir = root.join("models").join(path.join("/"));
            if !dir.is_dir() {
                return Err(ModelError::ProjectFile {
                    file: PROJECT_FILE.into(),
                    line: toml_key_line(text, &section, key),
                    message: format!(
                        "[{section}.{key}]: no folder models/{} (sub-tables of [models] are folders; config keys are {})",
                        path.join("/"),
                        CONFIG_KEYS.join(", ")
                    ),
                });
            }
            folders.insert(key.clone(), folder_defaults(sub, &path, root, text)?);
        } else {
            return Err(ModelError::UnknownConfigKey {
                file: PROJECT_FILE.into(),
                line: toml_key_line(text, &section, key),
                model: None,
                key: key.clone(),
                suggestion: closest(key, CONFIG_KEYS.iter().copied()),
            });
        }
    }
    let config = toml::Value::Table(config)
        .try_into()
        .map_err(|e: toml::de::Error| ModelError::InvalidConfig {
            file: PROJECT_FILE.into(),
            line: toml_section_line(text, &section),
            model: None,
            message: format!("[{section}]: {}", e.message()),
        })?;
    Ok(FolderDefaults { config, folders })
}

/// The line of `key = ...` in `[section]` (or written as a dotted key under a parent section).
fn toml_key_line(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(header) = t.strip_prefix('[').and_then(|h| h.split(']').next()) {
            current = header
                .split('.')
                .map(|p| p.trim().trim_matches('"'))
                .collect::<Vec<_>>()
                .join(".");
            if current == format!("{section}.{key}") {
                return Some(i + 1);
            }
            continue;
        }
        let lhs = t.split('=').next().unwrap_or("").trim();
        let full = if current.is_empty() {
            lhs.to_string()
        } else {
            format!("{current}.{lhs}")
        };
        if full == format!("{section}.{key}") || full.starts_with(&format!("{section}.{key}.")) {
            return Some(i + 1);
        }
    }
    None
}

fn toml_section_line(text: &str, section: &str) -> Option<usize> {
    text.lines()
        .position(|l| l.trim().trim_start_matches('[').trim_end_matches(']') == section)
        .map(|i| i + 1)
}

/// TOML values as JSON (dates and times as their text).
fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    match v {
        toml::Value::String(s) => serde_json::Value::String(s.clone()),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Float(f) => serde_json::Value::from(*f),
        toml::Value::Boolean(b) => serde_json::Value::Bool(*b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(a) => serde_json::Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => serde_json::Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lines_follow_sections_and_dotted_keys() {
        let text = "name = \"p\"\n[models]\ngold.tags = [\"x\"]\n[models.silver]\nmaterialized = \"table\"\n";
        assert_eq!(
            toml_key_line(text, "models.silver", "materialized"),
            Some(5)
        );
        assert_eq!(toml_key_line(text, "models", "silver"), Some(4));
        assert_eq!(toml_key_line(text, "models.gold", "tags"), Some(3));
        assert_eq!(toml_key_line(text, "models", "nope"), None);
    }

    #[test]
    fn vars_keep_their_types_and_dates_become_text() {
        let dir = tempfile::tempdir().unwrap();
        let text = "name = \"p\"\n[vars]\nas_of = 2025-11-14\nn = 3\nflag = true\n";
        let parsed = ProjectFile::parse(dir.path(), text).unwrap();
        assert_eq!(parsed.vars["as_of"], serde_json::json!("2025-11-14"));
        assert_eq!(parsed.vars["n"], serde_json::json!(3));
        assert_eq!(parsed.vars["flag"], serde_json::json!(true));
    }
}
