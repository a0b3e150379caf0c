//! Customer attributes, their changes over time (SCD Type 2 material), and the bronze
//! customer batch.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Builder, Decimal128Builder, Int32Builder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use c360_bronze::{BronzeTable, GENERATOR_SOURCE, MONEY_PRECISION, MONEY_SCALE};

use crate::behaviour::{Segment, Truth};
use crate::dirt::{mess, DirtKind};
use crate::generator::{Ctx, DAY_MICROS, SECOND_MICROS};
use crate::reference::{
    employment_weights, EMAIL_DOMAINS, EMPLOYMENT, FIRST_NAMES, LAST_NAMES, STATES,
    STATE_CUMULATIVE,
};
use crate::rng::{stream_key, tag, unit_from_key, Rng};
use crate::CustomerStats;

/// Share of changed customers who change a second time.
const SECOND_CHANGE_RATE: f64 = 0.15;

/// The tracked (SCD Type 2) attributes of a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attrs {
    pub state: u8,
    pub city: u8,
    pub employment: u8,
    pub premium: bool,
    /// Credit limit in dollars (5,000–50,000, steps of 1,000).
    pub credit_limit: u32,
}

/// Everything drawn once per customer (independent of time windows).
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    /// 0-based index; the customer id is `CUST{index + 1:08}`.
    pub index: u32,
    pub truth: Truth,
    pub age: i32,
    first: u16,
    last: u16,
    email_digits: Option<u16>,
    domain: u8,
    /// account_open_date as days since 1970-01-01.
    pub open_day: i32,
    /// Attributes of the initial record.
    pub attrs: Attrs,
    /// updated_at / ingested_at of the initial record (µs since the epoch).
    pub updated_at: i64,
    pub ingested_at: i64,
}

impl Profile {
    pub(crate) fn derive(ctx: &Ctx, index: u32) -> Profile {
        let truth = ctx.truth[index as usize];
        let mut rng = Rng::new(ctx.cfg.seed, tag::ATTRS, u64::from(index), 0);
        let age = match truth.segment {
            Segment::HighValueTravelers => rng.between(28, 70),
            Segment::NewAndGrowing => rng.between(22, 50),
            _ => rng.between(22, 75),
        } as i32;
        let (state, city) = draw_place(&mut rng);
        let employment = rng.pick_cumulative(&cumulative5(employment_weights(age))) as u8;
        let premium = rng.chance(if truth.segment == Segment::HighValueTravelers {
            0.30
        } else {
            0.03
        });
        let thousands = match truth.segment {
            Segment::HighValueTravelers => 15 + (36.0 * rng.unit().sqrt()) as u32,
            Segment::BudgetConscious => 5 + (11.0 * rng.unit().powi(2)) as u32,
            Segment::NewAndGrowing => 5 + rng.below(16) as u32,
            _ => 5 + rng.below(26) as u32,
        };
        let first = rng.below(FIRST_NAMES.len() as u64) as u16;
        let last = rng.below(LAST_NAMES.len() as u64) as u16;
        let email_digits = rng.chance(0.5).then(|| rng.below(1000) as u16);
        let domain = rng.below(EMAIL_DOMAINS.len() as u64) as u8;
        let open_days_before_end = match truth.segment {
            Segment::NewAndGrowing => rng.between(30, 180),
            _ => rng.between(730, 1826),
        };
        let open_day = ctx.end_day - open_days_before_end as i32;
        let updated_at = i64::from(open_day) * DAY_MICROS + rng.between(0, 86_399) * SECOND_MICROS;
        let ingested_at = updated_at + rng.between(60, 86_400) * SECOND_MICROS;
        Profile {
            index,
            truth,
            age,
            first,
            last,
            email_digits,
            domain,
            open_day,
            attrs: Attrs {
                state,
                city,
                employment,
                premium,
                credit_limit: thousands.min(50) * 1000,
            },
            updated_at,
            ingested_at,
        }
    }

