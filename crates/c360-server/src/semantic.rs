//! A small semantic model of `gold.customer_360_profile` for the metrics explorer: named
//! measures and dimensions (each a fixed SQL expression), the audience filters, and one-click
//! presets for the questions the seed's assistant suggested. A question compiles to one SQL
//! statement whose only user-supplied parts are bound parameters.

use serde::Serialize;

use crate::data::Params;
use crate::request::AudienceFilter;

/// How a measure's values are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// A count of customers.
    Count,
    /// Money (exact decimal).
    Money,
    /// A percentage, 0–100.
    Percent,
    /// A score or other number.
    Number,
}

/// A measure: an aggregate over the profile.
#[derive(Debug, Clone, Serialize)]
pub struct Measure {
    /// Key used in requests.
    pub key: &'static str,
    /// What it is called on screen.
    pub label: &'static str,
    /// The aggregate SQL expression.
    pub sql: &'static str,
    /// How values are shown.
    pub unit: Unit,
}

/// A dimension: a grouping expression over the profile.
#[derive(Debug, Clone, Serialize)]
pub struct Dimension {
    /// Key used in requests.
    pub key: &'static str,
    /// What it is called on screen.
    pub label: &'static str,
    /// The grouping SQL expression.
    pub sql: &'static str,
    /// Order groups by the dimension's value (bands) instead of by the measure.
    pub ordered: bool,
}

/// A one-click question.
#[derive(Debug, Clone, Serialize)]
pub struct Preset {
    /// The question.
    pub question: &'static str,
    /// Measure key.
    pub measure: &'static str,
    /// Dimension key.
    pub dimension: &'static str,
    /// Extra filters, as a query string.
    pub filters: &'static str,
}

/// Every measure.
pub const MEASURES: &[Measure] = &[
    Measure {
        key: "customers",
        label: "Customers",
        sql: "COUNT(*)",
        unit: Unit::Count,
    },
    Measure {
        key: "total_ltv",
        label: "Total lifetime value",
        sql: "SUM(lifetime_value)",
        unit: Unit::Money,
    },
    Measure {
        key: "avg_ltv",
        label: "Average lifetime value",
        sql: "CAST(AVG(lifetime_value) AS DECIMAL(18,2))",
        unit: Unit::Money,
    },
    Measure {
        key: "spend_90d",
        label: "Spend, last 90 days",
        sql: "SUM(spend_last_90_days)",
        unit: Unit::Money,
    },
    Measure {
        key: "avg_monthly_spend",
        label: "Average monthly spend",
        sql: "CAST(AVG(avg_monthly_spend) AS DECIMAL(18,2))",
        unit: Unit::Money,
    },
    Measure {
        key: "avg_transaction_value",
        label: "Average transaction value",
        sql: "CAST(SUM(lifetime_value) / NULLIF(SUM(total_transactions), 0) AS DECIMAL(18,2))",
        unit: Unit::Money,
    },
    Measure {
        key: "avg_churn_score",
        label: "Average churn risk score",
        sql: "AVG(churn_risk_score)",
        unit: Unit::Number,
    },
    Measure {
        key: "high_risk_pct",
        label: "Share at high churn risk (%)",
        sql: "AVG(CASE WHEN churn_risk_category = 'High' THEN 100.0 ELSE 0.0 END)",
        unit: Unit::Percent,
    },
    Measure {
        key: "retention_eligible",
        label: "Retention-campaign eligible",
        sql: "SUM(CASE WHEN eligible_for_retention_campaign THEN 1 ELSE 0 END)",
        unit: Unit::Count,
    },
    Measure {
        key: "premium_eligible",
        label: "Premium-upgrade candidates",
        sql: "SUM(CASE WHEN eligible_for_premium_campaign THEN 1 ELSE 0 END)",
        unit: Unit::Count,
    },
    Measure {
        key: "onboarding_eligible",
        label: "Onboarding-journey customers",
        sql: "SUM(CASE WHEN eligible_for_onboarding_campaign THEN 1 ELSE 0 END)",
        unit: Unit::Count,
    },
    Measure {
        key: "avg_utilization",
        label: "Average credit utilisation (%)",
        sql: "AVG(credit_utilization_pct)",
        unit: Unit::Percent,
    },
];

