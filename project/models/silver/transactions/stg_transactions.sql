-- stg_transactions (SPEC §3): one row per valid transaction_id — the surviving copy of every
-- transaction whose latest copy passed validation (an earlier valid copy never resurrects a
-- quarantined transaction).
with int_transactions as (
    select * from {{ ref('int_transactions') }}
),

survivors as (
    select * from int_transactions
    where quarantine_reason is null
)

select
    transaction_id,
    customer_id,
    transaction_date,
    transaction_ts,
    cast(transaction_amount as decimal(12, 2)) as transaction_amount,
    merchant_name,
    merchant_category,
    channel,
    status,
    ingested_at,
    source
from survivors
