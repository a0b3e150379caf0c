//! Gold-shaped test tables built in memory: a synthetic population of stable customers,
//! gradual churners (whose spend fades before the cutoff and stays low after it), sudden
//! stoppers and temporary dippers (noise), plus hand-written rows for exact tests.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int32Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use c360_lake::datafusion::catalog::MemorySchemaProvider;
use c360_lake::datafusion::datasource::MemTable;
use c360_lake::datafusion::prelude::SessionContext;
use c360_ml::gbdt::SplitMix64;
use chrono::NaiveDate;

pub fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub fn days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
}

/// One fact row.
#[derive(Debug, Clone, PartialEq)]
pub struct Txn {
    pub customer_id: String,
    pub date: NaiveDate,
    pub category: i32,
    pub channel: &'static str,
    pub status: &'static str,
    /// Cents.
    pub cents: i128,
}

impl Txn {
    pub fn approved(customer: &str, d: &str, dollars: f64) -> Txn {
        Txn {
            customer_id: customer.into(),
            date: date(d),
            category: 3,
            channel: "Online",
            status: "approved",
            cents: (dollars * 100.0).round() as i128,
        }
    }

    pub fn declined(customer: &str, d: &str, dollars: f64) -> Txn {
        Txn {
            status: "declined",
            ..Txn::approved(customer, d, dollars)
        }
    }
}

/// One dim_customer version.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub customer_id: String,
    pub valid_from: NaiveDate,
    pub card_type: &'static str,
    pub credit_limit: i64,
    pub employment_status: &'static str,
    pub age: i32,
    pub account_open_date: NaiveDate,
}

impl Version {
    pub fn new(customer: &str, open: &str) -> Version {
        Version {
            customer_id: customer.into(),
            valid_from: date(open),
            card_type: "Standard",
            credit_limit: 10_000,
            employment_status: "Employed",
            age: 40,
            account_open_date: date(open),
        }
    }
}

/// The three gold tables' rows.
#[derive(Debug, Clone, Default)]
pub struct Data {
    pub txns: Vec<Txn>,
    pub versions: Vec<Version>,
}

fn money() -> DataType {
    DataType::Decimal128(12, 2)
}

fn fct_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("transaction_key", DataType::Utf8, false),
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("customer_key", DataType::Utf8, false),
        Field::new("transaction_date", DataType::Date32, false),
        Field::new(
            "transaction_ts",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("merchant_category_key", DataType::Int32, false),
        Field::new("merchant_name", DataType::Utf8, false),
        Field::new("channel", DataType::Utf8, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("transaction_amount", money(), false),
    ]))
}

fn dim_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("customer_key", DataType::Utf8, false),
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("first_name", DataType::Utf8, false),
        Field::new("email", DataType::Utf8, false),
        Field::new("valid_from", DataType::Date32, false),
        Field::new("valid_to", DataType::Date32, true),
        Field::new("is_current", DataType::Boolean, false),
        Field::new("card_type", DataType::Utf8, false),
        Field::new("credit_limit", money(), false),
        Field::new("state", DataType::Utf8, false),
        Field::new("employment_status", DataType::Utf8, false),
        Field::new("age", DataType::Int32, false),
        Field::new("account_open_date", DataType::Date32, false),
        Field::new("customer_segment", DataType::Utf8, false),
        Field::new("decline_type", DataType::Utf8, true),
    ]))
}