    fn email(&self) -> String {
        let mut e = format!(
            "{}.{}",
            FIRST_NAMES[self.first as usize].to_ascii_lowercase(),
            LAST_NAMES[self.last as usize].to_ascii_lowercase()
        );
        e.retain(|c| c.is_ascii_alphanumeric() || c == '.');
        if let Some(d) = self.email_digits {
            e.push_str(&d.to_string());
        }
        e.push('@');
        e.push_str(EMAIL_DOMAINS[self.domain as usize]);
        e
    }
}

fn cumulative5(w: [f64; 5]) -> [f64; 5] {
    let mut out = w;
    for i in 1..5 {
        out[i] += out[i - 1];
    }
    out
}

/// A population-weighted state and one of its cities (bigger cities likelier).
fn draw_place(rng: &mut Rng) -> (u8, u8) {
    let state = rng.pick_cumulative(&STATE_CUMULATIVE);
    let n = STATES[state].cities.len();
    let mut cum = [0.0; 8];
    let mut acc = 0.0;
    for (i, c) in cum.iter_mut().take(n).enumerate() {
        acc += 1.0 / (i as f64 + 1.0);
        *c = acc;
    }
    (state as u8, rng.pick_cumulative(&cum[..n]) as u8)
}

/// A re-sent customer record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Change {
    pub updated_at: i64,
    pub ingested_at: i64,
    pub attrs: Attrs,
}

/// One tracked-attribute change: a card upgrade, a credit limit change, a move or a new
/// employment status. The result always differs from `prev`.
fn change_attrs(rng: &mut Rng, prev: Attrs, age: i32) -> Attrs {
    let mut a = prev;
    let upgrade_weight = if prev.premium { 0.0 } else { 0.25 };
    match rng.pick_cumulative(&[
        upgrade_weight,
        upgrade_weight + 0.35,
        upgrade_weight + 0.55,
        upgrade_weight + 0.75,
    ]) {
        0 => a.premium = true,
        1 => {
            let delta = rng.between(1, 10) * 1000;
            let old = i64::from(prev.credit_limit);
            let up = (old + delta).min(50_000);
            let down = (old - delta).max(5_000);
            let new = if rng.chance(0.6) && up != old || down == old {
                up
            } else {
                down
            };
            a.credit_limit = new as u32;
        }
        2 => loop {
            let (state, city) = draw_place(rng);
            if state != prev.state {
                (a.state, a.city) = (state, city);
                break;
            }
        },
        _ => {
            let mut w = employment_weights(age);
            w[prev.employment as usize] = 0.0;
            if w.iter().all(|&x| x == 0.0) {
                w = [1.0; 5];
                w[prev.employment as usize] = 0.0;
            }
            a.employment = rng.pick_cumulative(&cumulative5(w)) as u8;
        }
    }
    a
}

/// A change record at a uniform second in `[lo, hi)` (µs).
fn change_at(rng: &mut Rng, prev: Attrs, age: i32, lo: i64, hi: i64) -> Change {
    let updated_at =
        lo + rng.below(((hi - lo) / SECOND_MICROS).max(1) as u64) as i64 * SECOND_MICROS;
    let ingested_at = updated_at + rng.between(60, 86_400) * SECOND_MICROS;
    Change {
        updated_at,
        ingested_at,
        attrs: change_attrs(rng, prev, age),
    }
}

