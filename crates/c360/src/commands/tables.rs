//! `c360 tables`: every table of the lake with its version, rows, files and size.

use std::process::ExitCode;

use c360_lake::{Lake, TableInfo};
use tokio::runtime::Runtime;

use crate::cli::{OutputFormat, TablesArgs};
use crate::settings::Settings;

pub fn run(settings: &Settings, runtime: &Runtime, args: TablesArgs) -> anyhow::Result<ExitCode> {
    let TablesArgs { format, hash } = args;
    let lake = settings.lake()?;
    let listed = runtime.block_on(list(&lake, hash));
    let problems = listed.iter().filter(|t| t.problem().is_some()).count();
    match format {
        OutputFormat::Json => {
            let rows: Vec<_> = listed.iter().map(Listed::to_json).collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
        }
        OutputFormat::Table => {
            if listed.is_empty() {
                println!(
                    "no tables in {} (run `c360 generate` or `c360 load`)",
                    settings.lake.display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            print_table(&listed, hash);
        }
    }
    if problems > 0 {
        eprintln!("{problems} table(s) cannot be read in full: see above");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// One table as listed: its figures, or why it cannot be read.
struct Listed {
    table: String,
    info: Result<TableInfo, String>,
    hash: Option<Result<String, String>>,
}

impl Listed {
    /// What is wrong with the table, if anything.
    fn problem(&self) -> Option<String> {
        match (&self.info, &self.hash) {
            (Err(e), _) => Some(e.clone()),
            (Ok(info), _) if !info.missing_files.is_empty() => Some(format!(
                "damaged: {} data file(s) missing (first: {})",
                info.missing_files.len(),
                info.missing_files[0]
            )),
            (_, Some(Err(e))) => Some(e.clone()),
            _ => None,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        let mut v = match &self.info {
            Ok(info) => serde_json::to_value(info).expect("serialisable"),
            Err(_) => serde_json::json!({ "table": self.table }),
        };
        if let Some(Ok(h)) = &self.hash {
            v["content_hash"] = h.clone().into();
        }
        if let Some(problem) = self.problem() {
            v["error"] = problem.into();
        }
        v
    }
}

/// Every table of the lake, each read on its own, so one that cannot be read is reported
/// without hiding the others.
async fn list(lake: &Lake, hash: bool) -> Vec<Listed> {
    let mut out = Vec::new();
    for (layer, name) in lake.table_names() {
        let info = match lake.table_info(layer, &name).await {
            Ok(Some(info)) => Ok(info),
            Ok(None) => continue,
            Err(e) => Err(e.to_string()),
        };
        let hash = match (&info, hash) {
            (Ok(_), true) => Some(
                lake.content_hash(layer, &name)
                    .await
                    .map(|(_, h)| h)
                    .map_err(|e| e.to_string()),
            ),
            _ => None,
        };
        out.push(Listed {
            table: format!("{layer}.{name}"),
            info,
            hash,
        });
    }
    out
}

fn print_table(listed: &[Listed], hash: bool) {
    println!(
        "{:<34} {:>8} {:>14} {:>7} {:>10}{}",
        "table",
        "version",
        "rows",
        "files",
        "size",
        if hash { "  content_hash" } else { "" }
    );
    for t in listed {
        if let Ok(info) = &t.info {
            let hash = match &t.hash {
                Some(Ok(h)) => format!("  {h}"),
                _ => String::new(),
            };
            println!(
                "{:<34} {:>8} {:>14} {:>7} {:>10}{hash}",
                t.table,
                info.version,
                info.rows,
                info.files,
                human_bytes(info.bytes),
            );
        }
        if let Some(problem) = t.problem() {
            println!("{:<34} ERROR {problem}", t.table);
        }
    }
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
