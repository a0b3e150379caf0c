//! A customer's transactions: period, category and status filters, daily spend, category
//! split, approval rate, pages and CSV export.
//!
//! The rows come from the fact index (the fact table held per customer in memory) when it is
//! ready for the snapshot's table versions, else from one filtered scan of
//! `gold.fct_transactions`; both give the same rows in the same order, summarised in Rust with
//! exact decimals.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::Json;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use crate::data::{decimal_of, Frame, Params, Snapshot, Table};
use crate::error::{AppError, AppResult};
use crate::facts::FactQuery;
use crate::pages::csv_response;
use crate::pages::customer::customer_id;
use crate::request::Args;
use crate::AppState;

/// Most transactions read for one customer.
pub const MAX_TRANSACTIONS: usize = 100_000;

/// The transaction filters.
#[derive(Debug, Clone, Serialize)]
pub struct TxFilter {
    /// Days back from as_of (`None`: all history).
    pub period_days: Option<i64>,
    /// Categories (any of).
    pub categories: Vec<String>,
    /// `approved` or `declined`.
    pub status: Option<String>,
}

/// Accepted periods.
const PERIODS: [&str; 5] = ["30", "90", "180", "365", "all"];

impl TxFilter {
    pub(crate) fn from_args(args: &Args) -> AppResult<TxFilter> {
        let period = args.choice("period", &PERIODS)?.unwrap_or("90");
        let period_days = period.parse().ok();
        let mut categories = Vec::new();
        for c in args.all("category") {
            let ok = c.len() <= 40
                && c.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || " &-".contains(ch));
            if !ok {
                return Err(AppError::bad(
                    "parameter 'category' may hold only letters, digits, spaces, '&' and '-'",
                ));
            }
            if !categories.iter().any(|x: &String| x.as_str() == c) {
                categories.push(c.to_string());
            }
        }
        let status = args
            .choice("status", &["approved", "declined"])?
            .map(str::to_string);
        Ok(TxFilter {
            period_days,
            categories,
            status,
        })
    }

    pub(crate) fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![(
            "period",
            self.period_days
                .map_or("all".to_string(), |d| d.to_string()),
        )];
        out.extend(self.categories.iter().map(|c| ("category", c.clone())));
        if let Some(s) = &self.status {
            out.push(("status", s.clone()));
        }
        out
    }
}

/// A customer's transactions in a period, with their summaries.
#[derive(Debug, Serialize)]
pub struct Transactions {
    /// Tables the page needs that are not in the lake.
    pub missing: Vec<String>,
    /// The filter applied.
    pub filter: TxFilter,
    /// The as_of the period counts back from.
    pub as_of: Value,
    /// Transactions matching (all statuses unless filtered).
    pub total: usize,
    /// Approved spend per day (exact).
    pub daily_spend: Vec<DaySpend>,
    /// Approved spend per category (exact), largest first.
    pub categories: Vec<CategorySpend>,
    /// Approved share of transactions in the period and categories (any status), percent.
    pub approval_rate: Option<f64>,
    /// Approved transactions counted for it.
    pub approved: usize,
    /// Declined transactions counted for it.
    pub declined: usize,
    /// Page number.
    pub page: i64,
    /// Rows per page.
    pub page_size: i64,
    /// This page of transactions, newest first.
    pub rows: Frame,
}

/// Approved spend on one day.
#[derive(Debug, Serialize)]
pub struct DaySpend {
    /// Day.
    pub day: String,
    /// Spend.
    pub spend: Decimal,
}

/// Approved spend in one category.
#[derive(Debug, Serialize)]
pub struct CategorySpend {
    /// Category.
    pub category: String,
    /// Spend.
    pub spend: Decimal,
    /// Approved transactions.
    pub transactions: usize,
}

/// The as_of customer `id`'s period counts back from: the profile's `profile_updated_date` (or,
/// without the profile, `customer_segments.as_of_date`); NULL for an unknown customer.
fn as_of_of(snap: &Snapshot, id: &str) -> AppResult<Value> {
    for column in ["profile_updated_date", "as_of_date"] {
        if let Some(value) = snap.customers().profile_value(id, column)? {
            return Ok(value);
        }
    }
    Ok(Value::Null)
}

fn days_since_epoch(day: chrono::NaiveDate) -> i32 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    (day - epoch).num_days() as i32
}

