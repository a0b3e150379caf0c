//! One module per dashboard page. Each computes its data once (`load`) and offers it as JSON
//! (`api`) and as HTML (`page`), so the API and the pages cannot drift apart.

pub mod campaign;
pub mod customer;
pub mod metrics;
pub mod overview;
pub mod pipeline;
pub mod segments;
pub mod transactions;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use crate::auth::Principal;
use crate::data::Frame;
use crate::error::{AppError, AppResult};
use crate::format;

/// `GET /api/me`: who the caller is.
pub async fn me(Extension(who): Extension<Principal>) -> Json<Principal> {
    Json(who)
}

/// Unknown paths.
pub async fn not_found() -> AppError {
    AppError::NotFound("no such page".into())
}

/// Most rows a CSV export writes.
pub const MAX_EXPORT_ROWS: usize = 1_000_000;

/// `frame` as a CSV download with human-readable headers: the only CSV writer of the server, so
/// every cell and header goes through [`format::csv_text`] (no cell starts a formula).
pub fn csv_response(filename: &str, frame: &Frame) -> AppResult<Response> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(
            frame
                .columns
                .iter()
                .map(|c| format::csv_text(&format::label(c))),
        )
        .map_err(anyhow::Error::from)?;
    for row in &frame.rows {
        writer
            .write_record(row.iter().map(format::csv_cell))
            .map_err(anyhow::Error::from)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("csv: {e}"))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `value` as a JSON response (for data shared behind an `Arc`).
pub fn json_response<T: serde::Serialize>(value: &T) -> AppResult<Response> {
    let body = serde_json::to_vec(value)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Masks `frame` when `who` may not see personal data.
pub fn mask_for(who: &Principal, frame: &mut Frame) {
    if who.role.masks_pii() {
        frame.mask_pii();
    }
}
