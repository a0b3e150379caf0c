//! Training, the promotion gate, determinism, scoring, drivers, outputs and the registry.

use c360_ml::gbdt::{GbdtParams, Matrix, SplitMix64};
use c360_ml::output::{metrics_batch, predictions_batch, DRIVER_SEPARATOR};
use c360_ml::{
    predictions, score, train, training_data, MlError, Registry, RiskCategory, Tables, TrainConfig,
    TrainedModel, TrainingSet,
};

use crate::synth::{as_of, population, Data};
use crate::{f64s, one, strings};

async fn trained(data: &Data) -> (TrainingSet, TrainedModel) {
    let ctx = data.session();
    let batches = training_data(&ctx, &Tables::default(), as_of())
        .await
        .unwrap();
    let set = TrainingSet::from_batches(&batches).unwrap();
    let config = TrainConfig {
        data_version: "test@1".into(),
        ..TrainConfig::default()
    };
    let model = train(&set, as_of(), &config).unwrap();
    (set, model)
}

#[tokio::test]
async fn learns_the_synthetic_churners_and_is_promoted() {
    let data = population(800, 1);
    let (set, model) = trained(&data).await;
    let churned = set.y.iter().filter(|&&v| v).count();
    assert!(set.len() > 600, "{} eligible", set.len());
    assert!(
        churned > 100 && churned < set.len() - 100,
        "{churned} churned"
    );
    let m = &model.metrics;
    assert!(m.auc_roc > 0.85, "AUC {}", m.auc_roc);
    assert!(model.promoted);
    assert!(m.pr_auc > 0.6, "PR-AUC {}", m.pr_auc);
    assert!(m.brier < 0.15, "Brier {}", m.brier);
    assert_eq!(m.train_rows + m.test_rows, set.len());
    assert_eq!(m.train_positives + m.test_positives, churned);
    // Stratified 80/20: both parts have the label's churn rate (± rounding).
    assert_eq!(m.test_positives, (churned as f64 * 0.2).round() as usize);
    assert_eq!(
        m.test_rows - m.test_positives,
        ((set.len() - churned) as f64 * 0.2).round() as usize
    );
    assert_eq!(m.feature_importance.len(), set.features.len());
    assert!((m.feature_importance.iter().map(|f| f.gain_pct).sum::<f64>() - 100.0).abs() < 1e-9);
    assert_eq!(m.calibration.len(), 10);
    assert_eq!(m.score_distribution.iter().sum::<usize>(), m.test_rows);
    // The fading behaviour is what the model leans on.
    let top: Vec<&str> = m.feature_importance[..5]
        .iter()
        .map(|f| f.feature.as_str())
        .collect();
    assert!(
        top.iter()
            .any(|f| f.contains("spend") || f.contains("txn_count") || f.contains("days_since")),
        "{top:?}"
    );
}

#[tokio::test]
async fn random_labels_are_not_promoted() {
    let data = population(500, 2);
    let (mut set, _) = trained(&data).await;
    let mut rng = SplitMix64::new(5);
    let rate = set.churn_rate_pct().unwrap() / 100.0;
    for y in set.y.iter_mut() {
        *y = rng.next_f64() < rate;
    }
    let model = train(&set, as_of(), &TrainConfig::default()).unwrap();
    assert!(
        model.metrics.auc_roc < 0.75,
        "AUC {}",
        model.metrics.auc_roc
    );
    assert!(!model.promoted);
}

#[test]
fn a_useless_feature_is_not_promoted() {
    let n = 200;
    let x = Matrix::new(n, 1, vec![1.0; n]).unwrap();
    let y: Vec<bool> = (0..n).map(|i| i % 4 == 0).collect();
    let ids = (0..n).map(|i| format!("C{i:04}")).collect();
    let set = TrainingSet::new(ids, vec!["constant".into()], x, y).unwrap();
    let model = train(&set, as_of(), &TrainConfig::default()).unwrap();
    assert_eq!(model.metrics.auc_roc, 0.5);
    assert!(!model.promoted);
    assert!(
        model.booster.trees.iter().all(|t| t.nodes.len() == 1),
        "no split is possible"
    );
}

