//! The churn label and the training data (SPEC §5).
//!
//! At `cutoff = as_of − 90`:
//! - **eligible**: at least 5 approved transactions on or before the cutoff, and the first
//!   approved transaction on or before `cutoff − 180`;
//! - `baseline = spend in (cutoff − 360, cutoff] / 4` (a quarter of the last year's spend);
//! - `future = spend in (cutoff, as_of]`;
//! - **churned** ⇔ `future < 0.30 × baseline`, evaluated exactly on the DECIMAL sums as
//!   `40 × future < 3 × spend(cutoff − 360, cutoff]` (no floating point in the rule).
//!
//! A customer eligible but without spend in the baseline year has baseline 0 and is never
//! churned (`future < 0` is impossible): they had already left before the cutoff.

use c360_lake::datafusion::dataframe::DataFrame;
use c360_lake::datafusion::prelude::SessionContext;
use chrono::{Days, NaiveDate};

use crate::features::{epoch_days, feature_sql, Tables};
use crate::{MlError, Result};

/// Days between the training cutoff and `as_of`.
pub const HORIZON_DAYS: u64 = 90;
/// Minimum approved transactions (on or before the date) to be trained on or scored.
pub const MIN_TRANSACTIONS: i64 = 5;
/// Minimum history before the cutoff, in days (first approved transaction ≤ cutoff − 180).
pub const MIN_HISTORY_DAYS: i64 = 180;
/// Length of the baseline window before the cutoff, in days.
pub const BASELINE_DAYS: i64 = 360;

/// Name of the label column of the training data.
pub const LABEL_COLUMN: &str = "churned";

/// The training cutoff of `as_of` (`as_of − 90` days).
pub fn cutoff_of(as_of: NaiveDate) -> Result<NaiveDate> {
    as_of
        .checked_sub_days(Days::new(HORIZON_DAYS))
        .ok_or_else(|| MlError::InvalidParameter {
            name: "as_of",
            reason: format!("{as_of} is too early"),
        })
}

/// The label query: one row per eligible customer with `label_spend_prior_360d` (DECIMAL sum of
/// `(cutoff − 360, cutoff]`), `label_future_spend` (DECIMAL sum of `(cutoff, as_of]`) and
/// `churned` (BOOLEAN).
pub fn label_sql(tables: &Tables, as_of: NaiveDate) -> Result<String> {
    tables.validate()?;
    let cutoff = epoch_days(cutoff_of(as_of)?);
    let fct = &tables.transactions;
    Ok(format!(
        "WITH t AS (
  SELECT customer_id, CAST(transaction_date AS INT) AS dn, transaction_amount AS amt
  FROM {fct}
  WHERE status = 'approved' AND transaction_date <= DATE '{as_of}' AND customer_id IS NOT NULL
),
l AS (
  SELECT customer_id,
    COUNT(CASE WHEN dn <= {cutoff} THEN 1 END) AS n_before,
    MIN(dn) AS first_dn,
    CAST(COALESCE(SUM(CASE WHEN dn > {base_from} AND dn <= {cutoff} THEN amt END), 0) AS DECIMAL(18,2)) AS base_sum,
    CAST(COALESCE(SUM(CASE WHEN dn > {cutoff} THEN amt END), 0) AS DECIMAL(18,2)) AS future_sum
  FROM t GROUP BY customer_id
)
SELECT customer_id,
  base_sum AS label_spend_prior_360d,
  future_sum AS label_future_spend,
  40 * future_sum < 3 * base_sum AS {LABEL_COLUMN}
FROM l
WHERE n_before >= {MIN_TRANSACTIONS} AND first_dn <= {first_max}",
        base_from = cutoff - BASELINE_DAYS,
        first_max = cutoff - MIN_HISTORY_DAYS,
    ))
}

/// The training-data query: the features at the cutoff ([`feature_sql`]) of every eligible
/// customer, then `label_spend_prior_360d`, `label_future_spend` and `churned`; ordered by
/// `customer_id`.
pub fn training_sql(tables: &Tables, as_of: NaiveDate) -> Result<String> {
    let features = feature_sql(tables, cutoff_of(as_of)?)?;
    let label = label_sql(tables, as_of)?;
    Ok(format!(
        "WITH feat AS (\n{features}\n),\nlab AS (\n{label}\n)
SELECT feat.*, lab.label_spend_prior_360d, lab.label_future_spend, lab.{LABEL_COLUMN}
FROM feat JOIN lab ON feat.customer_id = lab.customer_id
ORDER BY feat.customer_id"
    ))
}

/// `churn_training_data` as a DataFrame: see [`training_sql`].
pub async fn training_frame(
    ctx: &SessionContext,
    tables: &Tables,
    as_of: NaiveDate,
) -> Result<DataFrame> {
    let sql = training_sql(tables, as_of)?;
    ctx.sql(&sql).await.map_err(MlError::query("training data"))
}
