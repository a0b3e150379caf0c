//! `c360 query "SQL"`: a read-only query over the lake, printed as a table, CSV or JSON.

use std::io::Write;
use std::process::ExitCode;

use tokio::runtime::Runtime;

use crate::cli::{QueryArgs, QueryOutput};
use crate::settings::Settings;

pub fn run(settings: &Settings, runtime: &Runtime, args: QueryArgs) -> anyhow::Result<ExitCode> {
    let QueryArgs { sql, format, limit } = args;
    let lake = settings.lake()?;
    let batches = runtime.block_on(lake.query(&sql, (limit > 0).then_some(limit)))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        QueryOutput::Table => {
            writeln!(
                out,
                "{}",
                arrow::util::pretty::pretty_format_batches(&batches)?
            )?;
        }
        QueryOutput::Csv => {
            let mut writer = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut out);
            for batch in &batches {
                writer.write(batch)?;
            }
        }
        QueryOutput::Json => {
            let mut writer = arrow::json::ArrayWriter::new(&mut out);
            for batch in &batches {
                writer.write(batch)?;
            }
            writer.finish()?;
            writeln!(out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