/// All of a customer's matching transactions, newest first (statuses filtered only when asked).
pub(crate) async fn read_transactions(
    snap: &Snapshot,
    id: &str,
    filter: &TxFilter,
    with_status: bool,
) -> AppResult<(Frame, Value)> {
    let as_of = as_of_of(snap, id)?;
    let as_of_day = as_of
        .as_str()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let since = match (as_of_day, filter.period_days) {
        (Some(day), Some(n)) => Some(day - chrono::Duration::days(n)),
        _ => None,
    };
    let status = filter.status.as_deref().filter(|_| with_status);
    if let Some(index) = snap.fact_index() {
        let query = FactQuery {
            until: as_of_day.map(days_since_epoch),
            since: since.map(days_since_epoch),
            categories: &filter.categories,
            status,
            limit: MAX_TRANSACTIONS,
        };
        return Ok((index.customer(id, &query), as_of));
    }
    let mut p = Params::default();
    let c = p.text(id);
    let mut conds = vec![format!("f.customer_id = {c}")];
    if let Some(day) = as_of_day {
        conds.push(format!("f.transaction_date <= {}", p.date(day)));
    }
    if let Some(day) = since {
        conds.push(format!("f.transaction_date > {}", p.date(day)));
    }
    let has_categories = snap.has(Table::Categories);
    let category = if has_categories {
        "COALESCE(c.category_name, 'Uncategorized')"
    } else {
        "'Uncategorized'"
    };
    if !filter.categories.is_empty() {
        conds.push(format!("{category} IN {}", p.text_list(&filter.categories)));
    }
    if let Some(s) = status {
        conds.push(format!("f.status = {}", p.text(s)));
    }
    let join = if has_categories {
        "LEFT JOIN gold.dim_merchant_category c ON f.merchant_category_key = c.category_key"
    } else {
        ""
    };
    let sql = format!(
        "SELECT f.transaction_date, f.transaction_ts, f.transaction_id, f.merchant_name, {category} AS category,
                f.channel, f.status, f.transaction_amount
         FROM gold.fct_transactions f {join}
         WHERE {conds}
         ORDER BY f.transaction_ts DESC, f.transaction_id",
        conds = conds.join(" AND ")
    );
    let frame = snap
        .query_page(&sql, p.into_values(), 0, MAX_TRANSACTIONS)
        .await?;
    Ok((frame, as_of))
}

/// Loads customer `id`'s transactions for `args`.
pub async fn load_transactions(snap: &Snapshot, id: &str, args: &Args) -> AppResult<Transactions> {
    let filter = TxFilter::from_args(args)?;
    let page = args.int("page", 1, 1, 1_000_000)?;
    let page_size = args.int("page_size", 50, 1, 500)?;
    let mut out = Transactions {
        missing: Vec::new(),
        filter,
        as_of: Value::Null,
        total: 0,
        daily_spend: Vec::new(),
        categories: Vec::new(),
        approval_rate: None,
        approved: 0,
        declined: 0,
        page,
        page_size,
        rows: Frame::default(),
    };
    if snap.customers().source().is_none() {
        out.missing.push(Table::Profile.sql());
    }
    if !snap.has(Table::Transactions) {
        out.missing.push(Table::Transactions.sql());
    }
    if !out.missing.is_empty() {
        return Ok(out);
    }
    let (all, as_of) = read_transactions(snap, id, &out.filter, false).await?;
    out.as_of = as_of;
    let mut daily: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut by_category: BTreeMap<String, (Decimal, usize)> = BTreeMap::new();
    let mut shown = Frame {
        columns: all.columns.clone(),
        rows: Vec::new(),
    };
    for (i, row) in all.rows.iter().enumerate() {
        let status = all.get(i, "status").as_str().unwrap_or("");
        let approved = status == "approved";
        if approved {
            out.approved += 1;
            let amount = decimal_of(all.get(i, "transaction_amount")).unwrap_or_default();
            let day = all
                .get(i, "transaction_date")
                .as_str()
                .unwrap_or("")
                .to_string();
            *daily.entry(day).or_default() += amount;
            let cat = all
                .get(i, "category")
                .as_str()
                .unwrap_or("Uncategorized")
                .to_string();
            let e = by_category.entry(cat).or_default();
            e.0 += amount;
            e.1 += 1;
        } else if status == "declined" {
            out.declined += 1;
        }
        if out.filter.status.as_deref().is_none_or(|s| s == status) {
            shown.rows.push(row.clone());
        }
    }
    let counted = out.approved + out.declined;
    out.approval_rate = (counted > 0).then(|| {
        (Decimal::from(out.approved * 100) / Decimal::from(counted))
            .round_dp(2)
            .to_f64()
            .unwrap_or(0.0)
    });
    out.daily_spend = daily
        .into_iter()
        .map(|(day, spend)| DaySpend { day, spend })
        .collect();
    let mut cats: Vec<CategorySpend> = by_category
        .into_iter()
        .map(|(category, (spend, transactions))| CategorySpend {
            category,
            spend,
            transactions,
        })
        .collect();
    cats.sort_by(|a, b| b.spend.cmp(&a.spend).then(a.category.cmp(&b.category)));
    out.categories = cats;
    out.total = shown.rows.len();
    let start = ((page - 1) * page_size) as usize;
    shown.rows = shown
        .rows
        .into_iter()
        .skip(start)
        .take(page_size as usize)
        .collect();
    out.rows = shown;
    Ok(out)
}

/// `GET /api/customers/{id}/transactions`.
pub async fn api(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Transactions>> {
    let args = Args::parse(
        raw.as_deref(),
        &["period", "category", "status", "page", "page_size"],
    )?;
    let id = customer_id(&id)?;
    let snap = state.db().snapshot().await?;
    Ok(Json(load_transactions(&snap, &id, &args).await?))
}

/// `GET /api/customers/{id}/transactions.csv`: every matching transaction.
pub async fn export(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let args = Args::parse(raw.as_deref(), &["period", "category", "status"])?;
    let id = customer_id(&id)?;
    let filter = TxFilter::from_args(&args)?;
    let snap = state.db().snapshot().await?;
    if snap.customers().source().is_none() {
        snap.require(Table::Profile)?;
    }
    snap.require(Table::Transactions)?;
    let (frame, _) = read_transactions(&snap, &id, &filter, true).await?;
    csv_response(&format!("transactions_{id}.csv"), &frame)
}
