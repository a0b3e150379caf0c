//! [`Generator`] (the history) and [`Simulation`] (days after it), and their stats.

use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::sync::Arc;

use arrow::array::RecordBatch;
use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::behaviour::{assign_truth, Truth};
use crate::customers::{
    history_changes, render, sim_change, sim_change_days, CustomerRow, Profile,
};
use crate::dirt::{DirtCounts, DirtKind};
use crate::rng::{tag, Rng};
use crate::transactions::{customer_transactions, TxnWriter, Window, MAX_SIM_DAYS};
use crate::{GenConfig, GenError, Result};

pub(crate) const SECOND_MICROS: i64 = 1_000_000;
pub(crate) const DAY_MICROS: i64 = 86_400 * SECOND_MICROS;

/// Days since 1970-01-01.
pub(crate) fn epoch_day(d: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    (d - epoch).num_days() as i32
}

/// Shared, immutable state of a generator.
pub(crate) struct Ctx {
    pub cfg: GenConfig,
    pub truth: Vec<Truth>,
    pub start_date: NaiveDate,
    pub start_day: i32,
    pub end_day: i32,
    pub history_days: i64,
    /// `true` if any transaction-row dirt kind has a positive rate.
    pub dirty_transactions: bool,
    /// Cumulative rates of [`DirtKind::TRANSACTION_ROW`].
    thresholds: [f64; 8],
}

impl Ctx {
    /// The dirt kind (if any) of a transaction row whose dirt draw is `u ∈ [0, 1)`.
    #[inline]
    pub(crate) fn transaction_dirt(&self, u: f64) -> Option<DirtKind> {
        self.thresholds
            .iter()
            .position(|&t| u < t)
            .map(|i| DirtKind::TRANSACTION_ROW[i])
    }
}

/// Rows and customers of a customer batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerStats {
    /// Rows in the batch.
    pub rows: u64,
    /// Distinct customers in the batch.
    pub customers: u64,
    /// Distinct customers per true segment (every segment present, possibly 0).
    pub segment_counts: BTreeMap<String, u64>,
    /// Injected dirt (`messy_customer`, `customer_change`).
    pub dirt: DirtCounts,
}

/// Rows of one or more transaction chunks. Sum chunks with `+=`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnStats {
    /// Rows emitted, duplicates included.
    pub rows: u64,
    /// Injected dirt, per kind.
    pub dirt: DirtCounts,
}

impl TxnStats {
    /// Adds another chunk's stats.
    pub fn merge(&mut self, other: &TxnStats) {
        self.rows += other.rows;
        self.dirt.merge(&other.dirt);
    }
}

impl AddAssign for TxnStats {
    fn add_assign(&mut self, rhs: TxnStats) {
        self.merge(&rhs);
    }
}

/// The synthetic data generator: deterministic bronze customers and transactions.
///
/// Cheap to clone (the state is shared) and `Send + Sync`: transaction chunks can be
/// generated on any threads, in any order, with identical results.
#[derive(Clone)]
pub struct Generator {
    ctx: Arc<Ctx>,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("config", &self.ctx.cfg)
            .finish_non_exhaustive()
    }
}

impl Generator {
    /// Validates `cfg` and prepares the segment assignment.
    pub fn new(cfg: GenConfig) -> Result<Generator> {
        cfg.validate()?;
        let start_date = cfg
            .end_date
            .checked_sub_months(Months::new(cfg.months))
            .and_then(|d| d.checked_add_days(Days::new(1)))
            .ok_or_else(|| GenError::InvalidConfig {
                field: "end_date",
                reason: "out of range".into(),
            })?;
        let mut thresholds = [0.0; 8];
        let mut acc = 0.0;
        for (t, kind) in thresholds.iter_mut().zip(DirtKind::TRANSACTION_ROW) {
            acc += cfg.dirt.get(kind);
            *t = acc;
        }
        let ctx = Ctx {
            truth: assign_truth(cfg.customers, cfg.seed),
            start_date,
            start_day: epoch_day(start_date),
            end_day: epoch_day(cfg.end_date),
            history_days: i64::from(epoch_day(cfg.end_date) - epoch_day(start_date)) + 1,
            dirty_transactions: acc > 0.0,
            thresholds,
            cfg,
        };
        Ok(Generator { ctx: Arc::new(ctx) })
    }

