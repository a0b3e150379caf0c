//! Scoring and explanations (SPEC §5): features at `as_of` for every customer with at least 5
//! approved transactions, P(churn), churn_risk_score, category and the top 3 drivers.

use arrow::array::RecordBatch;
use c360_lake::datafusion::dataframe::DataFrame;
use c360_lake::datafusion::prelude::SessionContext;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::features::{feature_sql, Tables};
use crate::label::MIN_TRANSACTIONS;
use crate::model::{feature_matrix, string_column, TrainedModel};
use crate::{MlError, Result};

/// Number of drivers reported per customer.
pub const TOP_DRIVERS: usize = 3;

/// churn_risk_category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RiskCategory {
    /// Score < 40.
    Low,
    /// 40 ≤ score < 70.
    Medium,
    /// Score ≥ 70.
    High,
}

impl RiskCategory {
    /// The category of a (rounded) churn_risk_score.
    pub fn of(score: f64) -> RiskCategory {
        if score >= 70.0 {
            RiskCategory::High
        } else if score >= 40.0 {
            RiskCategory::Medium
        } else {
            RiskCategory::Low
        }
    }

    /// `High`, `Medium` or `Low`.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskCategory::Low => "Low",
            RiskCategory::Medium => "Medium",
            RiskCategory::High => "High",
        }
    }
}

/// churn_risk_score of a probability: `100 × p` rounded to 0.1 (half away from zero).
pub fn risk_score(p: f64) -> f64 {
    (p * 1000.0).round() / 10.0
}

/// One scored customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The customer.
    pub customer_id: String,
    /// P(churn), unrounded.
    pub probability: f64,
    /// `100 × P` rounded to 0.1.
    pub churn_risk_score: f64,
    /// From the rounded score: High ≥ 70, Medium ≥ 40, else Low.
    pub category: RiskCategory,
    /// Up to 3 features with the largest positive contribution to this customer's log-odds,
    /// largest first (ties by the model's feature order); fewer when fewer push the score up.
    pub top_drivers: Vec<String>,
}

/// The scoring query: features at `as_of` of every customer with at least 5 approved
/// transactions on or before it, ordered by customer_id.
pub fn scoring_sql(tables: &Tables, as_of: NaiveDate) -> Result<String> {
    let features = feature_sql(tables, as_of)?;
    Ok(format!(
        "SELECT * FROM (\n{features}\n) s WHERE s.txn_count_total >= {MIN_TRANSACTIONS} ORDER BY s.customer_id"
    ))
}

/// The features to score at `as_of` (see [`scoring_sql`]) as a DataFrame.
pub async fn scoring_frame(
    ctx: &SessionContext,
    tables: &Tables,
    as_of: NaiveDate,
) -> Result<DataFrame> {
    let sql = scoring_sql(tables, as_of)?;
    ctx.sql(&sql).await.map_err(MlError::query("scoring"))
}

/// Scores the customers of `batches` (`customer_id` plus at least the model's features).
pub fn score_batches(model: &TrainedModel, batches: &[RecordBatch]) -> Result<Vec<Prediction>> {
    const WHAT: &str = "features";
    let ids = string_column(batches, "customer_id", WHAT)?;
    let x = feature_matrix(batches, &model.features, WHAT)?;
    Ok(ids
        .into_iter()
        .enumerate()
        .map(|(i, customer_id)| {
            let row = x.row(i);
            let probability = model.booster.predict_proba(row);
            let churn_risk_score = risk_score(probability);
            Prediction {
                customer_id,
                probability,
                churn_risk_score,
                category: RiskCategory::of(churn_risk_score),
                top_drivers: top_drivers(model, row),
            }
        })
        .collect())
}

/// The features pushing this row's churn score up most (Saabas contributions > 0).
pub fn top_drivers(model: &TrainedModel, row: &[f64]) -> Vec<String> {
    let (_, contributions) = model.booster.contributions(row);
    let mut up: Vec<(usize, f64)> = contributions
        .into_iter()
        .enumerate()
        .filter(|&(_, c)| c > 0.0)
        .collect();
    up.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    up.into_iter()
        .take(TOP_DRIVERS)
        .map(|(j, _)| model.features[j].clone())
        .collect()
}

/// Computes the features at `as_of` in `ctx` and scores them with `model`.
pub async fn score(
    ctx: &SessionContext,
    tables: &Tables,
    model: &TrainedModel,
    as_of: NaiveDate,
) -> Result<Vec<Prediction>> {
    let batches = scoring_frame(ctx, tables, as_of)
        .await?
        .collect()
        .await
        .map_err(MlError::query("scoring"))?;
    score_batches(model, &batches)
}
