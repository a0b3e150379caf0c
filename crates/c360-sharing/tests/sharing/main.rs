//! Delta Sharing end to end: a real server on loopback read by the official Python client
//! (`delta-sharing`, installed from requirements-dev.txt), and every refusal the protocol owes:
//! no token, a wrong, expired or revoked token, a table outside the share, path traversal in a
//! table or file name, a tampered or expired file URL, an over-large limit.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use c360_lake::datafusion::arrow::array::{
    Date32Array, Decimal128Array, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use c360_lake::datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use c360_lake::{Lake, Layer, WriteMode};
use c360_sharing::{RecipientStore, SharingConfig, SharingState};
use chrono::Utc;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const CONFIG: &str = r#"
[[shares]]
name = "partners"
recipients = ["acme", "old", "gone"]
[[shares.schemas]]
name = "c360"
[[shares.schemas.tables]]
name = "customers"
source = "gold.customers"
exclude_columns = ["email"]
mask_columns = ["full_name"]
row_filter = "FALSE"
row_filters = { acme = "state IN ('CA','NV')" }

[[shares]]
name = "internal"
recipients = ["staff"]
[[shares.schemas]]
name = "c360"
[[shares.schemas.tables]]
name = "everything"
source = "gold.customers"
"#;

/// (id, name, email, state, ltv cents, signup day, score)
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i128,
    i32,
    f64,
);
const ROWS: &[Row] = &[
    ("C1", "Ana Lima", "ana@x.com", "CA", 100_050, 19_000, 0.5),
    ("C2", "Bo Chen", "bo@x.com", "NV", 250_000, 19_100, 1.25),
    ("C3", "Cy Diaz", "cy@x.com", "NY", 999_999, 19_200, 2.0),
    ("C4", "Di Evans", "di@x.com", "TX", 1, 19_300, 3.5),
    ("C5", "Ed Fox", "ed@x.com", "CA", 7_700, 19_400, 4.0),
];

async fn write_customers(lake: &Lake) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("full_name", DataType::Utf8, true),
        Field::new("email", DataType::Utf8, true),
        Field::new("state", DataType::Utf8, true),
        Field::new("lifetime_value", DataType::Decimal128(18, 2), true),
        Field::new("signup_date", DataType::Date32, true),
        Field::new("score", DataType::Float64, true),
        Field::new(
            "updated_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
    ]));
    let col = |f: fn(&Row) -> &'static str| {
        Arc::new(StringArray::from(ROWS.iter().map(f).collect::<Vec<_>>()))
    };
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            col(|r| r.0),
            col(|r| r.1),
            col(|r| r.2),
            col(|r| r.3),
            Arc::new(
                Decimal128Array::from(ROWS.iter().map(|r| r.4).collect::<Vec<_>>())
                    .with_precision_and_scale(18, 2)
                    .unwrap(),
            ),
            Arc::new(Date32Array::from(
                ROWS.iter().map(|r| r.5).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                ROWS.iter().map(|r| r.6).collect::<Vec<_>>(),
            )),
            Arc::new(
                TimestampMicrosecondArray::from(vec![1_700_000_000_000_000i64; ROWS.len()])
                    .with_timezone("UTC"),
            ),
        ],
    )
    .unwrap();
    lake.writer(Layer::Gold, "customers", schema)
        .mode(WriteMode::Overwrite)
        .write_batches([batch])
        .await
        .unwrap();
}

