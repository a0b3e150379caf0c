//! `cluster_by` on a DATE column: every Parquet file of the table holds one calendar month
//! (NULL dates apart), read back from the file statistics in the Delta log.

use std::collections::BTreeMap;

use c360_lake::Lake;
use c360_models::{compile, Project, RunOptions, Runner};

use crate::temp_project;

/// `(min, max, rows, nulls)` of `column` per live file of the table at `path`.
fn file_ranges(table: &std::path::Path, column: &str) -> Vec<(String, String, u64, u64)> {
    let mut live = BTreeMap::new();
    let mut logs: Vec<_> = std::fs::read_dir(table.join("_delta_log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    logs.sort();
    for log in logs {
        for line in std::fs::read_to_string(log).unwrap().lines() {
            let action: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(add) = action.get("add") {
                live.insert(
                    add["path"].to_string(),
                    add["stats"].as_str().unwrap().to_string(),
                );
            }
            if let Some(remove) = action.get("remove") {
                live.remove(&remove["path"].to_string());
            }
        }
    }
    live.values()
        .map(|stats| {
            let s: serde_json::Value = serde_json::from_str(stats).unwrap();
            let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
            (
                text(&s["minValues"][column]),
                text(&s["maxValues"][column]),
                s["numRecords"].as_u64().unwrap(),
                s["nullCount"][column].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_date_clustered_table_has_one_month_per_file() {
    let dir = temp_project(&[
        ("c360.toml", "name = \"layout\"\n[models.gold]\nmaterialized = \"table\"\n"),
        (
            "models/gold/events.sql",
            "{{ config(cluster_by='day') }}\n\
             select day, cast(date_part('day', day) as bigint) as n from (\n\
                 select unnest(generate_series(date '2024-01-20', date '2024-04-10', interval '1 day')) as day\n\
                 union all\n\
                 select cast(null as date)\n\
             ) as days",
        ),
    ]);
    let project = Project::load(dir.path()).unwrap();
    let manifest = compile(&project, &Default::default(), &|_| false).unwrap();
    let lake = Lake::new(dir.path().join("lake"));
    let results = Runner::new(
        dir.path(),
        lake,
        manifest.clone(),
        RunOptions::all(&manifest),
    )
    .run()
    .await
    .unwrap();
    assert!(results.success, "{:?}", results.results);

    let files = file_ranges(&dir.path().join("lake/gold/events"), "day");
    let rows: u64 = files.iter().map(|f| f.2).sum();
    assert_eq!(rows, 82 + 1, "{files:?}");
    let mut months = std::collections::BTreeSet::new();
    for (min, max, rows, nulls) in &files {
        if *nulls > 0 {
            // the NULL dates have a file of their own
            assert_eq!(
                (*nulls, min.as_str(), max.as_str()),
                (*rows, "", ""),
                "{files:?}"
            );
            continue;
        }
        assert_eq!(min[..7], max[..7], "a file spans two months: {files:?}");
        months.insert(min[..7].to_string());
    }
    assert_eq!(
        months.into_iter().collect::<Vec<_>>(),
        ["2024-01", "2024-02", "2024-03", "2024-04"]
    );
}
