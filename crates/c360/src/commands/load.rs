//! `c360 load customers|transactions FILE...`: real files into bronze.
//!
//! Every row of every file ends up either in the bronze table or in its `_rejected_<table>`
//! table with the file, line, field and reason. All files of one command are committed
//! together, one Delta commit per table, so a crash leaves both tables at their previous
//! versions. A file that fails half-way (unreadable, truncated) contributes nothing, and its
//! content is not recorded as loaded, so a later load of it reads it again. Like Snowflake's
//! COPY INTO, a file whose content was loaded before is skipped (the key is the SHA-256 of its
//! bytes, kept as a Delta `txn` action) unless `--force` is given; within one command, files
//! with the same content are read once (the first), the others skipped, even with `--force`.
//!
//! Exit codes: 0 every file loaded or skipped; 1 nothing could be loaded (every file failed,
//! or every row was rejected), or `--strict` and a file failed (nothing committed);
//! [`EXIT_PARTIAL`] some files failed and the others were loaded.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use c360_bronze::{rejected_schema, BronzeTable};
use c360_ingest::{read_file, Chunk, FileFormat, FileReport, IngestError, LoadOptions};
use c360_lake::{Lake, LakeError, Layer, StagedFiles, TableWriter};
use sha2::{Digest, Sha256};
use tokio::runtime::Runtime;

use crate::cli::{LoadArgs, LoadTarget};
use crate::progress;
use crate::settings::Settings;

/// Exit code of a load where some files failed and the others were loaded.
pub const EXIT_PARTIAL: u8 = 3;

/// What happened to one file.
enum FileResult {
    Loaded(FileReport),
    AlreadyLoaded,
    /// The same bytes as the named file, given earlier in this command.
    SameContent(String),
    Failed(String),
    /// Not read: `--strict` stopped at an earlier failure.
    NotRead,
}

/// A file to read: its place on the command line and its content key.
struct Pending {
    index: usize,
    key: String,
}

/// The command's files in command-line order, each with what happened to it.
type Results = Vec<(String, FileResult)>;

/// The new Parquet files of one file: of the data table, and of the rejects table.
type Staged = (StagedFiles, StagedFiles);

