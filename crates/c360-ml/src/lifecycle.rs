//! The churn model's life in a lake: the registry under `<lake>/_c360/models/churn/`, the
//! run's `as_of`, training with reuse and the promotion gate, and scoring with the latest
//! promoted model. The model engine's `rust` models ([`crate::project`]) and the `c360 ml`
//! commands both go through these functions.

use std::collections::BTreeMap;

use arrow::array::{Array, Date32Array, RecordBatch};
use c360_lake::datafusion::prelude::SessionContext;
use c360_lake::Lake;
use chrono::NaiveDate;

use crate::features::{Tables, FEATURES};
use crate::model::{train, TrainConfig, TrainedModel, TrainingSet};
use crate::output::{predictions_batch, predictions_schema};
use crate::registry::Registry;
use crate::score::score;
use crate::{MlError, Result};

/// The table holding the run's as_of (one row, column `as_of`), written by the project's
/// `as_of_date` model.
pub const AS_OF_TABLE: &str = "gold.as_of_date";

/// The project variable naming the features to train on (comma-separated; default: every
/// feature of [`FEATURES`]).
pub const FEATURES_VAR: &str = "churn_features";

/// The registry of a lake: `<lake>/_c360/models/churn/`.
pub fn lake_registry(lake: &Lake) -> Registry {
    Registry::new(lake.meta_dir().join("models").join("churn"))
}

/// The run's as_of, read from [`AS_OF_TABLE`] in `ctx`.
pub async fn run_as_of(ctx: &SessionContext) -> Result<NaiveDate> {
    let batches = ctx
        .sql(&format!(
            "SELECT CAST(as_of AS DATE) AS as_of FROM {AS_OF_TABLE}"
        ))
        .await
        .map_err(MlError::query("as_of"))?
        .collect()
        .await
        .map_err(MlError::query("as_of"))?;
    let schema_error = |detail: &str| MlError::Schema {
        what: "as_of_date",
        detail: detail.to_string(),
    };
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if rows != 1 {
        return Err(schema_error(&format!("{rows} rows, expected 1")));
    }
    let batch = batches
        .iter()
        .find(|b| b.num_rows() == 1)
        .ok_or_else(|| schema_error("no row"))?;
    let column = batch
        .column(0)
        .as_any()
        .downcast_ref::<Date32Array>()
        .ok_or_else(|| schema_error("as_of is not a DATE"))?;
    if column.is_null(0) {
        return Err(schema_error("as_of is NULL"));
    }
    column
        .value_as_date(0)
        .ok_or_else(|| schema_error("as_of is out of range"))
}

/// What to train: the feature columns and the trainer's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ChurnSettings {
    /// Feature columns, in model order.
    pub features: Vec<String>,
    /// Split, booster and gate settings (`data_version` is filled in by [`train_and_register`]).
    pub config: TrainConfig,
}

impl Default for ChurnSettings {
    fn default() -> Self {
        ChurnSettings {
            features: FEATURES.iter().map(|f| f.name.to_string()).collect(),
            config: TrainConfig::default(),
        }
    }
}

impl ChurnSettings {
    /// The defaults, with the features of the project variable [`FEATURES_VAR`] when it is
    /// set (a comma-separated list, or a list, of names of [`FEATURES`]).
    pub fn from_vars(vars: &BTreeMap<String, serde_json::Value>) -> Result<ChurnSettings> {
        let mut settings = ChurnSettings::default();
        let Some(value) = vars.get(FEATURES_VAR) else {
            return Ok(settings);
        };
        let names: Vec<String> = match value {
            serde_json::Value::String(s) => s.split(',').map(|n| n.trim().to_string()).collect(),
            serde_json::Value::Array(items) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect(),
            other => vec![other.to_string()],
        };
        let names: Vec<String> = names.into_iter().filter(|n| !n.is_empty()).collect();
        if names.is_empty() {
            return Err(MlError::InvalidParameter {
                name: FEATURES_VAR,
                reason: "names no feature".into(),
            });
        }
        for name in &names {
            if !FEATURES.iter().any(|f| f.name == name) {
                return Err(MlError::InvalidParameter {
                    name: FEATURES_VAR,
                    reason: format!("`{name}` is not a churn feature (see docs/ml.md)"),
                });
            }
        }
        settings.features = names;
        Ok(settings)
    }
}

/// The content fingerprint of a training set (FNV-1a 64 over ids, feature names, values and
/// labels): the model file's `data_version`. Same rows ⇒ same fingerprint.
pub fn data_version(set: &TrainingSet) -> String {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    for name in &set.features {
        feed(name.as_bytes());
        feed(&[0]);
    }
    for (i, id) in set.customer_ids.iter().enumerate() {
        feed(id.as_bytes());
        feed(&[0, u8::from(set.y[i])]);
        for v in set.x.row(i) {
            feed(&v.to_bits().to_le_bytes());
        }
    }
    format!("{} rows, fnv1a64:{hash:016x}", set.len())
}

/// A training run's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Trained {
    /// The model (saved, with its version).
    pub model: TrainedModel,
    /// True when an identical run (same as_of, data, features and settings) was already in
    /// the registry and its model is returned instead of training again.
    pub reused: bool,
}

/// Trains on the `churn_training_data` batches of run `as_of` with `settings` and saves the
/// model as the registry's next version — promoted or not; an unpromoted model is kept for the
/// record and never scores. When the registry already holds a model of the same as_of, data
/// version, features and settings, that model is returned and nothing is written: training is
/// deterministic, so it would be the same model.
pub fn train_and_register(
    registry: &Registry,
    batches: &[RecordBatch],
    as_of: NaiveDate,
    settings: &ChurnSettings,
) -> Result<Trained> {
    let set = TrainingSet::from_batches_with(batches, &settings.features)?;
    let config = TrainConfig {
        data_version: data_version(&set),
        ..settings.config.clone()
    };
    for model in registry.list()?.into_iter().rev() {
        if model.training_as_of == as_of && model.config == config && model.features == set.features
        {
            return Ok(Trained {
                model,
                reused: true,
            });
        }
    }
    let mut model = train(&set, as_of, &config)?;
    registry.save(&mut model)?;
    Ok(Trained {
        model,
        reused: false,
    })
}

/// `churn_predictions` of run `as_of` in `ctx`'s gold tables, by the registry's latest
/// promoted model, with that model. Without a promoted model the batch is empty (every
/// customer is then 'Not Scored' in the profile) and the model is `None`.
pub async fn score_latest(
    ctx: &SessionContext,
    registry: &Registry,
    as_of: NaiveDate,
) -> Result<(RecordBatch, Option<TrainedModel>)> {
    let Some(model) = registry.latest_promoted()? else {
        return Ok((RecordBatch::new_empty(predictions_schema()), None));
    };
    let scored = score(ctx, &Tables::default(), &model, as_of).await?;
    let batch = predictions_batch(&scored, &model, as_of)?;
    Ok((batch, Some(model)))
}
