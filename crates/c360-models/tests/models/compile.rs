//! Compiling the `basic` fixture: dependencies, configuration, ephemeral inlining, streams,
//! incremental branches, tests, and a byte-stable manifest.

use std::collections::BTreeMap;
use std::path::Path;

use c360_models::{
    compile, Materialization, ModelLayer, Project, ResourceType, Severity, TestStatus,
};

use crate::{compile_fixture, fixture, ids};

#[test]
fn manifest_is_byte_identical_across_runs_and_matches_the_snapshot() {
    let first = compile_fixture("basic").unwrap().to_json();
    let second = compile_fixture("basic").unwrap().to_json();
    assert_eq!(first, second);

    let snapshot =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/models/snapshots/basic_manifest.json");
    if std::env::var_os("C360_ACCEPT").is_some() {
        std::fs::write(&snapshot, &first).unwrap();
    }
    let expected = std::fs::read_to_string(&snapshot).unwrap_or_default();
    assert!(
        first == expected,
        "the manifest of fixtures/basic changed; review and accept with C360_ACCEPT=1 cargo test -p c360-models"
    );
}

#[test]
fn nodes_and_dependencies() {
    let m = compile_fixture("basic").unwrap();
    let models: Vec<&str> = m
        .nodes
        .iter()
        .filter(|(_, n)| n.resource_type == ResourceType::Model)
        .map(|(id, _)| id.as_str())
        .collect();
    // legacy_report is disabled
    assert_eq!(
        models,
        [
            "model.churn_scores",
            "model.customer_spend",
            "model.dim_customer",
            "model.stg_customers",
            "model.stg_transactions",
            "model.valid_states"
        ]
    );
    assert_eq!(
        ids(&m.nodes["model.dim_customer"].depends_on),
        ["model.stg_customers", "model.valid_states"]
    );
    assert_eq!(
        ids(&m.nodes["model.valid_states"].depends_on),
        ["seed.state_codes"]
    );
    assert_eq!(
        ids(&m.nodes["model.stg_customers"].depends_on),
        ["source.bronze.customers"]
    );
    assert_eq!(
        ids(&m.nodes["model.customer_spend"].depends_on),
        ["model.dim_customer", "model.stg_transactions"]
    );
    assert_eq!(
        m.nodes["seed.state_codes"].relation.as_deref(),
        Some("silver.state_codes")
    );
    assert_eq!(
        m.nodes["source.bronze.transactions"].relation.as_deref(),
        Some("bronze.transactions")
    );
    let order = m.dag().topo_order();
    let pos = |id: &str| order.iter().position(|o| o == id).unwrap();
    assert!(pos("model.valid_states") < pos("model.dim_customer"));
    assert!(pos("model.customer_spend") < pos("model.churn_scores"));
}

#[test]
fn configuration_levels_combine() {
    let m = compile_fixture("basic").unwrap();
    let cfg = |id: &str| m.nodes[id].config.clone().unwrap();
    let stg = cfg("model.stg_customers");
    assert_eq!(
        (stg.materialized, stg.layer),
        (Materialization::Table, ModelLayer::Silver)
    );
    assert_eq!(ids(&stg.tags), ["daily", "silver"]);
    let spend = cfg("model.customer_spend");
    assert_eq!(
        (spend.materialized, spend.layer),
        (Materialization::Table, ModelLayer::Gold)
    );
    assert_eq!(ids(&spend.tags), ["finance", "marts"]);
    assert_eq!(
        m.nodes["model.customer_spend"].description,
        "Lifetime value per customer."
    );
    let tx = cfg("model.stg_transactions");
    assert_eq!(tx.materialized, Materialization::Incremental);
    assert_eq!(tx.unique_key, ["transaction_id"]);
    assert_eq!(tx.merge_lookback.unwrap().days, 3);
    assert_eq!(tx.delete_flag_column.as_deref(), Some("is_deleted"));
    assert_eq!(tx.partition_by, ["transaction_date"]);
    let rust = cfg("model.churn_scores");
    assert_eq!(rust.materialized, Materialization::Rust);
    assert_eq!(rust.rust_function.as_deref(), Some("churn_scores"));
    let dim = &m.nodes["model.dim_customer"];
    assert_eq!(dim.columns[0].name, "customer_id");
    assert_eq!(dim.columns[0].data_type.as_deref(), Some("varchar"));
}

