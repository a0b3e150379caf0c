//! c360's Delta Sharing server: partners read selected lake tables with the official Delta
//! Sharing clients (Python `delta-sharing`, pandas, Spark, Power BI) and no c360 code, without a
//! copy leaving the lake and without access to anything else.
//!
//! What it is for: the open protocol's REST endpoints (list shares, schemas and tables, table
//! version, metadata, query), mounted by `c360 serve` under `/delta-sharing/`; recipients with
//! hashed bearer tokens, expiry and revocation; per-recipient derived snapshots (row filter,
//! columns excluded or masked) written once per table version as Parquet under
//! `<lake>/_c360/sharing/snapshots/`; pre-signed file URLs that expire; an access log in the
//! lake. What it is not for: deciding what to share (that is `[server.sharing]` of c360.toml)
//! or serving the dashboard (`c360-server`).
//!
//! Main types:
//! - [`SharingConfig`]: shares → schemas → tables, with filters and column rules.
//! - [`RecipientStore`]: recipients and token digests (`c360 share recipient …`).
//! - [`SharingState`] and [`router`]: the axum routes.
//! - [`snapshot::materialise`]: the filtered snapshot a recipient reads.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use tower::ServiceExt;
//! let dir = tempfile::tempdir().unwrap();
//! let lake = c360_lake::Lake::new(dir.path());
//! let state = c360_sharing::SharingState::new(c360_sharing::SharingConfig::default(), lake).unwrap();
//! let app = c360_sharing::router(state);
//! let req = axum::http::Request::get("/delta-sharing/shares").body(axum::body::Body::empty()).unwrap();
//! let res = app.oneshot(req).await.unwrap();
//! assert_eq!(res.status(), 401);
//! # });
//! ```

pub mod access_log;
pub mod config;
pub mod error;
pub mod protocol;
pub mod recipients;
pub mod snapshot;
pub mod urls;

pub use config::SharingConfig;
pub use error::{Result, SharingError};
pub use protocol::{router, SharingState};
pub use recipients::{profile_json, Recipient, RecipientStore};