#[test]
fn too_little_data_is_a_typed_error() {
    let x = Matrix::new(3, 1, vec![1.0, 2.0, 3.0]).unwrap();
    let ids = vec!["a".into(), "b".into(), "c".into()];
    let one_class = TrainingSet::new(ids, vec!["f".into()], x, vec![false; 3]).unwrap();
    let err = train(&one_class, as_of(), &TrainConfig::default()).unwrap_err();
    assert!(matches!(err, MlError::InsufficientData(_)), "{err}");
    let empty = TrainingSet::from_batches(&[]).unwrap();
    assert!(matches!(
        train(&empty, as_of(), &TrainConfig::default()),
        Err(MlError::InsufficientData(_))
    ));
    let bad = TrainConfig {
        params: GbdtParams {
            max_depth: 0,
            ..GbdtParams::default()
        },
        ..TrainConfig::default()
    };
    let x = Matrix::new(10, 1, (0..10).map(f64::from).collect()).unwrap();
    let ids = (0..10).map(|i| i.to_string()).collect();
    let set = TrainingSet::new(ids, vec!["f".into()], x, (0..10).map(|i| i < 5).collect()).unwrap();
    assert!(matches!(
        train(&set, as_of(), &bad),
        Err(MlError::InvalidParameter { .. })
    ));
}

#[tokio::test]
async fn same_data_and_seed_give_the_same_model_and_scores() {
    let (_, a) = trained(&population(400, 3)).await;
    let (_, b) = trained(&population(400, 3)).await;
    assert_eq!(a.to_json().unwrap(), b.to_json().unwrap());
    let data = population(400, 3);
    let ctx = data.session();
    let sa = score(&ctx, &Tables::default(), &a, as_of()).await.unwrap();
    let sb = score(&data.session(), &Tables::default(), &b, as_of())
        .await
        .unwrap();
    assert_eq!(sa, sb);
    // Another seed gives another model.
    let other = TrainConfig {
        params: GbdtParams {
            seed: 7,
            ..GbdtParams::default()
        },
        data_version: "test@1".into(),
        ..TrainConfig::default()
    };
    let set = TrainingSet::from_batches(
        &training_data(&ctx, &Tables::default(), as_of())
            .await
            .unwrap(),
    )
    .unwrap();
    let c = train(&set, as_of(), &other).unwrap();
    assert_ne!(a.to_json().unwrap(), c.to_json().unwrap());
}

#[tokio::test]
async fn predictions_cover_customers_with_five_approved_transactions() {
    let data = population(300, 4);
    let (_, model) = trained(&data).await;
    let ctx = data.session();
    let batch = predictions(&ctx, &Tables::default(), &model, as_of())
        .await
        .unwrap();

    let mut expected: Vec<String> = Vec::new();
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for t in &data.txns {
        if t.status == "approved" && t.date <= as_of() {
            *counts.entry(t.customer_id.as_str()).or_default() += 1;
        }
    }
    for (c, n) in counts {
        if n >= 5 {
            expected.push(c.to_string());
        }
    }
    assert!(expected.len() < 300, "some customers should be unscored");
    assert_eq!(strings(&batch, "customer_id"), expected);

    let scores = f64s(&batch, "churn_risk_score");
    let categories = strings(&batch, "churn_risk_category");
    let drivers = strings(&batch, "top_drivers");
    for i in 0..batch.num_rows() {
        let s = scores[i];
        assert!((0.0..=100.0).contains(&s));
        assert_eq!((s * 10.0).round() / 10.0, s, "rounded to 0.1");
        assert_eq!(categories[i], RiskCategory::of(s).as_str());
        let names: Vec<&str> = if drivers[i].is_empty() {
            vec![]
        } else {
            drivers[i].split(DRIVER_SEPARATOR).collect()
        };
        assert!(names.len() <= 3);
        for n in &names {
            assert!(model.features.iter().any(|f| f == n), "{n}");
        }
    }
    assert!(
        categories.iter().any(|c| c == "High"),
        "some churners score high"
    );
    assert!(categories.iter().any(|c| c == "Low"));
    // An unsaved model has no version yet.
    assert!(f64s(&batch, "model_version").iter().all(|v| v.is_nan()));
}

