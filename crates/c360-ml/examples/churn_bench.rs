//! The churn model end to end on generator data, timed:
//! `cargo run --release -p c360-ml --example churn_bench -- [customers] [--dump FILE.csv]`.
//!
//! Generates clean bronze data with `c360-gen` (default 10,000 customers, seed 42, 18 months
//! to 2025-11-14), turns it into stand-ins of the gold tables with a few lines of SQL (the
//! real ones come from the project's models), then times the training data query, training,
//! and scoring, and prints the holdout metrics. `--dump` writes the training set with its
//! holdout flag as CSV, the input of the classifier comparison in `bench/compare`
//! (see `docs/ml.md`).

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use c360_gen::{DirtRates, GenConfig, Generator};
use c360_lake::datafusion::catalog::MemorySchemaProvider;
use c360_lake::datafusion::datasource::MemTable;
use c360_lake::datafusion::prelude::SessionContext;
use c360_ml::{score, stratified_split, train, training_data, Tables, TrainConfig, TrainingSet};

const FCT: &str =
    "SELECT transaction_id AS transaction_key, customer_id, customer_id AS customer_key,
    CAST(transaction_date AS DATE) AS transaction_date, transaction_date AS transaction_ts,
    merchant_category AS merchant_category_key, channel, status, transaction_amount
  FROM bronze_transactions";

const DIM: &str = "SELECT customer_id, customer_id || '-' || CAST(rn AS VARCHAR) AS customer_key,
    CASE WHEN rn = 1 THEN account_open_date ELSE CAST(updated_at AS DATE) END AS valid_from,
    card_type, credit_limit, employment_status, age, account_open_date
  FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY updated_at) AS rn
        FROM bronze_customers)";

const CATEGORIES: &str = "SELECT * FROM (VALUES
    ('Airlines', true, false), ('Hotels', true, false), ('Travel', true, false),
    ('Dining', false, false), ('Entertainment', false, false), ('Retail', false, false),
    ('Grocery', false, true), ('Gas', false, true), ('Utilities', false, true),
    ('Healthcare', false, true)) AS t(category_key, is_travel, is_necessity)";

fn mem(batches: Vec<RecordBatch>) -> Arc<MemTable> {
    let schema = batches[0].schema();
    Arc::new(MemTable::try_new(schema, vec![batches]).expect("same schema"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut customers: u32 = 10_000;
    let mut dump = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dump" => dump = args.next(),
            n => customers = n.parse()?,
        }
    }
    let config = GenConfig {
        customers,
        dirt: DirtRates::clean(),
        ..GenConfig::default()
    };
    let as_of = config.end_date;
    let generator = Generator::new(config)?;
    let started = Instant::now();
    let (customer_batch, _) = generator.customers();
    let mut txns = Vec::new();
    for chunk in 0..generator.num_chunks() {
        generator.transaction_chunk(chunk, &mut |b| {
            txns.push(b);
            Ok::<(), std::convert::Infallible>(())
        })?;
    }
    let rows: usize = txns.iter().map(|b| b.num_rows()).sum();
    println!(
        "generated {customers} customers, {rows} transactions in {:.2?}",
        started.elapsed()
    );

    let ctx = SessionContext::new();
    ctx.register_table("bronze_customers", mem(vec![customer_batch]))?;
    ctx.register_table("bronze_transactions", mem(txns))?;
    ctx.catalog("datafusion")
        .expect("default catalog")
        .register_schema("gold", Arc::new(MemorySchemaProvider::new()))?;
    for (name, sql) in [
        ("gold.fct_transactions", FCT),
        ("gold.dim_customer", DIM),
        ("gold.dim_merchant_category", CATEGORIES),
    ] {
        let batches = ctx.sql(sql).await?.collect().await?;
        ctx.register_table(name, mem(batches))?;
    }
    ctx.deregister_table("bronze_transactions")?;
    let tables = Tables::default();

    let started = Instant::now();
    let batches = training_data(&ctx, &tables, as_of).await?;
    let set = TrainingSet::from_batches(&batches)?;
    println!(
        "training data: {} eligible customers, churn rate {:.1}%, {} features in {:.2?}",
        set.len(),
        set.churn_rate_pct().unwrap_or(0.0),
        set.features.len(),
        started.elapsed()
    );

    let config = TrainConfig {
        data_version: format!("c360-gen seed 42, {customers} customers"),
        ..TrainConfig::default()
    };
    let started = Instant::now();
    let model = train(&set, as_of, &config)?;
    let m = &model.metrics;
    println!("trained in {:.2?}", started.elapsed());
    println!(
        "holdout: AUC {:.4}  PR-AUC {:.4}  Brier {:.4}  F1 {:.3} (P {:.3}, R {:.3} at {:.3})  promoted {}",
        m.auc_roc,
        m.pr_auc,
        m.brier,
        m.best_f1.f1,
        m.best_f1.precision,
        m.best_f1.recall,
        m.best_f1.threshold,
        model.promoted
    );
    println!(
        "rows: train {} ({} churned), test {} ({} churned)",
        m.train_rows, m.train_positives, m.test_rows, m.test_positives
    );
    for f in m.feature_importance.iter().take(8) {
        println!("  {:<26} {:5.1}%", f.feature, f.gain_pct);
    }
    let json = model.to_json()?;
    println!("model file: {} KiB", json.len() / 1024);

    let started = Instant::now();
    let scored = score(&ctx, &tables, &model, as_of).await?;
    let high = scored
        .iter()
        .filter(|p| p.category == c360_ml::RiskCategory::High)
        .count();
    println!(
        "scored {} customers ({} High) in {:.2?}",
        scored.len(),
        high,
        started.elapsed()
    );

    if let Some(path) = dump {
        let (_, test) = stratified_split(&set.y, config.test_fraction, config.split_seed);
        let mut is_test = vec![false; set.len()];
        for i in test {
            is_test[i] = true;
        }
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
        writeln!(out, "{},churned,is_test", set.features.join(","))?;
        for i in 0..set.len() {
            let row: Vec<String> = set
                .x
                .row(i)
                .iter()
                .map(|v| {
                    if v.is_nan() {
                        String::new()
                    } else {
                        v.to_string()
                    }
                })
                .collect();
            writeln!(
                out,
                "{},{},{}",
                row.join(","),
                set.y[i] as u8,
                is_test[i] as u8
            )?;
        }
        println!("wrote {path}");
    }
    Ok(())
}
