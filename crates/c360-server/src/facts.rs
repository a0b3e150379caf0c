//! The fact table held per customer in memory, so a customer's transactions cost a hash lookup
//! and a walk over a few hundred rows instead of a scan of `gold.fct_transactions`.
//!
//! [`FactIndex::build`] reads the fact once (only the columns the deep dive shows, the category
//! name resolved through `gold.dim_merchant_category`), stores them column by column in compact
//! form — dates and timestamps as integers, money as exact cents, merchant, category, channel and
//! status as small interned codes, transaction ids in one text arena — and sorts the rows by
//! customer, newest first, so each customer is one contiguous range. At seed scale (13.5M
//! transactions) that is about 50 bytes a row. A fact table with more rows than the limit
//! (`[server] fact_index_max_rows`) is not indexed: the server then reads with one filtered scan
//! per request, as without the index.
//!
//! The index is keyed by the Delta versions of the fact and category tables it was read from;
//! [`crate::data::Db`] builds the first one before answering and rebuilds it in the background
//! when either table gets a new version (requests scan the table meanwhile).

use std::collections::HashMap;
use std::sync::Arc;

use c360_lake::datafusion::arrow::array::{Array, AsArray, RecordBatch, StringArray};
use c360_lake::datafusion::arrow::compute::cast;
use c360_lake::datafusion::arrow::datatypes::{self as dt, DataType, TimeUnit};
use c360_lake::datafusion::prelude::SessionContext;
use futures::StreamExt;
use serde_json::Value;

use crate::data::Frame;
use crate::error::{AppError, AppResult};

/// The Delta versions an index was read from: (fact table, category dimension).
pub type FactKey = (Option<u64>, Option<u64>);

/// Timestamp sentinel for NULL (sorts first in "newest first", as `DESC NULLS FIRST` does).
const NULL_TS: i64 = i64::MAX;
/// Date and amount sentinels for NULL.
const NULL_DATE: i32 = i32::MIN;
const NULL_AMOUNT: i64 = i64::MIN;

/// Interned text: code 0 is NULL.
#[derive(Default)]
struct Interner {
    names: Vec<Option<Box<str>>>,
    codes: HashMap<Box<str>, u32>,
}

impl Interner {
    fn new() -> Interner {
        Interner {
            names: vec![None],
            codes: HashMap::new(),
        }
    }

    fn code(&mut self, text: Option<&str>) -> u32 {
        let Some(text) = text else { return 0 };
        if let Some(c) = self.codes.get(text) {
            return *c;
        }
        let c = self.names.len() as u32;
        self.names.push(Some(text.into()));
        self.codes.insert(text.into(), c);
        c
    }

    fn name(&self, code: u32) -> Option<&str> {
        self.names.get(code as usize).and_then(|n| n.as_deref())
    }
}

/// Which of a customer's transactions to return.
#[derive(Debug, Clone, Default)]
pub struct FactQuery<'a> {
    /// Only dates ≤ this (and, with `since`, > since); NULL dates are then left out, as SQL does.
    pub until: Option<i32>,
    /// Only dates > this.
    pub since: Option<i32>,
    /// Only these category names (any of), when not empty.
    pub categories: &'a [String],
    /// Only this status.
    pub status: Option<&'a str>,
    /// At most this many rows.
    pub limit: usize,
}

/// One customer's rows are `rows[start..end]`, newest first.
pub struct FactIndex {
    key: FactKey,
    ranges: HashMap<Box<str>, (u32, u32)>,
    date: Vec<i32>,
    ts: Vec<i64>,
    amount: Vec<i64>,
    merchant: Vec<u32>,
    /// Interned (category, channel, status) triple.
    kind: Vec<u32>,
    /// Row number in scan order, to find the transaction id in `id_text`.
    scan_row: Vec<u32>,
    id_end: Vec<u32>,
    id_text: String,
    merchants: Interner,
    kinds: Vec<[u32; 3]>,
    labels: Interner,
}

/// The columns read, in this order.
const COLUMNS: [&str; 8] = [
    "transaction_date",
    "transaction_ts",
    "transaction_id",
    "merchant_name",
    "category",
    "channel",
    "status",
    "transaction_amount",
];

impl FactIndex {
    /// The versions this index was read from.
    pub fn key(&self) -> FactKey {
        self.key
    }

    /// Rows held.
    pub fn rows(&self) -> usize {
        self.date.len()
    }

