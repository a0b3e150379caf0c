use std::collections::{BTreeMap, HashSet};

use arrow::array::{Array, AsArray};
use arrow::datatypes::TimestampMicrosecondType;
use c360_lake::Layer;

use crate::common::*;

#[test]
fn generate_writes_bronze_with_exact_segments_and_every_dirt_kind() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    let out = ok(c360(&lake).args(["generate", "--customers", "1000"]));
    let text = stdout(&out);
    assert!(text.contains("bronze.transactions"), "{text}");
    assert!(text.contains("Injected dirt"), "{text}");

    let customers = read(&lake, Layer::Bronze, "customers");
    let ids = strings(&customers, "customer_id");
    let segments = strings(&customers, "customer_segment");
    let mut per_customer = BTreeMap::new();
    for (id, seg) in ids.iter().zip(&segments) {
        per_customer.insert(id.clone().unwrap(), seg.clone().unwrap());
    }
    assert_eq!(per_customer.len(), 1000);
    assert!(ids.len() > 1000, "some customers are re-sent with changes");
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for seg in per_customer.values() {
        *counts.entry(seg.clone()).or_default() += 1;
    }
    assert_eq!(counts["High-Value Travelers"], 150);
    assert_eq!(counts["Stable Mid-Spenders"], 400);
    assert_eq!(counts["Budget-Conscious"], 250);
    assert_eq!(counts["Declining"], 100);
    assert_eq!(counts["New & Growing"], 100);

    let txns = read(&lake, Layer::Bronze, "transactions");
    let rows: usize = txns.iter().map(|b| b.num_rows()).sum();
    // ~270 transactions per customer at the seed's calibration (13.5M / 50K).
    assert!((250_000..290_000).contains(&rows), "{rows} transactions");
    let txn_ids = strings(&txns, "transaction_id");
    let distinct: HashSet<_> = txn_ids.iter().collect();
    assert!(distinct.len() < rows, "duplicates injected");
    let categories = strings(&txns, "merchant_category");
    assert!(categories
        .iter()
        .any(|c| c.as_deref().is_none_or(|c| c.trim().is_empty())));
    let channels: HashSet<_> = strings(&txns, "channel").into_iter().flatten().collect();
    assert!(
        channels.len() > 3,
        "messy channel values present: {channels:?}"
    );
    let unknown = strings(&txns, "customer_id")
        .into_iter()
        .flatten()
        .filter(|c| !per_customer.contains_key(c))
        .count();
    assert!(unknown > 0, "unknown customers injected");
    // No transaction after the end date.
    let end = chrono::NaiveDate::from_ymd_opt(2025, 11, 15)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let end_micros = end.and_utc().timestamp_micros();
    for b in &txns {
        let ts = b
            .column_by_name("transaction_date")
            .unwrap()
            .as_primitive::<TimestampMicrosecondType>();
        for i in 0..ts.len() {
            if ts.is_valid(i) {
                assert!(ts.value(i) < end_micros);
            }
        }
    }
}

#[test]
fn same_options_give_the_same_data_whatever_the_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, two, other) = (
        tmp.path().join("one"),
        tmp.path().join("two"),
        tmp.path().join("other"),
    );
    ok(c360(&one).args(["--threads", "1", "generate", "--customers", "300"]));
    ok(c360(&two).args(["--threads", "2", "generate", "--customers", "300"]));
    ok(c360(&other).args(["generate", "--customers", "300", "--seed", "7"]));
    for table in ["customers", "transactions"] {
        let a = content_hash(&one, Layer::Bronze, table);
        let b = content_hash(&two, Layer::Bronze, table);
        let c = content_hash(&other, Layer::Bronze, table);
        assert_eq!(a, b, "{table}");
        assert_ne!(a.1, c.1, "{table}: another seed gives other data");
    }
}

