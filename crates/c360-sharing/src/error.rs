//! Errors, and how each reaches a Delta Sharing client: an HTTP status with the protocol's body
//! `{"errorCode": "...", "message": "..."}`. Internal failures are logged and answered with an
//! opaque 500, so no path or table internals leak to a recipient.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// What went wrong, sorted by who is at fault.
#[derive(Debug, thiserror::Error)]
pub enum SharingError {
    /// `[server.sharing]` is malformed (the administrator's).
    #[error("[server.sharing]: {0}")]
    Config(String),
    /// A bad request parameter (400 `INVALID_PARAMETER_VALUE`).
    #[error("{0}")]
    InvalidParameter(String),
    /// No valid bearer token: missing, unknown, expired or revoked (401 `UNAUTHENTICATED`).
    #[error("{0}")]
    Unauthenticated(String),
    /// A file URL that is tampered with, expired or not the caller's (403 `PERMISSION_DENIED`).
    #[error("{0}")]
    PermissionDenied(String),
    /// No such share, schema, table or recipient — for this recipient (404
    /// `RESOURCE_DOES_NOT_EXIST`).
    #[error("{0}")]
    NotFound(String),
    /// The recipients store cannot be read or written.
    #[error("{path}: {message}")]
    Store {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        message: String,
    },
    /// The lake or the query engine failed (500 `INTERNAL_ERROR`).
    #[error("lake: {0}")]
    Lake(String),
}

/// Result alias.
pub type Result<T, E = SharingError> = std::result::Result<T, E>;

impl SharingError {
    /// HTTP status and protocol error code.
    pub fn status(&self) -> (StatusCode, &'static str) {
        match self {
            SharingError::InvalidParameter(_) => {
                (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE")
            }
            SharingError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
            SharingError::PermissionDenied(_) => (StatusCode::FORBIDDEN, "PERMISSION_DENIED"),
            SharingError::NotFound(_) => (StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST"),
            SharingError::Config(_) | SharingError::Store { .. } | SharingError::Lake(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR")
            }
        }
    }
}

impl From<c360_lake::LakeError> for SharingError {
    fn from(e: c360_lake::LakeError) -> Self {
        SharingError::Lake(e.to_string())
    }
}

impl From<c360_lake::datafusion::error::DataFusionError> for SharingError {
    fn from(e: c360_lake::datafusion::error::DataFusionError) -> Self {
        SharingError::Lake(e.to_string())
    }
}

impl From<c360_lake::datafusion::arrow::error::ArrowError> for SharingError {
    fn from(e: c360_lake::datafusion::arrow::error::ArrowError) -> Self {
        SharingError::Lake(e.to_string())
    }
}

impl From<c360_lake::datafusion::parquet::errors::ParquetError> for SharingError {
    fn from(e: c360_lake::datafusion::parquet::errors::ParquetError) -> Self {
        SharingError::Lake(e.to_string())
    }
}

impl IntoResponse for SharingError {
    fn into_response(self) -> Response {
        let (status, code) = self.status();
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!("delta sharing request failed: {self}");
            "internal error".to_string()
        } else {
            self.to_string()
        };
        let mut response = (
            status,
            axum::Json(serde_json::json!({ "errorCode": code, "message": message })),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"delta-sharing\""),
            );
        }
        response
    }
}
