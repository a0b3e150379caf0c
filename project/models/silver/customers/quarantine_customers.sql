-- quarantine_customers (SPEC §3): every bronze customer record that cannot be used, as it
-- arrived, with the reason: missing_id (NULL/blank customer_id) or bad_age (outside 18–120).
with customer_records as (
    select * from {{ ref('customer_records') }}
),

rejected as (
    select * from customer_records
    where quarantine_reason is not null
)

select
    customer_id,
    raw_first_name as first_name,
    raw_last_name as last_name,
    raw_email as email,
    age,
    raw_state as state,
    raw_city as city,
    employment_status,
    card_type,
    credit_limit,
    account_open_date,
    customer_segment,
    decline_type,
    updated_at,
    ingested_at,
    source,
    quarantine_reason as reason
from rejected
order by ingested_at, customer_id
