//! Customer deep dive: type-ahead search, profile header, churn risk and its drivers, key
//! metrics, the SCD2 history of tracked attributes, and the transaction history with period,
//! category and status filters, daily spend, category split, approval rate and CSV export.
//!
//! A customer's transactions are read once per request (one filtered scan of the fact table)
//! and summarised in Rust with exact decimals.

use axum::extract::{Path, RawQuery, State};
use axum::response::{Html, Response};
use axum::{Extension, Json};
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use serde_json::Value;

use crate::auth::Principal;
use crate::customers::ProfileSource;
use crate::data::{Frame, Params, Snapshot, Table};
use crate::error::{AppError, AppResult};
use crate::pages::mask_for;
use crate::pages::transactions::load_transactions;
use crate::render::{self, Chart, Chrome, HtmlTable, Page};
use crate::request::Args;
use crate::AppState;

/// Most search results.
pub const MAX_SEARCH: i64 = 25;

/// Checks a customer id from the path: letters, digits, `_` and `-`, at most 40.
pub(crate) fn customer_id(raw: &str) -> AppResult<String> {
    let ok = !raw.is_empty()
        && raw.len() <= 40
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(raw.to_string())
    } else {
        Err(AppError::bad(
            "customer id may hold only letters, digits, '_' and '-' (at most 40)",
        ))
    }
}

/// Search results.
#[derive(Debug, Serialize)]
pub struct SearchResults {
    /// Tables the search needs that are not in the lake.
    pub missing: Vec<String>,
    /// Matches: id, name, email, segment (masked for marketing).
    pub results: Frame,
}

/// Finds customers whose id starts with `q` or whose name or email contains it
/// (case-insensitive). Roles that see masked data search by id only.
pub async fn search(
    snap: &Snapshot,
    who: &Principal,
    q: &str,
    limit: i64,
) -> AppResult<SearchResults> {
    if !snap.has(Table::Profile) {
        return Ok(SearchResults {
            missing: vec![Table::Profile.sql()],
            results: Frame::default(),
        });
    }
    let mut p = Params::default();
    let exact = p.text(q);
    let prefix = p.text(&q.to_ascii_uppercase());
    let lower = p.text(&q.to_lowercase());
    let by_text = if who.role.masks_pii() {
        String::new()
    } else {
        format!(" OR strpos(lower(full_name), {lower}) > 0 OR strpos(lower(email), {lower}) > 0")
    };
    let sql = format!(
        "SELECT customer_id, full_name, email, customer_segment, state
         FROM gold.customer_360_profile
         WHERE customer_id = {exact} OR starts_with(upper(customer_id), {prefix}){by_text}
         ORDER BY CASE WHEN customer_id = {exact} THEN 0 ELSE 1 END, customer_id"
    );
    let mut results = snap
        .query_page(&sql, p.into_values(), 0, limit as usize)
        .await?;
    mask_for(who, &mut results);
    Ok(SearchResults {
        missing: Vec::new(),
        results,
    })
}

