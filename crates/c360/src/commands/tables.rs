//! `c360 tables`: every table of the lake with its version, rows, files and size.

use std::process::ExitCode;

use c360_lake::Lake;
use tokio::runtime::Runtime;

use crate::cli::{OutputFormat, TablesArgs};
use crate::settings::Settings;

pub fn run(settings: &Settings, runtime: &Runtime, args: TablesArgs) -> anyhow::Result<ExitCode> {
    let TablesArgs { format, hash } = args;
    let lake = Lake::new(&settings.lake);
    let tables = runtime.block_on(lake.list_tables())?;
    let mut hashes = Vec::with_capacity(tables.len());
    if hash {
        for t in &tables {
            hashes.push(runtime.block_on(lake.content_hash(t.layer, &t.name))?.1);
        }
    }
    match format {
        OutputFormat::Json => {
            let rows: Vec<_> = tables
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let mut v = serde_json::to_value(t).expect("serialisable");
                    if let Some(h) = hashes.get(i) {
                        v["content_hash"] = h.clone().into();
                    }
                    v
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
        }
        OutputFormat::Table => {
            if tables.is_empty() {
                println!(
                    "no tables in {} (run `c360 generate` or `c360 load`)",
                    settings.lake.display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:<34} {:>8} {:>14} {:>7} {:>10}{}",
                "table",
                "version",
                "rows",
                "files",
                "size",
                if hash { "  content_hash" } else { "" }
            );
            for (i, t) in tables.iter().enumerate() {
                println!(
                    "{:<34} {:>8} {:>14} {:>7} {:>10}{}",
                    format!("{}.{}", t.layer, t.name),
                    t.version,
                    t.rows,
                    t.files,
                    human_bytes(t.bytes),
                    hashes.get(i).map(|h| format!("  {h}")).unwrap_or_default()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