impl Data {
    pub fn fct_batch(&self) -> RecordBatch {
        let t = &self.txns;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                (0..t.len()).map(|i| format!("TK{i:08}")),
            )),
            Arc::new(StringArray::from_iter_values(
                t.iter().map(|x| x.customer_id.clone()),
            )),
            Arc::new(StringArray::from_iter_values(
                t.iter().map(|x| format!("K-{}", x.customer_id)),
            )),
            Arc::new(Date32Array::from_iter_values(
                t.iter().map(|x| days(x.date)),
            )),
            Arc::new(TimestampMicrosecondArray::from_iter_values(t.iter().map(
                |x| days(x.date) as i64 * 86_400_000_000 + 12 * 3_600_000_000,
            ))),
            Arc::new(Int32Array::from_iter_values(t.iter().map(|x| x.category))),
            Arc::new(StringArray::from_iter_values(t.iter().map(|_| "Shop"))),
            Arc::new(StringArray::from_iter_values(t.iter().map(|x| x.channel))),
            Arc::new(StringArray::from_iter_values(t.iter().map(|x| x.status))),
            Arc::new(
                Decimal128Array::from_iter_values(t.iter().map(|x| x.cents))
                    .with_precision_and_scale(12, 2)
                    .unwrap(),
            ),
        ];
        RecordBatch::try_new(fct_schema(), columns).unwrap()
    }

    /// dim_customer with valid_to / is_current derived from the versions' order per customer.
    pub fn dim_batch(&self) -> RecordBatch {
        let mut v = self.versions.clone();
        v.sort_by(|a, b| {
            (a.customer_id.as_str(), a.valid_from).cmp(&(b.customer_id.as_str(), b.valid_from))
        });
        let next: Vec<Option<NaiveDate>> = (0..v.len())
            .map(|i| {
                v.get(i + 1)
                    .filter(|n| n.customer_id == v[i].customer_id)
                    .map(|n| n.valid_from.pred_opt().unwrap())
            })
            .collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                v.iter()
                    .map(|x| format!("K-{}-{}", x.customer_id, x.valid_from)),
            )),
            Arc::new(StringArray::from_iter_values(
                v.iter().map(|x| x.customer_id.clone()),
            )),
            Arc::new(StringArray::from_iter_values(v.iter().map(|_| "Ann"))),
            Arc::new(StringArray::from_iter_values(v.iter().map(|_| "a@b.c"))),
            Arc::new(Date32Array::from_iter_values(
                v.iter().map(|x| days(x.valid_from)),
            )),
            Arc::new(Date32Array::from_iter(next.iter().map(|n| n.map(days)))),
            Arc::new(BooleanArray::from_iter(
                next.iter().map(|n| Some(n.is_none())),
            )),
            Arc::new(StringArray::from_iter_values(v.iter().map(|x| x.card_type))),
            Arc::new(
                Decimal128Array::from_iter_values(v.iter().map(|x| x.credit_limit as i128 * 100))
                    .with_precision_and_scale(12, 2)
                    .unwrap(),
            ),
            Arc::new(StringArray::from_iter_values(v.iter().map(|_| "CA"))),
            Arc::new(StringArray::from_iter_values(
                v.iter().map(|x| x.employment_status),
            )),
            Arc::new(Int32Array::from_iter_values(v.iter().map(|x| x.age))),
            Arc::new(Date32Array::from_iter_values(
                v.iter().map(|x| days(x.account_open_date)),
            )),
            Arc::new(StringArray::from_iter_values(v.iter().map(|_| "Stable"))),
            Arc::new(StringArray::from_iter(v.iter().map(|_| None::<&str>))),
        ];
        RecordBatch::try_new(dim_schema(), columns).unwrap()
    }

    /// A session with `gold.fct_transactions`, `gold.dim_customer` and
    /// `gold.dim_merchant_category` registered as in-memory tables.
    pub fn session(&self) -> SessionContext {
        let ctx = SessionContext::new();
        ctx.catalog("datafusion")
            .unwrap()
            .register_schema("gold", Arc::new(MemorySchemaProvider::new()))
            .unwrap();
        let register = |name: &str, batch: RecordBatch| {
            // Two partitions, so results cannot depend on a single input order.
            let half = batch.num_rows() / 2;
            let parts = vec![
                vec![batch.slice(0, half)],
                vec![batch.slice(half, batch.num_rows() - half)],
            ];
            let table = MemTable::try_new(batch.schema(), parts).unwrap();
            ctx.register_table(name, Arc::new(table)).unwrap();
        };
        register("gold.fct_transactions", self.fct_batch());
        register("gold.dim_customer", self.dim_batch());
        register("gold.dim_merchant_category", categories());
        ctx
    }
}

