-- metric_customer_ltv (SPEC §4.4): lifetime value per current customer. Spend = approved,
-- transaction_date <= as_of; the totals are customer_segments' (one computation of spend).
-- Customers without spend: 0 / 0 / NULLs.
with customer_segments as (
    select * from {{ ref('customer_segments') }}
),

ltv as (
    select
        customer_id,
        lifetime_value,
        total_transactions,
        first_transaction_date,
        last_transaction_date,
        -- SPEC §4.4: customer_age_days = last − first (days)
        cast(last_transaction_date - first_transaction_date as bigint) as customer_age_days,
        customer_segment,
        as_of_date
    from customer_segments
)

select
    customer_id,
    lifetime_value,
    total_transactions,
    first_transaction_date,
    last_transaction_date,
    customer_age_days,
    -- SPEC §4.4: avg_spend_per_day = lifetime_value / (customer_age_days + 1)
    cast(lifetime_value as double) / (customer_age_days + 1) as avg_spend_per_day,
    customer_segment,
    as_of_date
from ltv
order by customer_id
