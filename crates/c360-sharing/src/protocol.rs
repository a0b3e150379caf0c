//! The Delta Sharing REST protocol under `/delta-sharing/`: list shares, schemas and tables,
//! table version, metadata and query (NDJSON `protocol` / `metaData` / `file` lines with the
//! `delta-table-version` header), and the pre-signed file downloads those `file` lines point to.
//! Every route but the downloads needs `Authorization: Bearer <recipient token>`; a recipient
//! sees only the shares that list it, and a table it may not see is a 404 like one that does
//! not exist.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use c360_lake::Lake;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::access_log::{Access, AccessLog};
use crate::config::{SharingConfig, TableConfig};
use crate::error::{Result, SharingError};
use crate::recipients::{Recipient, RecipientStore};
use crate::snapshot::{self, Snapshot};
use crate::urls::{SignedUrl, UrlSigner};

/// The largest `limitHint` accepted (larger is a 400).
pub const MAX_LIMIT_HINT: i64 = 1_000_000_000;
/// The largest `maxResults` of list calls.
pub const MAX_RESULTS: usize = 1000;

/// What the sharing routes need.
#[derive(Clone)]
pub struct SharingState {
    inner: Arc<Inner>,
}

struct Inner {
    lake: Lake,
    config: SharingConfig,
    recipients: RecipientStore,
    signer: UrlSigner,
    log: AccessLog,
}

impl SharingState {
    /// Shares of `config` over `lake` (creates the URL-signing key on first use).
    pub fn new(config: SharingConfig, lake: Lake) -> Result<SharingState> {
        config.validate()?;
        let meta = lake.meta_dir();
        Ok(SharingState {
            inner: Arc::new(Inner {
                recipients: RecipientStore::new(&meta),
                signer: UrlSigner::open(&meta)?,
                log: AccessLog::new(lake.clone()),
                lake,
                config,
            }),
        })
    }
}

/// The `/delta-sharing/...` routes.
pub fn router(state: SharingState) -> Router {
    let t = "/delta-sharing/shares/{share}/schemas/{schema}/tables/{table}";
    let authed = Router::new()
        .route("/delta-sharing/shares", get(list_shares))
        .route("/delta-sharing/shares/{share}", get(get_share))
        .route("/delta-sharing/shares/{share}/schemas", get(list_schemas))
        .route(
            "/delta-sharing/shares/{share}/schemas/{schema}/tables",
            get(list_tables),
        )
        .route(
            "/delta-sharing/shares/{share}/all-tables",
            get(list_all_tables),
        )
        .route(&format!("{t}/version"), get(table_version))
        .route(&format!("{t}/metadata"), get(table_metadata))
        .route(&format!("{t}/query"), post(query_table))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authenticate,
        ));
    Router::new()
        .route("/delta-sharing/files/{snapshot}/{file}", get(download))
        .merge(authed)
        .with_state(state)
}

async fn authenticate(State(state): State<SharingState>, mut req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return SharingError::Unauthenticated("a bearer token is required".into()).into_response();
    };
    match state.inner.recipients.authenticate(token, Utc::now()) {
        Ok(recipient) => {
            req.extensions_mut().insert(recipient);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    max_results: Option<String>,
    page_token: Option<String>,
}

/// Applies `maxResults` / `pageToken` (an offset) to `items`.
fn paged(items: Vec<Value>, page: &Page) -> Result<Json<Value>> {
    let bad = |m: &str| SharingError::InvalidParameter(m.to_string());
    let max = match &page.max_results {
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|m| (1..=MAX_RESULTS).contains(m))
            .ok_or_else(|| bad("maxResults must be 1 to 1000"))?,
        None => MAX_RESULTS,
    };
    let start = match &page.page_token {
        Some(t) if !t.is_empty() => t
            .parse::<usize>()
            .map_err(|_| bad("pageToken is not valid"))?,
        _ => 0,
    };
    let next = (start + max < items.len()).then(|| (start + max).to_string());
    let items: Vec<Value> = items.into_iter().skip(start).take(max).collect();
    let mut body = json!({ "items": items });
    if let Some(n) = next {
        body["nextPageToken"] = Value::String(n);
    }
    Ok(Json(body))
}

