//! Overview: KPI tiles, segment mix and value, monthly spend by segment, churn-risk mix, and
//! how fresh the data is.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::response::Html;
use axum::Extension;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use serde_json::Value;

use crate::auth::Principal;
use crate::data::{decimal_of, f64_of, Frame, Snapshot, Table};
use crate::error::AppResult;
use crate::render::{self, Chart, Chrome, HtmlTable, Page};
use crate::request::Args;
use crate::AppState;

/// The overview's data.
#[derive(Debug, Serialize)]
pub struct Overview {
    /// Tables the page needs that are not in the lake.
    pub missing: Vec<String>,
    /// Headline numbers (absent without the profile).
    pub kpis: Option<Kpis>,
    /// Per segment: customers, average and total lifetime value.
    pub segments: Frame,
    /// Customers per churn-risk category.
    pub churn_risk: Frame,
    /// Approved spend per month and segment.
    pub monthly_spend: Frame,
    /// How fresh the data is.
    pub freshness: Freshness,
}

/// Headline numbers over every current customer.
#[derive(Debug, Serialize)]
pub struct Kpis {
    /// Customers in the profile.
    pub customers: i64,
    /// Sum of lifetime value (exact).
    pub total_ltv: Value,
    /// Average lifetime value (exact, to the cent).
    pub avg_ltv: Value,
    /// Approved spend in the last 90 days (exact).
    pub spend_90d: Value,
    /// Approved spend in the 90 days before (exact).
    pub spend_prior_90d: Value,
    /// Change of 90-day spend, percent (NULL when the prior window is 0).
    pub spend_change_pct: Option<f64>,
    /// Lifetime value per approved transaction (exact, to the cent).
    pub avg_transaction_value: Value,
    /// Share of customers at high churn risk, percent.
    pub high_risk_pct: Option<f64>,
}

/// When the data is from.
#[derive(Debug, Serialize)]
pub struct Freshness {
    /// The as_of date of the profile.
    pub as_of: Value,
    /// The last pipeline run, if any: id, start, node count, failures.
    pub last_run: Option<serde_json::Map<String, Value>>,
}

const PROFILE: &str = "gold.customer_360_profile";

