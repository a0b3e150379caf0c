//! `c360 serve`: the Customer 360 dashboard and its JSON API, over the lake's gold tables.
//!
//! What it is for: letting analysts, marketers and admins explore `gold.customer_360_profile`
//! and its neighbours from a browser or a script — overview, segment explorer, customer deep
//! dive, campaign simulator (SPEC §7), pipeline and data quality, metrics explorer — with
//! sign-in, roles and masking. What it is not for: computing gold (the model engine does) or
//! writing to the lake (it only reads).
//!
//! Main types:
//! - [`ServerConfig`]: the `[server]` table of `c360.toml` (bind address, users, tokens).
//! - [`AppState`] and [`app`]: the axum [`Router`] of every page and API route, testable with
//!   `tower::ServiceExt::oneshot` without a socket.
//! - [`serve`]: binds and runs it until Ctrl-C.
//! - [`campaign::simulate`]: the campaign simulator as a pure function.
//!
//! Pages are HTML rendered on the server (minijinja, auto-escaped) with charts drawn by a
//! vendored Apache ECharts served from the binary (`/assets/echarts.min.js`); no CDN, no Node
//! build. Every page's data is also JSON under `/api/...` (described by `/api/openapi.json`).
//! Every query binds user input as positional parameters; column names for sorting and
//! grouping come from whitelists.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use tower::ServiceExt;
//! use axum::body::Body;
//! use axum::http::{Request, StatusCode};
//!
//! let lake = c360_lake::Lake::new(tempfile::tempdir().unwrap().path());
//! let state = c360_server::AppState::new(c360_server::ServerConfig::default(), lake, ".");
//! let app = c360_server::app(state);
//! let health = app.clone().oneshot(Request::get("/health").body(Body::empty()).unwrap()).await.unwrap();
//! assert_eq!(health.status(), StatusCode::OK);
//! let overview = app.oneshot(Request::get("/api/overview").body(Body::empty()).unwrap()).await.unwrap();
//! assert_eq!(overview.status(), StatusCode::UNAUTHORIZED);
//! # });
//! ```

pub mod auth;
pub mod bootstrap;
pub mod campaign;
pub mod config;
pub mod customers;
pub mod data;
pub mod error;
pub mod facts;
pub mod format;
pub mod frame;
pub mod listen;
pub mod mask;
mod pages;
mod quiet;
pub mod render;
pub mod request;
pub mod semantic;
pub mod throttle;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use c360_lake::Lake;

pub use config::{hash_password, new_token, ConfigError, Role, ServerConfig};
pub use error::AppError;

/// Everything a handler needs: the lake reader, the config, live sessions.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    db: data::Db,
    config: ServerConfig,
    project_dir: PathBuf,
    sessions: auth::Sessions,
    throttle: throttle::SignInThrottle,
    tokens: HashMap<String, auth::Principal>,
    sharing: Option<c360_sharing::SharingState>,
}

impl AppState {
    /// State for serving `lake`; `project_dir` is where `target/manifest.json` is read from.
    pub fn new(config: ServerConfig, lake: Lake, project_dir: impl Into<PathBuf>) -> AppState {
        let tokens = auth::token_table(&config);
        let sharing = if config.sharing.shares.is_empty() {
            None
        } else {
            match c360_sharing::SharingState::new(config.sharing.clone(), lake.clone()) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::error!("Delta Sharing is off: {e}");
                    None
                }
            }
        };
        AppState {
            inner: Arc::new(Inner {
                db: data::Db::new(
                    lake,
                    Duration::from_secs(config.refresh_seconds),
                    config.fact_index_max_rows,
                ),
                sessions: auth::Sessions::new(Duration::from_secs(
                    u64::from(config.session_hours) * 3600,
                )),
                throttle: throttle::SignInThrottle::new(
                    config.login_free_attempts,
                    Duration::from_secs(config.login_max_lockout_seconds),
                ),
                config,
                project_dir: project_dir.into(),
                tokens,
                sharing,
            }),
        }
    }

    /// The lake reader.
    pub fn db(&self) -> &data::Db {
        &self.inner.db
    }

    /// The project folder.
    pub fn project_dir(&self) -> &Path {
        &self.inner.project_dir
    }
}

const ECHARTS: &str = include_str!("../assets/echarts.min.js");
const APP_JS: &str = include_str!("../assets/app.js");
const OPENAPI: &str = include_str!("../assets/openapi.json");