fn share_id(share: &str) -> String {
    uuid_like(&[share])
}

/// A stable id in UUID form from names (shares and tables need ids; ours are derived).
fn uuid_like(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let h = hex::encode(&Sha256::digest(parts.join("\u{0}").as_bytes())[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

async fn list_shares(
    State(state): State<SharingState>,
    Extension(who): Extension<Recipient>,
    Query(page): Query<Page>,
) -> Result<Json<Value>> {
    let items = state
        .inner
        .config
        .shares_for(&who.name)
        .map(|s| json!({ "name": s.name, "id": share_id(&s.name) }))
        .collect();
    paged(items, &page)
}

fn no_share(name: &str) -> SharingError {
    SharingError::NotFound(format!(
        "share '{name}' does not exist or is not shared with you"
    ))
}

async fn get_share(
    State(state): State<SharingState>,
    Extension(who): Extension<Recipient>,
    Path(share): Path<String>,
) -> Result<Json<Value>> {
    let s = state
        .inner
        .config
        .share_for(&share, &who.name)
        .ok_or_else(|| no_share(&share))?;
    Ok(Json(
        json!({ "share": { "name": s.name, "id": share_id(&s.name) } }),
    ))
}

async fn list_schemas(
    State(state): State<SharingState>,
    Extension(who): Extension<Recipient>,
    Path(share): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<Value>> {
    let s = state
        .inner
        .config
        .share_for(&share, &who.name)
        .ok_or_else(|| no_share(&share))?;
    let items = s
        .schemas
        .iter()
        .map(|x| json!({ "name": x.name, "share": s.name }))
        .collect();
    paged(items, &page)
}

fn table_json(share: &str, schema: &str, table: &str) -> Value {
    json!({
        "name": table, "schema": schema, "share": share,
        "shareId": share_id(share), "id": uuid_like(&[share, schema, table]),
    })
}

async fn list_tables(
    State(state): State<SharingState>,
    Extension(who): Extension<Recipient>,
    Path((share, schema)): Path<(String, String)>,
    Query(page): Query<Page>,
) -> Result<Json<Value>> {
    let s = state
        .inner
        .config
        .share_for(&share, &who.name)
        .ok_or_else(|| no_share(&share))?;
    let sc = s.schema(&schema).ok_or_else(|| {
        SharingError::NotFound(format!(
            "schema '{schema}' does not exist in share '{share}'"
        ))
    })?;
    let items = sc
        .tables
        .iter()
        .map(|t| table_json(&s.name, &sc.name, &t.name))
        .collect();
    paged(items, &page)
}

async fn list_all_tables(
    State(state): State<SharingState>,
    Extension(who): Extension<Recipient>,
    Path(share): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<Value>> {
    let s = state
        .inner
        .config
        .share_for(&share, &who.name)
        .ok_or_else(|| no_share(&share))?;
    let items = s
        .schemas
        .iter()
        .flat_map(|sc| {
            sc.tables
                .iter()
                .map(|t| table_json(&s.name, &sc.name, &t.name))
        })
        .collect();
    paged(items, &page)
}

/// The table a recipient names, if it may read it.
fn find<'a>(
    state: &'a SharingState,
    who: &Recipient,
    share: &str,
    schema: &str,
    table: &str,
) -> Result<&'a TableConfig> {
    state
        .inner
        .config
        .share_for(share, &who.name)
        .and_then(|s| s.schema(schema))
        .and_then(|s| s.table(table))
        .ok_or_else(|| {
            SharingError::NotFound(format!(
                "table '{share}.{schema}.{table}' does not exist or is not shared with you"
            ))
        })
}

fn version_header(version: i64) -> (header::HeaderName, HeaderValue) {
    (
        header::HeaderName::from_static("delta-table-version"),
        HeaderValue::from(version),
    )
}

async fn table_version(
    State(state): State<SharingState>,
    Extension(who): Extension<Recipient>,
    Path((share, schema, table)): Path<(String, String, String)>,
    Query(q): Query<std::collections::BTreeMap<String, String>>,
) -> Result<Response> {
    if q.contains_key("startingTimestamp") {
        return Err(SharingError::InvalidParameter(
            "startingTimestamp is not supported: only the latest version is shared".into(),
        ));
    }
    let t = find(&state, &who, &share, &schema, &table)?;
    let version = snapshot::current_version(&state.inner.lake, t)?;
    Ok(([version_header(version)], "").into_response())
}

fn ndjson(version: i64, lines: Vec<Value>) -> Response {
    let mut body = String::new();
    for line in lines {
        body.push_str(&line.to_string());
        body.push('\n');
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-ndjson; charset=utf-8"),
            ),
            version_header(version),
        ],
        body,
    )
        .into_response()
}

fn metadata_lines(share: &str, schema: &str, table: &str, snap: &Snapshot) -> Vec<Value> {
    vec![
        json!({ "protocol": { "minReaderVersion": 1 } }),
        json!({ "metaData": {
            "id": uuid_like(&[share, schema, table]),
            "name": table,
            "format": { "provider": "parquet" },
            "schemaString": snap.schema_string,
            "partitionColumns": [],
            "configuration": {},
            "version": snap.version,
            "size": snap.files.iter().map(|f| f.size).sum::<u64>(),
            "numFiles": snap.files.len(),
        }}),
    ]
}

async fn table_metadata(
    State(state): State<SharingState>,
    Extension(who): Extension<Recipient>,
    Path((share, schema, table)): Path<(String, String, String)>,
) -> Result<Response> {
    let t = find(&state, &who, &share, &schema, &table)?;
    let snap = snapshot::materialise(&state.inner.lake, &share, &schema, t, &who.name).await?;
    Ok(ndjson(
        snap.version,
        metadata_lines(&share, &schema, &table, &snap),
    ))
}

/// The query body. Unknown fields are ignored (newer clients send more).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryBody {
    #[serde(default)]
    predicate_hints: Option<Vec<String>>,
    #[serde(default)]
    json_predicate_hints: Option<String>,
    #[serde(default)]
    limit_hint: Option<i64>,
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    starting_version: Option<i64>,
}

