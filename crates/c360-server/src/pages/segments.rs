//! Segment explorer: audience filters, summary metrics, segment/risk/LTV charts, a sortable
//! paged customer table, and a CSV export of the whole filtered set.

use axum::extract::{RawQuery, State};
use axum::response::{Html, Response};
use axum::{Extension, Json};
use serde::Serialize;

use crate::auth::Principal;
use crate::data::{Frame, Params, Snapshot, Table};
use crate::error::{AppError, AppResult};
use crate::pages::{csv_response, mask_for, MAX_EXPORT_ROWS};
use crate::render::{self, Chart, Chrome, HtmlTable, Page};
use crate::request::{encode, Args, AudienceFilter, AUDIENCE_KEYS, RISK_CATEGORIES, SEGMENTS};
use crate::AppState;

/// Columns of the customer table.
const TABLE_COLUMNS: &[&str] = &[
    "customer_id",
    "full_name",
    "email",
    "customer_segment",
    "state",
    "card_type",
    "lifetime_value",
    "spend_last_90_days",
    "spend_change_pct",
    "churn_risk_score",
    "churn_risk_category",
    "recency_status",
    "next_best_action",
];

/// Columns the table may be sorted by.
pub const SORTABLE: &[&str] = &[
    "customer_id",
    "full_name",
    "customer_segment",
    "state",
    "card_type",
    "lifetime_value",
    "spend_last_90_days",
    "spend_change_pct",
    "churn_risk_score",
    "days_since_last_transaction",
    "credit_utilization_pct",
    "tenure_months",
];

/// Whether `who` may sort by `column`: not by a column masked for their role.
fn may_sort_by(who: &Principal, column: &str) -> bool {
    !(who.role.masks_pii() && crate::mask::pii_kind(column).is_some())
}

/// Largest page.
pub const MAX_PAGE_SIZE: i64 = 200;

/// The explorer's data.
#[derive(Debug, Serialize)]
pub struct Segments {
    /// Tables the page needs that are not in the lake.
    pub missing: Vec<String>,
    /// The filter applied.
    pub filter: AudienceFilter,
    /// Customers matching.
    pub total: i64,
    /// Summary over the filtered set.
    pub summary: Option<serde_json::Map<String, serde_json::Value>>,
    /// Customers and value per segment (filtered).
    pub segment_mix: Frame,
    /// Customers per churn-risk category (filtered).
    pub risk_mix: Frame,
    /// Page number (from 1).
    pub page: i64,
    /// Rows per page.
    pub page_size: i64,
    /// Sort column and order.
    pub sort: String,
    /// `asc` or `desc`.
    pub order: String,
    /// This page's customers.
    pub rows: Frame,
    /// Values offered by the filter form.
    pub options: FilterOptions,
}

/// Values offered by the filter form.
#[derive(Debug, Serialize, Default)]
pub struct FilterOptions {
    /// Segments.
    pub segments: Vec<String>,
    /// States present in the profile.
    pub states: Vec<String>,
    /// Churn-risk categories.
    pub risks: Vec<String>,
    /// Card types present in the profile.
    pub card_types: Vec<String>,
}

/// Keys the explorer accepts.
fn keys() -> Vec<&'static str> {
    let mut k = AUDIENCE_KEYS.to_vec();
    k.extend(["sort", "order", "page", "page_size"]);
    k
}

