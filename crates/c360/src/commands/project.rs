//! Loading and compiling the SQL project, shared by `compile` and `ls` (and later `run`).

use std::collections::BTreeSet;

use anyhow::Context;
use c360_lake::Layer;
use c360_models::{compile, parse_selectors, parse_vars, select, Manifest, Project};

use crate::cli::SelectionArgs;
use crate::settings::Settings;

/// A compiled project and the node ids its selection picked.
pub struct Compiled {
    pub project: Project,
    pub manifest: Manifest,
    pub selected: BTreeSet<String>,
}

/// Loads the project beside `c360.toml`, compiles it with the `--var` overrides and applies
/// `--select`/`--exclude` (no `--select` means every model, seed and test). With
/// `full_refresh`, incremental models compile as full builds.
pub fn compile_project(
    settings: &Settings,
    selection: &SelectionArgs,
    full_refresh: bool,
) -> anyhow::Result<Compiled> {
    let SelectionArgs {
        select: include,
        exclude,
        vars,
    } = selection;
    let project = Project::load(&settings.project_dir)
        .with_context(|| format!("loading the project in {}", settings.project_dir.display()))?;
    let vars = parse_vars(vars)?;
    let lake = settings.lake()?;
    // A model compiles incrementally when its table already exists (dbt's is_incremental()).
    let exists = |model: &str| {
        !full_refresh
            && [Layer::Silver, Layer::Gold]
                .into_iter()
                .any(|layer| lake.table_exists(layer, model))
    };
    let manifest = compile(&project, &vars, &exists)?;
    let selected = select(
        &manifest,
        &parse_selectors(include)?,
        &parse_selectors(exclude)?,
    )?;
    Ok(Compiled {
        project,
        manifest,
        selected,
    })
}
