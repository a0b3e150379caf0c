{{ config(materialized='ephemeral') }}
-- current_customers: SPEC §4.4 "one row per current customer" = the current dim_customer rows.
select customer_id, customer_key
from {{ ref('dim_customer') }}
where is_current
