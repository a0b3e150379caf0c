//! Server-rendered HTML: minijinja templates compiled into the binary (auto-escaped), typed
//! contexts, tables built from [`Frame`]s and ECharts options handed to the page as JSON.

use std::sync::LazyLock;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::auth::Principal;
use crate::data::Frame;
use crate::error::AppError;
use crate::format;

static TEMPLATES: LazyLock<minijinja::Environment<'static>> = LazyLock::new(|| {
    let mut env = minijinja::Environment::new();
    for (name, source) in [
        (
            "layout.html",
            include_str!("../assets/templates/layout.html"),
        ),
        (
            "macros.html",
            include_str!("../assets/templates/macros.html"),
        ),
        ("login.html", include_str!("../assets/templates/login.html")),
        ("error.html", include_str!("../assets/templates/error.html")),
        (
            "overview.html",
            include_str!("../assets/templates/overview.html"),
        ),
        (
            "segments.html",
            include_str!("../assets/templates/segments.html"),
        ),
        (
            "customers.html",
            include_str!("../assets/templates/customers.html"),
        ),
        (
            "customer.html",
            include_str!("../assets/templates/customer.html"),
        ),
        (
            "campaign.html",
            include_str!("../assets/templates/campaign.html"),
        ),
        (
            "pipeline.html",
            include_str!("../assets/templates/pipeline.html"),
        ),
        (
            "metrics.html",
            include_str!("../assets/templates/metrics.html"),
        ),
    ] {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name} does not compile: {e:#}"));
    }
    env
});

/// What every page's layout needs besides its own content.
#[derive(Debug, Serialize)]
pub struct Chrome<'a> {
    /// Page title.
    pub title: &'a str,
    /// Which nav entry is active.
    pub active: &'a str,
    /// Signed-in user's name.
    pub user: &'a str,
    /// Their role.
    pub role: &'a str,
    /// Whether the pipeline page is in the nav.
    pub sees_pipeline: bool,
    /// Tables that could not be read at their latest version (a banner on every page).
    pub unreadable: Vec<crate::data::Unreadable>,
    /// Their names (so a page does not also call them "not in the lake yet").
    pub unreadable_tables: Vec<String>,
}

impl<'a> Chrome<'a> {
    /// The chrome for `who` on page `active`.
    pub fn new(who: &'a Principal, title: &'a str, active: &'a str) -> Chrome<'a> {
        Chrome {
            title,
            active,
            user: &who.name,
            role: who.role.name(),
            sees_pipeline: who.role.sees_pipeline(),
            unreadable: Vec::new(),
            unreadable_tables: Vec::new(),
        }
    }

    /// The chrome, saying which of `snap`'s tables could not be read.
    pub fn lake(mut self, snap: &crate::data::Snapshot) -> Chrome<'a> {
        self.unreadable = snap.unreadable().to_vec();
        self.unreadable_tables = self.unreadable.iter().map(|u| u.table.clone()).collect();
        self
    }
}

/// Renders template `name` with `chrome` and the page's own `ctx` (available as `page`).
pub fn page<T: Serialize>(name: &str, chrome: &Chrome<'_>, ctx: &T) -> Result<Html<String>, Page> {
    let template = TEMPLATES.get_template(name).map_err(AppError::from)?;
    let html = template
        .render(minijinja::context! { chrome => chrome, page => ctx })
        .map_err(AppError::from)?;
    Ok(Html(html))
}

/// The sign-in form.
pub fn login(next: &str, message: Option<&str>) -> Result<Html<String>, AppError> {
    let template = TEMPLATES.get_template("login.html")?;
    Ok(Html(template.render(
        minijinja::context! { next => next, message => message },
    )?))
}

/// An [`AppError`] shown as an HTML page (page routes) instead of JSON (API routes).
#[derive(Debug)]
pub struct Page(pub AppError);

impl From<AppError> for Page {
    fn from(e: AppError) -> Self {
        Page(e)
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if let AppError::Internal(err) = &self.0 {
            tracing::error!("page failed: {err:#}");
        }
        if status == StatusCode::UNAUTHORIZED {
            return axum::response::Redirect::to("/login").into_response();
        }
        let message = self.0.to_string();
        let body = TEMPLATES
            .get_template("error.html")
            .and_then(|t| {
                t.render(minijinja::context! { status => status.as_u16(), message => message })
            })
            .unwrap_or_else(|_| format!("{} {}", status.as_u16(), status));
        (status, Html(body)).into_response()
    }
}

/// An HTML table: headers and display text per cell.
#[derive(Debug, Default, Serialize)]
pub struct HtmlTable {
    /// Column keys (for sort links).
    pub keys: Vec<String>,
    /// Human-readable headers.
    pub headers: Vec<String>,
    /// Which columns are numeric (right-aligned).
    pub numeric: Vec<bool>,
    /// Cells: display text and an optional link.
    pub rows: Vec<Vec<Cell>>,
}

