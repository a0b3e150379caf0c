//! Campaign simulator: an audience from the profile filters, the inputs of SPEC §7, the ROI
//! with its sensitivity line and breakeven, and the audience as CSV.

use axum::extract::{RawQuery, State};
use axum::response::{Html, Response};
use axum::{Extension, Json};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::auth::Principal;
use crate::campaign::{simulate, CampaignInputs, CampaignResult};
use crate::data::{decimal_of, Params, Snapshot, Table};
use crate::error::AppResult;
use crate::pages::{csv_response, mask_for, segments, MAX_EXPORT_ROWS};
use crate::render::{self, Chart, Chrome, Page};
use crate::request::{encode, Args, AudienceFilter, AUDIENCE_KEYS};
use crate::AppState;

/// Default incentive per customer.
pub const DEFAULT_INCENTIVE: i64 = 100;
/// Default retention rate, percent.
pub const DEFAULT_RATE: i64 = 40;
/// Default cost per customer.
pub const DEFAULT_COST: i64 = 10;

/// The simulator's answer for an audience.
#[derive(Debug, Serialize)]
pub struct Campaign {
    /// Tables the page needs that are not in the lake.
    pub missing: Vec<String>,
    /// The audience filter.
    pub filter: AudienceFilter,
    /// Customers in the audience.
    pub audience_size: u64,
    /// Their total lifetime value (exact).
    pub audience_ltv: Decimal,
    /// The simulator's result (absent without the profile).
    pub result: Option<CampaignResult>,
}

fn keys() -> Vec<&'static str> {
    let mut k = AUDIENCE_KEYS.to_vec();
    k.extend(["incentive", "retention_rate", "cost_per_customer"]);
    k
}

/// Runs the simulator for `args`.
pub async fn load(snap: &Snapshot, args: &Args) -> AppResult<Campaign> {
    let filter = AudienceFilter::from_args(args)?;
    let max_money = Decimal::from(1_000_000i64);
    let incentive = args
        .decimal("incentive", Decimal::ZERO, max_money)?
        .unwrap_or(Decimal::from(DEFAULT_INCENTIVE));
    let rate = args
        .decimal("retention_rate", Decimal::ZERO, Decimal::ONE_HUNDRED)?
        .unwrap_or(Decimal::from(DEFAULT_RATE));
    let cost = args
        .decimal("cost_per_customer", Decimal::ZERO, max_money)?
        .unwrap_or(Decimal::from(DEFAULT_COST));
    if !snap.has(Table::Profile) {
        return Ok(Campaign {
            missing: vec![Table::Profile.sql()],
            filter,
            audience_size: 0,
            audience_ltv: Decimal::ZERO,
            result: None,
        });
    }
    let mut p = Params::default();
    let w = filter.where_sql(&mut p, "");
    let audience = snap
        .query(
            &format!("SELECT COUNT(*) AS n, SUM(lifetime_value) AS ltv FROM gold.customer_360_profile WHERE {w}"),
            p.into_values(),
        )
        .await?;
    let n = audience.get(0, "n").as_u64().unwrap_or(0);
    let ltv = decimal_of(audience.get(0, "ltv")).unwrap_or_default();
    // The exact average (sum / N), not an engine-rounded one.
    let avg_ltv = if n == 0 {
        Decimal::ZERO
    } else {
        ltv / Decimal::from(n)
    };
    let result = simulate(CampaignInputs {
        audience_size: n,
        avg_ltv,
        incentive,
        retention_rate: rate,
        cost_per_customer: cost,
    });
    Ok(Campaign {
        missing: Vec::new(),
        filter,
        audience_size: n,
        audience_ltv: ltv,
        result: Some(result),
    })
}