    /// The configuration.
    pub fn config(&self) -> &GenConfig {
        &self.ctx.cfg
    }

    /// First day of the history: `end_date − months + 1 day`.
    pub fn start_date(&self) -> NaiveDate {
        self.ctx.start_date
    }

    /// All bronze customer rows of the history: one initial record per customer plus the
    /// re-sent changed records, sorted by (ingested_at, customer_id).
    pub fn customers(&self) -> (RecordBatch, CustomerStats) {
        let ctx = &*self.ctx;
        let messy = ctx.cfg.dirt.messy_customer;
        let mut rows = Vec::with_capacity(ctx.cfg.customers as usize * 102 / 100);
        for index in 0..ctx.cfg.customers {
            let p = Profile::derive(ctx, index);
            let mut dirt_rng = Rng::new(ctx.cfg.seed, tag::CUST_DIRT, u64::from(index), 0);
            let mut row = CustomerRow::new(index, p.attrs, p.updated_at, p.ingested_at, false);
            row.maybe_mess(&mut dirt_rng, messy);
            rows.push(row);
            for c in history_changes(ctx, &p) {
                let mut row = CustomerRow::new(index, c.attrs, c.updated_at, c.ingested_at, true);
                row.maybe_mess(&mut dirt_rng, messy);
                rows.push(row);
            }
        }
        render(rows, &|i| Profile::derive(ctx, i))
    }

    /// Number of transaction chunks: `ceil(customers / chunk_customers)`.
    pub fn num_chunks(&self) -> usize {
        num_chunks(&self.ctx)
    }

    /// All transactions of the customers of chunk `chunk` over the history, sent to `sink`
    /// in batches of at most `batch_rows` rows (a duplicate copy follows its original in the
    /// same batch). Depends only on the config and `chunk`. A chunk past the last one has
    /// no rows.
    pub fn transaction_chunk<E>(
        &self,
        chunk: usize,
        sink: &mut dyn FnMut(RecordBatch) -> std::result::Result<(), E>,
    ) -> std::result::Result<TxnStats, E> {
        let window = Window {
            first: -(self.ctx.history_days - 1),
            last: 0,
            simulated: false,
        };
        chunk_transactions(&self.ctx, chunk, window, sink)
    }

    /// The `days` days after `end_date` (`end_date + 1 ..= end_date + days`).
    ///
    /// # Panics
    /// If `days` exceeds [`MAX_SIM_DAYS`] (the transaction id scheme's limit); use
    /// [`Generator::try_simulate_after`] for a checked version.
    pub fn simulate(&self, days: u32) -> Simulation {
        self.try_simulate_after(self.ctx.cfg.end_date, days)
            .expect("simulated days within MAX_SIM_DAYS")
    }

    /// The `days` days after `after` (which must be on or after `end_date`): for successive
    /// incremental windows, keep the config of the original history and pass the end of the
    /// previous window. Behaviour curves, change days and id sequences are anchored to
    /// `end_date`, so consecutive windows never collide; a window's random streams are
    /// keyed by its first day, so `3 + 3` days is not byte-identical to `6` days, but each
    /// call is reproducible.
    pub fn try_simulate_after(&self, after: NaiveDate, days: u32) -> Result<Simulation> {
        let offset = (after - self.ctx.cfg.end_date).num_days();
        if offset < 0 {
            return Err(GenError::InvalidSimulation(format!(
                "the window must start after the history's end date {}, not after {after}",
                self.ctx.cfg.end_date
            )));
        }
        if offset + i64::from(days) > i64::from(MAX_SIM_DAYS) {
            return Err(GenError::InvalidSimulation(format!(
                "simulated days may reach at most {MAX_SIM_DAYS} days after {}",
                self.ctx.cfg.end_date
            )));
        }
        Ok(Simulation {
            ctx: self.ctx.clone(),
            first: offset + 1,
            last: offset + i64::from(days),
        })
    }
}

