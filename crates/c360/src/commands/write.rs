//! Writing generated data to bronze: chunks made on worker threads, streamed into one atomic
//! commit per table. Shared by `generate` and `simulate`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use arrow::array::RecordBatch;
use c360_gen::TxnStats;
use c360_lake::{LakeError, TableWriter, WriteOutcome};
use indicatif::ProgressBar;
use tokio::runtime::Runtime;

use crate::progress;
use crate::settings::Settings;

/// Makes every transaction chunk with `make` (in parallel, with a progress bar), commits them
/// as one write of `writer`, and returns the commit and the summed chunk statistics.
pub fn write_transactions<F>(
    settings: &Settings,
    runtime: &Runtime,
    mut writer: TableWriter,
    chunks: usize,
    make: F,
) -> Result<(WriteOutcome, TxnStats), LakeError>
where
    F: Fn(
            usize,
            &mut dyn FnMut(RecordBatch) -> Result<(), LakeError>,
        ) -> Result<TxnStats, LakeError>
        + Sync,
{
    let bar = progress::bar(settings.show_progress, chunks as u64, "transactions");
    let chunk_stats = write_chunks(runtime, &mut writer, chunks, settings.threads, &bar, make)?;
    bar.finish_and_clear();
    let outcome = runtime.block_on(writer.commit())?;
    let stats = chunk_stats
        .into_iter()
        .fold(TxnStats::default(), |mut acc, s| {
            acc += s;
            acc
        });
    Ok((outcome, stats))
}

/// Makes chunks `0..chunks` with `make(chunk, sink)` on `threads` OS threads, each chunk into
/// its own Parquet file(s) of `writer`, staged in chunk order so the table's layout never
/// depends on the thread count. Returns each chunk's result in chunk order.
fn write_chunks<S, F>(
    runtime: &Runtime,
    writer: &mut TableWriter,
    chunks: usize,
    threads: usize,
    progress: &ProgressBar,
    make: F,
) -> Result<Vec<S>, LakeError>
where
    S: Send,
    F: Fn(usize, &mut dyn FnMut(RecordBatch) -> Result<(), LakeError>) -> Result<S, LakeError>
        + Sync,
{
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, c360_lake::StagedFiles, S)>> =
        Mutex::new(Vec::with_capacity(chunks));
    let writer_ref: &TableWriter = writer;
    let worker = || -> Result<(), LakeError> {
        loop {
            let chunk = next.fetch_add(1, Ordering::Relaxed);
            if chunk >= chunks {
                return Ok(());
            }
            let mut sink = writer_ref.file_sink()?;
            let stats = make(chunk, &mut |batch| runtime.block_on(sink.write(batch)))?;
            let staged = runtime.block_on(sink.finish())?;
            done.lock()
                .expect("no poisoned lock")
                .push((chunk, staged, stats));
            progress.inc(1);
        }
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.clamp(1, chunks.max(1)))
            .map(|_| scope.spawn(worker))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("generator worker panicked"))
            .collect::<Result<Vec<()>, LakeError>>()
    })?;
    let mut done = done.into_inner().expect("no poisoned lock");
    done.sort_by_key(|(chunk, _, _)| *chunk);
    Ok(done
        .into_iter()
        .map(|(chunk, staged, stats)| {
            writer.stage(chunk, staged);
            stats
        })
        .collect())
}

/// Writes one in-memory batch as a whole commit of `writer`.
pub async fn write_one(writer: &mut TableWriter, batch: RecordBatch) -> Result<(), LakeError> {
    let mut sink = writer.file_sink()?;
    if batch.num_rows() > 0 {
        sink.write(batch).await?;
    }
    let staged = sink.finish().await?;
    writer.stage(0, staged);
    Ok(())
}
