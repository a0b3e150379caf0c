//! Training and evaluation: the training set read from `churn_training_data` batches, the
//! stratified 80/20 holdout, the booster, the holdout metrics and the promotion gate.

use arrow::array::{Array, BooleanArray, Float64Array, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::features::feature_names;
use crate::gbdt::{Booster, GbdtParams, Matrix, SplitMix64};
use crate::label::{cutoff_of, LABEL_COLUMN};
use crate::metrics::{self, CalibrationBin, Operating};
use crate::score::risk_score;
use crate::{MlError, Result};

/// The format tag of a model file.
pub const MODEL_FORMAT: &str = "c360-churn-model/1";
/// The promotion gate: a model whose holdout AUC-ROC is below this is not promoted.
pub const MIN_PROMOTION_AUC: f64 = 0.75;

/// Feature rows with their labels, ordered by customer_id.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingSet {
    /// One per row.
    pub customer_ids: Vec<String>,
    /// Column names of `x`.
    pub features: Vec<String>,
    /// Feature values (NaN = missing).
    pub x: Matrix,
    /// Labels (true = churned).
    pub y: Vec<bool>,
}

/// Reads column `name` of every batch as strings.
pub(crate) fn string_column(
    batches: &[RecordBatch],
    name: &str,
    what: &'static str,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for batch in batches {
        let column = batch.column_by_name(name).ok_or_else(|| MlError::Schema {
            what,
            detail: format!("no column `{name}`"),
        })?;
        let column = cast(column, &DataType::Utf8).map_err(|e| MlError::Schema {
            what,
            detail: format!("column `{name}`: {e}"),
        })?;
        let column = column
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| MlError::Schema {
                what,
                detail: format!("column `{name}` is not text"),
            })?;
        for i in 0..column.len() {
            if column.is_null(i) {
                return Err(MlError::Schema {
                    what,
                    detail: format!("column `{name}` has a NULL"),
                });
            }
            out.push(column.value(i).to_string());
        }
    }
    Ok(out)
}

/// Reads the columns `features` of every batch into a row-major matrix (NULL → NaN).
pub(crate) fn feature_matrix(
    batches: &[RecordBatch],
    features: &[String],
    what: &'static str,
) -> Result<Matrix> {
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let cols = features.len();
    let mut values = vec![f64::NAN; rows * cols];
    let mut offset = 0;
    for batch in batches {
        for (j, name) in features.iter().enumerate() {
            let column = batch
                .column_by_name(name)
                .ok_or_else(|| MlError::MissingFeature(name.clone()))?;
            let column = cast(column, &DataType::Float64).map_err(|e| MlError::Schema {
                what,
                detail: format!("feature `{name}`: {e}"),
            })?;
            let column = column
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or_else(|| MlError::Schema {
                    what,
                    detail: format!("feature `{name}` is not numeric"),
                })?;
            for i in 0..column.len() {
                if column.is_valid(i) && column.value(i).is_finite() {
                    values[(offset + i) * cols + j] = column.value(i);
                }
            }
        }
        offset += batch.num_rows();
    }
    Matrix::new(rows, cols, values)
}

impl TrainingSet {
    /// Reads `churn_training_data` batches (see [`crate::training_data`]): `customer_id`, every
    /// feature of [`crate::FEATURES`], and `churned`.
    pub fn from_batches(batches: &[RecordBatch]) -> Result<TrainingSet> {
        TrainingSet::from_batches_with(batches, &feature_names())
    }

    /// As [`TrainingSet::from_batches`], with the given feature columns.
    pub fn from_batches_with(batches: &[RecordBatch], features: &[String]) -> Result<TrainingSet> {
        const WHAT: &str = "training data";
        let customer_ids = string_column(batches, "customer_id", WHAT)?;
        let x = feature_matrix(batches, features, WHAT)?;
        let mut y = Vec::with_capacity(customer_ids.len());
        for batch in batches {
            let column = batch
                .column_by_name(LABEL_COLUMN)
                .ok_or_else(|| MlError::Schema {
                    what: WHAT,
                    detail: format!("no column `{LABEL_COLUMN}`"),
                })?;
            let column = column
                .as_any()
                .downcast_ref::<BooleanArray>()
                .ok_or_else(|| MlError::Schema {
                    what: WHAT,
                    detail: format!("`{LABEL_COLUMN}` is not BOOLEAN"),
                })?;
            for i in 0..column.len() {
                if column.is_null(i) {
                    return Err(MlError::Schema {
                        what: WHAT,
                        detail: format!("`{LABEL_COLUMN}` has a NULL"),
                    });
                }
                y.push(column.value(i));
            }
        }
        TrainingSet::new(customer_ids, features.to_vec(), x, y)
    }

