-- int_transactions: one row per transaction_id (non-missing): the latest bronze copy,
-- normalised, with how many bronze copies it had and why it is quarantined (NULL = valid).
-- stg_transactions and quarantine_transactions are filters of this table.
--
-- Written as a full rebuild from bronze. It is shaped to become an incremental MERGE on
-- transaction_id (docs/models.md): every column needed to re-rank a transaction's copies
-- (ingested_at and the raw values of the tiebreak) and to re-validate it is kept.
with bronze_transactions as (
    select * from {{ source('bronze', 'transactions') }}
),

identified as (
    -- SPEC §3 missing_id: a NULL or blank transaction_id is no transaction; such rows go to
    -- quarantine_transactions one by one and never reach this table
    select * from bronze_transactions
    where not {{ is_blank('transaction_id') }}
),

copy_counts as (
    -- SPEC §3 conservation: every copy of an id is counted; all but the surviving one are
    -- duplicates. Only ids with more than one copy (~0.2%) need ranking.
    select transaction_id, count(*) as copies
    from identified
    group by transaction_id
    having count(*) > 1
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
        -- SPEC §3 dedupe first: the latest ingested_at is *the* row of the transaction.
        -- Bronze has no row-order column, so ties fall to the row's other columns, each
        -- descending (docs/models.md). NULL ingested_at counts as the oldest.
        row_number() over (
            partition by i.transaction_id
            order by
                i.ingested_at desc nulls last,
                i.source desc nulls last,
                i.transaction_date desc nulls last,
                i.customer_id desc nulls last,
                i.transaction_amount desc nulls last,
                i.merchant_name desc nulls last,
                i.merchant_category desc nulls last,
                i.channel desc nulls last,
                i.status desc nulls last
        ) as copy_rank
    from copy_counts as d
    inner join identified as i on i.transaction_id = d.transaction_id
),

latest_copy as (
    select * from single_copy
    union all
    select * exclude (copy_rank) from ranked_copies
    where copy_rank = 1
),

normalised as (
    select
        transaction_id,
        customer_id,
        -- SPEC §3: transaction_date (DATE) and transaction_ts (TIMESTAMP) both kept
        cast(transaction_date as date) as transaction_date,
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
        -- the copy as it arrived, for quarantine_transactions and for re-ranking copies
        merchant_name as raw_merchant_name,
        merchant_category as raw_merchant_category,
        channel as raw_channel,
        status as raw_status
    from latest_copy
),

known_customers as (
    select customer_id from {{ ref('stg_customers') }}
),

validated as (
    select
        n.*,
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
                or n.transaction_ts > n.ingested_at + interval '1 day' then 'bad_date'
            -- bad_status / bad_channel: not an accepted value after normalising
            when n.status is null then 'bad_status'
            when n.channel is null then 'bad_channel'
        end as quarantine_reason
    from normalised as n
    left join known_customers as k
        on n.customer_id = k.customer_id
)

select * from validated
