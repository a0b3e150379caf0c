//! Integration tests of the generator, through its public API only.

mod calibration;
mod determinism;
mod dirt;
mod shape;
mod simulate;

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hasher};
use std::sync::{Mutex, OnceLock};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Date32Type, Decimal128Type, Int32Type, TimestampMicrosecondType};
use c360_gen::{DirtRates, GenConfig, Generator, TxnStats};
use chrono::NaiveDate;

pub const DAY_MICROS: i64 = 86_400_000_000;

/// One transaction row, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Txn {
    pub id: String,
    pub customer: String,
    pub ts: i64,
    pub cents: i128,
    pub merchant: String,
    pub category: Option<String>,
    pub channel: String,
    pub status: String,
    pub ingested: i64,
    pub source: String,
}

impl Txn {
    pub fn day(&self) -> i64 {
        self.ts.div_euclid(DAY_MICROS)
    }
}

/// One customer row, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Cust {
    pub id: String,
    pub first: String,
    pub last: String,
    pub email: String,
    pub age: i32,
    pub state: String,
    pub city: String,
    pub employment: String,
    pub card: String,
    pub limit_cents: i128,
    pub open_day: i32,
    pub segment: String,
    pub decline: Option<String>,
    pub updated_at: i64,
    pub ingested_at: i64,
}

pub fn config(customers: u32, dirt: DirtRates) -> GenConfig {
    GenConfig {
        customers,
        dirt,
        chunk_customers: 250,
        batch_rows: 10_000,
        ..GenConfig::default()
    }
}

pub fn epoch_day(d: NaiveDate) -> i64 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days()
}

fn text(batch: &RecordBatch, col: usize, row: usize) -> Option<String> {
    let a = batch.column(col).as_string::<i32>();
    (!a.is_null(row)).then(|| a.value(row).to_string())
}

pub fn decode_txns(batch: &RecordBatch, out: &mut Vec<Txn>) {
    let ts = batch.column(2).as_primitive::<TimestampMicrosecondType>();
    let amount = batch.column(3).as_primitive::<Decimal128Type>();
    let ingested = batch.column(8).as_primitive::<TimestampMicrosecondType>();
    for r in 0..batch.num_rows() {
        out.push(Txn {
            id: text(batch, 0, r).unwrap(),
            customer: text(batch, 1, r).unwrap(),
            ts: ts.value(r),
            cents: amount.value(r),
            merchant: text(batch, 4, r).unwrap(),
            category: text(batch, 5, r),
            channel: text(batch, 6, r).unwrap(),
            status: text(batch, 7, r).unwrap(),
            ingested: ingested.value(r),
            source: text(batch, 9, r).unwrap(),
        });
    }
}

pub fn decode_customers(batch: &RecordBatch) -> Vec<Cust> {
    let age = batch.column(4).as_primitive::<Int32Type>();
    let limit = batch.column(9).as_primitive::<Decimal128Type>();
    let open = batch.column(10).as_primitive::<Date32Type>();
    let updated = batch.column(13).as_primitive::<TimestampMicrosecondType>();
    let ingested = batch.column(14).as_primitive::<TimestampMicrosecondType>();
    (0..batch.num_rows())
        .map(|r| Cust {
            id: text(batch, 0, r).unwrap(),
            first: text(batch, 1, r).unwrap(),
            last: text(batch, 2, r).unwrap(),
            email: text(batch, 3, r).unwrap(),
            age: age.value(r),
            state: text(batch, 5, r).unwrap(),
            city: text(batch, 6, r).unwrap(),
            employment: text(batch, 7, r).unwrap(),
            card: text(batch, 8, r).unwrap(),
            limit_cents: limit.value(r),
            open_day: open.value(r),
            segment: text(batch, 11, r).unwrap(),
            decline: text(batch, 12, r),
            updated_at: updated.value(r),
            ingested_at: ingested.value(r),
        })
        .collect()
}

/// Every transaction of the history, in chunk order, and the summed stats.
pub fn all_txns(g: &Generator) -> (Vec<Txn>, TxnStats) {
    let mut rows = Vec::new();
    let mut stats = TxnStats::default();
    for chunk in 0..g.num_chunks() {
        stats += g
            .transaction_chunk(chunk, &mut |b| {
                decode_txns(&b, &mut rows);
                Ok::<(), ()>(())
            })
            .unwrap();
    }
    (rows, stats)
}

/// A stable hash of batches (Arrow IPC bytes through std's SipHash with fixed keys).
pub fn hash_batches(batches: &[RecordBatch]) -> u64 {
    let mut h = DefaultHasher::new();
    for b in batches {
        let mut buf = Vec::new();
        let mut w = arrow::ipc::writer::StreamWriter::try_new(&mut buf, &b.schema()).unwrap();
        w.write(b).unwrap();
        w.finish().unwrap();
        drop(w);
        h.write(&buf);
    }
    h.finish()
}

pub fn chunk_batches(g: &Generator, chunk: usize) -> Vec<RecordBatch> {
    let mut out = Vec::new();
    g.transaction_chunk(chunk, &mut |b| {
        out.push(b);
        Ok::<(), ()>(())
    })
    .unwrap();
    out
}

/// The clean 2,000-customer history, shared by the tests that only read it.
pub fn clean_2000() -> &'static (Generator, Vec<Cust>, Vec<Txn>) {
    static DATA: OnceLock<(Generator, Vec<Cust>, Vec<Txn>)> = OnceLock::new();
    DATA.get_or_init(|| {
        let g = Generator::new(config(2_000, DirtRates::clean())).unwrap();
        let customers = decode_customers(&g.customers().0);
        let (txns, _) = all_txns(&g);
        (g, customers, txns)
    })
}

/// A generated history with its stats.
pub type Dirty = (
    Generator,
    Vec<Cust>,
    Vec<Txn>,
    TxnStats,
    c360_gen::CustomerStats,
);

/// The default-dirt 2,000-customer history (same seed as [`clean_2000`]).
pub fn dirty_2000() -> &'static Dirty {
    static DATA: OnceLock<Dirty> = OnceLock::new();
    DATA.get_or_init(|| {
        let g = Generator::new(config(2_000, DirtRates::default())).unwrap();
        let (batch, cstats) = g.customers();
        let (txns, stats) = all_txns(&g);
        (g, decode_customers(&batch), txns, stats, cstats)
    })
}

/// Count of values per key.
pub fn counts<K: std::hash::Hash + Eq, I: IntoIterator<Item = K>>(it: I) -> HashMap<K, usize> {
    let mut m = HashMap::new();
    for k in it {
        *m.entry(k).or_default() += 1;
    }
    m
}

/// Serialises the tests that print measurements, so their output is readable.
pub static PRINT: Mutex<()> = Mutex::new(());