/// The changes of the history window (0, 1 or 2), in time order.
pub(crate) fn history_changes(ctx: &Ctx, p: &Profile) -> Vec<Change> {
    let rate = ctx.cfg.dirt.customer_change;
    if rate <= 0.0 {
        return Vec::new();
    }
    let mut rng = Rng::new(ctx.cfg.seed, tag::CHANGE, u64::from(p.index), 0);
    if !rng.chance(rate) {
        return Vec::new();
    }
    let day_start = |d: i32| i64::from(d) * DAY_MICROS;
    let lo = day_start(ctx.start_day.max(p.open_day + 1)).max(p.updated_at + SECOND_MICROS);
    let hi = day_start(ctx.end_day + 1);
    if lo >= hi {
        return Vec::new();
    }
    let first = change_at(&mut rng, p.attrs, p.age, lo, hi);
    let mut out = vec![first];
    if rng.chance(SECOND_CHANGE_RATE) && first.updated_at + SECOND_MICROS < hi {
        out.push(change_at(
            &mut rng,
            first.attrs,
            p.age,
            first.updated_at + SECOND_MICROS,
            hi,
        ));
    }
    out
}

/// Day offsets after the end date (1, 2, …) on which customer `index` changes in
/// simulations: a Bernoulli process with the per-day equivalent of the change rate, drawn
/// as geometric gaps so it does not depend on how the days are split into windows.
pub(crate) fn sim_change_days(ctx: &Ctx, index: u32) -> impl Iterator<Item = i64> {
    let p = ctx.cfg.dirt.customer_change / ctx.history_days as f64;
    let key = stream_key(ctx.cfg.seed, tag::SIM_CHANGE_PICK, u64::from(index), 0);
    let mut state = key;
    let mut day = 0i64;
    std::iter::from_fn(move || {
        if p <= 0.0 {
            return None;
        }
        state = crate::rng::splitmix64(state);
        let u = unit_from_key(state);
        let gap = if p >= 1.0 {
            1.0
        } else {
            ((1.0 - u).ln() / (1.0 - p).ln()).floor() + 1.0
        };
        if !gap.is_finite() || gap > 1e6 {
            return None;
        }
        day += gap as i64;
        Some(day)
    })
}

/// The change of simulated day `end + d`.
pub(crate) fn sim_change(ctx: &Ctx, p: &Profile, prev: Attrs, d: i64) -> Change {
    let mut rng = Rng::new(ctx.cfg.seed, tag::SIM_CHANGE, u64::from(p.index), d as u64);
    let start = (i64::from(ctx.end_day) + d) * DAY_MICROS;
    change_at(&mut rng, prev, p.age, start, start + DAY_MICROS)
}

/// One customer row before rendering.
pub(crate) struct CustomerRow {
    pub index: u32,
    pub attrs: Attrs,
    pub updated_at: i64,
    pub ingested_at: i64,
    /// Random bits choosing the messy fields and styles, if the row is messy.
    pub mess: Option<u64>,
    pub is_change: bool,
}

impl CustomerRow {
    pub(crate) fn new(
        index: u32,
        attrs: Attrs,
        updated_at: i64,
        ingested_at: i64,
        is_change: bool,
    ) -> Self {
        CustomerRow {
            index,
            attrs,
            updated_at,
            ingested_at,
            mess: None,
            is_change,
        }
    }

    /// Makes the row messy with probability `rate`, drawing from `rng`.
    pub(crate) fn maybe_mess(&mut self, rng: &mut Rng, rate: f64) {
        if rate > 0.0 && rng.chance(rate) {
            self.mess = Some(rng.next_u64());
        }
    }
}