/// Every dimension.
pub const DIMENSIONS: &[Dimension] = &[
    Dimension { key: "segment", label: "Segment", sql: "customer_segment", ordered: false },
    Dimension { key: "state", label: "State", sql: "state", ordered: false },
    Dimension { key: "card_type", label: "Card type", sql: "card_type", ordered: false },
    Dimension { key: "churn_risk", label: "Churn risk", sql: "COALESCE(churn_risk_category, 'Not Scored')", ordered: false },
    Dimension { key: "recency", label: "Recency", sql: "recency_status", ordered: false },
    Dimension { key: "spending_profile", label: "Spending profile", sql: "spending_profile", ordered: false },
    Dimension { key: "employment", label: "Employment status", sql: "employment_status", ordered: false },
    Dimension { key: "next_best_action", label: "Next best action", sql: "next_best_action", ordered: false },
    Dimension {
        key: "age_band",
        label: "Age band",
        sql: "CASE WHEN age < 30 THEN '18-29' WHEN age < 40 THEN '30-39' WHEN age < 50 THEN '40-49' WHEN age < 60 THEN '50-59' ELSE '60+' END",
        ordered: true,
    },
    Dimension {
        key: "tenure_band",
        label: "Tenure band",
        sql: "CASE WHEN tenure_months IS NULL THEN 'No spend' WHEN tenure_months <= 6 THEN '0-6 months' WHEN tenure_months <= 12 THEN '7-12 months' ELSE '13+ months' END",
        ordered: true,
    },
    Dimension { key: "all", label: "All customers", sql: "'All customers'", ordered: true },
];

/// The suggested questions.
pub const PRESETS: &[Preset] = &[
    Preset {
        question: "What is the average lifetime value by segment?",
        measure: "avg_ltv",
        dimension: "segment",
        filters: "",
    },
    Preset {
        question: "How many customers are at high churn risk, by state?",
        measure: "customers",
        dimension: "state",
        filters: "risk=High",
    },
    Preset {
        question: "Which segments hold the most retention-eligible customers?",
        measure: "retention_eligible",
        dimension: "segment",
        filters: "",
    },
    Preset {
        question: "Where are the premium-upgrade candidates?",
        measure: "premium_eligible",
        dimension: "state",
        filters: "segment=High-Value+Travelers",
    },
    Preset {
        question: "How does 90-day spend split by card type?",
        measure: "spend_90d",
        dimension: "card_type",
        filters: "",
    },
    Preset {
        question: "What share of each segment is at high churn risk?",
        measure: "high_risk_pct",
        dimension: "segment",
        filters: "",
    },
    Preset {
        question: "How is credit utilisation spread across age bands?",
        measure: "avg_utilization",
        dimension: "age_band",
        filters: "",
    },
    Preset {
        question: "What next best actions does the portfolio call for?",
        measure: "customers",
        dimension: "next_best_action",
        filters: "",
    },
];

/// Looks a measure up by key.
pub fn measure(key: &str) -> Option<&'static Measure> {
    MEASURES.iter().find(|m| m.key == key)
}

/// Looks a dimension up by key.
pub fn dimension(key: &str) -> Option<&'static Dimension> {
    DIMENSIONS.iter().find(|d| d.key == key)
}

/// Most groups a question returns.
pub const MAX_GROUPS: usize = 100;

/// The SQL of "`measure` by `dimension` where `filter`", with its parameters.
pub fn compile(
    measure: &Measure,
    dimension: &Dimension,
    filter: &AudienceFilter,
) -> (String, Params) {
    let mut params = Params::default();
    let conditions = filter.where_sql(&mut params, "");
    let order = if dimension.ordered {
        "dimension"
    } else {
        "measure DESC NULLS LAST, dimension"
    };
    let sql = format!(
        "SELECT {dim} AS dimension, {measure} AS measure\n\
         FROM gold.customer_360_profile\n\
         WHERE {conditions}\n\
         GROUP BY 1\n\
         ORDER BY {order}\n\
         LIMIT {MAX_GROUPS}",
        dim = dimension.sql,
        measure = measure.sql,
    );
    (sql, params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_name_known_measures_and_dimensions() {
        for p in PRESETS {
            assert!(measure(p.measure).is_some(), "{}", p.measure);
            assert!(dimension(p.dimension).is_some(), "{}", p.dimension);
        }
    }

    #[test]
    fn compiled_sql_binds_filters() {
        let filter = AudienceFilter {
            states: vec!["CA".into()],
            ..Default::default()
        };
        let (sql, params) = compile(
            measure("avg_ltv").unwrap(),
            dimension("segment").unwrap(),
            &filter,
        );
        assert!(sql.contains("state IN ($1)"), "{sql}");
        assert!(!sql.contains("'CA'"));
        assert_eq!(params.0.len(), 1);
    }
}