    /// A training set from its parts; rows must agree in number.
    pub fn new(
        customer_ids: Vec<String>,
        features: Vec<String>,
        x: Matrix,
        y: Vec<bool>,
    ) -> Result<TrainingSet> {
        if customer_ids.len() != x.rows() || y.len() != x.rows() || features.len() != x.cols() {
            return Err(MlError::Schema {
                what: "training data",
                detail: format!(
                    "{} ids, {} labels, {} × {} matrix, {} feature names",
                    customer_ids.len(),
                    y.len(),
                    x.rows(),
                    x.cols(),
                    features.len()
                ),
            });
        }
        Ok(TrainingSet {
            customer_ids,
            features,
            x,
            y,
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Share of churned rows, 0–100 (`None` without rows).
    pub fn churn_rate_pct(&self) -> Option<f64> {
        (!self.y.is_empty())
            .then(|| self.y.iter().filter(|&&v| v).count() as f64 / self.y.len() as f64 * 100.0)
    }
}

/// Settings of [`train`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// The booster's hyper-parameters.
    pub params: GbdtParams,
    /// Holdout share of each class (0.2 = 80/20).
    pub test_fraction: f64,
    /// Seed of the stratified split.
    pub split_seed: u64,
    /// Promotion gate on the holdout AUC-ROC.
    pub min_auc: f64,
    /// What data the model was trained on (e.g. the Delta version of the fact table); stored
    /// in the model file.
    pub data_version: String,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            params: GbdtParams::default(),
            test_fraction: 0.2,
            split_seed: 42,
            min_auc: MIN_PROMOTION_AUC,
            data_version: String::new(),
        }
    }
}

/// One feature's share of the total split gain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureImportance {
    /// Feature name.
    pub feature: String,
    /// Total split gain.
    pub gain: f64,
    /// Share of the total gain, 0–100.
    pub gain_pct: f64,
}

/// Holdout evaluation of a model, as stored in the model file and in `churn_model_metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// AUC-ROC on the holdout.
    pub auc_roc: f64,
    /// Average precision on the holdout.
    pub pr_auc: f64,
    /// The F1-optimal operating point (threshold on P(churn), 0–1).
    pub best_f1: Operating,
    /// Brier score on the holdout.
    pub brier: f64,
    /// Rows used for training.
    pub train_rows: usize,
    /// Churned rows among them.
    pub train_positives: usize,
    /// Holdout rows.
    pub test_rows: usize,
    /// Churned holdout rows.
    pub test_positives: usize,
    /// Churn rate of the label over all eligible customers, 0–100.
    pub label_churn_rate_pct: f64,
    /// Gain importance, highest first (ties by feature order).
    pub feature_importance: Vec<FeatureImportance>,
    /// Calibration by deciles of the holdout's predicted probability.
    pub calibration: Vec<CalibrationBin>,
    /// Holdout rows per 10-point churn_risk_score bucket (`[0,10)` … `[90,100]`).
    pub score_distribution: Vec<usize>,
}

/// A trained churn model with everything needed to score and to audit it; the content of a
/// registry file (`v<N>.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainedModel {
    /// [`MODEL_FORMAT`].
    pub format: String,
    /// Registry version (`None` until saved).
    pub version: Option<u32>,
    /// The classifier (`"gbdt"`: this crate's histogram GBDT).
    pub model_type: String,
    /// Feature names, in the booster's column order.
    pub features: Vec<String>,
    /// The run's as_of; features at `cutoff = as_of − 90`.
    #[serde(with = "crate::serde_util::iso_date")]
    pub training_as_of: NaiveDate,
    /// The feature date of the training rows.
    #[serde(with = "crate::serde_util::iso_date")]
    pub cutoff: NaiveDate,
    /// The caller's description of the training data's version.
    pub data_version: String,
    /// Whether the holdout AUC passed the gate.
    pub promoted: bool,
    /// The gate it was held to.
    pub min_auc: f64,
    /// The settings it was trained with.
    pub config: TrainConfig,
    /// Holdout metrics.
    pub metrics: Metrics,
    /// The trees.
    pub booster: Booster,
}

