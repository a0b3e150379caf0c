//! One unreadable table does not take the dashboard down: a garbage commit as the next version
//! of `gold.customer_360_profile` leaves every page answering from the last good version (or,
//! at start-up, without the table), says which table is unreadable and why, and logs one WARN
//! per reload — not an ERROR per request.

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum::Router;
use c360_lake::{Lake, Layer};
use c360_server::{AppState, ServerConfig};
use serde_json::Value;

use crate::api::{config, get, ok_json, ADMIN_TOKEN, ANALYST_TOKEN};
use crate::fixture;

/// Writes `text` as version `version` of `layer.table`'s log.
fn bad_commit(
    lake: &Lake,
    layer: Layer,
    table: &str,
    version: u64,
    text: &str,
) -> std::path::PathBuf {
    let path = lake
        .table_path(layer, table)
        .join("_delta_log")
        .join(format!("{version:020}.json"));
    std::fs::write(&path, text).unwrap();
    path
}

/// The WARN and ERROR events logged on this thread (a `#[tokio::test]` runs its tasks here).
#[derive(Default, Clone)]
struct Logged(Arc<Mutex<Vec<(tracing::Level, String)>>>);

impl Logged {
    fn at(&self, level: tracing::Level) -> Vec<String> {
        let events = self.0.lock().unwrap();
        events
            .iter()
            .filter(|(l, _)| *l == level)
            .map(|(_, m)| m.clone())
            .collect()
    }
}

struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}{}", self.0);
        } else {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
}

impl tracing::Subscriber for Logged {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        *metadata.level() <= tracing::Level::WARN
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        message
            .0
            .push_str(&format!(" [{}]", event.metadata().target()));
        self.0
            .lock()
            .unwrap()
            .push((*event.metadata().level(), message.0));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Every page and the API routes that read the profile, each expected to answer 200.
const READS: &[&str] = &[
    "/",
    "/segments",
    "/customers",
    "/customers/CUST00000042",
    "/campaign",
    "/pipeline",
    "/metrics",
    "/api/overview",
    "/api/segments",
    "/api/customers/CUST00000042",
    "/api/customers/CUST00000042/transactions",
    "/api/pipeline",
];

async fn all_pages_answer(app: &Router) {
    for path in READS {
        let r = get(app, path, Some(ADMIN_TOKEN)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }
}

fn live_config() -> ServerConfig {
    ServerConfig {
        refresh_seconds: 0,
        ..config()
    }
}

#[tokio::test]
async fn a_garbage_commit_keeps_the_last_good_version_served() {
    let logged = Logged::default();
    let _guard = tracing::subscriber::set_default(logged.clone());
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let lake = fixture::build(&dir.path().join("lake"), &project).await;
    let app = c360_server::app(AppState::new(live_config(), lake.clone(), &project));
    let before = ok_json(&app, "/api/overview", ADMIN_TOKEN).await;
    let garbage = bad_commit(
        &lake,
        Layer::Gold,
        "customer_360_profile",
        1,
        "{ not json\n",
    );

    for _ in 0..3 {
        all_pages_answer(&app).await;
    }
    let after = ok_json(&app, "/api/overview", ADMIN_TOKEN).await;
    assert_eq!(
        after["kpis"], before["kpis"],
        "the last good version is served"
    );
    let jane = ok_json(&app, "/api/customers/CUST00000042", ADMIN_TOKEN).await;
    assert_eq!(jane["profile"]["full_name"], "Jane Doe");

    // Which table, which version, what is served instead, and why — in one line.
    let p = ok_json(&app, "/api/pipeline", ANALYST_TOKEN).await;
    let u = &p["unreadable"][0];
    assert_eq!(u["table"], "gold.customer_360_profile");
    assert_eq!(u["version"], 1);
    assert_eq!(u["serving"], 0);
    let why = u["error"].as_str().unwrap();
    assert!(!why.is_empty() && !why.contains('\n'), "{why}");
    let page = get(&app, "/", Some(ADMIN_TOKEN)).await.body;
    assert!(page.contains(r#"id="unreadable-tables""#));
    assert!(page.contains("this page shows version 0"));
    let pipeline = get(&app, "/pipeline", Some(ADMIN_TOKEN)).await.body;
    assert!(pipeline.contains(r#"id="unreadable""#));
    let health = get(&app, "/health", None).await.json();
    assert_eq!(health["status"], "degraded");
    assert_eq!(
        health["unreadable"],
        serde_json::json!(["gold.customer_360_profile"])
    );

    // One WARN for the one reload, nothing per request, no backtrace.
    let warnings = logged.at(tracing::Level::WARN);
    let about: Vec<&String> = warnings
        .iter()
        .filter(|w| w.contains("customer_360_profile"))
        .collect();
    assert_eq!(about.len(), 1, "{warnings:#?}");
    assert!(!about[0].contains('\n'), "{}", about[0]);
    assert_eq!(logged.at(tracing::Level::ERROR), Vec::<String>::new());

    // Repaired: the next check reads the table again and the server is healthy.
    std::fs::remove_file(garbage).unwrap();
    all_pages_answer(&app).await;
    assert_eq!(get(&app, "/health", None).await.json()["status"], "ok");
    assert_eq!(
        ok_json(&app, "/api/pipeline", ADMIN_TOKEN).await["unreadable"],
        serde_json::json!([])
    );
}

#[tokio::test]
async fn at_start_up_an_unreadable_table_is_left_out_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let lake = fixture::build(&dir.path().join("lake"), &project).await;
    bad_commit(&lake, Layer::Gold, "customer_360_profile", 1, "garbage");
    let app = c360_server::app(AppState::new(live_config(), lake.clone(), &project));
    all_pages_answer(&app).await;
    let health = get(&app, "/health", None).await.json();
    assert_eq!(health["status"], "degraded");
    let p = ok_json(&app, "/api/pipeline", ADMIN_TOKEN).await;
    assert_eq!(p["unreadable"][0]["table"], "gold.customer_360_profile");
    assert_eq!(p["unreadable"][0]["serving"], Value::Null);
    // The rest of the pipeline page is there.
    assert_eq!(p["runs"].as_array().unwrap().len(), 1);
    // Pages say the table is unreadable, not that it is missing.
    let page = get(&app, "/segments", Some(ADMIN_TOKEN)).await.body;
    assert!(page.contains("no earlier version was read"), "{page}");
    assert!(!page.contains("Not in the lake yet"));
    let o = ok_json(&app, "/api/overview", ADMIN_TOKEN).await;
    assert_eq!(
        o["missing"],
        serde_json::json!(["gold.customer_360_profile"])
    );
}
