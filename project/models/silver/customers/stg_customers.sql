-- stg_customers (SPEC §3): one row per customer_id, the latest valid record, standardised.
-- A customer whose newest record is invalid keeps its latest valid one (docs/models.md), so a
-- customer never disappears from silver once it has had a valid record.
with valid_customer_records as (
    select * from {{ ref('valid_customer_records') }}
),

latest as (
    -- SPEC §3: the latest record by updated_at (ties: latest ingested_at)
    select * from valid_customer_records
    where record_seq = record_count
)

select
    customer_id,
    first_name,
    last_name,
    email,
    age,
    state,
    city,
    employment_status,
    card_type,
    credit_limit,
    account_open_date,
    customer_segment,
    decline_type,
    updated_at,
    ingested_at,
    source,
    record_count
from latest
order by customer_id
