//! The synthetic data generator of c360 (SPEC §2): deterministic bronze customers and
//! transactions of a card issuer, with hidden true segments and injected dirt.
//!
//! **What it is for**: producing `bronze/customers` and `bronze/transactions` rows, as Arrow
//! [`RecordBatch`]es with exactly the schemas of [`c360_bronze::BronzeTable`], for the
//! history window (`c360 generate`) and for days after it (`c360 simulate`). The same
//! [`GenConfig`] always gives the same bytes: every random draw comes from a ChaCha8 stream
//! keyed by (seed, purpose, customer index[, window]), never the wall clock or thread order.
//!
//! **What it is not for**: writing files or Delta tables (that is `c360-lake`), or cleaning
//! the data it dirties (that is silver's job). The true segment and decline type it writes
//! are for evaluation only.
//!
//! Main types:
//! - [`GenConfig`] and [`DirtRates`]: scale, seed, end date, months, dirt rates, batching.
//! - [`Generator`]: [`Generator::customers`] returns the customer batch;
//!   [`Generator::transaction_chunk`] streams the transactions of one chunk of customers
//!   (chunks are independent, so callers generate them in parallel).
//! - [`Simulation`] from [`Generator::simulate`]: the same for days after the end date.
//! - [`CustomerStats`], [`TxnStats`], [`DirtCounts`]: row counts and exact dirt counts.
//!
//! The behaviour model (segment spend levels, category mixes, decline and growth curves,
//! quiet churn) lives in `behaviour.rs`; reference data (states and real cities, names,
//! 1,000 merchants in 10 categories) in `reference.rs`. With the default config it gives
//! about 13.5M transaction rows (≈ 270 per customer), and SPEC §4.4's segment rules recover
//! the true segment of ≈ 95% of customers (asserted ≥ 90% by `tests/gen/calibration.rs`).
//!
//! Ids: customers are `CUST` + 8 digits (1-based index); transactions are `TXN` + 13 digits
//! = customer number × 100,000 + sequence, where the history uses sequences 1, 2, … in time
//! order (< 50,000) and simulated day `end_date + d` uses `50,000 + 20·d + j`, so the history
//! and any number of consecutive simulated windows (up to [`MAX_SIM_DAYS`] after
//! `end_date`) never collide. For successive `simulate` runs keep the *original* config
//! and call [`Generator::try_simulate_after`] with the previous window's end.
//!
//! Throughput: `cargo run --release -p c360-gen --example throughput` (about 5M rows/s per
//! core, without writing).
//!
//! ```
//! use c360_gen::{GenConfig, Generator};
//!
//! let generator = Generator::new(GenConfig { customers: 20, ..GenConfig::default() })?;
//! let (customers, stats) = generator.customers();
//! assert_eq!(stats.customers, 20);
//! assert!(customers.num_rows() >= 20); // plus any re-sent changed records
//!
//! let mut rows = 0;
//! let mut total = c360_gen::TxnStats::default();
//! for chunk in 0..generator.num_chunks() {
//!     total += generator.transaction_chunk(chunk, &mut |batch| {
//!         rows += batch.num_rows();
//!         Ok::<(), std::convert::Infallible>(())
//!     })?;
//! }
//! assert_eq!(total.rows, rows as u64);
//! assert!(rows > 20 * 100); // about 270 transactions per customer over 18 months
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod behaviour;
mod config;
mod customers;
mod dirt;
mod generator;
mod reference;
mod rng;
mod transactions;

pub use arrow::array::RecordBatch;
pub use behaviour::{DeclineType, Segment};
pub use config::{DirtRates, GenConfig, MAX_CUSTOMERS, MAX_MONTHS};
pub use dirt::{DirtCounts, DirtKind};
pub use generator::{CustomerStats, Generator, Simulation, TxnStats};
pub use reference::{merchants, CATEGORIES, CHANNELS};
pub use transactions::MAX_SIM_DAYS;

/// Errors of the generator: all are configuration errors of the caller.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// A config field has an unusable value.
    #[error("invalid generator config: `{field}` {reason}")]
    InvalidConfig {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A dirt kind name that does not exist.
    #[error("unknown dirt kind `{kind}`; valid kinds: {valid}")]
    UnknownDirtKind {
        /// The name given.
        kind: String,
        /// The valid names, comma-separated.
        valid: String,
    },
    /// A dirt rate outside `[0, 1]`.
    #[error("dirt rate for `{kind}` must be between 0 and 1, got {rate}")]
    InvalidDirtRate {
        /// The kind.
        kind: &'static str,
        /// The rate given.
        rate: f64,
    },
    /// A simulation window that cannot be generated.
    #[error("invalid simulation window: {0}")]
    InvalidSimulation(String),
}

/// Result of the generator's fallible operations.
pub type Result<T, E = GenError> = std::result::Result<T, E>;
