//! Churn features at a date (SPEC §5): one SQL query over the fact table, the point-in-time
//! customer dimension and the category dimension, computed at the training cutoff
//! (`as_of − 90`) and at `as_of` for scoring.
//!
//! Every feature is listed once in [`FEATURES`] (name, SQL expression, description); the query,
//! the model's feature list and the docs all come from that list. The query reads only rows
//! with `transaction_date <= at` and the `dim_customer` version valid at `at`, so nothing after
//! the date can leak into a feature.

use c360_lake::datafusion::dataframe::DataFrame;
use c360_lake::datafusion::prelude::SessionContext;
use chrono::NaiveDate;

use crate::{MlError, Result};

/// The input tables, by name in the session (defaults: the gold star schema).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    /// The fact table (`customer_id, transaction_date, merchant_category_key, channel, status,
    /// transaction_amount`, …).
    pub transactions: String,
    /// The SCD2 customer dimension (`customer_id, valid_from, card_type, credit_limit,
    /// employment_status, age, account_open_date`, …).
    pub customers: String,
    /// The merchant category dimension (`category_key, is_travel, is_necessity`, …).
    pub categories: String,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            transactions: "gold.fct_transactions".into(),
            customers: "gold.dim_customer".into(),
            categories: "gold.dim_merchant_category".into(),
        }
    }
}

impl Tables {
    /// Checks that every name is a plain (optionally dotted) SQL identifier, so it can be put
    /// into the query as it is.
    pub(crate) fn validate(&self) -> Result<()> {
        for (name, value) in [
            ("tables.transactions", &self.transactions),
            ("tables.customers", &self.customers),
            ("tables.categories", &self.categories),
        ] {
            let ok = !value.is_empty()
                && value.split('.').all(|part| {
                    !part.is_empty()
                        && !part.starts_with(|c: char| c.is_ascii_digit())
                        && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                });
            if !ok {
                return Err(MlError::InvalidParameter {
                    name,
                    reason: format!("'{value}' is not a table name like gold.fct_transactions"),
                });
            }
        }
        Ok(())
    }
}

/// One model feature: its column name, the SQL expression computing it from the aggregates of
/// [`feature_sql`], and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureSpec {
    /// Column name (also the name in the model and in `top_drivers`).
    pub name: &'static str,
    /// SQL over the aggregate columns (`b.*`) and the customer version (`c.*`); a DOUBLE.
    pub sql: &'static str,
    /// What it measures (windows are `(at − N, at]`, approved transactions unless said).
    pub description: &'static str,
}

macro_rules! features {
    ($( $name:literal => $sql:literal, $desc:literal; )*) => {
        /// Every churn feature, in model order.
        pub const FEATURES: &[FeatureSpec] = &[
            $( FeatureSpec { name: $name, sql: $sql, description: $desc }, )*
        ];
    };
}

