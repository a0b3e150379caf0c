//! Metrics explorer: pick a measure, a dimension and filters from the semantic model (or a
//! preset question); see the chart, the table and the SQL that produced them.

use axum::extract::{RawQuery, State};
use axum::response::Html;
use axum::{Extension, Json};
use serde::Serialize;

use crate::auth::Principal;
use crate::data::{Frame, Snapshot, Table};
use crate::error::{AppError, AppResult};
use crate::render::{self, Chart, Chrome, HtmlTable, Page};
use crate::request::{encode, Args, AudienceFilter, AUDIENCE_KEYS};
use crate::semantic::{self, Dimension, Measure, Preset, Unit};
use crate::AppState;

/// The semantic model.
#[derive(Debug, Serialize)]
pub struct Model {
    /// Measures.
    pub measures: &'static [Measure],
    /// Dimensions.
    pub dimensions: &'static [Dimension],
    /// Filter keys (as the segment explorer's).
    pub filters: [&'static str; 5],
    /// Preset questions.
    pub presets: &'static [Preset],
}

/// `GET /api/metrics/model`.
pub async fn model_api(RawQuery(raw): RawQuery) -> AppResult<Json<Model>> {
    Args::parse(raw.as_deref(), &[])?;
    Ok(Json(Model {
        measures: semantic::MEASURES,
        dimensions: semantic::DIMENSIONS,
        filters: AUDIENCE_KEYS,
        presets: semantic::PRESETS,
    }))
}

/// An answered question.
#[derive(Debug, Serialize)]
pub struct Answer {
    /// Tables needed but missing.
    pub missing: Vec<String>,
    /// Measure key.
    pub measure: &'static str,
    /// Dimension key.
    pub dimension: &'static str,
    /// Filter.
    pub filter: AudienceFilter,
    /// The SQL run, with `$n` placeholders.
    pub sql: String,
    /// The values bound to the placeholders, in order.
    pub params: Vec<String>,
    /// Rows: `dimension`, `measure`.
    pub rows: Frame,
}

fn keys() -> Vec<&'static str> {
    let mut k = AUDIENCE_KEYS.to_vec();
    k.extend(["measure", "dimension"]);
    k
}

/// Answers the question in `args` (default: customers by segment).
pub async fn load(snap: &Snapshot, args: &Args) -> AppResult<Answer> {
    let measure_keys: Vec<&str> = semantic::MEASURES.iter().map(|m| m.key).collect();
    let dimension_keys: Vec<&str> = semantic::DIMENSIONS.iter().map(|d| d.key).collect();
    let measure = semantic::measure(
        args.choice("measure", &measure_keys)?
            .unwrap_or("customers"),
    )
    .ok_or_else(|| AppError::bad("unknown measure"))?;
    let dimension = semantic::dimension(
        args.choice("dimension", &dimension_keys)?
            .unwrap_or("segment"),
    )
    .ok_or_else(|| AppError::bad("unknown dimension"))?;
    let filter = AudienceFilter::from_args(args)?;
    let (sql, params) = semantic::compile(measure, dimension, &filter);
    let shown: Vec<String> = params.0.iter().map(|v| v.to_string()).collect();
    let mut answer = Answer {
        missing: Vec::new(),
        measure: measure.key,
        dimension: dimension.key,
        filter,
        sql,
        params: shown,
        rows: Frame::default(),
    };
    if !snap.has(Table::Profile) {
        answer.missing.push(Table::Profile.sql());
        return Ok(answer);
    }
    answer.rows = snap.query(&answer.sql, params.into_values()).await?;
    Ok(answer)
}

/// `GET /api/metrics?measure=…&dimension=…&<filters>`.
pub async fn api(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Answer>> {
    let args = Args::parse(raw.as_deref(), &keys())?;
    let snap = state.db().snapshot().await?;
    Ok(Json(load(&snap, &args).await?))
}

#[derive(Serialize)]
struct Ctx<'a> {
    answer: &'a Answer,
    measures: &'static [Measure],
    dimensions: &'static [Dimension],
    presets: Vec<(String, String)>,
    options: crate::pages::segments::FilterOptions,
    title: String,
    charts: Vec<Chart>,
    table: HtmlTable,
}

/// `GET /metrics`.
pub async fn page(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, Page> {
    let args = Args::parse(raw.as_deref(), &keys())?;
    let snap = state.db().snapshot().await?;
    let answer = load(&snap, &args).await?;
    let measure =
        semantic::measure(answer.measure).ok_or_else(|| AppError::bad("unknown measure"))?;
    let dimension =
        semantic::dimension(answer.dimension).ok_or_else(|| AppError::bad("unknown dimension"))?;
    let title = format!("{} by {}", measure.label, dimension.label.to_lowercase());
    let presets = semantic::PRESETS
        .iter()
        .map(|p| {
            let mut q = encode(&[
                ("measure", p.measure.to_string()),
                ("dimension", p.dimension.to_string()),
            ]);
            if !p.filters.is_empty() {
                q.push('&');
                q.push_str(p.filters);
            }
            (p.question.to_string(), format!("/metrics?{q}"))
        })
        .collect();
    // Name the columns after the measure's unit so the table formats them.
    let mut shown = answer.rows.clone();
    let value_col = match measure.unit {
        Unit::Money => "value",
        Unit::Percent => "share_pct",
        Unit::Count => "customers",
        Unit::Number => "score",
    };
    shown.columns = vec![dimension.label.to_string(), value_col.to_string()];
    let mut table = HtmlTable::from_frame(&shown);
    table.headers = vec![dimension.label.to_string(), measure.label.to_string()];
    let data = render::pairs(&answer.rows, "dimension", "measure");
    let charts = if answer.missing.is_empty() {
        vec![Chart::bars("metric", &title, &data, measure.label)]
    } else {
        Vec::new()
    };
    let ctx = Ctx {
        options: crate::pages::segments::options(&snap).await?,
        answer: &answer,
        measures: semantic::MEASURES,
        dimensions: semantic::DIMENSIONS,
        presets,
        title,
        charts,
        table,
    };
    render::page(
        "metrics.html",
        &Chrome::new(&who, "Metrics explorer", "metrics").lake(&snap),
        &ctx,
    )
}
