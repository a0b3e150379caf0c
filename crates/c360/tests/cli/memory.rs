//! A build held to a memory limit small enough that its sorts and aggregates must spill
//! produces exactly the tables of an unlimited build, and says what each model held and
//! spilled (`run_results.json`, `_c360.run_history`).

use c360_lake::Layer;

use crate::common::*;

/// Below what `duplicated_transaction_ids` holds without a limit for 2,000 customers (about
/// 58 MiB for its ~540,000 transaction ids), so it must spill; above what the joins of
/// `customer_360_profile`, which cannot spill, need.
const SMALL_LIMIT: &str = "48MiB";

fn run_results(setup: &Setup) -> serde_json::Value {
    let text = std::fs::read(setup.project.join("target/run_results.json")).unwrap();
    serde_json::from_slice(&text).unwrap()
}

#[test]
fn a_build_under_a_small_memory_limit_spills_and_writes_the_same_tables() {
    let unlimited = Setup::new();
    let limited = Setup::new();
    for setup in [&unlimited, &limited] {
        setup.ok(&["generate", "--customers", "2000"]);
    }
    unlimited.ok(&["--memory-limit", "unlimited", "build"]);
    // One node at a time: two models sharing a pool this small can leave a join no memory
    // beside another's aggregate (docs/engine.md § Memory).
    let out = limited.ok(&["--threads", "1", "--memory-limit", SMALL_LIMIT, "build"]);
    assert!(out.contains("0 failed"), "{out}");

    let results = run_results(&limited);
    let nodes = results["results"].as_array().unwrap();
    let spilled: Vec<&str> = nodes
        .iter()
        .filter(|n| n["spilled_bytes"].as_u64().is_some_and(|b| b > 0))
        .map(|n| n["unique_id"].as_str().unwrap())
        .collect();
    assert!(!spilled.is_empty(), "nothing spilled under {SMALL_LIMIT}");
    for node in nodes.iter().filter(|n| n["resource_type"] == "model") {
        assert!(node["peak_memory"].as_u64().is_some(), "{node}");
    }
    assert!(results["peak_rss"].as_u64().unwrap() > 0);
    // without a limit nothing spills
    let unlimited_results = run_results(&unlimited);
    assert!(unlimited_results["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n.get("spilled_bytes").is_none()));

    let tables = c360_lake::Lake::new(&unlimited.lake).table_names();
    let mut compared = 0;
    for (layer, name) in tables {
        if !matches!(layer, Layer::Silver | Layer::Gold) {
            continue;
        }
        assert_eq!(
            content_hash(&limited.lake, layer, &name),
            content_hash(&unlimited.lake, layer, &name),
            "{layer}.{name} differs under a {SMALL_LIMIT} memory limit"
        );
        compared += 1;
    }
    assert!(compared > 20, "only {compared} tables compared");

    // the history keeps each model's peak, and older rows of the table stay readable
    let out = ok(limited.c360().args([
        "query",
        "--format",
        "csv",
        "SELECT count(*) AS n FROM _c360.run_history \
         WHERE resource_type = 'model' AND peak_memory IS NULL",
    ]));
    assert_eq!(stdout(&out).lines().nth(1), Some("0"), "{}", stdout(&out));
}