/// `GET /api/campaign`.
pub async fn api(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Campaign>> {
    let args = Args::parse(raw.as_deref(), &keys())?;
    let snap = state.db().snapshot().await?;
    Ok(Json(load(&snap, &args).await?))
}

/// Columns of the audience export.
const AUDIENCE_COLUMNS: &[&str] = &[
    "customer_id",
    "full_name",
    "email",
    "customer_segment",
    "state",
    "card_type",
    "lifetime_value",
    "churn_risk_score",
    "churn_risk_category",
    "next_best_action",
];

/// `GET /api/campaign/audience.csv`.
pub async fn export(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let args = Args::parse(raw.as_deref(), &keys())?;
    let filter = AudienceFilter::from_args(&args)?;
    let snap = state.db().snapshot().await?;
    snap.require(Table::Profile)?;
    let mut p = Params::default();
    let w = filter.where_sql(&mut p, "");
    let mut frame = snap
        .query_page(
            &format!(
                "SELECT {} FROM gold.customer_360_profile WHERE {w} ORDER BY customer_id",
                AUDIENCE_COLUMNS.join(", ")
            ),
            p.into_values(),
            0,
            MAX_EXPORT_ROWS,
        )
        .await?;
    mask_for(&who, &mut frame);
    csv_response("campaign_audience.csv", &frame)
}

#[derive(Serialize)]
struct Ctx<'a> {
    data: &'a Campaign,
    options: segments::FilterOptions,
    incentive: String,
    rate: String,
    cost: String,
    avg_ltv: String,
    audience: String,
    lines: Vec<(String, String, String)>,
    roi: String,
    breakeven: String,
    charts: Vec<Chart>,
    export: String,
}

/// `GET /campaign`.
pub async fn page(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, Page> {
    let args = Args::parse(raw.as_deref(), &keys())?;
    let snap = state.db().snapshot().await?;
    let data = load(&snap, &args).await?;
    let money = |d: Decimal| format!("${}", crate::format::money_text(&d.to_string()));
    let (incentive, rate, cost, avg_ltv) = match &data.result {
        Some(r) => (
            r.inputs.incentive,
            r.inputs.retention_rate,
            r.inputs.cost_per_customer,
            r.inputs.avg_ltv,
        ),
        None => (
            Decimal::from(DEFAULT_INCENTIVE),
            Decimal::from(DEFAULT_RATE),
            Decimal::from(DEFAULT_COST),
            Decimal::ZERO,
        ),
    };
    let (lines, roi, breakeven, charts) = match &data.result {
        Some(r) => (
            vec![
                (
                    "total-cost".into(),
                    "Total cost".into(),
                    money(r.total_cost),
                ),
                (
                    "retained".into(),
                    "Customers retained".into(),
                    crate::format::count_text(r.retained as i64),
                ),
                (
                    "retained-value".into(),
                    "Retained value".into(),
                    money(r.retained_value),
                ),
                ("net".into(), "Net value".into(), money(r.net)),
            ],
            format!("{:.2}%", r.roi_pct),
            r.breakeven_rate
                .map_or("none (ROI stays negative up to 100%)".to_string(), |b| {
                    format!("{b}%")
                }),
            vec![Chart::lines(
                "sensitivity",
                "ROI by retention rate",
                &r.sensitivity
                    .iter()
                    .map(|p| format!("{}%", p.rate))
                    .collect::<Vec<_>>(),
                &[(
                    "ROI %".to_string(),
                    r.sensitivity.iter().map(|p| Some(p.roi_pct)).collect(),
                )],
                "ROI %",
            )],
        ),
        None => (Vec::new(), "—".into(), "—".into(), Vec::new()),
    };
    let mut pairs = data.filter.pairs();
    pairs.extend([
        ("incentive", incentive.to_string()),
        ("retention_rate", rate.to_string()),
        ("cost_per_customer", cost.to_string()),
    ]);
    let ctx = Ctx {
        options: segments::options(&snap).await?,
        incentive: incentive.to_string(),
        rate: rate.to_string(),
        cost: cost.to_string(),
        avg_ltv: money(avg_ltv),
        audience: crate::format::count_text(data.audience_size as i64),
        lines,
        roi,
        breakeven,
        charts,
        export: format!("/api/campaign/audience.csv?{}", encode(&pairs)),
        data: &data,
    };
    render::page(
        "campaign.html",
        &Chrome::new(&who, "Campaign simulator", "campaign").lake(&snap),
        &ctx,
    )
}