/// Computes the overview.
pub async fn load(snap: &Snapshot) -> AppResult<Overview> {
    let mut missing = Vec::new();
    let mut out = Overview {
        missing: Vec::new(),
        kpis: None,
        segments: Frame::default(),
        churn_risk: Frame::default(),
        monthly_spend: Frame::default(),
        freshness: Freshness {
            as_of: Value::Null,
            last_run: None,
        },
    };
    // Without the profile (the last model of a build), customer_segments has every number but
    // the churn risk.
    let source = if snap.has(Table::Profile) {
        Some((
            PROFILE,
            snap.pick_column(Table::Profile, &["profile_updated_date"]),
        ))
    } else if snap.has(Table::Segments) {
        missing.push(Table::Profile.sql());
        Some((
            "gold.customer_segments",
            snap.pick_column(Table::Segments, &["as_of_date"]),
        ))
    } else {
        missing.push(Table::Profile.sql());
        None
    };
    let has_risk = snap.has_column(Table::Profile, "churn_risk_category");
    if let Some((src, as_of)) = source {
        let as_of = as_of.map_or("CAST(NULL AS DATE)".to_string(), |c| format!("MAX({c})"));
        let high_risk = if has_risk {
            "AVG(CASE WHEN churn_risk_category = 'High' THEN 100.0 ELSE 0.0 END)"
        } else {
            "CAST(NULL AS DOUBLE)"
        };
        let k = snap
            .query(
                &format!(
                    "SELECT COUNT(*) AS customers, SUM(lifetime_value) AS total_ltv,
                            CAST(AVG(lifetime_value) AS DECIMAL(18,2)) AS avg_ltv,
                            SUM(spend_last_90_days) AS spend_90d,
                            SUM(spend_prior_90_days) AS spend_prior_90d,
                            CAST(SUM(lifetime_value) / NULLIF(SUM(total_transactions), 0) AS DECIMAL(18,2)) AS avg_transaction_value,
                            {high_risk} AS high_risk_pct,
                            {as_of} AS as_of
                     FROM {src}"
                ),
                vec![],
            )
            .await?;
        let s90 = decimal_of(k.get(0, "spend_90d"));
        let prior = decimal_of(k.get(0, "spend_prior_90d"));
        let change = match (s90, prior) {
            (Some(a), Some(b)) if !b.is_zero() => ((a - b) / b
                * rust_decimal::Decimal::ONE_HUNDRED)
                .round_dp(2)
                .to_f64(),
            _ => None,
        };
        out.kpis = Some(Kpis {
            customers: k.get(0, "customers").as_i64().unwrap_or(0),
            total_ltv: k.get(0, "total_ltv").clone(),
            avg_ltv: k.get(0, "avg_ltv").clone(),
            spend_90d: k.get(0, "spend_90d").clone(),
            spend_prior_90d: k.get(0, "spend_prior_90d").clone(),
            spend_change_pct: change,
            avg_transaction_value: k.get(0, "avg_transaction_value").clone(),
            high_risk_pct: f64_of(k.get(0, "high_risk_pct")),
        });
        out.freshness.as_of = k.get(0, "as_of").clone();
        out.segments = snap
            .query(
                &format!(
                    "SELECT customer_segment, COUNT(*) AS customers,
                            CAST(AVG(lifetime_value) AS DECIMAL(18,2)) AS avg_ltv,
                            SUM(lifetime_value) AS total_ltv
                     FROM {src} GROUP BY customer_segment ORDER BY customers DESC, customer_segment"
                ),
                vec![],
            )
            .await?;
        if has_risk {
            out.churn_risk = snap
                .query(
                    &format!(
                        "SELECT COALESCE(churn_risk_category, 'Not Scored') AS churn_risk_category, COUNT(*) AS customers
                         FROM {PROFILE} GROUP BY 1
                         ORDER BY CASE churn_risk_category WHEN 'High' THEN 1 WHEN 'Medium' THEN 2 WHEN 'Low' THEN 3 ELSE 4 END"
                    ),
                    vec![],
                )
                .await?;
        }
        let month = snap.pick_column(Table::MonthlySpend, &["month_start", "month"]);
        if let Some(month) = month {
            out.monthly_spend = snap
                .query(
                    &format!(
                        "SELECT m.{month} AS month, p.customer_segment, SUM(m.monthly_spend) AS spend
                         FROM gold.metric_mom_spend_change m JOIN {src} p ON m.customer_id = p.customer_id
                         GROUP BY 1, 2 ORDER BY 1, 2"
                    ),
                    vec![],
                )
                .await?;
        } else {
            missing.push(Table::MonthlySpend.sql());
        }
    }
    if snap.has(Table::RunHistory) {
        let run = snap
            .query(
                "SELECT run_id, MAX(run_started_at) AS started_at, COUNT(*) AS nodes,
                        SUM(CASE WHEN status IN ('error', 'fail') THEN 1 ELSE 0 END) AS failures
                 FROM _c360.run_history GROUP BY run_id ORDER BY started_at DESC LIMIT 1",
                vec![],
            )
            .await?;
        out.freshness.last_run = run.first_object();
    }
    out.missing = missing;
    Ok(out)
}

/// `GET /api/overview`.
pub async fn api(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> AppResult<axum::response::Response> {
    Args::parse(raw.as_deref(), &[])?;
    let snap = state.db().snapshot().await?;
    let data = snap.overview().await?;
    crate::pages::json_response(&*data)
}

#[derive(Serialize)]
struct Tile {
    label: &'static str,
    value: String,
    note: String,
}

#[derive(Serialize)]
struct Ctx<'a> {
    missing: &'a [String],
    tiles: Vec<Tile>,
    charts: Vec<Chart>,
    segments: HtmlTable,
    as_of: String,
    last_run: Option<String>,
}