fn asset(content_type: &'static str, body: &'static str) -> axum::response::Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// The router of every page and API route. Everything but `/health` and the sign-in form
/// requires a session or a bearer token — unknown paths too: without one, `/no-such-page`
/// answers exactly as `/segments` does (401, or a redirect to the sign-in form), so routes
/// cannot be enumerated.
pub fn app(state: AppState) -> Router {
    let protected = Router::new()
        .route("/", get(pages::overview::page))
        .route("/segments", get(pages::segments::page))
        .route("/customers", get(pages::customer::search_page))
        .route("/customers/{id}", get(pages::customer::page))
        .route("/campaign", get(pages::campaign::page))
        .route("/pipeline", get(pages::pipeline::page))
        .route("/metrics", get(pages::metrics::page))
        .route(
            "/assets/echarts.min.js",
            get(|| async { asset("text/javascript; charset=utf-8", ECHARTS) }),
        )
        .route(
            "/assets/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/api/openapi.json",
            get(|| async { asset("application/json", OPENAPI) }),
        )
        .route("/api/me", get(pages::me))
        .route("/api/overview", get(pages::overview::api))
        .route("/api/segments", get(pages::segments::api))
        .route("/api/segments/export.csv", get(pages::segments::export))
        .route("/api/customers/search", get(pages::customer::search_api))
        .route("/api/customers/{id}", get(pages::customer::api))
        .route(
            "/api/customers/{id}/transactions",
            get(pages::transactions::api),
        )
        .route(
            "/api/customers/{id}/transactions.csv",
            get(pages::transactions::export),
        )
        .route("/api/campaign", get(pages::campaign::api))
        .route("/api/campaign/audience.csv", get(pages::campaign::export))
        .route("/api/pipeline", get(pages::pipeline::api))
        .route("/api/metrics/model", get(pages::metrics::model_api))
        .route("/api/metrics", get(pages::metrics::api))
        .route("/logout", post(auth::logout))
        .fallback(pages::not_found)
        // `layer`, not `route_layer`: the fallback and the 405s of known paths are behind it too.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require,
        ));
    let sharing = state.inner.sharing.clone();
    let mut router = Router::new()
        .route("/health", get(health))
        .route("/login", get(auth::login_form).post(auth::login))
        .merge(protected)
        .with_state(state);
    // Delta Sharing: recipients' bearer tokens, not dashboard sign-ins (crate c360-sharing).
    if let Some(sharing) = sharing {
        router = router.merge(c360_sharing::router(sharing));
    }
    router.layer(axum::middleware::map_response(security_headers))
}

/// `GET /health` (no sign-in): `ok`, or `degraded` with the names of the tables the server
/// could not read at their latest version (it keeps serving their last good version; the
/// reasons are on the pages and in `/api/pipeline`, for signed-in users only).
async fn health(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::Json<serde_json::Value> {
    let unreadable: Vec<String> = state
        .db()
        .unreadable()
        .iter()
        .map(|u| u.table.clone())
        .collect();
    let status = if unreadable.is_empty() {
        "ok"
    } else {
        "degraded"
    };
    let mut body = serde_json::json!({ "status": status });
    if !unreadable.is_empty() {
        body["unreadable"] = serde_json::json!(unreadable);
    }
    axum::Json(body)
}

async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.entry(k).or_insert(HeaderValue::from_static(v));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(headers, header::CACHE_CONTROL, "no-store");
    response
}

/// Binds `config.bind` and serves the dashboard over `lake` until Ctrl-C. Without users in
/// `config`, the generated admin of [`bootstrap::first_admin`] signs in (its password printed on
/// the first start only).
pub async fn serve(
    mut config: ServerConfig,
    lake: Lake,
    project_dir: PathBuf,
) -> anyhow::Result<()> {
    config.validate()?;
    match bootstrap::first_admin(&mut config, &lake.meta_dir())? {
        bootstrap::FirstAdmin::Created { password, path } => eprintln!(
            "No [server] users in c360.toml: created user '{}' with password\n\n    {password}\n\n\
             (shown only now; only its argon2 hash is kept, in {}; delete that file for a new \
             password, or list users in c360.toml: see docs/dashboard.md)",
            bootstrap::ADMIN_NAME,
            path.display()
        ),
        bootstrap::FirstAdmin::Loaded(path) => eprintln!(
            "Sign in as '{}' with the password printed on the first start (hash in {}; delete \
             it for a new password)",
            bootstrap::ADMIN_NAME,
            path.display()
        ),
        bootstrap::FirstAdmin::Configured => {}
    }
    let bind = config.bind;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    serve_on(listener, config, lake, project_dir).await
}

/// Serves on an already bound listener (tests bind port 0) until Ctrl-C.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    config: ServerConfig,
    lake: Lake,
    project_dir: PathBuf,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let limits = listen::Limits {
        header_read_timeout: Duration::from_secs(config.header_read_timeout_seconds),
        max_connections: config.max_connections,
    }
    .fitted_to_file_limit();
    let state = AppState::new(config, lake, project_dir);
    // Load the tables before the first request, so it is as fast as the rest. A table that
    // cannot be read is reported (and left out) by the snapshot itself.
    if let Err(e) = state.db().snapshot().await {
        tracing::warn!("could not load the lake yet: {}", data::describe(&e));
    }
    let sharing = &state.inner.config.sharing;
    let warnings = c360_sharing::snapshot::exposure_warnings(state.db().lake(), sharing);
    for warning in quiet::kernel_quiet(warnings).await {
        tracing::warn!("{warning}");
    }
    eprintln!("c360 dashboard on http://{addr}/ (Ctrl-C stops it)");
    listen::run(listener, app(state), limits, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}
