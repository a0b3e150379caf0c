//! Every data test kind at severity warn and at error, thresholds, singular tests and stored
//! failures (fixture `test_kinds`).

use c360_lake::{Lake, Layer};
use c360_models::{failures_table, NodeStatus, RunOptions, Runner};

use super::execute::copy_fixture;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_test_kind_warns_and_errors() {
    let dir = copy_fixture("test_kinds");
    let project = c360_models::Project::load(dir.path()).unwrap();
    let manifest = c360_models::compile(&project, &Default::default(), &|_| false).unwrap();
    let lake = Lake::new(dir.path().join("lake"));
    let results = Runner::new(
        dir.path(),
        lake.clone(),
        manifest.clone(),
        RunOptions::all(&manifest),
    )
    .run()
    .await
    .unwrap();
    assert!(!results.success);

    // `unique` counts exactly the duplicated values (id 1), and a `where` is honoured.
    let result = |id: &str| results.results.iter().find(|r| r.unique_id == id).unwrap();
    assert_eq!(result("test.unique_things_id").failures, Some(1));
    let grp = result("test.unique_things_grp");
    assert_eq!((grp.status, grp.failures), (NodeStatus::Pass, Some(0)));

    let mut seen = std::collections::BTreeMap::<(String, NodeStatus), u32>::new();
    for r in results
        .results
        .iter()
        .filter(|r| r.unique_id.starts_with("test.") && r.unique_id != grp.unique_id)
    {
        let node = &manifest.nodes[&r.unique_id];
        let kind = node.test.as_ref().unwrap().kind.clone();
        assert!(r.failures.unwrap() > 0, "{}: {}", r.unique_id, r.message);
        *seen.entry((kind, r.status)).or_default() += 1;
    }
    for kind in [
        "unique",
        "not_null",
        "accepted_values",
        "relationships",
        "expression",
        "accepted_range",
        "singular",
    ] {
        assert!(
            seen.contains_key(&(kind.to_string(), NodeStatus::Warn)),
            "{kind} warn: {seen:?}"
        );
        assert!(
            seen.contains_key(&(kind.to_string(), NodeStatus::Fail)),
            "{kind} error: {seen:?}"
        );
    }
    // accepted_range three times: warn, error, and the thresholds (2 rows: warn, not error).
    assert_eq!(seen[&("accepted_range".to_string(), NodeStatus::Warn)], 2);

    // store_failures keeps the failing rows (the NULL id) for inspection.
    let stored = results
        .results
        .iter()
        .find(|r| r.message.contains("stored in"))
        .expect("one test stores its failures");
    let table = failures_table(stored.unique_id.trim_start_matches("test."));
    assert!(stored.message.contains(&table), "{}", stored.message);
    let info = lake.table_info(Layer::Meta, &table).await.unwrap().unwrap();
    assert_eq!(info.rows, 1);
}
