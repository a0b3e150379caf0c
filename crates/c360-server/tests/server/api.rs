//! The JSON API and the pages through `tower::ServiceExt::oneshot`, against real Delta tables.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use c360_server::config::{TokenConfig, UserConfig};
use c360_server::{AppState, Role, ServerConfig};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::fixture;

pub const ADMIN_TOKEN: &str = "c360_test_admin_token";
pub const ANALYST_TOKEN: &str = "c360_test_analyst_token";
pub const MARKETING_TOKEN: &str = "c360_test_marketing_token";
pub const PASSWORD: &str = "correct horse battery staple";

/// Users `admin`, `ana` (analyst), `mark` (marketing), all with [`PASSWORD`], and one token per
/// role.
pub fn config() -> ServerConfig {
    let hash = c360_server::hash_password(PASSWORD).unwrap();
    let user = |name: &str, role| UserConfig {
        name: name.into(),
        role,
        password_hash: hash.clone(),
    };
    let token = |name: &str, role, token: &str| TokenConfig {
        name: name.into(),
        role,
        sha256: c360_server::config::token_digest(token),
    };
    let config = ServerConfig {
        users: vec![
            user("admin", Role::Admin),
            user("ana", Role::Analyst),
            user("mark", Role::Marketing),
        ],
        tokens: vec![
            token("admin-bot", Role::Admin, ADMIN_TOKEN),
            token("analyst-bot", Role::Analyst, ANALYST_TOKEN),
            token("marketing-bot", Role::Marketing, MARKETING_TOKEN),
        ],
        ..ServerConfig::default()
    };
    config.validate().unwrap();
    config
}

pub struct Env {
    pub _dir: tempfile::TempDir,
    pub app: Router,
}

