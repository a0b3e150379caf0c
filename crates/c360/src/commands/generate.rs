//! `c360 generate`: the synthetic bronze layer of SPEC §2, replacing any bronze data.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use c360_bronze::BronzeTable;
use c360_gen::{CustomerStats, DirtRates, GenConfig, Generator, TxnStats};
use c360_lake::{Layer, WriteMode, WriteOutcome};
use tokio::runtime::Runtime;

use super::write::{write_one, write_transactions};
use crate::cli::GenerateArgs;
use crate::settings::Settings;

/// Commit-metadata key holding the generator's configuration and the end of the generated
/// history, read back by `c360 simulate`.
pub const GENERATOR_STATE_KEY: &str = "c360.generator";

/// What `generate` or `simulate` stores with its transactions commit.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct GeneratorState {
    /// The configuration of the original `generate`.
    pub config: GenConfig,
    /// The last day of history now in bronze (moves forward with each `simulate`).
    pub history_end: chrono::NaiveDate,
}

pub fn run(settings: &Settings, runtime: &Runtime, args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let GenerateArgs {
        customers,
        seed,
        end_date,
        months,
        clean,
        dirt_rates,
    } = args;
    let mut dirt = if clean {
        DirtRates::clean()
    } else {
        DirtRates::default()
    };
    for spec in &dirt_rates {
        let (kind, rate) = spec
            .split_once('=')
            .with_context(|| format!("--dirt-rate '{spec}': expected KIND=RATE"))?;
        let rate: f64 = rate
            .trim()
            .parse()
            .with_context(|| format!("--dirt-rate '{spec}': '{rate}' is not a number"))?;
        dirt.set(kind.trim(), rate)?;
    }
    let config = GenConfig {
        customers,
        seed,
        end_date,
        months,
        dirt,
        ..GenConfig::default()
    };
    let generator = Generator::new(config.clone())?;
    let lake = settings.lake()?;
    let started = Instant::now();
    let state = GeneratorState {
        config,
        history_end: end_date,
    };
    let state_json = serde_json::to_value(&state)?;

    let (customer_batch, customer_stats) = generator.customers();
    let customers_outcome = runtime.block_on(async {
        let mut writer = lake
            .writer(
                Layer::Bronze,
                BronzeTable::Customers.name(),
                BronzeTable::Customers.schema(),
            )
            .mode(WriteMode::Overwrite)
            .commit_metadata(GENERATOR_STATE_KEY, state_json.clone())
            .begin()
            .await?;
        write_one(&mut writer, customer_batch).await?;
        writer.commit().await
    })?;

    let writer = runtime.block_on(
        lake.writer(
            Layer::Bronze,
            BronzeTable::Transactions.name(),
            BronzeTable::Transactions.schema(),
        )
        .mode(WriteMode::Overwrite)
        .commit_metadata(GENERATOR_STATE_KEY, state_json)
        .begin(),
    )?;
    let (txn_outcome, txn_stats) = write_transactions(
        settings,
        runtime,
        writer,
        generator.num_chunks(),
        |chunk, sink| generator.transaction_chunk(chunk, sink),
    )?;

    if settings.show_progress {
        print_summary(
            &format!(
                "Generated bronze in {:.1} s (seed {seed}, {customers} customers, {} .. {end_date}, lake {})",
                started.elapsed().as_secs_f64(),
                generator.start_date(),
                settings.lake.display()
            ),
            Some(&customers_outcome),
            &customer_stats,
            &txn_outcome,
            &txn_stats,
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints rows per table, true segment counts and injected-dirt counts.
pub fn print_summary(
    headline: &str,
    customers: Option<&WriteOutcome>,
    customer_stats: &CustomerStats,
    transactions: &WriteOutcome,
    txn_stats: &TxnStats,
) {
    println!("{headline}");
    match customers {
        Some(c) => println!(
            "  bronze.customers     {:>12} rows  (version {})",
            c.rows_written, c.version
        ),
        None => println!("  bronze.customers     already written by an earlier, interrupted run"),
    }
    println!(
        "  bronze.transactions  {:>12} rows  (version {})",
        transactions.rows_written, transactions.version
    );
    if customer_stats.segment_counts.values().any(|n| *n > 0) {
        println!("True segments (hidden truth, never a model input):");
        for (segment, count) in &customer_stats.segment_counts {
            println!("  {segment:<22} {count:>10}");
        }
    }
    println!("Injected dirt (rows):");
    let mut dirt = customer_stats.dirt;
    dirt.merge(&txn_stats.dirt);
    for (kind, count) in dirt.iter() {
        println!("  {:<22} {count:>10}", kind.name());
    }
}
