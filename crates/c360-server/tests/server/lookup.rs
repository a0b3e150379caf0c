//! The customer lookup's in-memory indexes: the fact index answers exactly what a scan of the
//! fact table answers, follows new table versions, and the deep dive works from
//! `gold.dim_customer` + `gold.customer_segments` before `gold.customer_360_profile` exists.

use std::time::Duration;

use axum::http::StatusCode;
use c360_lake::datafusion::arrow::array::{AsArray, BooleanArray};
use c360_lake::datafusion::arrow::compute::filter_record_batch;
use c360_lake::{Lake, Layer};
use c360_server::{AppState, ServerConfig};

use crate::api::{config, get, ok_json, ADMIN_TOKEN, ANALYST_TOKEN, MARKETING_TOKEN};
use crate::fixture;

const TX_PATHS: &[&str] = &[
    "/api/customers/CUST00000042/transactions?period=all",
    "/api/customers/CUST00000042/transactions",
    "/api/customers/CUST00000042/transactions?period=30",
    "/api/customers/CUST00000042/transactions?period=all&status=declined",
    "/api/customers/CUST00000042/transactions?period=all&category=Airlines&category=Hotels&page_size=3&page=2",
    "/api/customers/CUST00000042/transactions?period=365&category=Grocery",
    "/api/customers/CUST00000007/transactions?period=all",
    "/api/customers/CUST00000299/transactions?period=all",
    "/api/customers/NOBODY/transactions?period=all",
    "/api/customers/CUST00000042/transactions.csv?period=all&status=approved",
    "/api/customers/CUST00000042/transactions.csv?period=90",
];

fn app(
    lake: Lake,
    project: &std::path::Path,
    tweak: impl FnOnce(&mut ServerConfig),
) -> axum::Router {
    let mut config = config();
    tweak(&mut config);
    c360_server::app(AppState::new(config, lake, project))
}

#[tokio::test]
async fn the_fact_index_answers_exactly_what_a_scan_answers() {
    let dir = tempfile::tempdir().unwrap();
    let lake = fixture::build(&dir.path().join("lake"), &dir.path().join("project")).await;
    let indexed = app(lake.clone(), dir.path(), |_| {});
    let scanned = app(lake, dir.path(), |c| c.fact_index_max_rows = 0);
    let mut rows_seen = 0;
    for path in TX_PATHS {
        let a = get(&indexed, path, Some(ANALYST_TOKEN)).await;
        let b = get(&scanned, path, Some(ANALYST_TOKEN)).await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.body);
        assert_eq!(a.status, b.status, "{path}");
        assert_eq!(a.body, b.body, "{path}");
        rows_seen += a.body.matches("transaction_id").count() + a.body.lines().count();
    }
    assert!(rows_seen > 40, "the comparison saw real rows");
}

/// A fact index too small for the table is not built; the scan answers.
#[tokio::test]
async fn a_fact_table_over_the_limit_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let lake = fixture::build(&dir.path().join("lake"), &dir.path().join("project")).await;
    let small = app(lake, dir.path(), |c| c.fact_index_max_rows = 10);
    let t = ok_json(&small, TX_PATHS[0], ANALYST_TOKEN).await;
    assert_eq!(t["total"], 20);
}