fn num_chunks(ctx: &Ctx) -> usize {
    (ctx.cfg.customers as usize).div_ceil(ctx.cfg.chunk_customers as usize)
}

fn chunk_transactions<E>(
    ctx: &Ctx,
    chunk: usize,
    window: Window,
    sink: &mut dyn FnMut(RecordBatch) -> std::result::Result<(), E>,
) -> std::result::Result<TxnStats, E> {
    let mut stats = TxnStats::default();
    let per = ctx.cfg.chunk_customers as usize;
    let first = chunk.saturating_mul(per).min(ctx.cfg.customers as usize);
    let last = (first + per).min(ctx.cfg.customers as usize);
    if first >= last || window.first > window.last {
        return Ok(stats);
    }
    let mut writer = TxnWriter::new(ctx.cfg.batch_rows, sink);
    for index in first..last {
        customer_transactions(ctx, index as u32, window, &mut writer, &mut stats)?;
    }
    writer.flush()?;
    Ok(stats)
}

/// Days after the history's end: same customers, behaviour curves continued, customer
/// changes at the per-day equivalent of the change rate, same dirt rates.
#[derive(Clone)]
pub struct Simulation {
    ctx: Arc<Ctx>,
    /// First and last simulated day, as days after `end_date` (`first ≥ 1`).
    first: i64,
    last: i64,
}

impl std::fmt::Debug for Simulation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("first_date", &self.first_date())
            .field("new_end_date", &self.new_end_date())
            .finish()
    }
}

impl Simulation {
    /// First simulated day.
    pub fn first_date(&self) -> NaiveDate {
        self.ctx.cfg.end_date + Days::new(self.first as u64)
    }

    /// Last simulated day: the end date after this simulation is appended.
    pub fn new_end_date(&self) -> NaiveDate {
        self.ctx.cfg.end_date + Days::new(self.last.max(self.first - 1) as u64)
    }

    /// The customer records changed on the simulated days (possibly none), sorted by
    /// (ingested_at, customer_id).
    pub fn customers(&self) -> (RecordBatch, CustomerStats) {
        let ctx = &*self.ctx;
        let messy = ctx.cfg.dirt.messy_customer;
        let mut rows = Vec::new();
        for index in 0..ctx.cfg.customers {
            let days: Vec<i64> = sim_change_days(ctx, index)
                .take_while(|&d| d <= self.last)
                .collect();
            if !days.iter().any(|&d| d >= self.first) {
                continue;
            }
            let p = Profile::derive(ctx, index);
            let mut attrs = history_changes(ctx, &p).last().map_or(p.attrs, |c| c.attrs);
            for d in days {
                let c = sim_change(ctx, &p, attrs, d);
                attrs = c.attrs;
                if d >= self.first {
                    let mut row =
                        CustomerRow::new(index, c.attrs, c.updated_at, c.ingested_at, true);
                    let mut dirt_rng =
                        Rng::new(ctx.cfg.seed, tag::SIM_CUST_DIRT, u64::from(index), d as u64);
                    row.maybe_mess(&mut dirt_rng, messy);
                    rows.push(row);
                }
            }
        }
        render(rows, &|i| Profile::derive(ctx, i))
    }

    /// Number of transaction chunks (as for the history).
    pub fn num_chunks(&self) -> usize {
        num_chunks(&self.ctx)
    }

    /// The simulated transactions of chunk `chunk`; same contract as
    /// [`Generator::transaction_chunk`].
    pub fn transaction_chunk<E>(
        &self,
        chunk: usize,
        sink: &mut dyn FnMut(RecordBatch) -> std::result::Result<(), E>,
    ) -> std::result::Result<TxnStats, E> {
        let window = Window {
            first: self.first,
            last: self.last,
            simulated: true,
        };
        chunk_transactions(&self.ctx, chunk, window, sink)
    }
}
