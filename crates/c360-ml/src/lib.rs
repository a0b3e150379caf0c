//! The churn model of c360 (SPEC §5): features, label, training, evaluation, scoring,
//! explanations and the model registry, in pure Rust on DataFusion.
//!
//! **What it is for**: turning the gold star schema (`gold.fct_transactions`,
//! `gold.dim_customer`, `gold.dim_merchant_category`, registered in a DataFusion
//! [`SessionContext`]) into the three ML tables — `churn_training_data` (features + label per
//! eligible customer), `churn_model_metrics` and `churn_predictions` — and a versioned model
//! file. Same data, same `as_of`, same seed ⇒ the same model JSON and the same scores, bit for
//! bit; nothing reads the wall clock.
//!
//! **What it is not for**: writing the lake's tables (the model engine writes what the
//! [`project`] models return; this crate only keeps its model files under `_c360/`),
//! deciding when to train (the model engine and the pipeline), or showing the results (the
//! server).
//!
//! The flow and its main types:
//! - [`Tables`] names the input tables; [`features_frame`] computes [`FEATURES`] at any date
//!   (one SQL query, point in time: only transactions on or before the date, the dimension
//!   version valid then).
//! - [`training_data`] / [`training_frame`]: features at `cutoff = as_of − 90` plus the label
//!   of [`label_sql`] for every eligible customer; [`TrainingSet::from_batches`] reads them.
//! - [`train`] with a [`TrainConfig`]: stratified 80/20 holdout, this crate's histogram
//!   gradient-boosted trees ([`gbdt::Booster`]), holdout [`Metrics`] and the promotion gate
//!   (AUC-ROC ≥ 0.75) → a [`TrainedModel`].
//! - [`Registry`]: `v<N>.json` files; [`Registry::latest_promoted`] is the model that scores.
//! - [`score`] / [`predictions`]: features at `as_of` for customers with ≥ 5 approved
//!   transactions, [`Prediction`]s with score, [`RiskCategory`] and top 3 drivers.
//! - [`output`]: the Arrow batches of `churn_predictions` and `churn_model_metrics`.
//! - In a lake: [`lake_registry`] (`<lake>/_c360/models/churn/`), [`train_and_register`]
//!   (reuse of an identical run, the gate), [`score_latest`] (the latest promoted model; no
//!   rows without one); [`project::rust_models`] are the model engine's `rust` models
//!   `churn_training_data`, `churn_model_metrics` and `churn_predictions`; [`report`] writes
//!   the model card.
//!
//! Why an own GBDT rather than a crate, with the measured comparison: `docs/ml.md`.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use c360_lake::datafusion::prelude::SessionContext;
//! use c360_ml::{features_frame, Tables};
//! use chrono::NaiveDate;
//!
//! let ctx = SessionContext::new();
//! for sql in [
//!     "CREATE TABLE fct AS SELECT * FROM (VALUES
//!        ('C1', DATE '2025-01-10', 1, 'Online', 'approved', CAST(120.50 AS DECIMAL(12,2))),
//!        ('C1', DATE '2025-03-01', 2, 'Mobile', 'declined', CAST(80.00 AS DECIMAL(12,2))),
//!        ('C1', DATE '2025-09-01', 1, 'Online', 'approved', CAST(99.00 AS DECIMAL(12,2))))
//!      AS t(customer_id, transaction_date, merchant_category_key, channel, status, transaction_amount)",
//!     "CREATE TABLE dim AS SELECT * FROM (VALUES
//!        ('C1', DATE '2023-05-01', 'Standard', CAST(5000 AS DECIMAL(12,2)), 'Employed', 40, DATE '2023-05-01'))
//!      AS t(customer_id, valid_from, card_type, credit_limit, employment_status, age, account_open_date)",
//!     "CREATE TABLE cat AS SELECT * FROM (VALUES (1, true, false), (2, false, true))
//!      AS t(category_key, is_travel, is_necessity)",
//! ] {
//!     ctx.sql(sql).await.unwrap().collect().await.unwrap();
//! }
//! let tables = Tables { transactions: "fct".into(), customers: "dim".into(), categories: "cat".into() };
//! let at = NaiveDate::from_ymd_opt(2025, 3, 31).unwrap();
//! let batches = features_frame(&ctx, &tables, at).await.unwrap().collect().await.unwrap();
//! let batch = &batches[0];
//! // Only the two transactions on or before `at` count, and the declined one is not spend,
//! // but it is one of the two transactions of the last 90 days.
//! let col = |name: &str| batch.column_by_name(name).unwrap()
//!     .as_any().downcast_ref::<arrow::array::Float64Array>().unwrap().value(0);
//! assert_eq!(col("txn_count_total"), 1.0);
//! assert_eq!(col("days_since_last_txn"), 80.0);
//! assert_eq!(col("decline_rate_90d"), 50.0);
//! # });
//! ```

mod error;
mod features;
pub mod gbdt;
mod label;
mod lifecycle;
pub mod metrics;
mod model;
pub mod output;
pub mod project;
mod registry;
pub mod report;
mod score;
mod serde_util;

use arrow::array::RecordBatch;
use c360_lake::datafusion::prelude::SessionContext;
use chrono::NaiveDate;

pub use error::{MlError, Result};
pub use features::{feature_names, feature_sql, features_frame, FeatureSpec, Tables, FEATURES};
pub use label::{
    cutoff_of, label_sql, training_frame, training_sql, BASELINE_DAYS, HORIZON_DAYS, LABEL_COLUMN,
    MIN_HISTORY_DAYS, MIN_TRANSACTIONS,
};
pub use lifecycle::{
    data_version, lake_registry, run_as_of, score_latest, train_and_register, ChurnSettings,
    Trained, AS_OF_TABLE, FEATURES_VAR,
};
pub use model::{
    stratified_split, train, FeatureImportance, Metrics, TrainConfig, TrainedModel, TrainingSet,
    MIN_PROMOTION_AUC, MODEL_FORMAT,
};
pub use registry::Registry;
pub use score::{
    risk_score, score, score_batches, scoring_frame, scoring_sql, top_drivers, Prediction,
    RiskCategory, TOP_DRIVERS,
};

/// `churn_training_data` of run `as_of`: the features at `as_of − 90` of every eligible
/// customer, `label_spend_prior_360d`, `label_future_spend` and `churned`, ordered by
/// customer_id.
pub async fn training_data(
    ctx: &SessionContext,
    tables: &Tables,
    as_of: NaiveDate,
) -> Result<Vec<RecordBatch>> {
    training_frame(ctx, tables, as_of)
        .await?
        .collect()
        .await
        .map_err(MlError::query("training data"))
}

/// `churn_predictions` of run `as_of` with `model` (see [`score`] and
/// [`output::predictions_batch`]).
pub async fn predictions(
    ctx: &SessionContext,
    tables: &Tables,
    model: &TrainedModel,
    as_of: NaiveDate,
) -> Result<RecordBatch> {
    let scored = score(ctx, tables, model, as_of).await?;
    output::predictions_batch(&scored, model, as_of)
}