/// `GET /api/customers/search?q=…&limit=…`.
pub async fn search_api(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<SearchResults>> {
    let args = Args::parse(raw.as_deref(), &["q", "limit"])?;
    let q = args
        .one("q")?
        .ok_or_else(|| AppError::bad("parameter 'q' is required"))?;
    if q.chars().count() > 100 {
        return Err(AppError::bad("parameter 'q' is longer than 100 characters"));
    }
    let limit = args.int("limit", 10, 1, MAX_SEARCH)?;
    let snap = state.db().snapshot().await?;
    Ok(Json(search(&snap, &who, q, limit).await?))
}

/// One customer's profile and attribute history.
#[derive(Debug, Serialize)]
pub struct Customer {
    /// Tables the page needs that are not in the lake.
    pub missing: Vec<String>,
    /// Where the profile row comes from (`gold.customer_360_profile`, or without it
    /// `gold.dim_customer + gold.customer_segments`).
    pub profile_source: &'static str,
    /// Every profile column.
    pub profile: serde_json::Map<String, Value>,
    /// SCD2 versions of the tracked attributes, oldest first.
    pub history: Frame,
}

/// Loads customer `id` (404 when absent) from the customer index: the profile row, or without
/// `gold.customer_360_profile` the current `gold.dim_customer` row with its segment metrics.
pub async fn load(snap: &Snapshot, who: &Principal, id: &str) -> AppResult<Customer> {
    let customers = snap.customers();
    let source = customers
        .source()
        .ok_or_else(|| AppError::from(crate::data::Missing(Table::Profile.sql())))?;
    let mut profile = customers
        .profile(id)?
        .ok_or_else(|| AppError::NotFound(format!("no customer '{id}'")))?;
    mask_for(who, &mut profile);
    let profile = profile
        .first_object()
        .ok_or_else(|| AppError::NotFound(format!("no customer '{id}'")))?;
    let mut missing = Vec::new();
    if source != ProfileSource::Profile {
        missing.push(Table::Profile.sql());
    }
    let history = match customers.history(id)? {
        Some(history) => history,
        None => {
            missing.push(Table::DimCustomer.sql());
            Frame::default()
        }
    };
    Ok(Customer {
        missing,
        profile_source: source.name(),
        profile,
        history,
    })
}

/// `GET /api/customers/{id}`.
pub async fn api(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Customer>> {
    Args::parse(raw.as_deref(), &[])?;
    let id = customer_id(&id)?;
    let snap = state.db().snapshot().await?;
    Ok(Json(load(&snap, &who, &id).await?))
}

#[derive(Serialize)]
struct SearchCtx {
    q: String,
    results: HtmlTable,
    searched: bool,
    missing: Vec<String>,
}

/// `GET /customers?q=…`: the search page.
pub async fn search_page(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Page> {
    use axum::response::IntoResponse;
    let args = Args::parse(raw.as_deref(), &["q"])?;
    let q = args.one("q")?.unwrap_or("").to_string();
    if q.chars().count() > 100 {
        return Err(AppError::bad("search text is longer than 100 characters").into());
    }
    let snap = state.db().snapshot().await?;
    let (results, missing) = if q.is_empty() {
        (
            Frame::default(),
            if snap.has(Table::Profile) {
                vec![]
            } else {
                vec![Table::Profile.sql()]
            },
        )
    } else {
        let found = search(&snap, &who, &q, MAX_SEARCH).await?;
        // One exact hit: straight to the customer.
        if found.results.rows.len() == 1 {
            if let Value::String(id) = found.results.get(0, "customer_id") {
                return Ok(axum::response::Redirect::to(&format!(
                    "/customers/{}",
                    render::url_segment(id)
                ))
                .into_response());
            }
        }
        (found.results, found.missing)
    };
    let ctx = SearchCtx {
        searched: !q.is_empty(),
        q,
        results: HtmlTable::from_frame(&results),
        missing,
    };
    Ok(render::page(
        "customers.html",
        &Chrome::new(&who, "Customer deep dive", "customers").lake(&snap),
        &ctx,
    )?
    .into_response())
}

#[derive(Serialize)]
struct Ctx {
    id: String,
    name: String,
    header: Vec<(String, String)>,
    risk_score: String,
    risk_category: String,
    risk_class: String,
    drivers: Vec<String>,
    metrics: Vec<(String, String)>,
    flags: Vec<(String, String)>,
    history: HtmlTable,
    missing: Vec<String>,
    tx: Option<TxCtx>,
}

#[derive(Serialize)]
struct TxCtx {
    period: String,
    status: String,
    categories: Vec<(String, bool)>,
    total: usize,
    approval_rate: String,
    approved: usize,
    declined: usize,
    charts: Vec<Chart>,
    table: HtmlTable,
    export: String,
    prev: Option<String>,
    next: Option<String>,
    page: i64,
    pages: i64,
    as_of: String,
}

/// `GET /customers/{id}`.
pub async fn page(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, Page> {
    let args = Args::parse(raw.as_deref(), &["period", "category", "status", "page"])?;
    let id = customer_id(&id)?;
    let snap = state.db().snapshot().await?;
    let customer = load(&snap, &who, &id).await?;
    let p = &customer.profile;
    let show = |k: &str| {
        p.get(k)
            .map(|v| crate::format::cell(k, v))
            .unwrap_or_else(|| "—".into())
    };
    let header = [
        "customer_segment",
        "email",
        "age",
        "state",
        "city",
        "employment_status",
        "card_type",
        "credit_limit",
        "account_open_date",
        "account_age_days",
    ]
    .iter()
    .filter(|k| p.contains_key(**k))
    .map(|k| (crate::format::label(k), show(k)))
    .collect();
    let metrics = [
        "lifetime_value",
        "total_transactions",
        "avg_transaction_value",
        "spend_last_90_days",
        "spend_prior_90_days",
        "spend_change_pct",
        "avg_monthly_spend",
        "travel_spend_pct",
        "necessities_spend_pct",
        "tenure_months",
        "first_transaction_date",
        "last_transaction_date",
        "days_since_last_transaction",
        "recency_status",
        "spending_profile",
        "credit_utilization_pct",
        "segment_assigned_date",
    ]
    .iter()
    .filter(|k| p.contains_key(**k))
    .map(|k| (crate::format::label(k), show(k)))
    .collect();
    let flags = [
        "eligible_for_retention_campaign",
        "eligible_for_onboarding_campaign",
        "eligible_for_premium_campaign",
        "next_best_action",
    ]
    .iter()
    .filter(|k| p.contains_key(**k))
    .map(|k| (crate::format::label(k), show(k)))
    .collect();
    let drivers = match p.get("top_churn_drivers") {
        Some(Value::String(s)) => s
            .trim_matches(|c| c == '[' || c == ']')
            .split(',')
            .map(|d| d.trim().trim_matches('"').to_string())
            .filter(|d| !d.is_empty())
            .collect(),
        _ => Vec::new(),
    };
    let tx = if snap.has(Table::Transactions) {
        let t = load_transactions(&snap, &id, &args).await?;
        let base = t.filter.pairs();
        let pages = ((t.total as i64 + t.page_size - 1) / t.page_size).max(1);
        let nav = |page: i64| {
            let mut all = base.clone();
            all.push(("page", page.to_string()));
            format!(
                "/customers/{}?{}",
                render::url_segment(&id),
                crate::request::encode(&all)
            )
        };
        let known: Vec<String> = snap.category_names().await?.as_ref().clone();
        let mut rows = t.rows.clone();
        mask_for(&who, &mut rows);
        Some(TxCtx {
            period: t.filter.period_days.map_or("all".into(), |d| d.to_string()),
            status: t.filter.status.clone().unwrap_or_default(),
            categories: known
                .into_iter()
                .map(|c| {
                    let on = t.filter.categories.contains(&c);
                    (c, on)
                })
                .collect(),
            total: t.total,
            approval_rate: t.approval_rate.map_or("—".into(), |r| format!("{r:.1}%")),
            approved: t.approved,
            declined: t.declined,
            charts: vec![
                Chart::lines(
                    "daily-spend",
                    "Daily approved spend",
                    &t.daily_spend
                        .iter()
                        .map(|d| d.day.clone())
                        .collect::<Vec<_>>(),
                    &[(
                        "Spend".to_string(),
                        t.daily_spend.iter().map(|d| d.spend.to_f64()).collect(),
                    )],
                    "$",
                ),
                Chart::donut(
                    "category-split",
                    "Approved spend by category",
                    &t.categories
                        .iter()
                        .map(|c| (c.category.clone(), c.spend.to_f64().unwrap_or(0.0)))
                        .collect::<Vec<_>>(),
                ),
            ],
            table: HtmlTable::from_frame(&rows),
            export: format!(
                "/api/customers/{}/transactions.csv?{}",
                render::url_segment(&id),
                crate::request::encode(&base)
            ),
            prev: (t.page > 1).then(|| nav(t.page - 1)),
            next: (t.page < pages).then(|| nav(t.page + 1)),
            page: t.page,
            pages,
            as_of: t.as_of.as_str().unwrap_or("").to_string(),
        })
    } else {
        None
    };
    let mut missing = customer.missing.clone();
    if tx.is_none() {
        missing.push(Table::Transactions.sql());
    }
    let ctx = Ctx {
        name: p
            .get("full_name")
            .and_then(|v| v.as_str())
            .unwrap_or(&id)
            .to_string(),
        id: id.clone(),
        header,
        risk_score: show("churn_risk_score"),
        risk_category: p
            .get("churn_risk_category")
            .and_then(|v| v.as_str())
            .unwrap_or("Not Scored")
            .to_string(),
        risk_class: p
            .get("churn_risk_category")
            .and_then(|v| v.as_str())
            .unwrap_or("Not")
            .split(' ')
            .next()
            .unwrap_or("Not")
            .to_string(),
        drivers,
        metrics,
        flags,
        history: HtmlTable::from_frame(&customer.history),
        missing,
        tx,
    };
    render::page(
        "customer.html",
        &Chrome::new(&who, "Customer deep dive", "customers").lake(&snap),
        &ctx,
    )
}