/// One table cell.
#[derive(Debug, Serialize)]
pub struct Cell {
    /// What is shown.
    pub text: String,
    /// Where it links, if anywhere.
    pub href: Option<String>,
}

impl HtmlTable {
    /// Formats every cell of `frame`; `customer_id` cells link to the deep dive.
    pub fn from_frame(frame: &Frame) -> HtmlTable {
        let numeric = frame
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                format::is_money(c)
                    || frame
                        .rows
                        .iter()
                        .any(|r| matches!(r.get(i), Some(Value::Number(_))))
            })
            .collect();
        HtmlTable {
            keys: frame.columns.clone(),
            headers: frame.columns.iter().map(|c| format::label(c)).collect(),
            numeric,
            rows: frame
                .rows
                .iter()
                .map(|row| {
                    frame
                        .columns
                        .iter()
                        .zip(row)
                        .map(|(c, v)| Cell {
                            text: format::cell(c, v),
                            href: match (c.as_str(), v) {
                                ("customer_id", Value::String(id)) => {
                                    Some(format!("/customers/{}", url_segment(id)))
                                }
                                _ => None,
                            },
                        })
                        .collect()
                })
                .collect(),
        }
    }
}

/// Percent-encodes one path segment.
pub fn url_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A chart: a DOM id and the ECharts option the page script hands to `setOption`.
#[derive(Debug, Serialize)]
pub struct Chart {
    /// Element id.
    pub id: String,
    /// Title above the chart.
    pub title: String,
    /// ECharts option.
    pub option: Value,
    /// Whether the chart has no data (the page says so instead of drawing it).
    pub empty: bool,
}

impl Chart {
    /// A chart with `option`.
    pub fn new(id: &str, title: &str, option: Value, empty: bool) -> Chart {
        Chart {
            id: id.to_string(),
            title: title.to_string(),
            option,
            empty,
        }
    }

    /// A donut of `(label, value)` pairs.
    pub fn donut(id: &str, title: &str, data: &[(String, f64)]) -> Chart {
        let series: Vec<Value> = data
            .iter()
            .map(|(name, value)| serde_json::json!({ "name": name, "value": value }))
            .collect();
        let option = serde_json::json!({
            "tooltip": { "trigger": "item" },
            "legend": { "bottom": 0, "type": "scroll" },
            "series": [{ "type": "pie", "radius": ["40%", "68%"], "data": series,
                          "label": { "formatter": "{b}: {d}%" } }]
        });
        Chart::new(id, title, option, data.is_empty())
    }

    /// A bar chart of `(label, value)` pairs.
    pub fn bars(id: &str, title: &str, data: &[(String, f64)], axis: &str) -> Chart {
        let rotate = if data.len() > 3 { 25 } else { 0 };
        let labels: Vec<&String> = data.iter().map(|d| &d.0).collect();
        let values: Vec<f64> = data.iter().map(|d| d.1).collect();
        let option = serde_json::json!({
            "tooltip": { "trigger": "axis" },
            "grid": { "left": 80, "right": 20, "bottom": 100 },
            "xAxis": { "type": "category", "data": labels,
                        "axisLabel": { "interval": 0, "rotate": rotate } },
            "yAxis": { "type": "value", "name": axis },
            "series": [{ "type": "bar", "data": values }]
        });
        Chart::new(id, title, option, data.is_empty())
    }

    /// Lines over a shared x axis: `x` labels and named series.
    pub fn lines(
        id: &str,
        title: &str,
        x: &[String],
        series: &[(String, Vec<Option<f64>>)],
        axis: &str,
    ) -> Chart {
        let lines: Vec<Value> = series
            .iter()
            .map(|(name, values)| {
                let show = values.len() < 40;
                serde_json::json!({ "name": name, "type": "line", "data": values, "showSymbol": show })
            })
            .collect();
        let option = serde_json::json!({
            "tooltip": { "trigger": "axis" },
            "legend": { "bottom": 0, "type": "scroll" },
            "grid": { "left": 80, "right": 20, "bottom": 60 },
            "xAxis": { "type": "category", "data": x },
            "yAxis": { "type": "value", "name": axis },
            "series": lines
        });
        Chart::new(id, title, option, x.is_empty())
    }
}

/// `(label, value)` pairs from two columns of a frame (values as doubles, for drawing only).
pub fn pairs(frame: &Frame, label: &str, value: &str) -> Vec<(String, f64)> {
    (0..frame.rows.len())
        .map(|i| {
            let l = match frame.get(i, label) {
                Value::String(s) => s.clone(),
                Value::Null => "(none)".to_string(),
                other => other.to_string(),
            };
            (l, crate::data::f64_of(frame.get(i, value)).unwrap_or(0.0))
        })
        .collect()
}
