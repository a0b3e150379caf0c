{{ config(materialized='ephemeral') }}
-- approved_transactions: the approved facts (SPEC §0: declines never count as spend), any date,
-- with the category flags of dim_merchant_category (the one source of truth for travel and
-- necessity). "Spend" is these rows up to as_of: customer_monthly_spend keeps every month, and
-- the marts cut at as_of (monthly_spend_to_date, customer_behaviour's windows).
with facts as (
    select customer_id, date_key, transaction_date, transaction_amount, merchant_category_key, status
    from {{ ref('fct_transactions') }}
),

categories as (
    select category_key, is_travel, is_necessity from {{ ref('dim_merchant_category') }}
)

select
    f.customer_id,
    f.date_key,
    f.transaction_date,
    f.transaction_amount,
    coalesce(c.is_travel, false) as is_travel,
    coalesce(c.is_necessity, false) as is_necessity
from facts as f
left join categories as c on f.merchant_category_key = c.category_key
-- SPEC §0: approved only
where f.status = 'approved'