async fn query_table(
    State(state): State<SharingState>,
    Extension(who): Extension<Recipient>,
    Path((share, schema, table)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let body: QueryBody = if body.iter().all(u8::is_ascii_whitespace) {
        QueryBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            SharingError::InvalidParameter(format!("the query body is not valid: {e}"))
        })?
    };
    if let Some(limit) = body.limit_hint {
        if !(0..=MAX_LIMIT_HINT).contains(&limit) {
            return Err(SharingError::InvalidParameter(format!(
                "limitHint must be 0 to {MAX_LIMIT_HINT}"
            )));
        }
    }
    if body.timestamp.is_some() || body.starting_version.is_some() {
        return Err(SharingError::InvalidParameter(
            "timestamp and startingVersion are not supported: only the latest version is shared"
                .into(),
        ));
    }
    // Hints may be ignored by a server (the client filters again); they are checked for shape
    // only. Every file is already the recipient's filtered snapshot.
    let _ = (&body.predicate_hints, &body.json_predicate_hints);
    let t = find(&state, &who, &share, &schema, &table)?;
    if let Some(v) = body.version {
        let current = snapshot::current_version(&state.inner.lake, t)?;
        if v != current {
            return Err(SharingError::InvalidParameter(format!(
                "version {v} is not shared: only the latest version ({current}) is"
            )));
        }
    }
    let snap = snapshot::materialise(&state.inner.lake, &share, &schema, t, &who.name).await?;
    let base = base_url(&state, &headers)?;
    let expires_at =
        Utc::now() + chrono::Duration::minutes(i64::from(state.inner.config.url_minutes));
    let mut lines = metadata_lines(&share, &schema, &table, &snap);
    let (mut rows, mut files) = (0i64, 0i64);
    for f in &snap.files {
        if body.limit_hint.is_some_and(|l| rows >= l) {
            break;
        }
        let path = state
            .inner
            .signer
            .sign(&snap.key, &f.name, &who.name, expires_at.timestamp());
        lines.push(json!({ "file": {
            "url": format!("{base}{path}"),
            "id": format!("{}-{}", snap.key, f.name.trim_end_matches(".parquet")),
            "partitionValues": {},
            "size": f.size,
            "stats": json!({ "numRecords": f.rows }).to_string(),
            "expirationTimestamp": expires_at.timestamp_millis(),
        }}));
        rows += f.rows as i64;
        files += 1;
    }
    let access = Access {
        at: Utc::now(),
        recipient: who.name.clone(),
        share: share.clone(),
        schema: schema.clone(),
        table: table.clone(),
        source: t.source.clone(),
        version: snap.version,
        action: "query",
        rows,
        files,
    };
    if let Err(e) = state.inner.log.record(&access).await {
        // Reads are not served without their audit record.
        return Err(SharingError::Lake(format!("access log: {e}")));
    }
    Ok(ndjson(snap.version, lines))
}

