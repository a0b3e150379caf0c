//! `c360 ls`: the project's nodes after selection, like `dbt ls`.

use std::process::ExitCode;

use super::project::compile_project;
use crate::cli::{LsArgs, LsOutput};
use crate::settings::Settings;

pub fn run(settings: &Settings, args: LsArgs) -> anyhow::Result<ExitCode> {
    let LsArgs {
        selection,
        resource_type,
        output,
    } = args;
    let compiled = compile_project(settings, &selection, false)?;
    let nodes: Vec<_> = compiled
        .selected
        .iter()
        .map(|id| (id, &compiled.manifest.nodes[id]))
        .filter(|(id, _)| {
            resource_type
                .as_deref()
                .is_none_or(|kind| id.starts_with(&format!("{kind}.")))
        })
        .collect();
    match output {
        LsOutput::Name => nodes.iter().for_each(|(id, _)| println!("{id}")),
        LsOutput::Path => nodes
            .iter()
            .for_each(|(id, node)| println!("{id}\t{}", node.path)),
        LsOutput::Json => {
            let map: std::collections::BTreeMap<_, _> = nodes.into_iter().collect();
            println!("{}", serde_json::to_string_pretty(&map)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