pub fn run(settings: &Settings, runtime: &Runtime, args: LoadArgs) -> anyhow::Result<ExitCode> {
    let LoadArgs {
        table,
        files,
        force,
        delimiter,
        strict,
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
    let lake = settings.lake()?;
    let load_id = uuid::Uuid::new_v4().to_string();
    // Ingestion time is the one legitimate wall-clock read: it records when data arrived.
    let loaded_at = chrono::Utc::now();
    let (pending, mut results) = plan(&files);
    if strict && results.iter().flatten().any(FileResult::is_failed) {
        return Ok(strict_failure(named(&files, results)));
    }

    let meta = serde_json::json!({ "load_id": load_id, "files": files.len() });
    let keys: Vec<&str> = pending.iter().map(|p| p.key.as_str()).collect();
    let (data, rejects) = runtime.block_on(begin(&lake, table, &meta, &keys))?;
    let options = LoadOptions {
        csv_delimiter,
        ..LoadOptions::new(table, load_id, loaded_at)
    };
    let mut staged = Vec::new();
    let mut stopped = false;
    for (part, Pending { index, key }) in pending.iter().enumerate() {
        let result = if stopped {
            FileResult::NotRead
        } else if !force && data.is_applied(key) {
            // The data commit is the last of a load, so a file whose data landed is complete.
            FileResult::AlreadyLoaded
        } else {
            let write_rejects = force || !rejects.is_applied(key);
            let writers = (&data, write_rejects.then_some(&rejects));
            match read_one(settings, runtime, &files[*index], &options, writers)? {
                Ok((report, files)) => {
                    staged.push((part, files));
                    FileResult::Loaded(report)
                }
                Err(e) => FileResult::Failed(e),
            }
        };
        stopped |= strict && result.is_failed();
        results[*index] = Some(result);
    }
    let results = named(&files, results);
    if stopped {
        return Ok(strict_failure(results));
    }

    // A failed file's content must not be recorded as loaded: the writers carry every key, so
    // they are begun again with the keys of the files that did not fail.
    let mut writers = (data, rejects);
    let failed: Vec<&str> = pending
        .iter()
        .filter(|p| results[p.index].1.is_failed())
        .map(|p| p.key.as_str())
        .collect();
    if !failed.is_empty() && !staged.is_empty() {
        let keys: Vec<&str> = keys.into_iter().filter(|k| !failed.contains(k)).collect();
        writers = runtime.block_on(begin(&lake, table, &meta, &keys))?;
    }
    runtime.block_on(commit(writers, staged))?;
    Ok(report(table, &results))
}

/// Keys every file by its content. Returns the files to read (the first of each content, in
/// command-line order) and the result of each file already decided: a file that cannot be
/// hashed has failed, a later copy of a content is skipped.
fn plan(files: &[PathBuf]) -> (Vec<Pending>, Vec<Option<FileResult>>) {
    let mut pending = Vec::new();
    let mut results: Vec<Option<FileResult>> = Vec::with_capacity(files.len());
    let mut first_with: BTreeMap<String, usize> = BTreeMap::new();
    for (index, path) in files.iter().enumerate() {
        let result = match content_key(path) {
            Err(e) => Some(FileResult::Failed(format!("{e:#}"))),
            Ok(key) => match first_with.get(&key) {
                Some(&first) => Some(FileResult::SameContent(files[first].display().to_string())),
                None => {
                    first_with.insert(key.clone(), index);
                    pending.push(Pending { index, key });
                    None
                }
            },
        };
        results.push(result);
    }
    (pending, results)
}

/// The results with their file names, in command-line order.
fn named(files: &[PathBuf], results: Vec<Option<FileResult>>) -> Results {
    files
        .iter()
        .zip(results)
        .map(|(path, result)| {
            let result = result.unwrap_or(FileResult::NotRead);
            (path.display().to_string(), result)
        })
        .collect()
}

impl FileResult {
    fn is_failed(&self) -> bool {
        matches!(self, FileResult::Failed(_))
    }
}

/// The data and rejects writers of `table`, carrying the content keys `keys`.
async fn begin(
    lake: &Lake,
    table: BronzeTable,
    meta: &serde_json::Value,
    keys: &[&str],
) -> Result<(TableWriter, TableWriter), LakeError> {
    let mut data = lake.writer(Layer::Bronze, table.name(), table.schema());
    let mut rejects = lake.writer(
        Layer::Bronze,
        table.rejected_table_name(),
        rejected_schema(),
    );
    for key in keys {
        data = data.idempotency_key(*key, 1);
        rejects = rejects.idempotency_key(*key, 1);
    }
    Ok((
        data.commit_metadata("c360.load", meta.clone())
            .begin()
            .await?,
        rejects
            .commit_metadata("c360.load", meta.clone())
            .begin()
            .await?,
    ))
}

/// Reads one file into new Parquet files of the data table (and of the rejects table, when
/// given). `Ok(Err(reason))`: the file failed and none of its rows will be visible; `Err`:
/// the lake could not be written.
fn read_one(
    settings: &Settings,
    runtime: &Runtime,
    path: &Path,
    options: &LoadOptions,
    (data, rejects): (&TableWriter, Option<&TableWriter>),
) -> anyhow::Result<Result<(FileReport, Staged), String>> {
    let spinner = progress::spinner(settings.show_progress, &path.display().to_string());
    let mut data_sink = data.file_sink()?;
    let mut reject_sink = rejects.map(TableWriter::file_sink).transpose()?;
    let sink_error = |e: LakeError| IngestError::Sink(e.to_string());
    let outcome = read_file(path, options, &mut |chunk: Chunk| {
        spinner.inc((chunk.rows.num_rows() + chunk.rejected.num_rows()) as u64);
        if chunk.rows.num_rows() > 0 {
            runtime
                .block_on(data_sink.write(chunk.rows))
                .map_err(sink_error)?;
        }
        if let Some(sink) = reject_sink
            .as_mut()
            .filter(|_| chunk.rejected.num_rows() > 0)
        {
            runtime
                .block_on(sink.write(chunk.rejected))
                .map_err(sink_error)?;
        }
        Ok(())
    });
    spinner.finish_and_clear();
    // On failure the file's sinks are dropped unstaged: none of its rows become visible.
    let report = match outcome {
        Ok(report) => report,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let data_files = runtime.block_on(data_sink.finish())?;
    let reject_files = match reject_sink {
        Some(sink) => runtime.block_on(sink.finish())?,
        None => StagedFiles::default(),
    };
    Ok(Ok((report, (data_files, reject_files))))
}

/// Commits the staged files of the files read, rejects first: if we die before the data
/// commit, a re-run re-reads the file, finds its rejects already recorded and writes only the
/// data. Nothing is committed when no file was read.
async fn commit(
    (mut data, mut rejects): (TableWriter, TableWriter),
    staged: Vec<(usize, Staged)>,
) -> Result<(), LakeError> {
    if staged.is_empty() {
        return Ok(());
    }
    for (part, (data_files, reject_files)) in staged {
        data.stage(part, data_files);
        rejects.stage(part, reject_files);
    }
    if rejects.staged_rows() > 0 {
        rejects.commit().await?;
    }
    data.commit().await?;
    Ok(())
}

/// `--strict` and a file failed: says which, and that nothing was committed.
fn strict_failure(results: Results) -> ExitCode {
    let mut failed = 0;
    for (name, result) in &results {
        match result {
            FileResult::Failed(e) => {
                failed += 1;
                eprintln!("{name}: not loaded: {e}");
            }
            FileResult::NotRead => eprintln!("{name}: not read"),
            _ => {}
        }
    }
    eprintln!("error: --strict: {failed} file(s) failed; nothing was committed");
    ExitCode::FAILURE
}

/// Prints what happened to each file and in total, and returns the exit code.
fn report(table: BronzeTable, results: &Results) -> ExitCode {
    let (mut loaded, mut rejected, mut failed) = (0u64, 0u64, 0usize);
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    for (name, result) in results {
        match result {
            FileResult::Loaded(r) => {
                loaded += r.loaded;
                rejected += r.rejected;
                for (reason, n) in &r.reasons {
                    *reasons.entry(reason.clone()).or_default() += n;
                }
                print_file(table, name, r);
            }
            FileResult::AlreadyLoaded => {
                println!(
                    "{name}: already loaded (same content); skipped — use --force to load again"
                )
            }
            FileResult::SameContent(first) => {
                println!("{name}: same content as {first}, given earlier in this load; skipped")
            }
            FileResult::Failed(e) => {
                failed += 1;
                eprintln!("{name}: not loaded: {e}");
            }
            FileResult::NotRead => eprintln!("{name}: not read"),
        }
    }
    println!(
        "bronze.{}: {loaded} rows loaded; bronze.{}: {rejected} rows rejected{}; {failed} file(s) failed",
        table.name(),
        table.rejected_table_name(),
        describe_reasons(&reasons)
    );
    if loaded == 0 && (failed > 0 || rejected > 0) {
        eprintln!("error: nothing could be loaded");
        ExitCode::FAILURE
    } else if failed > 0 {
        eprintln!(
            "error: {failed} of {} file(s) failed; the others were loaded (exit code {EXIT_PARTIAL})",
            results.len()
        );
        ExitCode::from(EXIT_PARTIAL)
    } else {
        ExitCode::SUCCESS
    }
}

/// The lines of one loaded file: its counts, the columns it brought that the table does not
/// have, and a warning when it had no records at all.
fn print_file(table: BronzeTable, name: &str, r: &FileReport) {
    println!(
        "{name}: {} rows read, {} loaded, {} rejected{}",
        r.rows_read,
        r.loaded,
        r.rejected,
        describe_reasons(&r.reasons)
    );
    if !r.ignored_columns.is_empty() {
        println!(
            "{name}: ignored columns (not in bronze.{}): {}",
            table.name(),
            r.ignored_columns.join(", ")
        );
    }
    if r.rows_read == 0 {
        let what = match r.format {
            FileFormat::Csv => "a header and no records",
            FileFormat::JsonLines | FileFormat::Parquet => "no records",
        };
        eprintln!("warning: {name}: 0 rows (the file has {what})");
    }
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
