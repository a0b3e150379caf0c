//! The daily transaction process of one customer over a window of days, and the batch
//! writer that turns rows into bronze `RecordBatch`es without per-row allocations.
//!
//! Transaction ids are `TXN` + 13 digits = `customer number × 100,000 + sequence`:
//! the history uses sequences `1, 2, …` in time order (always below 50,000), a simulated day
//! `end_date + d` uses `50,000 + 20·d + j` for its `j`-th transaction (`d ≤ 2,499`, `j < 20`),
//! so ids never collide between the history and any simulated days.

use std::sync::{Arc, LazyLock};

use arrow::array::{
    ArrayRef, Decimal128Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use c360_bronze::{BronzeTable, GENERATOR_SOURCE, MONEY_PRECISION, MONEY_SCALE};

use crate::behaviour::Behaviour;
use crate::customers::Profile;
use crate::dirt::{
    DirtKind, BAD_CHANNELS, BAD_STATUSES, BLANK_CATEGORIES, MESSY_CHANNELS, MESSY_STATUSES,
};
use crate::generator::{Ctx, DAY_MICROS, SECOND_MICROS};
use crate::reference::{
    BASE_AMOUNT, CATEGORIES, CHANNELS, CHANNEL_SHARES, HOUR_WEIGHTS, MERCHANTS_PER_CATEGORY,
    MERCHANT_NAMES,
};
use crate::rng::{tag, Rng};
use crate::TxnStats;

/// First sequence number of simulated transactions.
pub(crate) const SIM_SEQ_BASE: u64 = 50_000;
/// Sequence numbers reserved per simulated day.
pub(crate) const SIM_SEQ_PER_DAY: u64 = 20;
/// Largest simulated day offset the id scheme supports.
pub const MAX_SIM_DAYS: u32 = 2_499;
const TXN_ID_FACTOR: u64 = 100_000;
/// Favourite merchants take this share of a category's transactions.
const FAVOURITE_SHARE: f64 = 0.6;

static HOUR_CUMULATIVE: LazyLock<Vec<f64>> =
    LazyLock::new(|| crate::rng::cumulative(&HOUR_WEIGHTS));
static CHANNEL_CUMULATIVE: LazyLock<Vec<[f64; 3]>> = LazyLock::new(|| {
    CHANNEL_SHARES
        .iter()
        .map(|s| [s[0], s[0] + s[1], s[0] + s[1] + s[2]])
        .collect()
});

/// Days a transaction process runs over, as offsets from the end date.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    /// First and last day, as days after the end date (history: negative or 0).
    pub first: i64,
    pub last: i64,
    /// `true` for simulated days (after the end date).
    pub simulated: bool,
}

/// The column builders of one batch.
struct Columns {
    id: StringBuilder,
    customer: StringBuilder,
    date: TimestampMicrosecondBuilder,
    amount: Decimal128Builder,
    merchant: StringBuilder,
    category: StringBuilder,
    channel: StringBuilder,
    status: StringBuilder,
    ingested: TimestampMicrosecondBuilder,
}

impl Columns {
    /// Builders sized for `cap` rows, so a batch never reallocates.
    fn new(cap: usize) -> Columns {
        Columns {
            id: StringBuilder::with_capacity(cap, cap * 16),
            customer: StringBuilder::with_capacity(cap, cap * 12),
            date: TimestampMicrosecondBuilder::with_capacity(cap).with_timezone("UTC"),
            amount: Decimal128Builder::with_capacity(cap)
                .with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE)
                .expect("valid decimal type"),
            merchant: StringBuilder::with_capacity(cap, cap * 20),
            category: StringBuilder::with_capacity(cap, cap * 8),
            channel: StringBuilder::with_capacity(cap, cap * 8),
            status: StringBuilder::with_capacity(cap, cap * 8),
            ingested: TimestampMicrosecondBuilder::with_capacity(cap).with_timezone("UTC"),
        }
    }

    fn finish(mut self, len: usize) -> RecordBatch {
        let mut source = StringBuilder::with_capacity(len, len * GENERATOR_SOURCE.len());
        source.append_value_n(GENERATOR_SOURCE, len);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.id.finish()),
            Arc::new(self.customer.finish()),
            Arc::new(self.date.finish()),
            Arc::new(self.amount.finish()),
            Arc::new(self.merchant.finish()),
            Arc::new(self.category.finish()),
            Arc::new(self.channel.finish()),
            Arc::new(self.status.finish()),
            Arc::new(self.ingested.finish()),
            Arc::new(source.finish()),
        ];
        RecordBatch::try_new(BronzeTable::Transactions.schema(), columns)
            .expect("transaction columns match the bronze schema")
    }
}

