{{ config(materialized='rust', rust_function='churn_predictions') }}
-- churn_predictions (SPEC §5): customers with ≥ 5 approved transactions on or before as_of,
-- scored by the latest promoted model of the registry (after this run's training): score,
-- category, top 3 drivers, model_version, prediction_date = as_of. No promoted model yet ⇒ no
-- rows (the profile shows 'Not Scored'). Built in Rust by c360-ml (docs/ml.md).
-- inputs: {{ ref('as_of_date') }}, {{ ref('churn_model_metrics') }}, {{ ref('fct_transactions') }},
--         {{ ref('dim_customer') }}, {{ ref('dim_merchant_category') }}
