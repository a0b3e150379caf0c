//! The model's life in a lake registry: the gate keeps the previous model scoring, identical
//! runs are reused, nothing scores before a model is promoted, settings from project
//! variables, the run's as_of from `gold.as_of_date`.

use std::collections::BTreeMap;

use c360_lake::Lake;
use c360_ml::{
    lake_registry, run_as_of, score_latest, train_and_register, training_data, ChurnSettings,
    MlError, Tables, FEATURES_VAR,
};

use crate::synth::{as_of, population};
use crate::{one, strings};

fn vars(value: serde_json::Value) -> BTreeMap<String, serde_json::Value> {
    BTreeMap::from([(FEATURES_VAR.to_string(), value)])
}

#[tokio::test]
async fn a_model_below_the_gate_is_kept_but_the_previous_one_keeps_scoring() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = Lake::new(tmp.path());
    let registry = lake_registry(&lake);
    assert_eq!(
        registry.dir(),
        tmp.path().join("_c360").join("models").join("churn")
    );
    let data = population(400, 11);
    let ctx = data.session();
    let batches = training_data(&ctx, &Tables::default(), as_of())
        .await
        .unwrap();

    // No model yet: nothing scores.
    let (empty, none) = score_latest(&ctx, &registry, as_of()).await.unwrap();
    assert_eq!(empty.num_rows(), 0);
    assert!(none.is_none());

    let good = train_and_register(&registry, &batches, as_of(), &ChurnSettings::default()).unwrap();
    assert!(!good.reused);
    assert_eq!(good.model.version, Some(1));
    assert!(good.model.promoted, "AUC {}", good.model.metrics.auc_roc);

    // A deliberately useless feature set: a constant-ish attribute unrelated to churn.
    let useless = ChurnSettings::from_vars(&vars(serde_json::json!("employment_student"))).unwrap();
    let bad = train_and_register(&registry, &batches, as_of(), &useless).unwrap();
    assert_eq!(bad.model.version, Some(2));
    assert_eq!(bad.model.features, vec!["employment_student".to_string()]);
    assert!(
        !bad.model.promoted,
        "AUC {} passed the gate",
        bad.model.metrics.auc_roc
    );
    assert!(registry.path_of(2).is_file(), "kept for the record");

    let (scored, model) = score_latest(&ctx, &registry, as_of()).await.unwrap();
    assert_eq!(model.unwrap().version, Some(1));
    assert!(scored.num_rows() > 300);
    let versions = strings(&scored, "model_version");
    assert!(versions.iter().all(|v| v == "1"), "{versions:?}");

    // The same run again is the same model: reused, nothing written.
    let again =
        train_and_register(&registry, &batches, as_of(), &ChurnSettings::default()).unwrap();
    assert!(again.reused);
    assert_eq!(again.model.version, Some(1));
    assert!(again.model.booster == good.model.booster, "the same trees");
    assert_eq!(registry.versions().unwrap(), vec![1, 2]);

    // Other settings are another model.
    let mut fewer_trees = ChurnSettings::default();
    fewer_trees.config.params.n_trees = 50;
    let other = train_and_register(&registry, &batches, as_of(), &fewer_trees).unwrap();
    assert!(!other.reused);
    assert_eq!(other.model.version, Some(3));
}

#[tokio::test]
async fn data_version_follows_the_content() {
    let data = population(200, 5);
    let batches = training_data(&data.session(), &Tables::default(), as_of())
        .await
        .unwrap();
    let set = c360_ml::TrainingSet::from_batches(&batches).unwrap();
    let same = c360_ml::TrainingSet::from_batches(&[one(&batches)]).unwrap();
    assert_eq!(c360_ml::data_version(&set), c360_ml::data_version(&same));
    let mut changed = set.clone();
    changed.y[0] = !changed.y[0];
    assert_ne!(c360_ml::data_version(&set), c360_ml::data_version(&changed));
    assert!(c360_ml::data_version(&set).starts_with(&format!("{} rows, fnv1a64:", set.len())));
}

#[test]
fn settings_from_project_variables() {
    let all = ChurnSettings::from_vars(&BTreeMap::new()).unwrap();
    assert_eq!(all.features.len(), c360_ml::FEATURES.len());
    let two = ChurnSettings::from_vars(&vars(serde_json::json!(" age , tenure_days"))).unwrap();
    assert_eq!(two.features, vec!["age", "tenure_days"]);
    let list = ChurnSettings::from_vars(&vars(serde_json::json!(["age"]))).unwrap();
    assert_eq!(list.features, vec!["age"]);
    for bad in [
        serde_json::json!("customer_segment"),
        serde_json::json!(" , "),
    ] {
        assert!(matches!(
            ChurnSettings::from_vars(&vars(bad)),
            Err(MlError::InvalidParameter {
                name: FEATURES_VAR,
                ..
            })
        ));
    }
}

#[tokio::test]
async fn as_of_comes_from_the_as_of_date_table() {
    let ctx = population(5, 1).session();
    assert!(matches!(run_as_of(&ctx).await, Err(MlError::Query { .. })));
    ctx.sql(
        "CREATE TABLE gold.as_of_date AS SELECT DATE '2025-06-30' AS as_of, 'var' AS as_of_source",
    )
    .await
    .unwrap()
    .collect()
    .await
    .unwrap();
    assert_eq!(run_as_of(&ctx).await.unwrap(), as_of());
}