/// Builds bronze transaction batches of at most `batch_rows` rows.
pub(crate) struct TxnWriter<'s, E> {
    batch_rows: usize,
    len: usize,
    cols: Columns,
    sink: &'s mut dyn FnMut(RecordBatch) -> Result<(), E>,
}

/// One transaction row before writing.
#[derive(Clone, Copy)]
struct Row<'a> {
    /// The last 5 digits of the transaction id (the per-customer sequence).
    seq: u64,
    /// The customer's own id, or `None` for an unknown customer number.
    customer: &'a str,
    unknown_customer: Option<u64>,
    ts: i64,
    cents: i64,
    merchant: &'a str,
    category: Option<&'a str>,
    channel: &'a str,
    status: &'a str,
    ingested: i64,
}

/// `prefix` followed by `number` zero-padded to `width` digits, into `buf`.
fn format_id<'b>(buf: &'b mut [u8; 24], prefix: &[u8], number: u64, width: usize) -> &'b str {
    let digits = if number == 0 {
        1
    } else {
        number.ilog10() as usize + 1
    };
    let width = width.max(digits);
    buf[..prefix.len()].copy_from_slice(prefix);
    write_digits(&mut buf[prefix.len()..prefix.len() + width], number);
    std::str::from_utf8(&buf[..prefix.len() + width]).expect("ASCII")
}

/// Writes the last `out.len()` decimal digits of `n`, zero-padded.
#[inline]
fn write_digits(out: &mut [u8], mut n: u64) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// `TXN` + 8-digit customer number + 5-digit sequence; the first 11 bytes are set once per
/// customer.
struct TxnId([u8; 16]);

impl TxnId {
    fn new(customer_number: u64) -> TxnId {
        debug_assert!(customer_number < 100_000_000);
        let mut b = [0u8; 16];
        b[..3].copy_from_slice(b"TXN");
        write_digits(&mut b[3..11], customer_number);
        TxnId(b)
    }

    fn with_seq(&mut self, seq: u64) -> &str {
        debug_assert!(seq < TXN_ID_FACTOR);
        write_digits(&mut self.0[11..16], seq);
        std::str::from_utf8(&self.0).expect("ASCII")
    }
}

impl<'s, E> TxnWriter<'s, E> {
    pub(crate) fn new(
        batch_rows: usize,
        sink: &'s mut dyn FnMut(RecordBatch) -> Result<(), E>,
    ) -> Self {
        TxnWriter {
            batch_rows,
            len: 0,
            cols: Columns::new(batch_rows.min(1 << 17)),
            sink,
        }
    }

    /// Flushes first if `n` more rows would not fit in the current batch.
    fn reserve(&mut self, n: usize) -> Result<(), E> {
        if self.len > 0 && self.len + n > self.batch_rows {
            self.flush()?;
        }
        Ok(())
    }

    fn push(&mut self, r: &Row<'_>, id: &mut TxnId) {
        let c = &mut self.cols;
        c.id.append_value(id.with_seq(r.seq));
        match r.unknown_customer {
            Some(n) => c
                .customer
                .append_value(format_id(&mut [0u8; 24], b"CUST", n, 8)),
            None => c.customer.append_value(r.customer),
        }
        c.date.append_value(r.ts);
        c.amount.append_value(i128::from(r.cents));
        c.merchant.append_value(r.merchant);
        c.category.append_option(r.category);
        c.channel.append_value(r.channel);
        c.status.append_value(r.status);
        c.ingested.append_value(r.ingested);
        self.len += 1;
    }

