//! The gold output tables as Arrow batches: `churn_predictions` and `churn_model_metrics`
//! (`churn_training_data` is the training query's own result, see [`crate::training_frame`]).

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use chrono::NaiveDate;

use crate::features::epoch_days;
use crate::model::TrainedModel;
use crate::score::Prediction;
use crate::{MlError, Result};

/// Separator of the feature names in `churn_predictions.top_drivers`.
pub const DRIVER_SEPARATOR: &str = ", ";

fn date32(date: NaiveDate) -> i32 {
    epoch_days(date) as i32
}

/// Schema of `churn_predictions`.
pub fn predictions_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("churn_risk_score", DataType::Float64, false),
        Field::new("churn_risk_category", DataType::Utf8, false),
        Field::new("top_drivers", DataType::Utf8, false),
        Field::new("model_version", DataType::Int32, true),
        Field::new("prediction_date", DataType::Date32, false),
    ]))
}

/// `churn_predictions` rows: one per prediction, `top_drivers` joined by
/// [`DRIVER_SEPARATOR`], `model_version` the model's registry version (NULL if unsaved),
/// `prediction_date` = `as_of`.
pub fn predictions_batch(
    predictions: &[Prediction],
    model: &TrainedModel,
    as_of: NaiveDate,
) -> Result<RecordBatch> {
    let n = predictions.len();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            predictions.iter().map(|p| p.customer_id.as_str()),
        )),
        Arc::new(Float64Array::from_iter_values(
            predictions.iter().map(|p| p.churn_risk_score),
        )),
        Arc::new(StringArray::from_iter_values(
            predictions.iter().map(|p| p.category.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            predictions
                .iter()
                .map(|p| p.top_drivers.join(DRIVER_SEPARATOR)),
        )),
        Arc::new(Int32Array::from(vec![model.version.map(|v| v as i32); n])),
        Arc::new(Date32Array::from(vec![date32(as_of); n])),
    ];
    RecordBatch::try_new(predictions_schema(), columns).map_err(|source| MlError::Arrow {
        what: "churn_predictions",
        source,
    })
}

/// Schema of `churn_model_metrics`.
pub fn metrics_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("model_version", DataType::Int32, true),
        Field::new("training_as_of", DataType::Date32, false),
        Field::new("data_version", DataType::Utf8, false),
        Field::new("promoted", DataType::Boolean, false),
        Field::new("metric", DataType::Utf8, false),
        Field::new("dimension", DataType::Utf8, true),
        Field::new("value", DataType::Float64, false),
    ]))
}

/// The `(metric, dimension, value)` rows of one model (see [`metrics_batch`]).
pub fn metric_rows(model: &TrainedModel) -> Vec<(&'static str, Option<String>, f64)> {
    let m = &model.metrics;
    let mut rows: Vec<(&'static str, Option<String>, f64)> = vec![
        ("auc_roc", None, m.auc_roc),
        ("pr_auc", None, m.pr_auc),
        ("brier_score", None, m.brier),
        ("f1_threshold", None, m.best_f1.threshold),
        ("precision", None, m.best_f1.precision),
        ("recall", None, m.best_f1.recall),
        ("f1", None, m.best_f1.f1),
        ("train_rows", None, m.train_rows as f64),
        ("train_churned", None, m.train_positives as f64),
        ("test_rows", None, m.test_rows as f64),
        ("test_churned", None, m.test_positives as f64),
        ("label_churn_rate_pct", None, m.label_churn_rate_pct),
        ("min_auc", None, model.min_auc),
    ];
    for f in &m.feature_importance {
        rows.push((
            "feature_importance_pct",
            Some(f.feature.clone()),
            f.gain_pct,
        ));
    }
    for bin in &m.calibration {
        let decile = Some(format!("decile_{:02}", bin.decile));
        rows.push(("calibration_rows", decile.clone(), bin.rows as f64));
        rows.push((
            "calibration_mean_predicted",
            decile.clone(),
            bin.mean_predicted,
        ));
        rows.push(("calibration_observed_rate", decile, bin.observed_rate));
    }
    for (i, &count) in m.score_distribution.iter().enumerate() {
        let bucket = format!("{:02}-{:02}", i * 10, i * 10 + 10);
        rows.push(("score_distribution", Some(bucket), count as f64));
    }
    rows
}

/// `churn_model_metrics` in long form: one row per (model version, metric[, dimension]).
/// Metrics: `auc_roc`, `pr_auc`, `brier_score`, `f1_threshold`, `precision`, `recall`, `f1`,
/// `train_rows`, `train_churned`, `test_rows`, `test_churned`, `label_churn_rate_pct`,
/// `min_auc`; `feature_importance_pct` per feature; `calibration_rows`,
/// `calibration_mean_predicted`, `calibration_observed_rate` per `decile_01`…`decile_10`;
/// `score_distribution` per bucket `00-10` … `90-100` (holdout rows).
pub fn metrics_batch(models: &[TrainedModel]) -> Result<RecordBatch> {
    let mut version = Vec::new();
    let mut as_of = Vec::new();
    let mut data_version = Vec::new();
    let mut promoted = Vec::new();
    let mut metric = Vec::new();
    let mut dimension = Vec::new();
    let mut value = Vec::new();
    for model in models {
        for (name, dim, v) in metric_rows(model) {
            version.push(model.version.map(|v| v as i32));
            as_of.push(date32(model.training_as_of));
            data_version.push(model.data_version.clone());
            promoted.push(model.promoted);
            metric.push(name);
            dimension.push(dim);
            value.push(v);
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(version)),
        Arc::new(Date32Array::from(as_of)),
        Arc::new(StringArray::from(data_version)),
        Arc::new(BooleanArray::from(promoted)),
        Arc::new(StringArray::from(metric)),
        Arc::new(StringArray::from(dimension)),
        Arc::new(Float64Array::from(value)),
    ];
    RecordBatch::try_new(metrics_schema(), columns).map_err(|source| MlError::Arrow {
        what: "churn_model_metrics",
        source,
    })
}