/// Sorts rows by (ingested_at, customer_id) and renders them as one bronze batch.
/// `profile` returns the profile of a customer index.
pub(crate) fn render(
    mut rows: Vec<CustomerRow>,
    profile: &dyn Fn(u32) -> Profile,
) -> (RecordBatch, CustomerStats) {
    rows.sort_by_key(|r| (r.ingested_at, r.index, r.updated_at));
    let n = rows.len();
    let mut id = StringBuilder::with_capacity(n, n * 12);
    let mut first = StringBuilder::with_capacity(n, n * 8);
    let mut last = StringBuilder::with_capacity(n, n * 8);
    let mut email = StringBuilder::with_capacity(n, n * 24);
    let mut age = Int32Builder::with_capacity(n);
    let mut state = StringBuilder::with_capacity(n, n * 2);
    let mut city = StringBuilder::with_capacity(n, n * 10);
    let mut employment = StringBuilder::with_capacity(n, n * 9);
    let mut card = StringBuilder::with_capacity(n, n * 8);
    let mut limit = Decimal128Builder::with_capacity(n)
        .with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE)
        .expect("valid decimal type");
    let mut open = Date32Builder::with_capacity(n);
    let mut segment = StringBuilder::with_capacity(n, n * 16);
    let mut decline = StringBuilder::with_capacity(n, n);
    let mut updated = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut ingested = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut source = StringBuilder::with_capacity(n, n * GENERATOR_SOURCE.len());

    let mut stats = CustomerStats {
        rows: n as u64,
        ..CustomerStats::default()
    };
    let mut seen: BTreeMap<u32, Segment> = BTreeMap::new();
    let mut cached: Option<Profile> = None;
    for row in &rows {
        if cached.as_ref().is_none_or(|p| p.index != row.index) {
            cached = Some(profile(row.index));
        }
        let p = cached.as_ref().expect("profile just set");
        seen.insert(row.index, p.truth.segment);
        let mut values = [
            FIRST_NAMES[p.first as usize].to_string(),
            LAST_NAMES[p.last as usize].to_string(),
            p.email(),
            STATES[row.attrs.state as usize].code.to_string(),
        ];
        if let Some(bits) = row.mess {
            stats.dirt.add(DirtKind::MessyCustomer, 1);
            let f1 = (bits % 4) as usize;
            values[f1] = mess(&values[f1], bits >> 2);
            if (bits >> 8) % 10 < 3 {
                let f2 = (f1 + 1 + ((bits >> 12) % 3) as usize) % 4;
                values[f2] = mess(&values[f2], bits >> 16);
            }
        }
        if row.is_change {
            stats.dirt.add(DirtKind::CustomerChange, 1);
        }
        id.append_value(format!("CUST{:08}", u64::from(row.index) + 1));
        first.append_value(&values[0]);
        last.append_value(&values[1]);
        email.append_value(&values[2]);
        age.append_value(p.age);
        state.append_value(&values[3]);
        city.append_value(STATES[row.attrs.state as usize].cities[row.attrs.city as usize]);
        employment.append_value(EMPLOYMENT[row.attrs.employment as usize]);
        card.append_value(if row.attrs.premium {
            "Premium"
        } else {
            "Standard"
        });
        limit.append_value(i128::from(row.attrs.credit_limit) * 100);
        open.append_value(p.open_day);
        segment.append_value(p.truth.segment.name());
        decline.append_option(p.truth.decline.map(|d| d.name()));
        updated.append_value(row.updated_at);
        ingested.append_value(row.ingested_at);
        source.append_value(GENERATOR_SOURCE);
    }
    stats.customers = seen.len() as u64;
    for s in Segment::ALL {
        stats.segment_counts.insert(s.name().to_string(), 0);
    }
    for s in seen.values() {
        *stats
            .segment_counts
            .entry(s.name().to_string())
            .or_default() += 1;
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(first.finish()),
        Arc::new(last.finish()),
        Arc::new(email.finish()),
        Arc::new(age.finish()),
        Arc::new(state.finish()),
        Arc::new(city.finish()),
        Arc::new(employment.finish()),
        Arc::new(card.finish()),
        Arc::new(limit.finish()),
        Arc::new(open.finish()),
        Arc::new(segment.finish()),
        Arc::new(decline.finish()),
        Arc::new(updated.finish()),
        Arc::new(ingested.finish()),
        Arc::new(source.finish()),
    ];
    let batch = RecordBatch::try_new(BronzeTable::Customers.schema(), columns)
        .expect("customer columns match the bronze schema");
    (batch, stats)
}
