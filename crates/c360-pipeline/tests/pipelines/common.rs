//! Building executors and pipelines for the tests.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use c360_lake::Lake;
use c360_pipeline::{Executor, Launcher, Pipeline, PipelineSet, SystemClock, WriterLock};
use tokio::sync::watch;

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub stop: watch::Sender<bool>,
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
            stop: watch::channel(false).0,
        }
    }

    pub fn lake(&self) -> PathBuf {
        self.dir.path().join("lake")
    }

    /// A file in the fixture's folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn executor(&self) -> Executor {
        Executor {
            lake: Lake::new(self.lake()),
            launcher: Launcher {
                c360: PathBuf::from("/bin/false"),
                global_args: Vec::new(),
                env: Vec::new(),
                working_dir: self.dir.path().to_path_buf(),
                echo: false,
            },
            clock: Arc::new(SystemClock),
            stop: self.stop.subscribe(),
        }
    }

    pub fn lock(&self) -> WriterLock {
        WriterLock::acquire(&self.lake(), "test", std::time::Duration::ZERO).unwrap()
    }
}

/// Parses `[pipeline...]` tables and returns the pipeline `name`.
pub fn pipeline(toml_text: &str, name: &str) -> Pipeline {
    let table: toml::Table = toml::from_str(toml_text).unwrap();
    let set = PipelineSet::from_toml(table.get("pipeline").and_then(|v| v.as_table())).unwrap();
    set.get(Some(name)).unwrap().clone()
}

/// Lines of a log file the tasks append to.
pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}