struct Env {
    _dir: tempfile::TempDir,
    lake: Lake,
    app: Router,
    acme: String,
    old: String,
    gone: String,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(dir.path().join("lake"));
    write_customers(&lake).await;
    let store = RecipientStore::new(&lake.meta_dir());
    let now = Utc::now();
    let acme = store
        .add("acme", Some(now + chrono::Duration::days(30)), now)
        .unwrap();
    let old = store
        .add(
            "old",
            Some(now - chrono::Duration::days(1)),
            now - chrono::Duration::days(2),
        )
        .unwrap();
    let gone = store.add("gone", None, now).unwrap();
    store.revoke("gone", now).unwrap();
    let config = SharingConfig::from_toml(toml::from_str(CONFIG).unwrap()).unwrap();
    let app = c360_sharing::router(SharingState::new(config, lake.clone()).unwrap());
    Env {
        _dir: dir,
        lake,
        app,
        acme,
        old,
        gone,
    }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn call(
    app: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "127.0.0.1:9");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = req
        .body(body.map_or(Body::empty(), |b| Body::from(b.to_string())))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

const QUERY: &str = "/delta-sharing/shares/partners/schemas/c360/tables/customers/query";

fn assert_error(r: &Reply, status: StatusCode, code: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{what}: {}", r.body));
    assert_eq!(v["errorCode"], code, "{what}");
    assert!(v["message"].is_string(), "{what}");
    assert!(
        !r.body.contains("Ana") && !r.body.contains("parquet"),
        "{what}: no data"
    );
}

#[tokio::test]
async fn the_protocol_lists_versions_and_queries_for_the_recipient() {
    let env = env().await;
    let r = call(
        &env.app,
        "GET",
        "/delta-sharing/shares",
        Some(&env.acme),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        v["items"].as_array().unwrap().len(),
        1,
        "only the shares listing acme"
    );
    assert_eq!(v["items"][0]["name"], "partners");
    let r = call(
        &env.app,
        "GET",
        "/delta-sharing/shares/partners/all-tables",
        Some(&env.acme),
        None,
    )
    .await;
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["items"][0]["name"], "customers");
    assert_eq!(v["items"][0]["schema"], "c360");
    let r = call(
        &env.app,
        "GET",
        "/delta-sharing/shares/partners/schemas/c360/tables/customers/version",
        Some(&env.acme),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["delta-table-version"], "0");

    let r = call(
        &env.app,
        "POST",
        QUERY,
        Some(&env.acme),
        Some(json!({"limitHint": 10})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.headers["delta-table-version"], "0");
    let lines: Vec<Value> = r
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["protocol"]["minReaderVersion"], 1);
    let schema: Value =
        serde_json::from_str(lines[1]["metaData"]["schemaString"].as_str().unwrap()).unwrap();
    let names: Vec<&str> = schema["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"email"), "excluded");
    assert_eq!(schema["fields"][3]["type"], "decimal(18,2)");
    let url = lines[2]["file"]["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:9/delta-sharing/files/"));
    assert_eq!(lines[2]["file"]["stats"], "{\"numRecords\":3}");

    // The file URL works without a token, with ranges; tampering, traversal and expiry do not.
    let path = url.trim_start_matches("http://127.0.0.1:9");
    let file = call(&env.app, "GET", path, None, None).await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file.body.starts_with("PAR1"));
    let key = path.split('/').nth(3).unwrap().to_string();
    for (bad, what) in [
        (path.replace("part-00000", "part-00001"), "another file"),
        (path.replace("r=acme", "r=gone"), "another recipient"),
        (path.replacen("&exp=", "&exp=9", 1), "a later expiry"),
        (
            path.replace("part-00000.parquet", "..%2F..%2Frecipients.json"),
            "traversal in the file name",
        ),
        (
            path.replace(&key, "..%2F..%2F..%2Fgold%2Fcustomers"),
            "traversal in the snapshot",
        ),
        (path.split('?').next().unwrap().to_string(), "no signature"),
    ] {
        assert_error(
            &call(&env.app, "GET", &bad, None, None).await,
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            what,
        );
    }

    // One snapshot per table version and recipient: asking again writes nothing new.
    let again = call(&env.app, "POST", QUERY, Some(&env.acme), None).await;
    assert!(again.body.contains(&key));
    let snapshots = std::fs::read_dir(c360_sharing::snapshot::snapshots_dir(&env.lake))
        .unwrap()
        .count();
    assert_eq!(snapshots, 1);
}