#[test]
fn ephemeral_models_are_inlined_as_ctes() {
    let m = compile_fixture("basic").unwrap();
    let eph = &m.nodes["model.valid_states"];
    assert_eq!(eph.materialized, Some(Materialization::Ephemeral));
    assert_eq!(eph.relation.as_deref(), Some("__ephemeral_valid_states"));
    let dim = &m.nodes["model.dim_customer"];
    assert_eq!(dim.ephemeral_ctes, ["model.valid_states"]);
    assert_eq!(
        dim.compiled_sql.as_deref().unwrap(),
        "WITH __ephemeral_valid_states AS (\nselect state_code from silver.state_codes where active\n)\n\
         select c.customer_id, c.state, c.email\nfrom silver.stg_customers as c\n\
         join __ephemeral_valid_states as s on c.state = s.state_code\n"
    );
    // customer_spend reads dim_customer (a table), so nothing is inlined into its own WITH.
    let spend = m.nodes["model.customer_spend"]
        .compiled_sql
        .as_deref()
        .unwrap();
    assert!(spend.starts_with("with spend as (\n"), "{spend}");
    assert!(spend.contains("from gold.dim_customer as d"));
    assert!(spend.contains("date '2025-11-14' as as_of"));
}

#[test]
fn streams_macros_vars_and_incremental_branches() {
    let project = Project::load(fixture("basic")).unwrap();
    let full = compile(&project, &BTreeMap::new(), &|_| false).unwrap();
    let tx = &full.nodes["model.stg_transactions"];
    assert_eq!(ids(&tx.streams), ["source.bronze.transactions"]);
    assert!(tx.depends_on.contains("source.bronze.transactions"));
    assert!(!tx.is_incremental);
    let sql = tx.compiled_sql.as_deref().unwrap();
    assert!(
        sql.contains("cast(round(amount * 100) as bigint) as amount_cents"),
        "{sql}"
    );
    assert!(
        sql.contains("from __stream_stg_transactions__bronze_transactions\nwhere amount > 0\n"),
        "{sql}"
    );
    assert!(!sql.contains("max(transaction_date)"));
    assert!(full.nodes["model.stg_customers"]
        .compiled_sql
        .as_deref()
        .unwrap()
        .contains("upper(trim(state)) as state"));

    let vars = BTreeMap::from([("min_amount".to_string(), "5".to_string())]);
    let incr = compile(&project, &vars, &|model| model == "stg_transactions").unwrap();
    let tx = &incr.nodes["model.stg_transactions"];
    assert!(tx.is_incremental);
    let sql = tx.compiled_sql.as_deref().unwrap();
    assert!(sql.contains("where amount > 5"), "{sql}");
    assert!(
        sql.contains("(select max(transaction_date) from silver.stg_transactions)"),
        "{sql}"
    );
    assert_eq!(incr.vars["min_amount"], "5");
}