    /// Reads `gold.fct_transactions` from `ctx` (with category names when `with_categories`).
    /// `Ok(None)` when it has more than `max_rows` rows.
    pub async fn build(
        ctx: &SessionContext,
        key: FactKey,
        with_categories: bool,
        max_rows: usize,
    ) -> AppResult<Option<FactIndex>> {
        let (category, join) = if with_categories {
            (
                "COALESCE(c.category_name, 'Uncategorized')",
                "LEFT JOIN gold.dim_merchant_category c ON f.merchant_category_key = c.category_key",
            )
        } else {
            ("'Uncategorized'", "")
        };
        let sql = format!(
            "SELECT f.customer_id, f.transaction_date, f.transaction_ts, f.transaction_id,
                    f.merchant_name, {category} AS category, f.channel, f.status,
                    CAST(f.transaction_amount AS DECIMAL(18,2)) AS transaction_amount
             FROM gold.fct_transactions f {join}"
        );
        let mut stream = ctx.sql(&sql).await?.execute_stream().await?;
        let mut b = Builder {
            labels: Interner::new(),
            merchants: Interner::new(),
            ..Builder::default()
        };
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            if b.date.len() + batch.num_rows() > max_rows {
                tracing::warn!(
                    max_rows,
                    "gold.fct_transactions has more rows than fact_index_max_rows: transactions are read with a scan per request"
                );
                return Ok(None);
            }
            b.push(&batch)?;
        }
        Ok(Some(b.finish(key)?))
    }

    /// Customer `id`'s rows matching `q`, newest first (ties by transaction id), as a [`Frame`]
    /// with the deep dive's columns (no rows for a customer without transactions).
    pub fn customer(&self, id: &str, q: &FactQuery<'_>) -> Frame {
        let mut frame = Frame {
            columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        };
        let Some(&(start, end)) = self.ranges.get(id) else {
            return frame;
        };
        for r in start as usize..end as usize {
            if frame.rows.len() >= q.limit {
                break;
            }
            let date = self.date[r];
            if let Some(until) = q.until {
                if date == NULL_DATE || date > until {
                    continue;
                }
            }
            if let Some(since) = q.since {
                if date == NULL_DATE || date <= since {
                    continue;
                }
            }
            let [category, channel, status] = self.kinds[self.kind[r] as usize];
            let category = self.labels.name(category);
            if !q.categories.is_empty()
                && !category.is_some_and(|c| q.categories.iter().any(|x| x == c))
            {
                continue;
            }
            let status = self.labels.name(status);
            if let Some(want) = q.status {
                if status != Some(want) {
                    continue;
                }
            }
            let text = |s: Option<&str>| s.map_or(Value::Null, |s| Value::String(s.to_string()));
            frame.rows.push(vec![
                date_value(date),
                ts_value(self.ts[r]),
                Value::String(self.transaction_id(r).to_string()),
                text(self.merchants.name(self.merchant[r])),
                text(category),
                text(self.labels.name(channel)),
                text(status),
                if self.amount[r] == NULL_AMOUNT {
                    Value::Null
                } else {
                    Value::String(rust_decimal::Decimal::new(self.amount[r], 2).to_string())
                },
            ]);
        }
        frame
    }

    fn transaction_id(&self, r: usize) -> &str {
        let s = self.scan_row[r] as usize;
        let from = if s == 0 {
            0
        } else {
            self.id_end[s - 1] as usize
        };
        &self.id_text[from..self.id_end[s] as usize]
    }
}

fn date_value(days: i32) -> Value {
    if days == NULL_DATE {
        return Value::Null;
    }
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    epoch
        .checked_add_signed(chrono::Duration::days(days.into()))
        .map_or(Value::Null, |d| {
            Value::String(d.format("%Y-%m-%d").to_string())
        })
}

fn ts_value(micros: i64) -> Value {
    if micros == NULL_TS {
        return Value::Null;
    }
    chrono::DateTime::from_timestamp_micros(micros).map_or(Value::Null, |t| {
        Value::String(t.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string())
    })
}

#[derive(Default)]
struct Builder {
    customers: HashMap<Box<str>, u32>,
    customer: Vec<u32>,
    date: Vec<i32>,
    ts: Vec<i64>,
    amount: Vec<i64>,
    merchant: Vec<u32>,
    kind: Vec<u32>,
    kind_codes: HashMap<[u32; 3], u32>,
    kinds: Vec<[u32; 3]>,
    id_end: Vec<u32>,
    id_text: String,
    merchants: Interner,
    labels: Interner,
}