/// `http://host[:port]` the client reached us at (`public_url` overrides it behind a proxy).
fn base_url(state: &SharingState, headers: &HeaderMap) -> Result<String> {
    if let Some(url) = &state.inner.config.public_url {
        return Ok(url.trim_end_matches('/').to_string());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .ok_or_else(|| SharingError::InvalidParameter("a valid Host header is required".into()))?;
    Ok(format!("http://{host}"))
}

#[derive(Debug, Deserialize)]
struct Signed {
    r: String,
    exp: i64,
    sig: String,
}

/// `GET /delta-sharing/files/{snapshot}/{file}?r=&exp=&sig=`: a file of a snapshot, with
/// `Range` support (clients read Parquet footers first).
async fn download(
    State(state): State<SharingState>,
    Path((snapshot_key, file)): Path<(String, String)>,
    query: std::result::Result<Query<Signed>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response> {
    let Query(signed) =
        query.map_err(|_| SharingError::PermissionDenied("the file URL is not signed".into()))?;
    let now = Utc::now();
    let url = SignedUrl {
        snapshot: &snapshot_key,
        file: &file,
        recipient: &signed.r,
        expires: signed.exp,
        signature: &signed.sig,
    };
    let path: PathBuf = state.inner.signer.verify(
        &snapshot::snapshots_dir(&state.inner.lake),
        &url,
        now.timestamp(),
    )?;
    match state.inner.recipients.get(&signed.r)? {
        Some(r) if r.active(now) => {}
        _ => {
            return Err(SharingError::PermissionDenied(
                "the recipient is no longer active".into(),
            ))
        }
    }
    let bytes = tokio::fs::read(&path).await.map_err(|_| {
        SharingError::NotFound("the file no longer exists; query the table again".into())
    })?;
    let len = bytes.len() as u64;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let Some(range) = range else {
        return Ok((
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                ),
                (header::ACCEPT_RANGES, HeaderValue::from_static("bytes")),
            ],
            Body::from(bytes),
        )
            .into_response());
    };
    let (start, end) = parse_range(range, len).ok_or_else(|| {
        SharingError::InvalidParameter(format!("Range '{range}' is not satisfiable"))
    })?;
    let part = bytes[start as usize..=end as usize].to_vec();
    Ok((
        StatusCode::PARTIAL_CONTENT,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::ACCEPT_RANGES, HeaderValue::from_static("bytes")),
            (
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")).expect("ascii"),
            ),
        ],
        Body::from(part),
    )
        .into_response())
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` → inclusive (start, end) within `len`.
fn parse_range(range: &str, len: u64) -> Option<(u64, u64)> {
    let spec = range.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || len == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (len.saturating_sub(n), len - 1)
        }
        (a, "") => (a.parse().ok()?, len - 1),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.min(len - 1)),
    };
    (start <= end && start < len).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=-8", 100), Some((92, 99)));
        assert_eq!(parse_range("bytes=95-200", 100), Some((95, 99)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }
}