/// Splits row indices into (train, test), stratified by label: each class is shuffled with a
/// seeded generator and its first `round(n × test_fraction)` rows go to the test set. Both
/// lists are returned in ascending order.
pub fn stratified_split(y: &[bool], test_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = SplitMix64::new(seed);
    let mut train = Vec::new();
    let mut test = Vec::new();
    for class in [true, false] {
        let mut rows: Vec<usize> = (0..y.len()).filter(|&i| y[i] == class).collect();
        rng.shuffle(&mut rows);
        let n_test = (rows.len() as f64 * test_fraction).round() as usize;
        test.extend_from_slice(&rows[..n_test]);
        train.extend_from_slice(&rows[n_test..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

/// Trains the churn model on `data` (the `churn_training_data` of run `as_of`): stratified
/// holdout, booster on the training part, metrics on the holdout, promotion gate. The model
/// scores with the booster trained on the training part, the one the metrics describe.
///
/// Fails with [`MlError::InsufficientData`] when either part would lack a class.
pub fn train(data: &TrainingSet, as_of: NaiveDate, config: &TrainConfig) -> Result<TrainedModel> {
    if !(config.test_fraction > 0.0 && config.test_fraction < 1.0) {
        return Err(MlError::InvalidParameter {
            name: "test_fraction",
            reason: "must be in (0, 1)".into(),
        });
    }
    let cutoff = cutoff_of(as_of)?;
    let (train_rows, test_rows) =
        stratified_split(&data.y, config.test_fraction, config.split_seed);
    let count = |rows: &[usize]| rows.iter().filter(|&&i| data.y[i]).count();
    let (train_pos, test_pos) = (count(&train_rows), count(&test_rows));
    if train_pos == 0
        || test_pos == 0
        || train_pos == train_rows.len()
        || test_pos == test_rows.len()
    {
        return Err(MlError::InsufficientData(format!(
            "{} rows, {} churned: both classes are needed in the training and the holdout part",
            data.len(),
            data.y.iter().filter(|&&v| v).count()
        )));
    }
    let x_train = data.x.select_rows(&train_rows);
    let y_train: Vec<f64> = train_rows
        .iter()
        .map(|&i| if data.y[i] { 1.0 } else { 0.0 })
        .collect();
    let booster = Booster::fit(&x_train, &y_train, &config.params)?;

    let x_test = data.x.select_rows(&test_rows);
    let y_test: Vec<bool> = test_rows.iter().map(|&i| data.y[i]).collect();
    let p_test = booster.predict_matrix(&x_test);
    let undefined = || MlError::InsufficientData("holdout metrics are undefined".into());
    let auc_roc = metrics::auc_roc(&y_test, &p_test).ok_or_else(undefined)?;
    let pr_auc = metrics::pr_auc(&y_test, &p_test).ok_or_else(undefined)?;
    let best_f1 = metrics::best_f1(&y_test, &p_test).ok_or_else(undefined)?;
    let brier = metrics::brier(&y_test, &p_test).ok_or_else(undefined)?;

    let gains = booster.gain_importance();
    let total: f64 = gains.iter().sum();
    let mut feature_importance: Vec<FeatureImportance> = data
        .features
        .iter()
        .zip(&gains)
        .map(|(feature, &gain)| FeatureImportance {
            feature: feature.clone(),
            gain,
            gain_pct: if total > 0.0 {
                gain / total * 100.0
            } else {
                0.0
            },
        })
        .collect();
    // Stable sort: equal gains keep feature order.
    feature_importance.sort_by(|a, b| b.gain.total_cmp(&a.gain));
    let scores: Vec<f64> = p_test.iter().map(|&p| risk_score(p)).collect();

    let metrics = Metrics {
        auc_roc,
        pr_auc,
        best_f1,
        brier,
        train_rows: train_rows.len(),
        train_positives: train_pos,
        test_rows: test_rows.len(),
        test_positives: test_pos,
        label_churn_rate_pct: data.churn_rate_pct().unwrap_or(0.0),
        feature_importance,
        calibration: metrics::calibration(&y_test, &p_test),
        score_distribution: metrics::score_distribution(&scores).to_vec(),
    };
    Ok(TrainedModel {
        format: MODEL_FORMAT.to_string(),
        version: None,
        model_type: "gbdt".to_string(),
        features: data.features.clone(),
        training_as_of: as_of,
        cutoff,
        data_version: config.data_version.clone(),
        promoted: auc_roc >= config.min_auc,
        min_auc: config.min_auc,
        config: config.clone(),
        metrics,
        booster,
    })
}

impl TrainedModel {
    /// The model as pretty JSON (the registry's file content).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| MlError::ModelFile {
            path: Default::default(),
            reason: e.to_string(),
        })
    }

    /// A model from JSON, checked: format tag, booster structure, feature count.
    pub fn from_json(json: &str) -> std::result::Result<TrainedModel, String> {
        let model: TrainedModel = serde_json::from_str(json).map_err(|e| e.to_string())?;
        if model.format != MODEL_FORMAT {
            return Err(format!("format '{}' is not '{MODEL_FORMAT}'", model.format));
        }
        if model.features.len() != model.booster.n_features {
            return Err(format!(
                "{} feature names for a booster of {} features",
                model.features.len(),
                model.booster.n_features
            ));
        }
        model.booster.validate()?;
        Ok(model)
    }

    /// P(churn) of one feature row (in [`TrainedModel::features`] order).
    pub fn predict_proba(&self, row: &[f64]) -> f64 {
        self.booster.predict_proba(row)
    }
}
