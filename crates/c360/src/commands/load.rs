//! `c360 load customers|transactions FILE...`: real files into bronze.
//!
//! Every row of every file ends up either in the bronze table or in its `_rejected_<table>`
//! table with the file, line, field and reason. All files of one command are committed
//! together, one Delta commit per table, so a crash leaves both tables at their previous
//! versions. A file that fails half-way (unreadable, truncated) contributes nothing. Like
//! Snowflake's COPY INTO, a file whose content was loaded before is skipped (the key is the
//! SHA-256 of its bytes, kept as a Delta `txn` action) unless `--force` is given.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use c360_bronze::{rejected_schema, BronzeTable};
use c360_ingest::{read_file, Chunk, IngestError, LoadOptions};
use c360_lake::{Lake, LakeError, Layer};
use sha2::{Digest, Sha256};
use tokio::runtime::Runtime;

use crate::cli::{LoadArgs, LoadTarget};
use crate::progress;
use crate::settings::Settings;

/// What happened to one file.
enum FileResult {
    Loaded(c360_ingest::FileReport),
    AlreadyLoaded,
    Failed(String),
}

pub fn run(settings: &Settings, runtime: &Runtime, args: LoadArgs) -> anyhow::Result<ExitCode> {
    let LoadArgs {
        table,
        files,
        force,
        delimiter,
    } = args;
    let table = match table {
        LoadTarget::Customers => BronzeTable::Customers,
        LoadTarget::Transactions => BronzeTable::Transactions,
    };
    let csv_delimiter = match delimiter {
        None => None,
        Some(c) if c.is_ascii() => Some(c as u8),
        Some(c) => anyhow::bail!("--delimiter '{c}' must be a single ASCII character"),
    };
    let lake = Lake::new(&settings.lake);
    let load_id = uuid::Uuid::new_v4().to_string();
    // Ingestion time is the one legitimate wall-clock read: it records when data arrived.
    let loaded_at = chrono::Utc::now();

    // Key every readable file by its content.
    let mut keyed = Vec::new();
    let mut results: Vec<(String, FileResult)> = Vec::new();
    for path in &files {
        match content_key(path) {
            Ok(key) => keyed.push((path.clone(), key)),
            Err(e) => results.push((
                path.display().to_string(),
                FileResult::Failed(format!("{e:#}")),
            )),
        }
    }

    let (mut data, mut rejects) = runtime.block_on(async {
        let mut data = lake.writer(Layer::Bronze, table.name(), table.schema());
        let mut rejects = lake.writer(
            Layer::Bronze,
            table.rejected_table_name(),
            rejected_schema(),
        );
        for (_, key) in &keyed {
            data = data.idempotency_key(key.clone(), 1);
            rejects = rejects.idempotency_key(key.clone(), 1);
        }
        let meta = serde_json::json!({ "load_id": load_id, "files": files.len() });
        Ok::<_, LakeError>((
            data.commit_metadata("c360.load", meta.clone())
                .begin()
                .await?,
            rejects.commit_metadata("c360.load", meta).begin().await?,
        ))
    })?;

    let options = LoadOptions {
        csv_delimiter,
        ..LoadOptions::new(table, load_id.clone(), loaded_at)
    };
    for (part, (path, key)) in keyed.iter().enumerate() {
        let name = path.display().to_string();
        // The data commit is the last of a load, so a file whose data landed is complete.
        if !force && data.is_applied(key) {
            results.push((name, FileResult::AlreadyLoaded));
            continue;
        }
        let write_rejects = force || !rejects.is_applied(key);
        let spinner = progress::spinner(settings.show_progress, &name);
        let mut data_sink = data.file_sink()?;
        let mut reject_sink = rejects.file_sink()?;
        let outcome = read_file(path, &options, &mut |chunk: Chunk| {
            spinner.inc((chunk.rows.num_rows() + chunk.rejected.num_rows()) as u64);
            if chunk.rows.num_rows() > 0 {
                runtime
                    .block_on(data_sink.write(chunk.rows))
                    .map_err(|e| IngestError::Sink(e.to_string()))?;
            }
            if write_rejects && chunk.rejected.num_rows() > 0 {
                runtime
                    .block_on(reject_sink.write(chunk.rejected))
                    .map_err(|e| IngestError::Sink(e.to_string()))?;
            }
            Ok(())
        });
        spinner.finish_and_clear();
        match outcome {
            Ok(report) => {
                data.stage(part, runtime.block_on(data_sink.finish())?);
                rejects.stage(part, runtime.block_on(reject_sink.finish())?);
                results.push((name, FileResult::Loaded(report)));
            }
            // The file's sinks are dropped unstaged: none of its rows become visible.
            Err(e) => results.push((name, FileResult::Failed(e.to_string()))),
        }
    }

    let any_loaded_file = results
        .iter()
        .any(|(_, r)| matches!(r, FileResult::Loaded(_)));
    if any_loaded_file {
        runtime.block_on(async {
            // Rejects first: if we die before the data commit, a re-run re-reads the file,
            // finds its rejects already recorded and writes only the data.
            if rejects.staged_rows() > 0 {
                rejects.commit().await?;
            }
            data.commit().await
        })?;
    }

    let (mut loaded, mut rejected, mut failed) = (0u64, 0u64, 0usize);
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    for (name, result) in &results {
        match result {
            FileResult::Loaded(r) => {
                loaded += r.loaded;
                rejected += r.rejected;
                for (reason, n) in &r.reasons {
                    *reasons.entry(reason.clone()).or_default() += n;
                }
                println!(
                    "{name}: {} rows read, {} loaded, {} rejected{}",
                    r.rows_read,
                    r.loaded,
                    r.rejected,
                    describe_reasons(&r.reasons)
                );
            }
            FileResult::AlreadyLoaded => {
                println!(
                    "{name}: already loaded (same content); skipped — use --force to load again"
                )
            }
            FileResult::Failed(e) => {
                failed += 1;
                eprintln!("{name}: not loaded: {e}");
            }
        }
    }
    println!(
        "bronze.{}: {loaded} rows loaded; bronze.{}: {rejected} rows rejected{}; {failed} file(s) failed",
        table.name(),
        table.rejected_table_name(),
        describe_reasons(&reasons)
    );
    let nothing_read = loaded == 0 && (failed > 0 || rejected > 0);
    Ok(if nothing_read {
        eprintln!("error: nothing could be loaded");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn describe_reasons(reasons: &BTreeMap<String, u64>) -> String {
    if reasons.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = reasons.iter().map(|(k, v)| format!("{k} {v}")).collect();
    format!(" ({})", parts.join(", "))
}

/// `c360.load:<sha256 of the file's bytes>`.
fn content_key(path: &Path) -> anyhow::Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("c360.load:{hex}"))
}
