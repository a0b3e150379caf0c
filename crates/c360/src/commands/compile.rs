//! `c360 compile`: renders every model and test to SQL and writes `target/manifest.json`.

use std::process::ExitCode;

use anyhow::Context;

use super::project::compile_project;
use crate::cli::CompileArgs;
use crate::settings::Settings;

pub fn run(settings: &Settings, args: CompileArgs) -> anyhow::Result<ExitCode> {
    let CompileArgs { selection, show } = args;
    let compiled = compile_project(settings, &selection, false)?;
    let target = settings.project_dir.join("target");
    std::fs::create_dir_all(&target).with_context(|| format!("creating {}", target.display()))?;
    let path = target.join("manifest.json");
    std::fs::write(&path, compiled.manifest.to_json())
        .with_context(|| format!("writing {}", path.display()))?;
    if show {
        for id in &compiled.selected {
            if let Some(sql) = &compiled.manifest.nodes[id].compiled_sql {
                println!("-- {id}\n{}\n", sql.trim_end());
            }
        }
    }
    if settings.show_progress {
        println!(
            "Compiled {} nodes of project '{}' ({} selected); wrote {}",
            compiled.manifest.nodes.len(),
            compiled.project.name,
            compiled.selected.len(),
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
