//! Resolves flags, environment and `c360.toml` into one [`Settings`] before any work starts,
//! so every command sees the same, complete configuration.
//!
//! Precedence for the lake folder: `--lake`, then `C360_LAKE`, then `lake = "..."` in
//! `c360.toml` (relative to that file), then `./lake`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use c360_lake::{Lake, MemoryLimit};
use c360_models::ProjectFile;

use crate::cli::GlobalArgs;

/// Everything a command needs to know about where and how to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The project file (`--config`, or the default of [`default_config`]); may not exist.
    pub config: PathBuf,
    /// The lake folder.
    pub lake: PathBuf,
    /// The project folder: where `c360.toml` is (`models/`, `seeds/`, `target/` beside it).
    pub project_dir: PathBuf,
    /// Worker threads for parallel work.
    pub threads: usize,
    /// Print progress and summaries (false with `--quiet`).
    pub show_progress: bool,
    /// How long a writing command waits for the lake's writer lock.
    pub lock_timeout: std::time::Duration,
    /// What the query engine may hold in memory before spilling (`--memory-limit`).
    pub memory_limit: MemoryLimit,
}

impl Settings {
    /// Merges the global flags (which already include environment variables) with the
    /// project file.
    pub fn resolve(global: &GlobalArgs) -> anyhow::Result<Settings> {
        let GlobalArgs {
            lake,
            config,
            threads,
            verbose: _,
            quiet,
            lock_timeout,
            memory_limit,
        } = global;
        let config = match config {
            Some(path) => path.clone(),
            None => default_config(),
        };
        let config_path = config.clone();
        let config = &config_path;
        let project_dir = match config.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let project_file = read_project_file(config, &project_dir)?;
        let (project_lake, project_memory) = match project_file {
            Some(p) => (p.lake, p.memory_limit),
            None => (None, None),
        };
        let memory_limit = match (memory_limit, project_memory) {
            (Some(flag), _) => {
                MemoryLimit::parse(flag).map_err(|e| anyhow::anyhow!("--memory-limit: {e}"))?
            }
            (None, Some(from_file)) => MemoryLimit::parse(&from_file)
                .map_err(|e| anyhow::anyhow!("memory_limit in {}: {e}", config.display()))?,
            (None, None) => MemoryLimit::machine_share(),
        };
        let lake = match (lake, project_lake) {
            (Some(flag), _) => flag.clone(),
            (None, Some(from_file)) => project_dir.join(from_file),
            (None, None) => PathBuf::from("lake"),
        };
        let threads = match threads {
            Some(0) => anyhow::bail!("--threads must be at least 1"),
            Some(n) => *n,
            None => std::thread::available_parallelism().map_or(2, |n| n.get()),
        };
        Ok(Settings {
            config: config_path.clone(),
            lake,
            project_dir,
            threads,
            show_progress: !quiet,
            lock_timeout: match lock_timeout {
                Some(text) => c360_pipeline::parse_duration(text)
                    .map_err(|e| anyhow::anyhow!("--lock-timeout: {e}"))?,
                None => std::time::Duration::ZERO,
            },
            memory_limit,
        })
    }

    /// The lake, its sessions held to [`Settings::memory_limit`].
    pub fn lake(&self) -> anyhow::Result<Lake> {
        Ok(Lake::new(&self.lake).with_memory_limit(self.memory_limit)?)
    }
}

/// `./c360.toml` when it exists, else the bundled Customer 360 project's
/// `./project/c360.toml` when that exists (running from a checkout), else `./c360.toml`
/// (absent: defaults apply).
fn default_config() -> PathBuf {
    let here = PathBuf::from("c360.toml");
    let bundled = PathBuf::from("project").join("c360.toml");
    if !here.exists() && bundled.exists() {
        bundled
    } else {
        here
    }
}

/// Reads the project file with the model engine's strict parser; a missing file is fine
/// (defaults apply), a malformed one is not.
fn read_project_file(path: &Path, project_dir: &Path) -> anyhow::Result<Option<ProjectFile>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let parsed = ProjectFile::parse(project_dir, &text)
        .with_context(|| format!("parsing {}", path.display()))?;
    Ok(Some(parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(lake: Option<&str>, config: &Path) -> GlobalArgs {
        GlobalArgs {
            lake: lake.map(PathBuf::from),
            config: Some(config.to_path_buf()),
            threads: Some(2),
            verbose: 0,
            quiet: false,
            lock_timeout: None,
            memory_limit: None,
        }
    }

    #[test]
    fn lake_flag_beats_project_file_which_beats_default() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("c360.toml");
        let none = Settings::resolve(&global(None, &config)).unwrap();
        assert_eq!(none.lake, PathBuf::from("lake"));

        std::fs::write(&config, "name = \"demo\"\nlake = \"data/lake\"\n").unwrap();
        let from_file = Settings::resolve(&global(None, &config)).unwrap();
        assert_eq!(from_file.lake, dir.path().join("data/lake"));

        let flag = Settings::resolve(&global(Some("/tmp/other"), &config)).unwrap();
        assert_eq!(flag.lake, PathBuf::from("/tmp/other"));
    }

    #[test]
    fn a_malformed_project_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("c360.toml");
        std::fs::write(&config, "lake = [").unwrap();
        let err = Settings::resolve(&global(None, &config)).unwrap_err();
        assert!(format!("{err:#}").contains("c360.toml"), "{err:#}");
    }
}
