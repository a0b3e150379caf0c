-- quarantine_transactions (SPEC §3): one row per bronze row that is quarantined, as it
-- arrived, with exactly one reason:
--   * the latest copy of a transaction_id that failed validation (its older copies are
--     counted duplicates, see transactions_conservation), and
--   * every bronze row whose transaction_id is NULL or blank (missing_id), one row each.
with int_transactions as (
    select * from {{ ref('int_transactions') }}
),

bronze_transactions as (
    select * from {{ source('bronze', 'transactions') }}
),

invalid_transactions as (
    select
        transaction_id,
        customer_id,
        transaction_ts as transaction_date,
        transaction_amount,
        {{ as_arrived('raw_merchant_name', 'merchant_name') }} as merchant_name,
        {{ as_arrived('raw_merchant_category', 'merchant_category', 'Uncategorized') }}
            as merchant_category,
        {{ as_arrived('raw_channel', 'channel') }} as channel,
        {{ as_arrived('raw_status', 'status') }} as status,
        ingested_at,
        source,
        copies,
        quarantine_reason as reason
    from int_transactions
    where quarantine_reason is not null
),

missing_id as (
    -- SPEC §3 missing_id: NULL or blank transaction_id (the first reason of the list);
    -- may_be_blank lets file statistics skip the files without one
    select
        transaction_id,
        customer_id,
        transaction_date,
        transaction_amount,
        merchant_name,
        merchant_category,
        channel,
        status,
        ingested_at,
        source,
        cast(1 as bigint) as copies,
        'missing_id' as reason
    from bronze_transactions
    where {{ may_be_blank('transaction_id') }} and {{ is_blank('transaction_id') }}
)

select * from missing_id
union all
select * from invalid_transactions