#[test]
fn data_tests_are_expanded_with_names_dependencies_and_thresholds() {
    let m = compile_fixture("basic").unwrap();
    let tests: Vec<&str> = m
        .nodes
        .iter()
        .filter(|(_, n)| n.resource_type == ResourceType::Test)
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(
        tests,
        [
            "test.accepted_range_customer_spend_lifetime_value",
            "test.accepted_values_dim_customer_state",
            "test.assert_spend_not_negative",
            "test.expression_customer_spend_lifetime_value_0",
            "test.not_null_dim_customer_customer_id",
            "test.not_null_source_bronze_transactions_transaction_id",
            "test.relationships_dim_customer_customer_id__stg_customers_customer_id",
            "test.unique_customer_spend_customer_id",
            "test.unique_dim_customer_customer_id",
            "test.unique_state_codes_state_code",
        ]
    );
    let rel = &m.nodes["test.relationships_dim_customer_customer_id__stg_customers_customer_id"];
    assert_eq!(
        ids(&rel.depends_on),
        ["model.dim_customer", "model.stg_customers"]
    );
    assert_eq!(
        m.nodes["test.accepted_values_dim_customer_state"]
            .test
            .as_ref()
            .unwrap()
            .settings
            .severity,
        Severity::Warn
    );

    let range = m.nodes["test.accepted_range_customer_spend_lifetime_value"]
        .test
        .clone()
        .unwrap();
    assert_eq!(
        (
            range.settings.warn_if.to_string(),
            range.settings.error_if.to_string()
        ),
        (">0".into(), ">10".into())
    );
    assert!(range.settings.store_failures);
    assert_eq!(range.settings.status(3), TestStatus::Warn);
    assert_eq!(range.settings.status(11), TestStatus::Error);
    assert_eq!(
        m.nodes["test.accepted_range_customer_spend_lifetime_value"].compiled_sql.as_deref().unwrap(),
        "SELECT *\nFROM (SELECT * FROM gold.customer_spend WHERE as_of is not null) AS tested\n\
         WHERE lifetime_value IS NOT NULL AND NOT (lifetime_value >= 0 AND lifetime_value <= 1000000)"
    );

    let singular = &m.nodes["test.assert_spend_not_negative"];
    assert_eq!(singular.test.as_ref().unwrap().kind, "singular");
    assert_eq!(
        singular.test.as_ref().unwrap().settings.severity,
        Severity::Warn
    );
    assert_eq!(ids(&singular.depends_on), ["model.customer_spend"]);
    assert!(singular
        .compiled_sql
        .as_deref()
        .unwrap()
        .contains("from gold.customer_spend where lifetime_value < 0"));
    assert_eq!(
        m.nodes["test.unique_state_codes_state_code"]
            .compiled_sql
            .as_deref()
            .unwrap(),
        "SELECT state_code AS unique_field, COUNT(*) AS n_records\nFROM silver.state_codes\n\
         WHERE state_code IS NOT NULL\nGROUP BY state_code\nHAVING COUNT(*) > 1"
    );
}

#[test]
fn tests_of_ephemeral_models_inline_them_and_chains_are_ordered() {
    let dir = crate::temp_project(&[
        ("c360.toml", "name = \"p\"\n[models]\nmaterialized = \"ephemeral\"\n[models.gold]\nmaterialized = \"table\"\n"),
        ("models/base/e1.sql", "select 1 as id"),
        ("models/base/e2.sql", "select id from {{ ref('e1') }}"),
        ("models/base/e.yml", "models:\n  - name: e2\n    columns:\n      - name: id\n        tests: [not_null]\n"),
        ("models/gold/g.sql", "WITH x AS (select * from {{ ref('e2') }}) select * from x"),
    ]);
    let project = Project::load(dir.path()).unwrap();
    let m = compile(&project, &BTreeMap::new(), &|_| false).unwrap();
    let g = &m.nodes["model.g"];
    assert_eq!(g.ephemeral_ctes, ["model.e1", "model.e2"]);
    assert_eq!(
        g.compiled_sql.as_deref().unwrap(),
        "WITH __ephemeral_e1 AS (\nselect 1 as id\n),\n__ephemeral_e2 AS (\nselect id from __ephemeral_e1\n),\n\
         x AS (select * from __ephemeral_e2) select * from x"
    );
    let t = &m.nodes["test.not_null_e2_id"];
    assert!(
        t.compiled_sql
            .as_deref()
            .unwrap()
            .starts_with("WITH __ephemeral_e1 AS ("),
        "{t:?}"
    );
    // the layer of a model outside silver/ and gold/ is gold
    assert_eq!(m.nodes["model.e1"].layer.as_deref(), Some("gold"));
}