features! {
    "days_since_last_txn" => "CAST(b.recency AS DOUBLE)",
        "days from the last approved transaction to `at` (recency)";
    "days_since_first_txn" => "CAST(b.first_age AS DOUBLE)",
        "days from the first approved transaction to `at`";
    "txn_count_total" => "CAST(b.n_ok AS DOUBLE)",
        "approved transactions up to `at`";
    "txn_count_30d" => "CAST(b.n30 AS DOUBLE)", "approved transactions, last 30 days";
    "txn_count_90d" => "CAST(b.n90 AS DOUBLE)", "approved transactions, last 90 days";
    "txn_count_180d" => "CAST(b.n180 AS DOUBLE)", "approved transactions, last 180 days";
    "spend_30d" => "b.s30", "spend, last 30 days";
    "spend_90d" => "b.s90", "spend, last 90 days";
    "spend_180d" => "b.s180", "spend, last 180 days";
    "spend_prior_90d" => "b.sp90", "spend in (at − 180, at − 90]";
    "spend_change_pct" =>
        "CASE WHEN b.sp90 > 0 THEN (b.s90 - b.sp90) / b.sp90 * 100 END",
        "(last 90 − prior 90) / prior 90 × 100; NULL when prior 90 is 0";
    "txn_count_change_pct" =>
        "CASE WHEN b.np90 > 0 THEN (CAST(b.n90 AS DOUBLE) - b.np90) / b.np90 * 100 END",
        "change of the approved count, last 90 vs prior 90 days, %; NULL when prior is 0";
    "spend_slope_6m" =>
        "(2.5 * b.m0 + 1.5 * b.m1 + 0.5 * b.m2 - 0.5 * b.m3 - 1.5 * b.m4 - 2.5 * b.m5) / 17.5",
        "least-squares slope of spend per 30-day period over the last six (dollars per period)";
    "spend_slope_6m_pct" =>
        "CASE WHEN b.s180 > 0 THEN (2.5 * b.m0 + 1.5 * b.m1 + 0.5 * b.m2 - 0.5 * b.m3 - 1.5 * b.m4 - 2.5 * b.m5) / 17.5 / (b.s180 / 6) * 100 END",
        "that slope as % of the mean 30-day spend; NULL without spend";
    "spend_30d_vs_6m_avg_pct" =>
        "CASE WHEN b.s180 > 0 THEN b.s30 / (b.s180 / 6) * 100 END",
        "last 30 days' spend as % of the mean 30-day spend of the last 180 days";
    "travel_spend_pct_180d" =>
        "CASE WHEN b.s180 > 0 THEN b.s180_travel / b.s180 * 100 END",
        "share of the last 180 days' spend on travel categories (is_travel), %";
    "necessity_spend_pct_180d" =>
        "CASE WHEN b.s180 > 0 THEN b.s180_necessity / b.s180 * 100 END",
        "share of the last 180 days' spend on necessity categories (is_necessity), %";
    "category_count_180d" => "CAST(b.ncat180 AS DOUBLE)",
        "distinct merchant categories with spend, last 180 days";
    "avg_txn_value_180d" =>
        "CASE WHEN b.n180 > 0 THEN b.s180 / b.n180 END",
        "mean approved amount, last 180 days";
    "std_txn_value_180d" => "b.std180",
        "sample standard deviation of approved amounts, last 180 days";
    "max_txn_value_180d" => "b.max180", "largest approved amount, last 180 days";
    "decline_rate_90d" =>
        "CASE WHEN b.all90 > 0 THEN CAST(b.declined90 AS DOUBLE) / b.all90 * 100 END",
        "declined / all transactions, last 90 days, %";
    "online_pct_180d" =>
        "CASE WHEN b.n180 > 0 THEN CAST(b.online180 AS DOUBLE) / b.n180 * 100 END",
        "share of approved transactions made Online, last 180 days, %";
    "mobile_pct_180d" =>
        "CASE WHEN b.n180 > 0 THEN CAST(b.mobile180 AS DOUBLE) / b.n180 * 100 END",
        "share of approved transactions made on Mobile, last 180 days, %";
    "in_store_pct_180d" =>
        "CASE WHEN b.n180 > 0 THEN CAST(b.instore180 AS DOUBLE) / b.n180 * 100 END",
        "share of approved transactions made In-Store, last 180 days, %";
    "tenure_days" => "CAST(c.tenure_days AS DOUBLE)",
        "days from account_open_date to `at`";
    "credit_limit" => "CAST(c.credit_limit AS DOUBLE)",
        "credit limit of the dim_customer version valid at `at`";
    "utilisation_pct" =>
        "CASE WHEN c.credit_limit > 0 THEN b.s90 / 3 / CAST(c.credit_limit AS DOUBLE) * 100 END",
        "mean monthly spend of the last 90 days / credit_limit × 100";
    "card_premium" =>
        "CASE WHEN c.card_type IS NULL THEN NULL WHEN c.card_type = 'Premium' THEN 1.0 ELSE 0.0 END",
        "1 if the card valid at `at` is Premium, else 0";
    "age" => "CAST(c.age AS DOUBLE)", "age (a type-1 attribute: the latest value)";
    "employment_employed" =>
        "CASE WHEN c.employment_status IS NULL THEN NULL WHEN c.employment_status = 'Employed' THEN 1.0 ELSE 0.0 END",
        "one-hot employment_status (valid at `at`) = Employed";
    "employment_self_employed" =>
        "CASE WHEN c.employment_status IS NULL THEN NULL WHEN c.employment_status = 'Self-Employed' THEN 1.0 ELSE 0.0 END",
        "one-hot employment_status = Self-Employed";
    "employment_retired" =>
        "CASE WHEN c.employment_status IS NULL THEN NULL WHEN c.employment_status = 'Retired' THEN 1.0 ELSE 0.0 END",
        "one-hot employment_status = Retired";
    "employment_unemployed" =>
        "CASE WHEN c.employment_status IS NULL THEN NULL WHEN c.employment_status = 'Unemployed' THEN 1.0 ELSE 0.0 END",
        "one-hot employment_status = Unemployed";
    "employment_student" =>
        "CASE WHEN c.employment_status IS NULL THEN NULL WHEN c.employment_status = 'Student' THEN 1.0 ELSE 0.0 END",
        "one-hot employment_status = Student";
}

