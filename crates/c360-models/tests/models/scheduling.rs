//! The scheduler over a compiled selection: independent models run together, a failure skips
//! exactly its descendants.

use c360_models::{parse_selectors, select, NodeState};

use crate::compile_fixture;

#[test]
fn a_failed_model_skips_its_descendants_and_releases_independent_ones() {
    let m = compile_fixture("basic").unwrap();
    let chosen = select(&m, &parse_selectors(&["tag:silver+"]).unwrap(), &[]).unwrap();
    let plan = m.dag().subgraph(&chosen);
    let mut s = plan.scheduler();

    // Sources are not part of a run; the silver models (valid_states is in models/silver, so
    // tagged silver too) start at once.
    assert_eq!(
        s.ready(),
        [
            "model.stg_customers",
            "model.stg_transactions",
            "model.valid_states"
        ]
    );

    let skipped = s.complete(&"model.stg_customers".to_string(), false);
    assert_eq!(
        skipped,
        [
            "model.churn_scores",
            "model.customer_spend",
            "model.dim_customer",
            "test.accepted_range_customer_spend_lifetime_value",
            "test.accepted_values_dim_customer_state",
            "test.assert_spend_not_negative",
            "test.expression_customer_spend_lifetime_value_0",
            "test.not_null_dim_customer_customer_id",
            "test.relationships_dim_customer_customer_id__stg_customers_customer_id",
            "test.unique_customer_spend_customer_id",
            "test.unique_dim_customer_customer_id",
        ]
    );
    assert!(s
        .complete(&"model.stg_transactions".to_string(), true)
        .is_empty());
    assert!(
        s.ready().is_empty(),
        "everything downstream of stg_transactions also needs stg_customers"
    );
    assert!(s
        .complete(&"model.valid_states".to_string(), true)
        .is_empty());
    assert!(s.ready().is_empty(), "dim_customer was skipped");
    assert!(s.is_finished());
    assert_eq!(
        s.state(&"model.stg_transactions".to_string()),
        Some(NodeState::Succeeded)
    );
    assert_eq!(
        s.state(&"model.customer_spend".to_string()),
        Some(NodeState::Skipped)
    );
}

#[test]
fn waves_group_independent_models() {
    let m = compile_fixture("basic").unwrap();
    let models = select(&m, &parse_selectors(&["path:models"]).unwrap(), &[]).unwrap();
    let models = models
        .into_iter()
        .filter(|id| id.starts_with("model."))
        .collect();
    let waves = m.dag().subgraph(&models).waves();
    assert_eq!(
        waves,
        [
            vec![
                "model.stg_customers",
                "model.stg_transactions",
                "model.valid_states"
            ],
            vec!["model.dim_customer"],
            vec!["model.customer_spend"],
            vec!["model.churn_scores"],
        ]
    );
}
