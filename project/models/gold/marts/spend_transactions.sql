{{ config(materialized='ephemeral') }}
-- spend_transactions: SPEC §0 "spend" = approved transactions with transaction_date <= as_of,
-- with the category flags of dim_merchant_category (the one source of truth for travel and
-- necessity). Inlined into every mart.
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
-- SPEC §0: approved only (declines never count as spend), and nothing after as_of
where f.status = 'approved'
    and f.transaction_date <= {{ as_of() }}
