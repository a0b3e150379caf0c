//! `c360 simulate --days N`: appends the next N days of the generated history to bronze.
//!
//! The generator's configuration and the end of the history so far are stored with every
//! generated transactions commit; simulate continues from there with the same generator. Each
//! window carries an idempotency key, so re-running after a crash between the customers and
//! the transactions commits writes each table's rows exactly once. The key's application id
//! names the commit that stored the state simulate continued from, so a history that
//! `c360 generate` wrote again is simulated afresh, not refused as already simulated.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use c360_bronze::BronzeTable;
use c360_gen::{Generator, TxnStats};
use c360_lake::{Layer, WriteMode};
use tokio::runtime::Runtime;

use super::generate::{print_summary, GeneratorState, GENERATOR_STATE_KEY};
use super::write::{write_one, write_transactions};
use crate::cli::SimulateArgs;
use crate::settings::Settings;

const SIMULATE_APP_ID: &str = "c360.simulate";

pub fn run(settings: &Settings, runtime: &Runtime, args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let SimulateArgs { days } = args;
    anyhow::ensure!(days >= 1, "--days must be at least 1");
    let lake = settings.lake()?;
    let started = Instant::now();
    let (state_version, state) = runtime
        .block_on(lake.latest_commit_metadata(
            Layer::Bronze,
            BronzeTable::Transactions.name(),
            GENERATOR_STATE_KEY,
        ))?
        .with_context(|| {
            format!(
                "no generated history in {}: simulate continues what `c360 generate` made",
                settings.lake.display()
            )
        })?;
    let state: GeneratorState = serde_json::from_value(state)
        .context("reading the generator state stored in bronze.transactions")?;
    let generator = Generator::new(state.config.clone())?;
    let simulation = generator.try_simulate_after(state.history_end, days)?;
    let new_end = simulation.new_end_date();
    // One application id per stored state: a window is written once per state it continues.
    let app_id = format!("{SIMULATE_APP_ID}.{state_version}");
    // Txn versions must grow: the window's last day, as days since 0001-01-01.
    let window_version = i64::from(chrono::Datelike::num_days_from_ce(&new_end));
    let new_state = serde_json::to_value(GeneratorState {
        config: state.config,
        history_end: new_end,
    })?;

    let (customer_batch, customer_stats) = simulation.customers();
    let customers_outcome = runtime.block_on(async {
        let mut writer = lake
            .writer(
                Layer::Bronze,
                BronzeTable::Customers.name(),
                BronzeTable::Customers.schema(),
            )
            .mode(WriteMode::Append)
            .idempotency_key(&app_id, window_version)
            .begin()
            .await?;
        if writer.is_applied(&app_id) {
            return Ok(None);
        }
        write_one(&mut writer, customer_batch).await?;
        writer.commit().await.map(Some)
    })?;

    let writer = runtime.block_on(
        lake.writer(
            Layer::Bronze,
            BronzeTable::Transactions.name(),
            BronzeTable::Transactions.schema(),
        )
        .mode(WriteMode::Append)
        .idempotency_key(&app_id, window_version)
        .commit_metadata(GENERATOR_STATE_KEY, new_state)
        .begin(),
    )?;
    anyhow::ensure!(
        !writer.is_applied(&app_id),
        "the days through {new_end} were already simulated"
    );
    // A window is small (~24,000 rows a day at the seed's scale): its chunks go, in order, into
    // one file instead of one file each, so bronze does not gain dozens of tiny files a day
    // that every later scan of it must open.
    let chunks = simulation.num_chunks();
    let (txn_outcome, txn_stats) = write_transactions(settings, runtime, writer, 1, |_, sink| {
        let mut stats = TxnStats::default();
        for chunk in 0..chunks {
            stats += simulation.transaction_chunk(chunk, &mut *sink)?;
        }
        Ok(stats)
    })?;

    if settings.show_progress {
        print_summary(
            &format!(
                "Simulated {days} day(s) through {new_end} in {:.1} s",
                started.elapsed().as_secs_f64()
            ),
            customers_outcome.as_ref(),
            &customer_stats,
            &txn_outcome,
            &txn_stats,
        );
    }
    Ok(ExitCode::SUCCESS)
}