/// `GET /`.
pub async fn page(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, Page> {
    Args::parse(raw.as_deref(), &[])?;
    let snap = state.db().snapshot().await?;
    let data = snap.overview().await?;
    let money = |v: &Value| match v {
        Value::Null => "—".to_string(),
        v => crate::format::cell("total_ltv", v),
    };
    let pct = |v: Option<f64>| v.map_or("—".to_string(), |p| format!("{p:.1}%"));
    let tiles = match &data.kpis {
        Some(k) => vec![
            Tile {
                label: "Customers",
                value: crate::format::count_text(k.customers),
                note: String::new(),
            },
            Tile {
                label: "Total lifetime value",
                value: money(&k.total_ltv),
                note: String::new(),
            },
            Tile {
                label: "Average lifetime value",
                value: money(&k.avg_ltv),
                note: String::new(),
            },
            Tile {
                label: "Spend, last 90 days",
                value: money(&k.spend_90d),
                note: format!("{} vs prior 90 days", pct(k.spend_change_pct)),
            },
            Tile {
                label: "Average transaction",
                value: money(&k.avg_transaction_value),
                note: String::new(),
            },
            Tile {
                label: "High churn risk",
                value: pct(k.high_risk_pct),
                note: "of customers".into(),
            },
        ],
        None => Vec::new(),
    };
    let mut charts = Vec::new();
    if data.kpis.is_some() {
        charts.push(Chart::donut(
            "segment-mix",
            "Customers by segment",
            &render::pairs(&data.segments, "customer_segment", "customers"),
        ));
        charts.push(Chart::bars(
            "ltv-by-segment",
            "Average lifetime value by segment",
            &render::pairs(&data.segments, "customer_segment", "avg_ltv"),
            "$",
        ));
        charts.push(monthly_chart(&data.monthly_spend));
        charts.push(Chart::bars(
            "churn-risk",
            "Customers by churn risk",
            &render::pairs(&data.churn_risk, "churn_risk_category", "customers"),
            "customers",
        ));
    }
    let as_of = match &data.freshness.as_of {
        Value::String(s) => s.clone(),
        _ => "unknown".into(),
    };
    let last_run = data.freshness.last_run.as_ref().map(|r| {
        let get = |k: &str| {
            r.get(k)
                .map(|v| crate::format::cell(k, v))
                .unwrap_or_default()
        };
        format!(
            "{} (run {}, {} nodes, {} failed)",
            get("started_at"),
            get("run_id"),
            get("nodes"),
            get("failures")
        )
    });
    let ctx = Ctx {
        missing: &data.missing,
        tiles,
        charts,
        segments: HtmlTable::from_frame(&data.segments),
        as_of,
        last_run,
    };
    render::page(
        "overview.html",
        &Chrome::new(&who, "Overview", "overview").lake(&snap),
        &ctx,
    )
}

fn monthly_chart(frame: &Frame) -> Chart {
    let mut months: Vec<String> = Vec::new();
    let mut by_segment: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for i in 0..frame.rows.len() {
        let month = match frame.get(i, "month") {
            Value::String(s) => s.chars().take(7).collect::<String>(),
            other => other.to_string(),
        };
        if months.last() != Some(&month) && !months.contains(&month) {
            months.push(month.clone());
        }
        let segment = frame
            .get(i, "customer_segment")
            .as_str()
            .unwrap_or("(none)")
            .to_string();
        *by_segment
            .entry(segment)
            .or_default()
            .entry(month)
            .or_default() += f64_of(frame.get(i, "spend")).unwrap_or(0.0);
    }
    months.sort();
    let series: Vec<(String, Vec<Option<f64>>)> = by_segment
        .into_iter()
        .map(|(seg, values)| {
            let line = months
                .iter()
                .map(|m| Some(values.get(m).copied().unwrap_or(0.0)))
                .collect();
            (seg, line)
        })
        .collect();
    Chart::lines(
        "monthly-spend",
        "Monthly spend by segment",
        &months,
        &series,
        "$",
    )
}
