//! The churn models of the Customer 360 project as the model engine's `rust` models
//! (`project/models/gold/ml/`):
//!
//! | `rust_function` | reads | builds |
//! | --- | --- | --- |
//! | `churn_training_data` | `gold.as_of_date`, `gold.fct_transactions`, `gold.dim_customer`, `gold.dim_merchant_category` | features at `as_of − 90` + label |
//! | `churn_model_metrics` | `gold.churn_training_data` | trains (or reuses) and registers a model; the metrics of every registered model |
//! | `churn_predictions` | the star schema, after `churn_model_metrics` | scores with the latest promoted model |
//!
//! The program running the engine registers them with [`rust_models`].

use std::sync::Arc;

use c360_lake::datafusion::prelude::DataFrame;
use c360_models::{RustModel, RustModelError, RustModelInput, RustModels};
use futures::future::BoxFuture;
use futures::FutureExt;

use crate::features::Tables;
use crate::label::training_frame;
use crate::lifecycle::{lake_registry, run_as_of, score_latest, train_and_register, ChurnSettings};
use crate::output::metrics_batch;
use crate::MlError;

/// The table the training model writes and the metrics model trains on.
pub const TRAINING_TABLE: &str = "gold.churn_training_data";

/// The three churn models, under the `rust_function` names the project's model files give.
pub fn rust_models() -> RustModels {
    let mut models = RustModels::new();
    models
        .register("churn_training_data", Arc::new(ChurnTrainingData))
        .register("churn_model_metrics", Arc::new(ChurnModelMetrics))
        .register("churn_predictions", Arc::new(ChurnPredictions));
    models
}

fn boxed(e: MlError) -> RustModelError {
    Box::new(e)
}

fn read_error(
    what: &'static str,
) -> impl FnOnce(c360_lake::datafusion::error::DataFusionError) -> RustModelError {
    move |e| boxed(MlError::query(what)(e))
}

/// `churn_training_data`: the features at `as_of − 90` and the label of every eligible
/// customer.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChurnTrainingData;

impl RustModel for ChurnTrainingData {
    fn build<'a>(
        &'a self,
        input: RustModelInput<'a>,
    ) -> BoxFuture<'a, Result<DataFrame, RustModelError>> {
        async move {
            let as_of = run_as_of(input.ctx).await.map_err(boxed)?;
            training_frame(input.ctx, &Tables::default(), as_of)
                .await
                .map_err(boxed)
        }
        .boxed()
    }
}

/// `churn_model_metrics`: trains on `gold.churn_training_data` (features from the project
/// variable `churn_features`, default all), registers the model (promoted only above the AUC
/// gate), and returns the long-form metrics of every model in the registry.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChurnModelMetrics;

impl RustModel for ChurnModelMetrics {
    fn build<'a>(
        &'a self,
        input: RustModelInput<'a>,
    ) -> BoxFuture<'a, Result<DataFrame, RustModelError>> {
        async move {
            let settings = ChurnSettings::from_vars(input.vars).map_err(boxed)?;
            let as_of = run_as_of(input.ctx).await.map_err(boxed)?;
            let batches = input
                .ctx
                .table(TRAINING_TABLE)
                .await
                .map_err(read_error("training data"))?
                .collect()
                .await
                .map_err(read_error("training data"))?;
            let registry = lake_registry(input.lake);
            train_and_register(&registry, &batches, as_of, &settings).map_err(boxed)?;
            let batch = metrics_batch(&registry.list().map_err(boxed)?).map_err(boxed)?;
            Ok(input.ctx.read_batch(batch)?)
        }
        .boxed()
    }
}

/// `churn_predictions`: every customer with at least 5 approved transactions, scored at
/// `as_of` by the registry's latest promoted model; no rows while no model is promoted.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChurnPredictions;

impl RustModel for ChurnPredictions {
    fn build<'a>(
        &'a self,
        input: RustModelInput<'a>,
    ) -> BoxFuture<'a, Result<DataFrame, RustModelError>> {
        async move {
            let as_of = run_as_of(input.ctx).await.map_err(boxed)?;
            let registry = lake_registry(input.lake);
            let (batch, _) = score_latest(input.ctx, &registry, as_of)
                .await
                .map_err(boxed)?;
            Ok(input.ctx.read_batch(batch)?)
        }
        .boxed()
    }
}
