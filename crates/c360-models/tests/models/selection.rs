//! Selectors over the `basic` fixture.

use c360_models::{parse_selectors, select, Manifest, ModelError};

use crate::compile_fixture;

fn run(m: &Manifest, include: &[&str], exclude: &[&str]) -> Vec<String> {
    let include = parse_selectors(include).unwrap();
    let exclude = parse_selectors(exclude).unwrap();
    select(m, &include, &exclude)
        .unwrap()
        .into_iter()
        .filter(|id| !id.starts_with("test."))
        .collect()
}

#[test]
fn graph_operators() {
    let m = compile_fixture("basic").unwrap();
    assert_eq!(run(&m, &["dim_customer"], &[]), ["model.dim_customer"]);
    assert_eq!(
        run(&m, &["+dim_customer"], &[]),
        [
            "model.dim_customer",
            "model.stg_customers",
            "model.valid_states",
            "seed.state_codes"
        ]
    );
    assert_eq!(
        run(&m, &["dim_customer+"], &[]),
        [
            "model.churn_scores",
            "model.customer_spend",
            "model.dim_customer"
        ]
    );
    assert_eq!(
        run(&m, &["source:bronze.transactions+"], &[]),
        [
            "model.churn_scores",
            "model.customer_spend",
            "model.stg_transactions"
        ]
    );
}

#[test]
fn tags_paths_unions_and_excludes() {
    let m = compile_fixture("basic").unwrap();
    assert_eq!(run(&m, &["tag:marts"], &[]), ["model.customer_spend"]);
    assert_eq!(
        run(&m, &["tag:silver"], &[]),
        [
            "model.stg_customers",
            "model.stg_transactions",
            "model.valid_states"
        ]
    );
    assert_eq!(
        run(&m, &["path:models/gold"], &[]),
        [
            "model.churn_scores",
            "model.customer_spend",
            "model.dim_customer"
        ]
    );
    assert_eq!(
        run(&m, &["path:models/gold/marts/customer_spend.sql"], &[]),
        ["model.customer_spend"]
    );
    assert_eq!(
        run(&m, &["stg_customers, valid_states churn_scores"], &[]).len(),
        3
    );
    assert_eq!(
        run(&m, &["path:models/gold"], &["tag:marts churn_scores"]),
        ["model.dim_customer"]
    );
}

#[test]
fn tests_follow_their_models() {
    let m = compile_fixture("basic").unwrap();
    let chosen = select(&m, &parse_selectors(&["dim_customer"]).unwrap(), &[]).unwrap();
    assert!(chosen.contains("test.unique_dim_customer_customer_id"));
    // relationships reads both models: selected with either
    assert!(
        chosen.contains("test.relationships_dim_customer_customer_id__stg_customers_customer_id")
    );
    assert!(!chosen.contains("test.unique_customer_spend_customer_id"));
    let all = select(&m, &[], &parse_selectors(&["stg_customers"]).unwrap()).unwrap();
    assert!(!all.contains("test.relationships_dim_customer_customer_id__stg_customers_customer_id"));
    assert!(all.contains("model.dim_customer"));
    assert!(
        !all.iter().any(|id| id.starts_with("source.")),
        "sources are never run"
    );
}

#[test]
fn unknown_names_are_errors() {
    let m = compile_fixture("basic").unwrap();
    let err = select(&m, &parse_selectors(&["+dim_customers"]).unwrap(), &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "selector '+dim_customers' matches no node (did you mean 'dim_customer'?)"
    );
    let err = select(&m, &parse_selectors(&["tag:mart"]).unwrap(), &[]).unwrap_err();
    assert!(
        matches!(&err, ModelError::SelectorNotFound { suggestion: Some(s), .. } if s == "tag:marts"),
        "{err}"
    );
    assert!(select(&m, &[], &parse_selectors(&["path:models/bronze"]).unwrap()).is_err());
}
