{{ config(materialized='rust', rust_function='churn_model_metrics') }}
-- churn_model_metrics (SPEC §5): trains the gradient-boosted churn model on
-- churn_training_data (stratified 80/20 holdout, seed 42), registers it under
-- _c360/models/churn/ (promoted only when its holdout AUC-ROC ≥ 0.75; an identical run is
-- reused), and returns the long-form holdout metrics of every registered model. Features:
-- `--var churn_features=a,b` (default all). Built in Rust by c360-ml (docs/ml.md).
-- inputs: {{ ref('as_of_date') }}, {{ ref('churn_training_data') }}
