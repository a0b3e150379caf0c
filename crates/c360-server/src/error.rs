//! The one error type of every handler: user errors keep their status and message, internal
//! ones are logged and answered with an opaque 500.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why a request failed, sorted by who is at fault.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A parameter is missing, unknown or out of range (400).
    #[error("{0}")]
    BadRequest(String),
    /// No valid session or token (401).
    #[error("sign-in required")]
    Unauthorized,
    /// Signed in, but the role may not see this (403).
    #[error("your role may not see this page")]
    Forbidden,
    /// A wrong user name or password at sign-in (401, shown on the sign-in form).
    #[error("Wrong user name or password.")]
    BadSignIn,
    /// No such customer, page or resource (404).
    #[error("{0}")]
    NotFound(String),
    /// Too many failed sign-ins from this user or address (429 with `Retry-After`).
    #[error("Too many failed sign-ins: try again in {retry_after_secs} s.")]
    TooManyRequests {
        /// Seconds until the next attempt is accepted.
        retry_after_secs: u64,
    },
    /// Our bug or the lake's trouble: logged, answered with an opaque 500.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Handler result.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// A 400 with `message`.
    pub fn bad(message: impl Into<String>) -> AppError {
        AppError::BadRequest(message.into())
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized | AppError::BadSignIn => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

macro_rules! internal_from {
    ($($t:ty),*) => {$(
        impl From<$t> for AppError {
            fn from(err: $t) -> Self {
                AppError::Internal(err.into())
            }
        }
    )*};
}
internal_from!(
    anyhow::Error,
    c360_lake::LakeError,
    c360_lake::datafusion::error::DataFusionError,
    c360_lake::datafusion::arrow::error::ArrowError,
    std::io::Error,
    serde_json::Error,
    minijinja::Error
);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let AppError::Internal(err) = &self {
            tracing::error!("request failed: {err:#}");
        }
        let body = serde_json::json!({ "error": self.to_string(), "status": status.as_u16() });
        let mut response = (status, axum::Json(body)).into_response();
        self.add_headers(response.headers_mut());
        response
    }
}

impl AppError {
    /// The headers this error's answer carries: `WWW-Authenticate` on a missing sign-in,
    /// `Retry-After` when throttled.
    pub fn add_headers(&self, headers: &mut axum::http::HeaderMap) {
        use axum::http::{header, HeaderValue};
        match self {
            AppError::Unauthorized => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"c360\""),
                );
            }
            AppError::TooManyRequests { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
    }
}
