//! Running the binary and reading what it wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow::array::{Array, RecordBatch};
use c360_lake::{Lake, Layer};

pub const BIN: &str = env!("CARGO_BIN_EXE_c360");

/// The Customer 360 project shipped in the repository.
pub const PROJECT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../project");

/// Copies a folder recursively, leaving out `target/` folders (a project's run artifacts).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "target" {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of the Customer 360 project (its `target/` is written per run) with the lake beside it.
pub struct Setup {
    _tmp: tempfile::TempDir,
    pub project: PathBuf,
    pub lake: PathBuf,
}

impl Setup {
    pub fn new() -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().join("project");
        copy_dir(Path::new(PROJECT), &project);
        let lake = tmp.path().join("lake");
        Setup {
            _tmp: tmp,
            project,
            lake,
        }
    }

    /// A `c360` command with the project and its lake.
    pub fn c360(&self) -> Command {
        self.c360_on(&self.lake)
    }

    /// A `c360` command with the project and another lake.
    pub fn c360_on(&self, lake: &Path) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--config")
            .arg(self.project.join("c360.toml"))
            .arg("--lake")
            .arg(lake)
            .env_remove("C360_LAKE")
            .env_remove("C360_FAILPOINT_BEFORE_COMMIT")
            .env_remove("RUST_LOG");
        cmd
    }

    /// Runs `c360 <args>` to success and returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        stdout(&ok(self.c360().args(args)))
    }
}

/// A `c360` command with its lake at `lake` and no project file.
pub fn c360(lake: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--lake")
        .arg(lake)
        .arg("--config")
        .arg(lake.with_extension("absent.toml"))
        .env_remove("C360_LAKE")
        .env_remove("C360_FAILPOINT_BEFORE_COMMIT")
        .env_remove("RUST_LOG");
    cmd
}

/// Runs to completion and insists on success, showing output otherwise.
pub fn ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run c360");
    assert!(
        out.status.success(),
        "c360 failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn lake_dir(tmp: &tempfile::TempDir) -> PathBuf {
    tmp.path().join("lake")
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// All rows of a table (tests use small tables).
pub fn read(lake: &Path, layer: Layer, name: &str) -> Vec<RecordBatch> {
    runtime()
        .block_on(Lake::new(lake).read_all(layer, name))
        .unwrap()
}

/// (version, rows) of a table from its log.
pub fn version_and_rows(lake: &Path, layer: Layer, name: &str) -> Option<(u64, u64)> {
    runtime()
        .block_on(Lake::new(lake).table_info(layer, name))
        .unwrap()
        .map(|t| (t.version, t.rows))
}

pub fn content_hash(lake: &Path, layer: Layer, name: &str) -> (u64, String) {
    runtime()
        .block_on(Lake::new(lake).content_hash(layer, name))
        .unwrap()
}

/// The values of a string column across batches (NULL as None).
pub fn strings(batches: &[RecordBatch], column: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for b in batches {
        let col = arrow::compute::cast(
            b.column_by_name(column).unwrap(),
            &arrow::datatypes::DataType::Utf8,
        )
        .unwrap();
        let col = col
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .unwrap();
        for i in 0..col.len() {
            out.push(col.is_valid(i).then(|| col.value(i).to_string()));
        }
    }
    out
}