    /// Sends the current batch (if any) to the sink.
    pub(crate) fn flush(&mut self) -> Result<(), E> {
        if self.len == 0 {
            return Ok(());
        }
        let cols = std::mem::replace(&mut self.cols, Columns::new(self.batch_rows.min(1 << 17)));
        let batch = cols.finish(self.len);
        self.len = 0;
        (self.sink)(batch)
    }
}

/// Generates one customer's transactions over `window` into `out`.
pub(crate) fn customer_transactions<E>(
    ctx: &Ctx,
    index: u32,
    window: Window,
    out: &mut TxnWriter<'_, E>,
    stats: &mut TxnStats,
) -> Result<(), E> {
    let profile = Profile::derive(ctx, index);
    let end_day = i64::from(ctx.end_day);
    let open_t = end_day - i64::from(profile.open_day);
    let beh = Behaviour::derive(ctx.cfg.seed, index, profile.truth, open_t);
    let limit = f64::from(profile.attrs.credit_limit);
    let customer_number = u64::from(index) + 1;
    let mut customer_buf = [0u8; 24];
    let customer_id: &str = format_id(&mut customer_buf, b"CUST", customer_number, 8);
    let mut txn_id = TxnId::new(customer_number);
    let (txn_tag, dirt_tag) = if window.simulated {
        (tag::SIM_TXN, tag::SIM_TXN_DIRT)
    } else {
        (tag::TXN, tag::TXN_DIRT)
    };
    let window_key = window.first as u64;
    let mut rng = Rng::new(ctx.cfg.seed, txn_tag, u64::from(index), window_key);
    let mut dirt_rng = Rng::new(ctx.cfg.seed, dirt_tag, u64::from(index), window_key);
    let unknown_base = if ctx.cfg.customers < 90_000_000 {
        90_000_000
    } else {
        u64::from(ctx.cfg.customers) + 1
    };

    let mut acc = rng.unit();
    let mut history_seq: u64 = 0;
    let mut seconds = [0u32; SIM_SEQ_PER_DAY as usize];
    let first_day = window.first.max(-open_t); // no transaction before account opening
    for d in first_day..=window.last {
        let t = -d;
        let rate = beh.daily_rate(t);
        if rate <= 0.0 {
            continue;
        }
        acc += rate * rng.uniform(0.5, 1.5);
        let mut k = 0;
        while acc >= 1.0 {
            acc -= 1.0;
            if k < seconds.len() {
                let x = rng.next_u64();
                let hour_u = (x >> 32) as f64 / 4_294_967_296.0;
                let target = hour_u * HOUR_CUMULATIVE[23];
                let hour = HOUR_CUMULATIVE
                    .iter()
                    .position(|&c| target < c)
                    .unwrap_or(23);
                let within = ((x & 0xFFFF_FFFF) * 3600) >> 32;
                seconds[k] = hour as u32 * 3600 + within as u32;
                k += 1;
            }
        }
        if k == 0 {
            continue;
        }
        seconds[..k].sort_unstable();
        let day_micros = (end_day + d) * DAY_MICROS;
        for (j, &sec) in seconds[..k].iter().enumerate() {
            let seq = if window.simulated {
                SIM_SEQ_BASE + d as u64 * SIM_SEQ_PER_DAY + j as u64
            } else {
                history_seq += 1;
                if history_seq >= SIM_SEQ_BASE {
                    break; // unreachable at any supported rate; keeps ids in the history range
                }
                history_seq
            };
            let ts = day_micros + i64::from(sec) * SECOND_MICROS;
            let cat = rng.pick_cumulative(&beh.category_cumulative);
            let x = rng.next_u64();
            let m = if ((x >> 32) as f64) < FAVOURITE_SHARE * 4_294_967_296.0 {
                beh.favourites[cat][(((x & 0xFFFF_FFFF) * 3) >> 32) as usize] as usize
            } else {
                (((x & 0xFFFF_FFFF) * MERCHANTS_PER_CATEGORY as u64) >> 32) as usize
            };
            let dollars = BASE_AMOUNT[cat] * beh.scale * Behaviour::amount_noise(&mut rng);
            let cents = ((dollars * 100.0).round() as i64).max(100);
            let amount = cents as f64 / 100.0;
            let declined = rng.unit() < 0.028 + 0.9 * (amount / limit).powi(2);
            let channel = rng.pick_cumulative(&CHANNEL_CUMULATIVE[cat]);
            let ingested = day_micros + DAY_MICROS + rng.below(DAY_MICROS as u64) as i64;
            let mut row = Row {
                seq,
                customer: customer_id,
                unknown_customer: None,
                ts,
                cents,
                merchant: &MERCHANT_NAMES[cat * MERCHANTS_PER_CATEGORY + m],
                category: Some(CATEGORIES[cat]),
                channel: CHANNELS[channel],
                status: if declined { "declined" } else { "approved" },
                ingested,
            };
            let kind = if ctx.dirty_transactions {
                ctx.transaction_dirt(dirt_rng.unit())
            } else {
                None
            };
            let Some(kind) = kind else {
                out.reserve(1)?;
                out.push(&row, &mut txn_id);
                stats.rows += 1;
                continue;
            };
            if kind == DirtKind::Duplicate {
                out.reserve(2.min(out.batch_rows))?;
                out.push(&row, &mut txn_id);
                let mut copy = row;
                copy.ingested += dirt_rng.between(3_600, 72 * 3_600) * SECOND_MICROS;
                if dirt_rng.chance(0.2) {
                    copy.status = if declined { "approved" } else { "declined" };
                }
                out.reserve(1)?;
                out.push(&copy, &mut txn_id);
                stats.rows += 2;
                stats.dirt.add(kind, 1);
                continue;
            }
            let pick = dirt_rng.next_u64();
            match kind {
                DirtKind::BlankCategory => row.category = BLANK_CATEGORIES[(pick % 3) as usize],
                DirtKind::BadAmount => row.cents = if pick & 1 == 0 { 0 } else { -cents },
                DirtKind::UnknownCustomer => {
                    row.unknown_customer = Some(unknown_base + pick % 9_999_999)
                }
                DirtKind::BadClock => {
                    let back = 3 * DAY_MICROS + (pick % (7 * DAY_MICROS as u64)) as i64;
                    row.ingested = ts - back;
                }
                DirtKind::MessyTransaction => {
                    let which = pick % 3; // 0: channel, 1: status, 2: both
                    let style = ((pick >> 8) % 6) as usize;
                    if which != 1 {
                        row.channel = MESSY_CHANNELS[channel][style];
                    }
                    if which != 0 {
                        row.status = MESSY_STATUSES[usize::from(declined)]
                            [(style + (pick >> 16) as usize) % 6];
                    }
                }
                DirtKind::BadChannel => row.channel = BAD_CHANNELS[(pick % 4) as usize],
                DirtKind::BadStatus => row.status = BAD_STATUSES[(pick % 3) as usize],
                _ => unreachable!("customer dirt kinds are not drawn per transaction"),
            }
            out.reserve(1)?;
            out.push(&row, &mut txn_id);
            stats.rows += 1;
            stats.dirt.add(kind, 1);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_zero_padded() {
        let mut buf = [0u8; 24];
        assert_eq!(format_id(&mut buf, b"TXN", 100_001, 13), "TXN0000000100001");
        assert_eq!(TxnId::new(12).with_seq(345), "TXN0000001200345");
        assert_eq!(format_id(&mut buf, b"CUST", 7, 8), "CUST00000007");
        assert_eq!(
            format_id(&mut buf, b"CUST", 123_456_789, 8),
            "CUST123456789"
        );
    }
}
