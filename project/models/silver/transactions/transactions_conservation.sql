-- transactions_conservation (SPEC §3 Conservation): one row with the three counts every
-- bronze transaction row falls into exactly one of. Checked by
-- tests/assert_transactions_conserved.sql.
with bronze_rows as (
    select count(*) as n from {{ source('bronze', 'transactions') }}
),

survivors as (
    -- the surviving row of its transaction_id in stg_transactions
    select count(*) as n from {{ ref('stg_transactions') }}
),

duplicates as (
    -- every copy of a transaction_id but its latest (valid or quarantined)
    select cast(coalesce(sum(copies - 1), 0) as bigint) as n from {{ ref('int_transactions') }}
),

quarantined as (
    select
        count(*) as n,
        count(case when reason = 'missing_id' then 1 end) as missing_id,
        count(case when reason = 'unknown_customer' then 1 end) as unknown_customer,
        count(case when reason = 'bad_amount' then 1 end) as bad_amount,
        count(case when reason = 'bad_date' then 1 end) as bad_date,
        count(case when reason = 'bad_status' then 1 end) as bad_status,
        count(case when reason = 'bad_channel' then 1 end) as bad_channel
    from {{ ref('quarantine_transactions') }}
)

select
    bronze_rows.n as bronze_rows,
    survivors.n as survivors,
    duplicates.n as duplicates,
    quarantined.n as quarantined,
    quarantined.missing_id as quarantined_missing_id,
    quarantined.unknown_customer as quarantined_unknown_customer,
    quarantined.bad_amount as quarantined_bad_amount,
    quarantined.bad_date as quarantined_bad_date,
    quarantined.bad_status as quarantined_bad_status,
    quarantined.bad_channel as quarantined_bad_channel
from bronze_rows
cross join survivors
cross join duplicates
cross join quarantined