#[tokio::test]
async fn a_new_fact_version_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let lake = fixture::build(&dir.path().join("lake"), &dir.path().join("project")).await;
    let app = app(lake.clone(), dir.path(), |c| c.refresh_seconds = 0);
    let t = ok_json(&app, TX_PATHS[0], ANALYST_TOKEN).await;
    assert_eq!(t["total"], 20);
    // Jane's newest transaction disappears in a new version of the fact table.
    let batch = fixture::transactions(&fixture::customers());
    let ids = batch
        .column_by_name("transaction_id")
        .unwrap()
        .as_string::<i32>();
    let keep: BooleanArray = ids.iter().map(|id| Some(id != Some("TXJ0000"))).collect();
    let batch = filter_record_batch(&batch, &keep).unwrap();
    fixture::write(&lake, Layer::Gold, "fct_transactions", batch).await;
    // Right away (the index is rebuilt in the background, the scan answers meanwhile) and later
    // (from the new index), the row is gone.
    for _ in 0..2 {
        let t = ok_json(&app, TX_PATHS[0], ANALYST_TOKEN).await;
        assert_eq!(t["total"], 19);
        assert!(!t["rows"].to_string().contains("TXJ0000"));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn without_the_profile_the_deep_dive_reads_dim_customer_and_segments() {
    let dir = tempfile::tempdir().unwrap();
    let lake = fixture::build(&dir.path().join("lake"), &dir.path().join("project")).await;
    std::fs::remove_dir_all(lake.table_path(Layer::Gold, "customer_360_profile")).unwrap();
    let segments = fixture::Cols::default()
        .text(
            "customer_id",
            vec![Some("CUST00000042"), Some("CUST00000043")],
        )
        .text(
            "customer_segment",
            vec![Some("High-Value Travelers"), Some("Budget-Conscious")],
        )
        .int64("total_transactions", vec![Some(18), Some(0)])
        .money("lifetime_value", 18, vec![Some(1_000_050), Some(0)])
        .money("spend_last_90_days", 18, vec![Some(300_000), Some(0)])
        .money("spend_prior_90_days", 18, vec![Some(200_000), Some(0)])
        .date(
            "as_of_date",
            vec![Some(chrono::NaiveDate::from_ymd_opt(2025, 11, 14).unwrap()); 2],
        )
        .batch();
    fixture::write(&lake, Layer::Gold, "customer_segments", segments).await;
    let app = app(lake, dir.path(), |_| {});

    let c = ok_json(&app, "/api/customers/CUST00000042", ANALYST_TOKEN).await;
    assert_eq!(
        c["missing"],
        serde_json::json!(["gold.customer_360_profile"])
    );
    assert_eq!(
        c["profile_source"],
        "gold.dim_customer + gold.customer_segments"
    );
    assert_eq!(c["profile"]["full_name"], "Jane Doe");
    assert_eq!(c["profile"]["customer_segment"], "High-Value Travelers");
    assert_eq!(c["profile"]["lifetime_value"], "10000.50");
    assert_eq!(c["history"].as_array().unwrap().len(), 2);
    let m = ok_json(&app, "/api/customers/CUST00000042", MARKETING_TOKEN).await;
    assert_eq!(m["profile"]["full_name"], "J*** D***");
    // A current customer without a segments row still has its identity.
    let c = ok_json(&app, "/api/customers/CUST00000100", ANALYST_TOKEN).await;
    assert_eq!(c["profile"]["customer_segment"], serde_json::Value::Null);
    let t = ok_json(&app, TX_PATHS[1], ANALYST_TOKEN).await;
    assert_eq!(t["as_of"], fixture::AS_OF);
    assert_eq!(
        t["total"], 9,
        "the period counts back from customer_segments.as_of_date"
    );
    let page = get(&app, "/customers/CUST00000042", Some(ADMIN_TOKEN)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("gold.customer_360_profile"));
    assert!(page.body.contains("Jane Doe"));

    let o = ok_json(&app, "/api/overview", ANALYST_TOKEN).await;
    assert_eq!(o["kpis"]["customers"], 2);
    assert_eq!(o["kpis"]["total_ltv"], "10000.50");
    assert_eq!(o["kpis"]["spend_change_pct"], 50.0);
    assert_eq!(o["kpis"]["high_risk_pct"], serde_json::Value::Null);
    assert_eq!(o["freshness"]["as_of"], fixture::AS_OF);
    assert_eq!(
        o["missing"],
        serde_json::json!(["gold.customer_360_profile"])
    );
    assert!(o["churn_risk"].as_array().unwrap().is_empty());
}