/// Distinct states and card types, for the filter forms.
pub async fn options(snap: &Snapshot) -> AppResult<FilterOptions> {
    let mut out = FilterOptions {
        segments: SEGMENTS.iter().map(|s| s.to_string()).collect(),
        risks: RISK_CATEGORIES.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    if snap.has(Table::Profile) {
        for (column, target) in [
            ("state", &mut out.states),
            ("card_type", &mut out.card_types),
        ] {
            let f = snap
                .query(
                    &format!("SELECT DISTINCT {column} AS v FROM gold.customer_360_profile WHERE {column} IS NOT NULL ORDER BY 1"),
                    vec![],
                )
                .await?;
            *target = f
                .rows
                .iter()
                .filter_map(|r| r[0].as_str().map(str::to_string))
                .collect();
        }
    }
    Ok(out)
}

/// Computes the explorer for `args`.
pub async fn load(snap: &Snapshot, who: &Principal, args: &Args) -> AppResult<Segments> {
    let filter = AudienceFilter::from_args(args)?;
    let sort = args
        .choice("sort", SORTABLE)?
        .unwrap_or("lifetime_value")
        .to_string();
    if !may_sort_by(who, &sort) {
        // The order of the real values would tell what the masks hide.
        return Err(AppError::bad(format!(
            "parameter 'sort': '{sort}' is masked for your role and cannot be sorted by"
        )));
    }
    let order = args
        .choice("order", &["asc", "desc"])?
        .unwrap_or("desc")
        .to_string();
    let page = args.int("page", 1, 1, 1_000_000)?;
    let page_size = args.int("page_size", 25, 1, MAX_PAGE_SIZE)?;
    let mut out = Segments {
        missing: Vec::new(),
        filter,
        total: 0,
        summary: None,
        segment_mix: Frame::default(),
        risk_mix: Frame::default(),
        page,
        page_size,
        sort,
        order,
        rows: Frame::default(),
        options: options(snap).await?,
    };
    if !snap.has(Table::Profile) {
        out.missing.push(Table::Profile.sql());
        return Ok(out);
    }
    let filter = out.filter.clone();
    let where_sql = |p: &mut Params| filter.where_sql(p, "");
    let mut p = Params::default();
    let w = where_sql(&mut p);
    let summary = snap
        .query(
            &format!(
                "SELECT COUNT(*) AS customers, SUM(lifetime_value) AS total_ltv,
                        CAST(AVG(lifetime_value) AS DECIMAL(18,2)) AS avg_ltv,
                        SUM(spend_last_90_days) AS spend_90d,
                        AVG(churn_risk_score) AS avg_churn_risk_score,
                        AVG(CASE WHEN churn_risk_category = 'High' THEN 100.0 ELSE 0.0 END) AS high_risk_pct
                 FROM gold.customer_360_profile WHERE {w}"
            ),
            p.into_values(),
        )
        .await?;
    out.total = summary.get(0, "customers").as_i64().unwrap_or(0);
    out.summary = summary.first_object();
    let mut p = Params::default();
    let w = where_sql(&mut p);
    out.segment_mix = snap
        .query(
            &format!(
                "SELECT customer_segment, COUNT(*) AS customers,
                        CAST(AVG(lifetime_value) AS DECIMAL(18,2)) AS avg_ltv
                 FROM gold.customer_360_profile WHERE {w}
                 GROUP BY 1 ORDER BY customers DESC, customer_segment"
            ),
            p.into_values(),
        )
        .await?;
    let mut p = Params::default();
    let w = where_sql(&mut p);
    out.risk_mix = snap
        .query(
            &format!(
                "SELECT COALESCE(churn_risk_category, 'Not Scored') AS churn_risk_category, COUNT(*) AS customers
                 FROM gold.customer_360_profile WHERE {w} GROUP BY 1 ORDER BY 1"
            ),
            p.into_values(),
        )
        .await?;
    let mut p = Params::default();
    let w = where_sql(&mut p);
    // Sort column and direction come from whitelists above, never from the request text.
    let direction = if out.order == "asc" { "ASC" } else { "DESC" };
    let offset = ((page - 1) * page_size) as usize;
    let mut rows = snap
        .query_page(
            &format!(
                "SELECT {cols} FROM gold.customer_360_profile WHERE {w}
                 ORDER BY {sort} {direction} NULLS LAST, customer_id",
                cols = TABLE_COLUMNS.join(", "),
                sort = out.sort,
            ),
            p.into_values(),
            offset,
            page_size as usize,
        )
        .await?;
    mask_for(who, &mut rows);
    out.rows = rows;
    Ok(out)
}

/// `GET /api/segments`.
pub async fn api(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Segments>> {
    let args = Args::parse(raw.as_deref(), &keys())?;
    let snap = state.db().snapshot().await?;
    Ok(Json(load(&snap, &who, &args).await?))
}

/// The filtered profile (every column), for CSV exports.
pub async fn filtered_profile(
    snap: &Snapshot,
    who: &Principal,
    filter: &AudienceFilter,
) -> AppResult<Frame> {
    snap.require(Table::Profile)?;
    let mut p = Params::default();
    let w = filter.where_sql(&mut p, "");
    let mut frame = snap
        .query_page(
            &format!("SELECT * FROM gold.customer_360_profile WHERE {w} ORDER BY customer_id"),
            p.into_values(),
            0,
            MAX_EXPORT_ROWS,
        )
        .await?;
    mask_for(who, &mut frame);
    Ok(frame)
}

/// `GET /api/segments/export.csv`: the whole filtered set, every profile column.
pub async fn export(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let args = Args::parse(raw.as_deref(), &AUDIENCE_KEYS)?;
    let filter = AudienceFilter::from_args(&args)?;
    let snap = state.db().snapshot().await?;
    let frame = filtered_profile(&snap, &who, &filter).await?;
    csv_response("customers.csv", &frame)
}

#[derive(Serialize)]
struct SortLink {
    label: String,
    href: Option<String>,
    arrow: &'static str,
}

#[derive(Serialize)]
struct Ctx<'a> {
    data: &'a Segments,
    summary: Vec<(String, String)>,
    charts: Vec<Chart>,
    table: HtmlTable,
    sort_links: Vec<SortLink>,
    prev: Option<String>,
    next: Option<String>,
    pages: i64,
    export: String,
    campaign: String,
}

/// `GET /segments`.
pub async fn page(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, Page> {
    let args = Args::parse(raw.as_deref(), &keys())?;
    let snap = state.db().snapshot().await?;
    let data = load(&snap, &who, &args).await?;
    let base = data.filter.pairs();
    let link = |extra: Vec<(&'static str, String)>| {
        let mut all = base.clone();
        all.extend(extra);
        format!("/segments?{}", encode(&all))
    };
    let pages = ((data.total + data.page_size - 1) / data.page_size).max(1);
    let nav = |page: i64| {
        link(vec![
            ("sort", data.sort.clone()),
            ("order", data.order.clone()),
            ("page", page.to_string()),
            ("page_size", data.page_size.to_string()),
        ])
    };
    let sort_links = TABLE_COLUMNS
        .iter()
        .map(|c| {
            let sortable = SORTABLE.contains(c) && may_sort_by(&who, c);
            let current = data.sort == *c;
            let next_order = if current && data.order == "desc" {
                "asc"
            } else {
                "desc"
            };
            SortLink {
                label: crate::format::label(c),
                href: sortable.then(|| {
                    link(vec![
                        ("sort", c.to_string()),
                        ("order", next_order.to_string()),
                    ])
                }),
                arrow: match (current, data.order.as_str()) {
                    (true, "asc") => " ▲",
                    (true, _) => " ▼",
                    _ => "",
                },
            }
        })
        .collect();
    let summary = data
        .summary
        .as_ref()
        .map(|s| {
            s.iter()
                .map(|(k, v)| (crate::format::label(k), crate::format::cell(k, v)))
                .collect()
        })
        .unwrap_or_default();
    let charts = if data.missing.is_empty() {
        vec![
            Chart::donut(
                "segment-mix",
                "Segment mix",
                &render::pairs(&data.segment_mix, "customer_segment", "customers"),
            ),
            Chart::donut(
                "risk-mix",
                "Churn-risk mix",
                &render::pairs(&data.risk_mix, "churn_risk_category", "customers"),
            ),
            Chart::bars(
                "ltv-by-segment",
                "Average lifetime value by segment",
                &render::pairs(&data.segment_mix, "customer_segment", "avg_ltv"),
                "$",
            ),
        ]
    } else {
        Vec::new()
    };
    let ctx = Ctx {
        summary,
        charts,
        table: HtmlTable::from_frame(&data.rows),
        sort_links,
        prev: (data.page > 1).then(|| nav(data.page - 1)),
        next: (data.page < pages).then(|| nav(data.page + 1)),
        pages,
        export: format!("/api/segments/export.csv?{}", encode(&base)),
        campaign: format!("/campaign?{}", encode(&base)),
        data: &data,
    };
    render::page(
        "segments.html",
        &Chrome::new(&who, "Segment explorer", "segments").lake(&snap),
        &ctx,
    )
}

impl From<crate::data::Missing> for Page {
    fn from(m: crate::data::Missing) -> Self {
        Page(AppError::from(m))
    }
}