#[tokio::test]
async fn drivers_are_the_features_pushing_the_score_up() {
    let data = population(400, 5);
    let (set, model) = trained(&data).await;
    for i in 0..set.len() {
        let row = set.x.row(i);
        let (bias, contributions) = model.booster.contributions(row);
        let raw = model.booster.predict_raw(row);
        assert!((bias + contributions.iter().sum::<f64>() - raw).abs() < 1e-9);
        let drivers = c360_ml::top_drivers(&model, row);
        let mut up: Vec<(f64, &str)> = contributions
            .iter()
            .zip(&model.features)
            .filter(|(c, _)| **c > 0.0)
            .map(|(c, f)| (*c, f.as_str()))
            .collect();
        up.sort_by(|a, b| b.0.total_cmp(&a.0));
        let expected: Vec<&str> = up.iter().take(3).map(|(_, f)| *f).collect();
        assert_eq!(drivers, expected);
    }

    // One informative feature and one constant: a churner's only driver is the signal.
    let n = 400;
    let mut values = Vec::new();
    let mut y = Vec::new();
    for i in 0..n {
        let signal = (i % 100) as f64;
        values.extend([signal, 3.0]);
        y.push(signal >= 60.0);
    }
    let ids = (0..n).map(|i| format!("C{i:04}")).collect();
    let set = TrainingSet::new(
        ids,
        vec!["signal".into(), "constant".into()],
        Matrix::new(n, 2, values).unwrap(),
        y,
    )
    .unwrap();
    let model = train(&set, as_of(), &TrainConfig::default()).unwrap();
    assert_eq!(c360_ml::top_drivers(&model, &[90.0, 3.0]), ["signal"]);
    assert!(c360_ml::top_drivers(&model, &[10.0, 3.0]).is_empty());
    assert!(model.predict_proba(&[90.0, 3.0]) > 0.9);
    assert!(model.predict_proba(&[10.0, 3.0]) < 0.1);
}

#[tokio::test]
async fn registry_saves_versions_and_serves_the_latest_promoted() {
    let data = population(300, 6);
    let (set, model) = trained(&data).await;
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(dir.path().join("_c360/models/churn"));
    assert!(registry.latest_promoted().unwrap().is_none());

    let mut first = model.clone();
    first.promoted = true;
    assert_eq!(registry.save(&mut first).unwrap(), 1);
    let mut second = model.clone();
    second.promoted = false;
    assert_eq!(registry.save(&mut second).unwrap(), 2);
    assert_eq!(registry.versions().unwrap(), [1, 2]);
    assert!(dir.path().join("_c360/models/churn/v2.json").is_file());

    // The unpromoted v2 does not replace v1 for scoring.
    let serving = registry.latest_promoted().unwrap().unwrap();
    assert_eq!(serving.version, Some(1));
    // Read back, it scores bit for bit like the model in memory.
    assert_eq!(serving.booster, first.booster);
    for i in 0..set.len() {
        let row = set.x.row(i);
        assert_eq!(
            serving.predict_proba(row).to_bits(),
            first.predict_proba(row).to_bits()
        );
    }
    assert_eq!(serving.features, model.features);
    assert_eq!(serving.training_as_of, as_of());
    assert_eq!(serving.data_version, "test@1");
    assert_eq!(
        registry.find(as_of(), "test@1").unwrap().unwrap().version,
        Some(2)
    );
    assert!(registry.find(as_of(), "other").unwrap().is_none());

    // Outputs carry the version.
    let metrics = metrics_batch(&registry.list().unwrap()).unwrap();
    let names = strings(&metrics, "metric");
    let auc_rows: Vec<usize> = (0..names.len())
        .filter(|&i| names[i] == "auc_roc")
        .collect();
    assert_eq!(auc_rows.len(), 2);
    // Metrics are plain JSON numbers (serde_json's parser may be 1 ulp off); only the numbers
    // scoring uses are stored exactly.
    assert!((f64s(&metrics, "value")[auc_rows[0]] - model.metrics.auc_roc).abs() < 1e-12);
    assert_eq!(f64s(&metrics, "model_version")[auc_rows[1]], 2.0);
    let scored = score(&data.session(), &Tables::default(), &serving, as_of())
        .await
        .unwrap();
    let batch = predictions_batch(&scored, &serving, as_of()).unwrap();
    assert!(f64s(&batch, "model_version").iter().all(|&v| v == 1.0));

    // A damaged file is a typed error, not a panic.
    std::fs::write(registry.path_of(3), "{ not json").unwrap();
    assert!(matches!(registry.load(3), Err(MlError::ModelFile { .. })));
    std::fs::write(registry.path_of(4), first.to_json().unwrap()).unwrap();
    assert!(
        matches!(registry.load(4), Err(MlError::ModelFile { .. })),
        "version mismatch"
    );
    assert!(matches!(registry.load(9), Err(MlError::Io { .. })));
}

#[test]
fn metrics_batch_of_no_models_is_empty() {
    let batch = metrics_batch(&[]).unwrap();
    assert_eq!(batch.num_rows(), 0);
    assert_eq!(batch.num_columns(), 7);
    let _ = one(&[batch]);
}