pub async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let lake = fixture::build(&dir.path().join("lake"), &dir.path().join("project")).await;
    let app = c360_server::app(AppState::new(config(), lake, dir.path().join("project")));
    Env { _dir: dir, app }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub async fn send(app: &Router, req: Request<Body>) -> Reply {
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

pub async fn get(app: &Router, path: &str, token: Option<&str>) -> Reply {
    let mut req = Request::get(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    send(app, req.body(Body::empty()).unwrap()).await
}

pub async fn ok_json(app: &Router, path: &str, token: &str) -> Value {
    let r = get(app, path, Some(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    r.json()
}

/// Every API route (GETs), with a concrete path.
const API_PATHS: &[&str] = &[
    "/api/openapi.json",
    "/api/me",
    "/api/overview",
    "/api/segments",
    "/api/segments/export.csv",
    "/api/customers/search?q=CUST",
    "/api/customers/CUST00000042",
    "/api/customers/CUST00000042/transactions",
    "/api/customers/CUST00000042/transactions.csv",
    "/api/campaign",
    "/api/campaign/audience.csv",
    "/api/pipeline",
    "/api/metrics/model",
    "/api/metrics",
];

const PAGES: &[&str] = &[
    "/",
    "/segments",
    "/customers",
    "/customers?q=Smith1",
    "/customers/CUST00000042",
    "/campaign",
    "/pipeline",
    "/metrics",
];

#[tokio::test]
async fn health_needs_no_sign_in_and_everything_else_does() {
    let env = env().await;
    let r = get(&env.app, "/health", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "ok");
    for path in API_PATHS
        .iter()
        .chain(["/assets/echarts.min.js", "/assets/app.js"].iter())
    {
        let r = get(&env.app, path, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(r.json()["error"].is_string(), "{path}");
        let bad = get(&env.app, path, Some("c360_not_a_token")).await;
        assert_eq!(bad.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    // Browsers asking for a page are sent to the sign-in form, with the way back.
    for path in PAGES {
        let req = Request::get(*path)
            .header(header::ACCEPT, "text/html")
            .body(Body::empty())
            .unwrap();
        let r = send(&env.app, req).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        let location = r.headers[header::LOCATION].to_str().unwrap();
        assert!(
            location.starts_with("/login?next=%2F"),
            "{path} → {location}"
        );
    }
}

#[tokio::test]
async fn every_endpoint_answers_for_an_admin() {
    let env = env().await;
    for path in API_PATHS {
        let r = get(&env.app, path, Some(ADMIN_TOKEN)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        if path.ends_with(".csv") {
            assert!(r.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/csv"));
            assert!(r.headers[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment"));
        } else {
            r.json();
        }
    }
    for path in PAGES {
        let r = get(&env.app, path, Some(ADMIN_TOKEN)).await;
        assert!(
            r.status == StatusCode::OK || r.status == StatusCode::SEE_OTHER,
            "{path}: {}",
            r.status
        );
        if r.status == StatusCode::OK {
            assert!(r.body.contains("<h1>"), "{path}");
            assert!(!r.body.contains("Not in the lake yet"), "{path}");
        }
    }
    let asset = get(&env.app, "/assets/echarts.min.js", Some(ADMIN_TOKEN)).await;
    assert_eq!(asset.status, StatusCode::OK);
    assert!(asset.body.len() > 500_000);
    assert!(asset.body.contains("Apache"));
}

#[tokio::test]
async fn openapi_documents_exactly_the_routes() {
    let env = env().await;
    let doc = ok_json(&env.app, "/api/openapi.json", ADMIN_TOKEN).await;
    assert_eq!(doc["openapi"], "3.0.3");
    let documented: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let mut expected: Vec<String> = API_PATHS
        .iter()
        .map(|p| p.split('?').next().unwrap().replace("CUST00000042", "{id}"))
        .collect();
    expected.push("/health".into());
    let mut a = documented.clone();
    a.sort();
    expected.sort();
    assert_eq!(a, expected);
}

#[tokio::test]
async fn overview_numbers_are_exact() {
    let env = env().await;
    let o = ok_json(&env.app, "/api/overview", ANALYST_TOKEN).await;
    assert_eq!(o["missing"], serde_json::json!([]));
    let k = &o["kpis"];
    assert_eq!(k["customers"], 300);
    // 50×8,000 + 50×12,000 + 100×3,000 + 60×900.50 + 20×5,000 + 20×400
    assert_eq!(k["total_ltv"], "1462030.00");
    assert_eq!(k["avg_ltv"], "4873.43");
    // 25 HVT + 20 Declining at High risk of 300.
    assert_eq!(k["high_risk_pct"], 15.0);
    assert_eq!(o["freshness"]["as_of"], fixture::AS_OF);
    assert_eq!(o["freshness"]["last_run"]["run_id"], "run-0001");
    let segments = o["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 5);
    let hvt = segments
        .iter()
        .find(|s| s["customer_segment"] == "High-Value Travelers")
        .unwrap();
    assert_eq!(hvt["customers"], 100);
    assert_eq!(hvt["avg_ltv"], "10000.00");
    assert_eq!(o["monthly_spend"].as_array().unwrap().len(), 6 * 5);
    let risk: Vec<&str> = o["churn_risk"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["churn_risk_category"].as_str().unwrap())
        .collect();
    assert_eq!(risk, ["High", "Medium", "Low", "Not Scored"]);
}

#[tokio::test]
async fn segment_explorer_filters_sorts_and_pages() {
    let env = env().await;
    let s = ok_json(&env.app, "/api/segments?segment=High-Value+Travelers&sort=lifetime_value&order=asc&page_size=10&page=2", ANALYST_TOKEN).await;
    assert_eq!(s["total"], 100);
    let rows = s["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 10);
    assert!(rows.iter().all(|r| r["lifetime_value"] == "8000.00"));
    assert_eq!(s["summary"]["avg_ltv"], "10000.00");
    let s = ok_json(
        &env.app,
        "/api/segments?state=tx&state=FL&min_ltv=1000",
        ANALYST_TOKEN,
    )
    .await;
    assert_eq!(
        s["total"], 20,
        "only the Declining FL customers are worth ≥ 1,000"
    );
    let s = ok_json(
        &env.app,
        "/api/segments?card_type=Premium&risk=High",
        ANALYST_TOKEN,
    )
    .await;
    assert_eq!(s["total"], 25);
    let s = ok_json(&env.app, "/api/segments?risk=Not+Scored", ANALYST_TOKEN).await;
    assert_eq!(s["total"], 20);
    let s = ok_json(
        &env.app,
        "/api/segments?sort=churn_risk_score&order=desc&page_size=1",
        ANALYST_TOKEN,
    )
    .await;
    assert_eq!(s["rows"][0]["churn_risk_score"], 82.3);
    let csv = get(
        &env.app,
        "/api/segments/export.csv?segment=Declining",
        Some(ANALYST_TOKEN),
    )
    .await;
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 21);
    assert!(
        lines[0].starts_with("Customer ID,Customer Key,Full Name,First Name,Last Name,Email,"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("Lifetime Value ($)"));
    assert!(lines[1].contains("5000.00"));
}

#[tokio::test]
async fn bad_parameters_are_400_with_a_message() {
    let env = env().await;
    for path in [
        "/api/segments?segment=Whales",
        "/api/segments?sort=password",
        "/api/segments?order=sideways",
        "/api/segments?page=0",
        "/api/segments?page_size=100000",
        "/api/segments?min_ltv=lots",
        "/api/segments?state=California",
        "/api/segments?nonsense=1",
        "/api/overview?x=1",
        "/api/customers/search",
        "/api/customers/search?q=a&limit=1000",
        "/api/customers/CUST00000042/transactions?period=7",
        "/api/customers/CUST00000042/transactions?status=pending",
        "/api/campaign?retention_rate=101",
        "/api/campaign?incentive=-5",
        "/api/metrics?measure=salary",
        "/api/metrics?dimension=email",
        "/api/segments?page=1&page=2",
    ] {
        let r = get(&env.app, path, Some(ADMIN_TOKEN)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.body);
        let message = r.json()["error"].as_str().unwrap().to_string();
        assert!(
            !message.is_empty() && message != "internal error",
            "{path}: {message}"
        );
    }
    let r = get(&env.app, "/api/customers/CUST99999999", Some(ADMIN_TOKEN)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Pages answer 400 as an HTML page.
    let r = get(&env.app, "/segments?segment=Whales", Some(ADMIN_TOKEN)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("<html") && r.body.contains("segment"));
}

const INJECTIONS: &[&str] = &[
    "' OR '1'='1",
    "CUST00000042' OR 1=1 --",
    "x'; DROP TABLE gold.customer_360_profile; --",
    "%' UNION SELECT email FROM gold.customer_360_profile --",
    "$1",
    "High\") OR (1=1",
    "<script>alert(1)</script>",
];

pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn injection_attempts_get_400_or_nothing() {
    let env = env().await;
    let text_params: &[(&str, &str)] = &[
        ("/api/segments", "segment"),
        ("/api/segments", "state"),
        ("/api/segments", "risk"),
        ("/api/segments", "card_type"),
        ("/api/segments", "min_ltv"),
        ("/api/segments", "sort"),
        ("/api/segments", "order"),
        ("/api/segments", "page"),
        ("/api/segments/export.csv", "segment"),
        ("/api/segments/export.csv", "card_type"),
        ("/api/customers/search", "q"),
        ("/api/customers/CUST00000042/transactions", "period"),
        ("/api/customers/CUST00000042/transactions", "category"),
        ("/api/customers/CUST00000042/transactions", "status"),
        ("/api/customers/CUST00000042/transactions.csv", "category"),
        ("/api/campaign", "segment"),
        ("/api/campaign", "card_type"),
        ("/api/campaign", "incentive"),
        ("/api/campaign", "retention_rate"),
        ("/api/campaign", "cost_per_customer"),
        ("/api/campaign/audience.csv", "state"),
        ("/api/metrics", "measure"),
        ("/api/metrics", "dimension"),
        ("/api/metrics", "card_type"),
    ];
    for (path, key) in text_params {
        for attack in INJECTIONS {
            let url = format!("{path}?{key}={}", enc(attack));
            let r = get(&env.app, &url, Some(ADMIN_TOKEN)).await;
            match r.status {
                StatusCode::BAD_REQUEST => assert!(r.json()["error"].is_string()),
                StatusCode::OK if path.ends_with(".csv") => {
                    assert_eq!(
                        r.body.lines().count(),
                        1,
                        "{url} returned rows:\n{}",
                        r.body
                    )
                }
                StatusCode::OK => {
                    let v = r.json();
                    let empty = v
                        .get("results")
                        .is_some_and(|x| x.as_array().unwrap().is_empty())
                        || v.get("total").is_some_and(|t| t == 0)
                        || v.get("rows")
                            .is_some_and(|x| x.as_array().unwrap().is_empty());
                    assert!(empty, "{url} returned data: {}", r.body);
                }
                other => panic!("{url}: {other} {}", r.body),
            }
        }
    }
    // In the path, too.
    for attack in INJECTIONS {
        for suffix in ["", "/transactions", "/transactions.csv"] {
            let url = format!("/api/customers/{}{suffix}", enc(attack).replace('+', "%20"));
            let r = get(&env.app, &url, Some(ADMIN_TOKEN)).await;
            assert!(
                r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::NOT_FOUND,
                "{url}: {} {}",
                r.status,
                r.body
            );
        }
    }
    // The profile is still there.
    let o = ok_json(&env.app, "/api/overview", ADMIN_TOKEN).await;
    assert_eq!(o["kpis"]["customers"], 300);
}

#[tokio::test]
async fn marketing_sees_names_and_emails_masked_and_no_pipeline() {
    let env = env().await;
    let jane = ok_json(&env.app, "/api/customers/CUST00000042", ANALYST_TOKEN).await;
    assert_eq!(jane["profile"]["full_name"], "Jane Doe");
    assert_eq!(jane["profile"]["email"], "jane.doe@example.com");
    let masked = ok_json(&env.app, "/api/customers/CUST00000042", MARKETING_TOKEN).await;
    assert_eq!(masked["profile"]["full_name"], "J*** D***");
    assert_eq!(masked["profile"]["first_name"], "J***");
    assert_eq!(masked["profile"]["last_name"], "D***");
    assert_eq!(masked["profile"]["email"], "j***@example.com");
    assert_eq!(
        masked["profile"]["lifetime_value"],
        jane["profile"]["lifetime_value"]
    );

    let rows = ok_json(&env.app, "/api/segments?page_size=200", MARKETING_TOKEN).await;
    for row in rows["rows"].as_array().unwrap() {
        assert!(row["full_name"].as_str().unwrap().contains("***"), "{row}");
        assert!(row["email"]
            .as_str()
            .unwrap()
            .starts_with(|c: char| c.is_ascii_lowercase()));
        assert!(row["email"].as_str().unwrap().contains("***@"));
    }
    for csv_path in ["/api/segments/export.csv", "/api/campaign/audience.csv"] {
        let csv = get(&env.app, csv_path, Some(MARKETING_TOKEN)).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(!csv.body.contains("jane.doe@example.com"), "{csv_path}");
        assert!(!csv.body.contains("Jane Doe"), "{csv_path}");
        assert!(csv.body.contains("J*** D***"), "{csv_path}");
    }
    let page = get(&env.app, "/customers/CUST00000042", Some(MARKETING_TOKEN)).await;
    assert!(
        !page.body.contains("Jane") && !page.body.contains("jane.doe"),
        "page leaks PII"
    );
    let page = get(&env.app, "/segments", Some(MARKETING_TOKEN)).await;
    assert!(!page.body.contains("@example.com\""), "no raw emails");
    // Search by name would reveal who matches: marketing searches by id only.
    let s = ok_json(&env.app, "/api/customers/search?q=jane", MARKETING_TOKEN).await;
    assert_eq!(s["results"], serde_json::json!([]));
    let s = ok_json(
        &env.app,
        "/api/customers/search?q=CUST00000042",
        MARKETING_TOKEN,
    )
    .await;
    assert_eq!(s["results"][0]["full_name"], "J*** D***");

    assert_eq!(
        get(&env.app, "/api/pipeline", Some(MARKETING_TOKEN))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let page = get(&env.app, "/pipeline", Some(MARKETING_TOKEN)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("<html"));
    assert_eq!(
        get(&env.app, "/api/pipeline", Some(ANALYST_TOKEN))
            .await
            .status,
        StatusCode::OK
    );
    let me = ok_json(&env.app, "/api/me", MARKETING_TOKEN).await;
    assert_eq!(me["role"], "marketing");
    assert_eq!(me["via"], "token");
}

#[tokio::test]
async fn customer_search_detail_and_transactions() {
    let env = env().await;
    let s = ok_json(&env.app, "/api/customers/search?q=JANE", ANALYST_TOKEN).await;
    assert_eq!(s["results"].as_array().unwrap().len(), 1);
    assert_eq!(s["results"][0]["customer_id"], "CUST00000042");
    let s = ok_json(&env.app, "/api/customers/search?q=doe@exa", ANALYST_TOKEN).await;
    assert_eq!(s["results"][0]["customer_id"], "CUST00000042");
    let s = ok_json(
        &env.app,
        "/api/customers/search?q=cust0000004&limit=25",
        ANALYST_TOKEN,
    )
    .await;
    assert_eq!(
        s["results"].as_array().unwrap().len(),
        10,
        "CUST00000040–49"
    );
    assert_eq!(s["results"][0]["customer_id"], "CUST00000040");

    let c = ok_json(&env.app, "/api/customers/CUST00000042", ANALYST_TOKEN).await;
    let history = c["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["card_type"], "Standard");
    assert_eq!(history[0]["is_current"], false);
    assert_eq!(history[1]["valid_to"], Value::Null);
    assert_eq!(history[1]["credit_limit"], "20000.00");

    let t = ok_json(
        &env.app,
        "/api/customers/CUST00000042/transactions?period=all",
        ANALYST_TOKEN,
    )
    .await;
    assert_eq!(t["total"], 20);
    assert_eq!(t["approved"], 18);
    assert_eq!(t["declined"], 2);
    assert_eq!(t["approval_rate"], 90.0);
    assert_eq!(t["as_of"], fixture::AS_OF);
    assert_eq!(t["rows"].as_array().unwrap().len(), 20);
    // Approved spend: 10,000 + k×1,000 cents for k in 0..20 except 3 and 11.
    let expected: i128 = fixture::jane_transactions()
        .iter()
        .filter(|t| t.3 == "approved")
        .map(|t| t.2)
        .sum();
    let total: rust_decimal::Decimal = t["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["spend"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(
        total,
        rust_decimal::Decimal::from_i128_with_scale(expected, 2)
    );
    let t = ok_json(
        &env.app,
        "/api/customers/CUST00000042/transactions",
        ANALYST_TOKEN,
    )
    .await;
    assert_eq!(t["total"], 9, "default period: last 90 days");
    let t = ok_json(
        &env.app,
        "/api/customers/CUST00000042/transactions?period=all&status=declined",
        ANALYST_TOKEN,
    )
    .await;
    assert_eq!(t["total"], 2);
    assert_eq!(
        t["approval_rate"], 90.0,
        "the approval rate ignores the status filter"
    );
    let t = ok_json(&env.app, "/api/customers/CUST00000042/transactions?period=all&category=Airlines&category=Hotels&page_size=3&page=2", ANALYST_TOKEN).await;
    assert_eq!(t["total"], 10);
    assert_eq!(t["rows"].as_array().unwrap().len(), 3);
    let csv = get(
        &env.app,
        "/api/customers/CUST00000042/transactions.csv?period=all&status=approved",
        Some(ANALYST_TOKEN),
    )
    .await;
    assert_eq!(csv.body.lines().count(), 19);
    assert!(csv
        .body
        .starts_with("Date,Time,Transaction ID,Merchant,Category,Channel,Status,Amount ($)"));
}

#[tokio::test]
async fn campaign_simulator_matches_spec_7() {
    let env = env().await;
    let c = ok_json(
        &env.app,
        "/api/campaign?segment=High-Value+Travelers&incentive=100&retention_rate=40&cost_per_customer=10",
        MARKETING_TOKEN,
    )
    .await;
    assert_eq!(c["audience_size"], 100);
    let r = &c["result"];
    let dec = |v: &Value| {
        v.as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap()
    };
    assert_eq!(dec(&r["total_cost"]), rust_decimal::Decimal::from(11_000));
    assert_eq!(r["retained"], 40);
    assert_eq!(
        dec(&r["retained_value"]),
        rust_decimal::Decimal::from(80_000)
    );
    assert_eq!(dec(&r["net"]), rust_decimal::Decimal::from(69_000));
    assert_eq!(r["roi_pct"], 627.27);
    assert_eq!(r["breakeven_rate"], 6);
    assert_eq!(r["sensitivity"].as_array().unwrap().len(), 8);
    let csv = get(
        &env.app,
        "/api/campaign/audience.csv?segment=High-Value+Travelers&incentive=100",
        Some(ANALYST_TOKEN),
    )
    .await;
    assert_eq!(csv.body.lines().count(), 101);
    let page = get(&env.app, "/campaign?segment=High-Value+Travelers&incentive=100&retention_rate=40&cost_per_customer=10", Some(ANALYST_TOKEN)).await;
    for shown in ["$11,000.00", "$80,000.00", "$69,000.00", "627.27%"] {
        assert!(page.body.contains(shown), "{shown} not on the page");
    }
}

#[tokio::test]
async fn pipeline_shows_runs_tests_quarantine_tables_and_lineage() {
    let env = env().await;
    let p = ok_json(&env.app, "/api/pipeline", ADMIN_TOKEN).await;
    assert_eq!(p["runs"].as_array().unwrap().len(), 1);
    assert_eq!(p["runs"][0]["failed"], 1);
    // Pipeline runs, newest first, and the tasks of the newest.
    assert_eq!(p["pipeline_runs"].as_array().unwrap().len(), 2);
    assert_eq!(p["pipeline_runs"][0]["run_id"], "stream-2");
    assert_eq!(p["pipeline_runs"][0]["status"], "failed");
    assert_eq!(p["pipeline_tasks"].as_array().unwrap().len(), 2);
    assert_eq!(p["pipeline_tasks"][0]["task"], "merge_new_data");
    assert_eq!(p["pipeline_tasks"][0]["error"], "exit status 1");
    assert_eq!(p["latest_run"].as_array().unwrap().len(), 5);
    assert_eq!(p["tests"][0]["status"], "fail");
    assert_eq!(p["quarantine_transactions"][0]["reason"], "bad_amount");
    assert_eq!(p["quarantine_transactions"][0]["rows"], 3);
    let tables: Vec<String> = p["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{}.{}",
                t["layer"].as_str().unwrap(),
                t["name"].as_str().unwrap()
            )
        })
        .collect();
    assert!(tables.contains(&"gold.customer_360_profile".to_string()));
    assert!(tables.contains(&"_c360.run_history".to_string()));
    let profile = p["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "customer_360_profile")
        .unwrap();
    assert_eq!(profile["rows"], 300);
    let lineage = &p["lineage"];
    assert_eq!(
        lineage["nodes"].as_array().unwrap().len(),
        4,
        "tests are left out"
    );
    assert_eq!(lineage["edges"].as_array().unwrap().len(), 3);
    assert_eq!(p["quarantine_customers"].as_array().unwrap().len(), 2);
    assert_eq!(p["missing"], serde_json::json!([]));
}

#[tokio::test]
async fn metrics_explorer_answers_and_shows_its_sql() {
    let env = env().await;
    let m = ok_json(
        &env.app,
        "/api/metrics?measure=avg_ltv&dimension=segment",
        ANALYST_TOKEN,
    )
    .await;
    let hvt = m["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["dimension"] == "High-Value Travelers")
        .unwrap();
    assert_eq!(hvt["measure"], "10000.00");
    assert!(m["sql"].as_str().unwrap().contains("AVG(lifetime_value)"));
    let m = ok_json(
        &env.app,
        "/api/metrics?measure=customers&dimension=state&risk=High",
        ANALYST_TOKEN,
    )
    .await;
    assert!(m["sql"].as_str().unwrap().contains("IN ($1)"));
    assert_eq!(m["params"], serde_json::json!(["High"]));
    let rows = m["rows"].as_array().unwrap();
    assert_eq!(rows[0]["dimension"], "CA");
    assert_eq!(rows[0]["measure"], 25);
    let model = ok_json(&env.app, "/api/metrics/model", ANALYST_TOKEN).await;
    for preset in model["presets"].as_array().unwrap() {
        let url = format!(
            "/api/metrics?measure={}&dimension={}{}{}",
            preset["measure"].as_str().unwrap(),
            preset["dimension"].as_str().unwrap(),
            if preset["filters"] == "" { "" } else { "&" },
            preset["filters"].as_str().unwrap()
        );
        let r = ok_json(&env.app, &url, ANALYST_TOKEN).await;
        assert!(!r["rows"].as_array().unwrap().is_empty(), "{url}");
    }
    for d in model["dimensions"].as_array().unwrap() {
        for m in model["measures"].as_array().unwrap() {
            let url = format!(
                "/api/metrics?measure={}&dimension={}",
                m["key"].as_str().unwrap(),
                d["key"].as_str().unwrap()
            );
            ok_json(&env.app, &url, ANALYST_TOKEN).await;
        }
    }
}

#[tokio::test]
async fn sign_in_with_a_password_and_out_again() {
    let env = env().await;
    let form = |user: &str, pw: &str| {
        Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "username={user}&password={}&next=%2Fsegments",
                enc(pw)
            )))
            .unwrap()
    };
    let wrong = send(&env.app, form("ana", "guess")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Wrong user name or password"));
    assert!(wrong.headers.get(header::SET_COOKIE).is_none());
    let nobody = send(&env.app, form("nobody", PASSWORD)).await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);

    let ok = send(&env.app, form("ana", PASSWORD)).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.headers[header::LOCATION], "/segments");
    let cookie = ok.headers[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let session = cookie.split(';').next().unwrap().to_string();
    let with_cookie = |path: &str| {
        Request::get(path)
            .header(header::COOKIE, session.clone())
            .body(Body::empty())
            .unwrap()
    };
    let me = send(&env.app, with_cookie("/api/me")).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["name"], "ana");
    assert_eq!(me.json()["via"], "session");
    let page = send(&env.app, with_cookie("/segments")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));

    let out = send(
        &env.app,
        Request::post("/logout")
            .header(header::COOKIE, session.clone())
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        send(&env.app, with_cookie("/api/me")).await.status,
        StatusCode::UNAUTHORIZED
    );
    // No open redirect after sign-in.
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "username=ana&password={}&next=%2F%2Fevil.example",
            enc(PASSWORD)
        )))
        .unwrap();
    let r = send(&env.app, req).await;
    assert_eq!(r.headers[header::LOCATION], "/");
}

#[tokio::test]
async fn an_empty_lake_says_what_is_missing_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let lake = c360_lake::Lake::new(dir.path().join("lake"));
    let app = c360_server::app(AppState::new(config(), lake, dir.path()));
    for path in API_PATHS {
        let r = get(&app, path, Some(ADMIN_TOKEN)).await;
        if path.ends_with(".csv") || *path == "/api/customers/CUST00000042" {
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.body);
            assert!(
                r.json()["error"]
                    .as_str()
                    .unwrap()
                    .contains("not in the lake"),
                "{path}"
            );
        } else {
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        }
    }
    let o = ok_json(&app, "/api/overview", ADMIN_TOKEN).await;
    assert_eq!(
        o["missing"],
        serde_json::json!(["gold.customer_360_profile"])
    );
    for path in [
        "/",
        "/segments",
        "/customers",
        "/campaign",
        "/pipeline",
        "/metrics",
    ] {
        let r = get(&app, path, Some(ADMIN_TOKEN)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(r.body.contains("Not in the lake yet"), "{path}");
    }
}