/// dim_merchant_category: 1 Travel, 2 Grocery, 3 Retail, 4 Dining.
pub fn categories() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("category_key", DataType::Int32, false),
        Field::new("category_name", DataType::Utf8, false),
        Field::new("category_group", DataType::Utf8, false),
        Field::new("is_travel", DataType::Boolean, false),
        Field::new("is_necessity", DataType::Boolean, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int32Array::from(vec![1, 2, 3, 4])),
            Arc::new(StringArray::from(vec![
                "Travel", "Grocery", "Retail", "Dining",
            ])),
            Arc::new(StringArray::from(vec![
                "Leisure",
                "Necessities",
                "Retail",
                "Leisure",
            ])),
            Arc::new(BooleanArray::from(vec![true, false, false, false])),
            Arc::new(BooleanArray::from(vec![false, true, false, false])),
        ],
    )
    .unwrap()
}

/// The as_of of the synthetic population (cutoff 2025-04-01).
pub fn as_of() -> NaiveDate {
    date("2025-06-30")
}

/// What kind of behaviour a synthetic customer has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Stable,
    Fading,
    SuddenStop,
    TemporaryDip,
    Sparse,
}

/// A synthetic population of `n` customers over 540 days up to [`as_of`]; deterministic in
/// `seed`. Fading customers start losing activity 2–4 months before the cutoff and fade out
/// within 120 days, so the label is mostly learnable from features at the cutoff.
pub fn population(n: usize, seed: u64) -> Data {
    let mut rng = SplitMix64::new(seed);
    let end = as_of();
    let start = end - chrono::Days::new(540);
    let cutoff = end - chrono::Days::new(90);
    let mut data = Data::default();
    let channels = ["Online", "In-Store", "Mobile"];
    let employments = [
        "Employed",
        "Self-Employed",
        "Retired",
        "Unemployed",
        "Student",
    ];
    for c in 0..n {
        let id = format!("CUST{:08}", c + 1);
        let r = rng.next_f64();
        let kind = if r < 0.60 {
            Kind::Stable
        } else if r < 0.85 {
            Kind::Fading
        } else if r < 0.89 {
            Kind::SuddenStop
        } else if r < 0.95 {
            Kind::TemporaryDip
        } else {
            Kind::Sparse
        };
        let open = start - chrono::Days::new(30 + rng.below(900) as u64);
        let mut version = Version {
            customer_id: id.clone(),
            valid_from: open,
            card_type: if rng.next_f64() < 0.1 {
                "Premium"
            } else {
                "Standard"
            },
            credit_limit: 5_000 + 1_000 * rng.below(46) as i64,
            employment_status: employments[rng.below(5)],
            age: 22 + rng.below(54) as i32,
            account_open_date: open,
        };
        data.versions.push(version.clone());
        if rng.next_f64() < 0.2 {
            version.valid_from = start + chrono::Days::new(rng.below(540) as u64);
            version.credit_limit += 5_000;
            data.versions.push(version);
        }
        let monthly = 8.0 + rng.next_f64() * 12.0; // transactions per 30 days
        let mean = 20.0 + rng.next_f64() * 180.0;
        let fade_start = cutoff - chrono::Days::new(60 + rng.below(60) as u64);
        let stop = cutoff + chrono::Days::new(rng.below(45) as u64);
        let dip_start = cutoff - chrono::Days::new(20 + rng.below(60) as u64);
        let mut day = start;
        while day <= end {
            let mut rate = monthly / 30.0;
            match kind {
                Kind::Stable | Kind::Sparse => {}
                Kind::Fading if day >= fade_start => {
                    let t = (day - fade_start).num_days() as f64 / 120.0;
                    rate *= (1.0 - t).max(0.03);
                }
                Kind::SuddenStop if day >= stop => rate = 0.0,
                Kind::TemporaryDip if day >= dip_start && day < cutoff => rate *= 0.4,
                _ => {}
            }
            if kind == Kind::Sparse {
                rate = 3.0 / 540.0;
            }
            if rng.next_f64() < rate {
                let decline_p = if kind == Kind::Fading { 0.06 } else { 0.03 };
                let category = if rng.next_f64() < 0.5 {
                    1 + rng.below(4) as i32
                } else {
                    3
                };
                data.txns.push(Txn {
                    customer_id: id.clone(),
                    date: day,
                    category,
                    channel: channels[rng.below(3)],
                    status: if rng.next_f64() < decline_p {
                        "declined"
                    } else {
                        "approved"
                    },
                    cents: ((mean * (0.3 + 1.4 * rng.next_f64())) * 100.0).round() as i128,
                });
            }
            day = day.succ_opt().unwrap();
        }
    }
    data
}