#[test]
fn clean_injects_no_dirt() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    ok(c360(&lake).args(["generate", "--customers", "300", "--clean"]));
    let customers = read(&lake, Layer::Bronze, "customers");
    assert_eq!(customers.iter().map(|b| b.num_rows()).sum::<usize>(), 300);
    let txns = read(&lake, Layer::Bronze, "transactions");
    let ids = strings(&txns, "transaction_id");
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        ids.len(),
        "no duplicates"
    );
    let channels: HashSet<_> = strings(&txns, "channel").into_iter().flatten().collect();
    let expected: HashSet<String> = ["Online", "In-Store", "Mobile"].map(String::from).into();
    assert_eq!(channels, expected);
    let statuses: HashSet<_> = strings(&txns, "status").into_iter().flatten().collect();
    assert!(
        statuses.iter().all(|s| s == "approved" || s == "declined"),
        "{statuses:?}"
    );
    assert!(strings(&txns, "merchant_category")
        .iter()
        .all(|c| c.as_deref().is_some_and(|c| !c.trim().is_empty())));
}

#[test]
fn generate_replaces_bronze_and_keeps_the_old_version_readable() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    ok(c360(&lake).args(["generate", "--customers", "100"]));
    ok(c360(&lake).args(["generate", "--customers", "120"]));
    let (version, _) = version_and_rows(&lake, Layer::Bronze, "customers").unwrap();
    assert_eq!(version, 1);
    let customers = read(&lake, Layer::Bronze, "customers");
    let distinct: HashSet<_> = strings(&customers, "customer_id").into_iter().collect();
    assert_eq!(distinct.len(), 120);
}

#[test]
fn simulate_appends_the_following_days() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    ok(c360(&lake).args([
        "generate",
        "--customers",
        "200",
        "--end-date",
        "2025-06-30",
        "--months",
        "6",
    ]));
    let (_, before) = version_and_rows(&lake, Layer::Bronze, "transactions").unwrap();
    let out = ok(c360(&lake).args(["simulate", "--days", "3"]));
    assert!(stdout(&out).contains("2025-07-03"), "{}", stdout(&out));
    let (version, after) = version_and_rows(&lake, Layer::Bronze, "transactions").unwrap();
    assert_eq!(version, 1);
    assert!(after > before, "{after} > {before}");
    ok(c360(&lake).args(["simulate", "--days", "2"]));
    let txns = read(&lake, Layer::Bronze, "transactions");
    let ids = strings(&txns, "transaction_id");
    let dates = strings(&txns, "transaction_date");
    let last = dates.iter().flatten().max().unwrap();
    assert!(last.starts_with("2025-07-05"), "{last}");
    // Ids of the simulated windows never collide with history (duplicates are the injected dirt:
    // the same row re-ingested, so at most a few per thousand).
    let distinct = ids.iter().collect::<HashSet<_>>().len();
    assert!(
        ids.len() - distinct < ids.len() / 100,
        "{} of {}",
        ids.len() - distinct,
        ids.len()
    );
}

#[test]
fn simulate_continues_a_history_generated_again() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    let generate = [
        "generate",
        "--customers",
        "50",
        "--end-date",
        "2025-06-30",
        "--months",
        "2",
    ];
    ok(c360(&lake).args(generate));
    ok(c360(&lake).args(["simulate", "--days", "2"]));
    // The same days again over a history written anew: simulated, not refused.
    ok(c360(&lake).args(generate));
    let out = ok(c360(&lake).args(["simulate", "--days", "2"]));
    assert!(stdout(&out).contains("2025-07-02"), "{}", stdout(&out));
    let txns = read(&lake, Layer::Bronze, "transactions");
    let dates = strings(&txns, "transaction_date");
    let last = dates.iter().flatten().max().unwrap();
    assert!(last.starts_with("2025-07-02"), "{last}");
}

#[test]
fn simulate_without_a_generated_history_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let out = c360(&lake_dir(&tmp))
        .args(["simulate", "--days", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("c360 generate"));
}

#[test]
fn a_bad_dirt_rate_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    for bad in ["nonsense=0.1", "duplicate=2", "duplicate"] {
        let out = c360(&lake)
            .args(["generate", "--customers", "10", "--dirt-rate", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    }
    assert!(version_and_rows(&lake, Layer::Bronze, "customers").is_none());
}
