{{ config(
    materialized='incremental',
    unique_key='transaction_id',
    new_key_flag_column='is_new'
) }}
-- int_transactions: one row per transaction_id (non-missing): the latest bronze copy,
-- normalised, with how many bronze copies it had and why it is quarantined (NULL = valid).
-- stg_transactions and quarantine_transactions are built from this table.
--
-- Incremental (docs/models.md § Incremental runs): a run reads only the bronze rows that
-- arrived since the last one (stream), re-decides the ids they carry against the stored latest
-- copy, retries stored unknown_customer rows whose customer now exists, and MERGEs the result
-- on transaction_id; an id none of whose bronze copies came before (`is_new`, the common
-- case) is appended without being looked up. A full build decides every id from the whole of
-- bronze; both give the same table, because every column a decision needs (the raw values of
-- the tiebreak, the copy count) is stored.
with arrived as (
    -- every bronze row on a full build; the rows bronze gained since this model's last commit
    -- on an incremental run
    select * from {{ stream('bronze', 'transactions') }}
),

identified as (
    -- SPEC §3 missing_id: a NULL or blank transaction_id is no transaction; such rows go to
    -- quarantine_transactions one by one and never reach this table
    select
        transaction_id, customer_id, transaction_date, transaction_amount, merchant_name,
        merchant_category, channel, status, ingested_at, source
    from arrived
    where not {{ is_blank('transaction_id') }}
),

{% if is_incremental() -%}
arrived_ids as (
    {{ arrived_transaction_ids('arrived', ref('duplicated_transaction_ids')) }}
),

lone_copies as (
    -- the common case: an id that arrived once and had no bronze copy before is its own
    -- latest copy, with one copy (not ranked: a window pays per id)
    select i.*, cast(1 as bigint) as copies
    from identified as i
    inner join arrived_ids as a on i.transaction_id = a.transaction_id
    where a.is_new and a.arrived_copies = 1
),

contested_ids as (
    -- ids that arrived more than once, or had a bronze copy before this run's
    select transaction_id, is_new from arrived_ids
    where not (is_new and arrived_copies = 1)
),

stored_copies as (
    -- the stored latest copy of every contested id with an earlier bronze copy, as it
    -- arrived, with the copies counted so far
    select
        transaction_id, customer_id, transaction_ts as transaction_date, transaction_amount,
        {{ as_arrived('raw_merchant_name', 'merchant_name') }} as merchant_name,
        {{ as_arrived('raw_merchant_category', 'merchant_category', 'Uncategorized') }}
            as merchant_category,
        {{ as_arrived('raw_channel', 'channel') }} as channel,
        {{ as_arrived('raw_status', 'status') }} as status,
        ingested_at, source, copies
    from {{ this }}
    where transaction_id in (select transaction_id from contested_ids where not is_new)
),

candidate_copies as (
    -- every copy of the contested ids: those that arrived and the stored latest one
    select i.*, cast(1 as bigint) as copies
    from identified as i
    where i.transaction_id in (select transaction_id from contested_ids)
    union all
    select * from stored_copies
),

ranked_copies as (
    select
        c.* exclude (copies),
        -- SPEC §3 conservation: the stored count plus the copies that arrived (one reference
        -- to candidate_copies: a CTE referenced twice is computed twice)
        cast(sum(c.copies) over (partition by c.transaction_id) as bigint) as copies,
        {{ latest_copy_rank('c') }} as copy_rank
    from candidate_copies as c
),

retried as (
    -- SPEC §3: unknown_customer rows are retried on every run; only those of customers that
    -- gained records since this model's last commit can change (a customer enters
    -- stg_customers only with a new record, and never leaves it). Streaming bronze.customers
    -- here also holds fct_transactions' stream of it to this model's offset, so the fact never
    -- re-keys a customer before the silver models (and dim_customer) have seen their record.
    -- No copy of these ids arrived: the stored copy is the latest
    select
        transaction_id, customer_id, transaction_ts as transaction_date, transaction_amount,
        {{ as_arrived('raw_merchant_name', 'merchant_name') }} as merchant_name,
        {{ as_arrived('raw_merchant_category', 'merchant_category', 'Uncategorized') }}
            as merchant_category,
        {{ as_arrived('raw_channel', 'channel') }} as channel,
        {{ as_arrived('raw_status', 'status') }} as status,
        ingested_at, source, copies
    from {{ this }}
    where quarantine_reason = 'unknown_customer'
        and customer_id in (select customer_id from {{ stream('bronze', 'customers') }})
        and customer_id in (select customer_id from {{ ref('stg_customers') }})
        and transaction_id not in (select transaction_id from identified)
),

