{{ config(materialized='rust', rust_function='churn_training_data') }}
-- churn_training_data (SPEC §5): the churn features at cutoff = as_of − 90 days of every
-- eligible customer, with the leakage-free label over (cutoff, as_of]. Built in Rust by
-- c360-ml (one feature query for training and scoring; docs/ml.md).
-- inputs: {{ ref('as_of_date') }}, {{ ref('fct_transactions') }}, {{ ref('dim_customer') }},
--         {{ ref('dim_merchant_category') }}