fn text_column(batch: &RecordBatch, i: usize) -> AppResult<Arc<dyn Array>> {
    Ok(cast(batch.column(i), &DataType::Utf8)?)
}

impl Builder {
    fn push(&mut self, batch: &RecordBatch) -> AppResult<()> {
        let customer = text_column(batch, 0)?;
        let customer = customer.as_string::<i32>();
        let date = cast(batch.column(1), &DataType::Date32)?;
        let date = date.as_primitive::<dt::Date32Type>();
        let ts = cast(
            batch.column(2),
            &DataType::Timestamp(TimeUnit::Microsecond, None),
        )?;
        let ts = ts.as_primitive::<dt::TimestampMicrosecondType>();
        let texts: Vec<Arc<dyn Array>> = (3..8)
            .map(|i| text_column(batch, i))
            .collect::<AppResult<_>>()?;
        let [id, merchant, category, channel, status] =
            [0, 1, 2, 3, 4].map(|i| texts[i].as_string::<i32>());
        let amount = batch.column(8).as_primitive::<dt::Decimal128Type>();
        fn get(a: &StringArray, r: usize) -> Option<&str> {
            (!a.is_null(r)).then(|| a.value(r))
        }
        for r in 0..batch.num_rows() {
            let Some(cust) = get(customer, r) else {
                continue;
            };
            let next = self.customers.len() as u32;
            let c = *self.customers.entry(cust.into()).or_insert(next);
            self.customer.push(c);
            self.date.push(if date.is_null(r) {
                NULL_DATE
            } else {
                date.value(r)
            });
            self.ts
                .push(if ts.is_null(r) { NULL_TS } else { ts.value(r) });
            self.amount.push(if amount.is_null(r) {
                NULL_AMOUNT
            } else {
                i64::try_from(amount.value(r)).unwrap_or(NULL_AMOUNT)
            });
            self.merchant.push(self.merchants.code(get(merchant, r)));
            let triple = [
                self.labels.code(get(category, r)),
                self.labels.code(get(channel, r)),
                self.labels.code(get(status, r)),
            ];
            let next = self.kinds.len() as u32;
            let k = *self.kind_codes.entry(triple).or_insert(next);
            if k == next {
                self.kinds.push(triple);
            }
            self.kind.push(k);
            self.id_text.push_str(get(id, r).unwrap_or(""));
            let end = u32::try_from(self.id_text.len())
                .map_err(|_| AppError::Internal(anyhow::anyhow!("transaction ids exceed 4 GiB")))?;
            self.id_end.push(end);
        }
        Ok(())
    }

    fn finish(self, key: FactKey) -> AppResult<FactIndex> {
        let n = self.customer.len();
        let id = |r: u32| {
            let r = r as usize;
            let from = if r == 0 {
                0
            } else {
                self.id_end[r - 1] as usize
            };
            &self.id_text[from..self.id_end[r] as usize]
        };
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            let (ia, ib) = (a as usize, b as usize);
            self.customer[ia]
                .cmp(&self.customer[ib])
                .then(self.ts[ib].cmp(&self.ts[ia]))
                .then_with(|| id(a).cmp(id(b)))
        });
        fn permute<T: Copy>(values: Vec<T>, order: &[u32]) -> Vec<T> {
            order.iter().map(|&i| values[i as usize]).collect()
        }
        let mut names: Vec<&str> = vec![""; self.customers.len()];
        for (name, &c) in &self.customers {
            names[c as usize] = name;
        }
        let mut ranges: HashMap<Box<str>, (u32, u32)> = HashMap::with_capacity(names.len());
        let mut start = 0usize;
        while start < n {
            let c = self.customer[order[start] as usize];
            let mut end = start;
            while end < n && self.customer[order[end] as usize] == c {
                end += 1;
            }
            ranges.insert(names[c as usize].into(), (start as u32, end as u32));
            start = end;
        }
        let mut id_text = self.id_text;
        id_text.shrink_to_fit();
        let index = FactIndex {
            key,
            ranges,
            date: permute(self.date, &order),
            ts: permute(self.ts, &order),
            amount: permute(self.amount, &order),
            merchant: permute(self.merchant, &order),
            kind: permute(self.kind, &order),
            scan_row: order,
            id_end: self.id_end,
            id_text,
            merchants: self.merchants,
            kinds: self.kinds,
            labels: self.labels,
        };
        tracing::info!(
            rows = index.rows(),
            customers = index.ranges.len(),
            "fact index built"
        );
        Ok(index)
    }
}