latest_copy as (
    select * from lone_copies
    union all
    select * exclude (copy_rank) from ranked_copies
    where copy_rank = 1
    union all
    select * from retried
),
{%- else -%}
copy_counts as (
    -- SPEC §3 conservation: every copy of an id is counted; all but the surviving one are
    -- duplicates. Only ids with more than one copy (~0.2%) need ranking.
    select transaction_id, copies from {{ ref('duplicated_transaction_ids') }}
),

single_copy as (
    -- the common case: an id that arrived once is its own latest copy
    -- (written `small ANTI JOIN big` so the hash table is built on the few duplicated ids)
    select i.*, cast(1 as bigint) as copies
    from copy_counts as d
    right anti join identified as i on i.transaction_id = d.transaction_id
),

ranked_copies as (
    select
        i.*,
        d.copies,
        {{ latest_copy_rank('i') }} as copy_rank
    from copy_counts as d
    inner join identified as i on i.transaction_id = d.transaction_id
),

latest_copy as (
    select * from single_copy
    union all
    select * exclude (copy_rank) from ranked_copies
    where copy_rank = 1
),
{%- endif %}

normalised as (
    select
        transaction_id,
        customer_id,
        -- SPEC §3: transaction_date (DATE) and transaction_ts (TIMESTAMP) both kept
        {{ utc_date('transaction_date') }} as transaction_date,
        transaction_date as transaction_ts,
        transaction_amount,
        -- SPEC §3: merchant_name trimmed
        {{ trim_ws('merchant_name') }} as merchant_name,
        -- SPEC §3: blank/NULL merchant_category → 'Uncategorized' (others trimmed)
        case
            when {{ is_blank('merchant_category') }} then 'Uncategorized'
            else {{ trim_ws('merchant_category') }}
        end as merchant_category,
        -- SPEC §3: channel and status normalised case- and space-insensitively
        {{ normalise_channel('channel') }} as channel,
        {{ normalise_status('status') }} as status,
        ingested_at,
        source,
        copies,
        merchant_name as arrived_merchant_name,
        merchant_category as arrived_merchant_category,
        channel as arrived_channel,
        status as arrived_status
    from latest_copy
),

known_customers as (
    select customer_id from {{ ref('stg_customers') }}
),

validated as (
    select
        n.* exclude (
            arrived_merchant_name, arrived_merchant_category, arrived_channel, arrived_status
        ),
        -- the copy as it arrived, for quarantine_transactions and for re-ranking copies; only
        -- where normalising changed it (macro kept_as_arrived, NULL = as normalised)
        {{ kept_as_arrived('n.arrived_merchant_name', 'n.merchant_name') }} as raw_merchant_name,
        {{ kept_as_arrived('n.arrived_merchant_category', 'n.merchant_category', 'Uncategorized') }}
            as raw_merchant_category,
        {{ kept_as_arrived('n.arrived_channel', 'n.channel') }} as raw_channel,
        {{ kept_as_arrived('n.arrived_status', 'n.status') }} as raw_status,
        -- SPEC §3: exactly one reason, the first that applies, in this order
        case
            -- unknown_customer: customer_id not in stg_customers (NULL included)
            when k.customer_id is null then 'unknown_customer'
            -- bad_amount: NULL, <= 0 or > 100,000
            when n.transaction_amount is null
                or n.transaction_amount <= 0
                or n.transaction_amount > 100000 then 'bad_amount'
            -- bad_date: NULL, before 2000-01-01, or more than 1 day after its own ingested_at
            when n.transaction_ts is null
                or n.transaction_ts < timestamp '2000-01-01T00:00:00Z'
                or {{ later_by_more_than_a_day('n.transaction_ts', 'n.ingested_at') }} then 'bad_date'
            -- bad_status / bad_channel: not an accepted value after normalising
            when n.status is null then 'bad_status'
            when n.channel is null then 'bad_channel'
        end as quarantine_reason
    from normalised as n
    left join known_customers as k
        on n.customer_id = k.customer_id
)

select
    v.*,
    {%- if is_incremental() %}
    -- no bronze copy of the id came before this run's: appended without a lookup (retried
    -- rows are stored ones)
    coalesce(a.is_new, false) as is_new
from validated as v
left join arrived_ids as a on v.transaction_id = a.transaction_id
    {%- else %}
    true as is_new
from validated as v
    {%- endif %}
