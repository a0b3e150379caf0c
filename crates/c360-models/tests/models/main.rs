//! Integration tests of the model engine: example projects under `tests/fixtures/` loaded,
//! compiled, selected, scheduled and (in `execute`) run against a Delta lake in a temp dir.
//!
//! The compiled manifest of `fixtures/basic` is kept in `snapshots/basic_manifest.json`;
//! after an intended change, regenerate it with `C360_ACCEPT=1 cargo test -p c360-models`
//! and review the diff instead of editing it by hand.

mod compile;
mod errors;
mod execute;
mod incremental;
mod layout;
mod scheduling;
mod selection;
mod test_kinds;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use c360_models::{compile, Manifest, Project, Result};

/// The folder of a fixture project.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Loads and compiles a fixture with no `--var` and no existing tables.
pub fn compile_fixture(name: &str) -> Result<Manifest> {
    let project = Project::load(fixture(name))?;
    compile(&project, &BTreeMap::new(), &|_| false)
}

/// A project written to a fresh temp dir from `(path, text)` pairs.
pub fn temp_project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

/// Node ids as `&str`s, for comparisons.
pub fn ids<'a>(set: impl IntoIterator<Item = &'a String>) -> Vec<&'a str> {
    set.into_iter().map(String::as_str).collect()
}