#[tokio::test]
async fn refusals_get_the_protocol_status_and_no_data() {
    let env = env().await;
    let q = Some(json!({}));
    assert_error(
        &call(&env.app, "POST", QUERY, None, q.clone()).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
        "no token",
    );
    assert_error(
        &call(&env.app, "POST", QUERY, Some("dss_wrong"), q.clone()).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
        "wrong token",
    );
    assert_error(
        &call(&env.app, "POST", QUERY, Some(&env.old), q.clone()).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
        "expired token",
    );
    assert_error(
        &call(&env.app, "POST", QUERY, Some(&env.gone), q.clone()).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
        "revoked token",
    );
    assert_error(
        &call(
            &env.app,
            "GET",
            "/delta-sharing/shares",
            Some(&env.gone),
            None,
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
        "revoked token, list",
    );
    for (path, what) in [
        (
            "/delta-sharing/shares/internal/schemas/c360/tables/everything/query",
            "a share not listing the recipient",
        ),
        (
            "/delta-sharing/shares/partners/schemas/c360/tables/secret/query",
            "a table outside the share",
        ),
        (
            "/delta-sharing/shares/partners/schemas/gold/tables/customers/query",
            "a schema outside the share",
        ),
        (
            "/delta-sharing/shares/partners/schemas/c360/tables/..%2F..%2Fgold%2Fcustomers/query",
            "traversal in the table name",
        ),
        (
            "/delta-sharing/shares/partners/schemas/..%2Fgold/tables/customers/query",
            "traversal in the schema name",
        ),
    ] {
        assert_error(
            &call(&env.app, "POST", path, Some(&env.acme), q.clone()).await,
            StatusCode::NOT_FOUND,
            "RESOURCE_DOES_NOT_EXIST",
            what,
        );
    }
    for (body, what) in [
        (
            json!({"limitHint": 1_000_000_000_000i64}),
            "an over-large limit",
        ),
        (json!({"limitHint": -1}), "a negative limit"),
        (json!({"limitHint": "ten"}), "a limit that is not a number"),
        (json!({"version": 7}), "a version that is not shared"),
        (json!({"timestamp": "2020-01-01T00:00:00Z"}), "time travel"),
    ] {
        assert_error(
            &call(&env.app, "POST", QUERY, Some(&env.acme), Some(body)).await,
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
            what,
        );
    }
    assert_error(
        &call(
            &env.app,
            "GET",
            "/delta-sharing/shares?maxResults=100000",
            Some(&env.acme),
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "maxResults",
    );
    // Nothing was materialised for any refused request.
    assert!(!c360_sharing::snapshot::snapshots_dir(&env.lake).exists());
}

/// The official Python client reads exactly the rows and columns acme may see.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_client_reads_what_the_recipient_may_see() {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import delta_sharing"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "the Python package delta-sharing is required: python3 -m pip install -r requirements-dev.txt (.ci/run does)");
    let env = env().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = env.app.clone();
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let profile = env._dir.path().join("acme.share");
    std::fs::write(
        &profile,
        c360_sharing::profile_json(&format!("http://{addr}/delta-sharing"), &env.acme, None),
    )
    .unwrap();
    let script = r##"
import json, sys, math
import delta_sharing
profile = sys.argv[1]
client = delta_sharing.SharingClient(profile)
tables = sorted(f"{t.share}.{t.schema}.{t.name}" for t in client.list_all_tables())
url = profile + "#partners.c360.customers"
df = delta_sharing.load_as_pandas(url).sort_values("customer_id")
limited = delta_sharing.load_as_pandas(url, limit=1)
def cell(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return str(v)
rows = [[cell(v) for v in r] for r in df.itertuples(index=False)]
print(json.dumps({"tables": tables, "columns": list(df.columns), "rows": rows, "limited": len(limited),
                  "version": delta_sharing.get_table_version(url)}))
"##;
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(&profile)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    server.abort();
    assert!(
        out.status.success(),
        "python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tables"], json!(["partners.c360.customers"]));
    assert_eq!(
        v["columns"],
        json!([
            "customer_id",
            "full_name",
            "state",
            "lifetime_value",
            "signup_date",
            "score",
            "updated_at"
        ])
    );
    assert_eq!(
        v["rows"],
        json!([
            [
                "C1",
                "A***",
                "CA",
                "1000.50",
                "2022-01-08",
                "0.5",
                "2023-11-14 22:13:20+00:00"
            ],
            [
                "C2",
                "B***",
                "NV",
                "2500.00",
                "2022-04-18",
                "1.25",
                "2023-11-14 22:13:20+00:00"
            ],
            [
                "C5",
                "E***",
                "CA",
                "77.00",
                "2023-02-12",
                "4.0",
                "2023-11-14 22:13:20+00:00"
            ],
        ])
    );
    assert_eq!(v["limited"], 1);
    assert_eq!(v["version"], 0);

    // The reads are in the access log, in the lake.
    let ctx = c360_lake::datafusion::prelude::SessionContext::new();
    assert!(env
        .lake
        .register_table(&ctx, Layer::Meta, "sharing_access_log")
        .await
        .unwrap());
    let batches = ctx
        .sql("SELECT recipient, share, schema, table_name, source_table, table_version, rows FROM _c360.sharing_access_log WHERE action = 'query'")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let text = c360_lake::datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    assert!(text.contains("| acme      | partners | c360   | customers  | gold.customers | 0             | 3    |"), "{text}");
}