/// The names of [`FEATURES`], in model order.
pub fn feature_names() -> Vec<String> {
    FEATURES.iter().map(|f| f.name.to_string()).collect()
}

/// Days since 1970-01-01 (DataFusion's `DATE` as an integer).
pub(crate) fn epoch_days(date: NaiveDate) -> i64 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    (date - epoch).num_days()
}

/// The feature query at `at`: one row per customer with any transaction on or before `at`,
/// columns `customer_id` then every feature of [`FEATURES`] as DOUBLE (NULL = missing), ordered
/// by `customer_id`.
///
/// Windows count back from `at` in days: `last_N = (at − N, at]`, i.e. `age_days < N` where
/// `age_days = at − transaction_date`. The six 30-day periods of the slope are
/// `age_days ∈ [30k, 30k + 30)`, k = 0 (latest) … 5.
pub fn feature_sql(tables: &Tables, at: NaiveDate) -> Result<String> {
    tables.validate()?;
    let at_days = epoch_days(at);
    let fct = &tables.transactions;
    let dim = &tables.customers;
    let cat = &tables.categories;
    let mut months = String::new();
    let mut month_doubles = String::new();
    for k in 0..6 {
        months.push_str(&format!(
            "    SUM(CASE WHEN ok AND age_days >= {lo} AND age_days < {hi} THEN amt END) AS m{k},\n",
            lo = 30 * k,
            hi = 30 * k + 30
        ));
        month_doubles.push_str(&format!(
            "    COALESCE(CAST(m{k} AS DOUBLE), 0.0) AS m{k},\n"
        ));
    }
    let columns: Vec<String> = FEATURES
        .iter()
        .map(|f| format!("  CAST({} AS DOUBLE) AS {}", f.sql, f.name))
        .collect();
    let columns = columns.join(",\n");
    Ok(format!(
        "WITH t AS (
  SELECT f.customer_id,
         {at_days} - CAST(f.transaction_date AS INT) AS age_days,
         f.status = 'approved' AS ok,
         f.status = 'declined' AS declined,
         f.channel AS channel,
         f.transaction_amount AS amt,
         f.merchant_category_key AS cat,
         COALESCE(m.is_travel, FALSE) AS is_travel,
         COALESCE(m.is_necessity, FALSE) AS is_necessity
  FROM {fct} f LEFT JOIN {cat} m ON f.merchant_category_key = m.category_key
  WHERE f.transaction_date <= DATE '{at}' AND f.customer_id IS NOT NULL
),
a AS (
  SELECT customer_id,
    COUNT(CASE WHEN ok THEN 1 END) AS n_ok,
    MIN(CASE WHEN ok THEN age_days END) AS recency,
    MAX(CASE WHEN ok THEN age_days END) AS first_age,
    COUNT(CASE WHEN ok AND age_days < 30 THEN 1 END) AS n30,
    COUNT(CASE WHEN ok AND age_days < 90 THEN 1 END) AS n90,
    COUNT(CASE WHEN ok AND age_days < 180 THEN 1 END) AS n180,
    COUNT(CASE WHEN ok AND age_days >= 90 AND age_days < 180 THEN 1 END) AS np90,
    SUM(CASE WHEN ok AND age_days < 30 THEN amt END) AS s30,
    SUM(CASE WHEN ok AND age_days < 90 THEN amt END) AS s90,
    SUM(CASE WHEN ok AND age_days < 180 THEN amt END) AS s180,
    SUM(CASE WHEN ok AND age_days >= 90 AND age_days < 180 THEN amt END) AS sp90,
{months}    SUM(CASE WHEN ok AND age_days < 180 AND is_travel THEN amt END) AS s180_travel,
    SUM(CASE WHEN ok AND age_days < 180 AND is_necessity THEN amt END) AS s180_necessity,
    COUNT(DISTINCT CASE WHEN ok AND age_days < 180 THEN cat END) AS ncat180,
    SUM(CASE WHEN ok AND age_days < 180 THEN amt * amt END) AS sq180,
    MAX(CASE WHEN ok AND age_days < 180 THEN amt END) AS max180,
    COUNT(CASE WHEN (ok OR declined) AND age_days < 90 THEN 1 END) AS all90,
    COUNT(CASE WHEN declined AND age_days < 90 THEN 1 END) AS declined90,
    COUNT(CASE WHEN ok AND age_days < 180 AND channel = 'Online' THEN 1 END) AS online180,
    COUNT(CASE WHEN ok AND age_days < 180 AND channel = 'Mobile' THEN 1 END) AS mobile180,
    COUNT(CASE WHEN ok AND age_days < 180 AND channel = 'In-Store' THEN 1 END) AS instore180
  FROM t GROUP BY customer_id
),
b AS (
  SELECT customer_id, n_ok, recency, first_age, n30, n90, n180, np90, ncat180,
    CASE WHEN n180 > 1 THEN SQRT(CAST(n180 * sq180 - s180 * s180 AS DOUBLE) / (n180 * (n180 - 1))) END AS std180,
    all90, declined90, online180, mobile180, instore180,
    COALESCE(CAST(s30 AS DOUBLE), 0.0) AS s30,
    COALESCE(CAST(s90 AS DOUBLE), 0.0) AS s90,
    COALESCE(CAST(s180 AS DOUBLE), 0.0) AS s180,
    COALESCE(CAST(sp90 AS DOUBLE), 0.0) AS sp90,
{month_doubles}    COALESCE(CAST(s180_travel AS DOUBLE), 0.0) AS s180_travel,
    COALESCE(CAST(s180_necessity AS DOUBLE), 0.0) AS s180_necessity,
    CAST(max180 AS DOUBLE) AS max180
  FROM a
),
v AS (
  SELECT customer_id, credit_limit, card_type, employment_status, age, account_open_date,
    ROW_NUMBER() OVER (
      PARTITION BY customer_id
      ORDER BY CASE WHEN valid_from <= DATE '{at}' THEN 0 ELSE 1 END,
               CASE WHEN valid_from <= DATE '{at}' THEN CAST(valid_from AS INT)
                    ELSE -CAST(valid_from AS INT) END DESC
    ) AS rn
  FROM {dim}
),
c AS (
  SELECT customer_id, credit_limit, card_type, employment_status, age,
    {at_days} - CAST(account_open_date AS INT) AS tenure_days
  FROM v WHERE rn = 1
)
SELECT b.customer_id AS customer_id,
{columns}
FROM b LEFT JOIN c ON b.customer_id = c.customer_id
ORDER BY b.customer_id"
    ))
}

/// The features at `at` as a DataFrame (see [`feature_sql`]).
pub async fn features_frame(
    ctx: &SessionContext,
    tables: &Tables,
    at: NaiveDate,
) -> Result<DataFrame> {
    let sql = feature_sql(tables, at)?;
    ctx.sql(&sql).await.map_err(MlError::query("features"))
}
