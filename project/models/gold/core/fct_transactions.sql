{{ config(
    materialized='incremental',
    unique_key='transaction_id',
    delete_flag_column='is_deleted',
    new_key_flag_column='is_new',
    cluster_by='transaction_date'
) }}
-- fct_transactions (SPEC §4.3): one row per stg_transactions row, declined ones included,
-- with the dimension keys, laid out by transaction_date.
--
-- Incremental (docs/models.md § Incremental runs): the transactions that may have changed
-- since this model's last commit are the stg_transactions rows written since
-- (`stream(ref('stg_transactions'))`: inserted, updated, or rewritten unchanged with them),
-- the ids int_transactions quarantined since (gone from stg_transactions, so deleted here), and
-- the facts of customers that gained records since whose point-in-time customer_key changed
-- (a new dim_customer version re-keys the facts it covers). Their rows are merged on
-- transaction_id — the MERGE leaves identical rows in place. Ids with no earlier bronze copy
-- cannot be here yet and are appended without a lookup (`is_new`); the others are looked up
-- among the files of their transaction dates first (docs/engine.md § Incremental models).
with stg_transactions as (
    select * from {{ ref('stg_transactions') }}
),

{% if is_incremental() -%}
arrived_ids as (
    {{ arrived_transaction_ids(stream('bronze', 'transactions'), ref('duplicated_transaction_ids')) }}
),

written as (
    -- the stg_transactions rows written since this model's offset on that table
    select
        s.transaction_id,
        s.customer_id,
        s.transaction_date,
        s.transaction_ts,
        s.merchant_name,
        s.merchant_category,
        s.channel,
        s.status,
        s.transaction_amount,
        false as is_deleted,
        coalesce(a.is_new, false) as is_new,
        false as is_rekeyed
    from {{ stream(ref('stg_transactions')) }} as s
    left join arrived_ids as a on s.transaction_id = a.transaction_id
),

quarantined as (
    -- ids whose latest copy int_transactions quarantined since: stg_transactions deleted them
    -- (this stream reads int_transactions no further than stg_transactions has), so they are
    -- deleted here — unless stg_transactions wrote the id again since
    select
        q.transaction_id,
        q.customer_id,
        q.transaction_date,
        q.transaction_ts,
        q.merchant_name,
        q.merchant_category,
        q.channel,
        q.status,
        cast(q.transaction_amount as decimal(12, 2)) as transaction_amount,
        true as is_deleted,
        coalesce(a.is_new, false) as is_new,
        false as is_rekeyed
    from {{ stream(ref('int_transactions')) }} as q
    left join arrived_ids as a on q.transaction_id = a.transaction_id
    where q.quarantine_reason is not null
        and q.transaction_id not in (select transaction_id from written)
),

rekeyed_transactions as (
    -- every other transaction of a customer that gained records since: a new dim_customer
    -- version re-keys the facts it covers
    select
        s.transaction_id,
        s.customer_id,
        s.transaction_date,
        s.transaction_ts,
        s.merchant_name,
        s.merchant_category,
        s.channel,
        s.status,
        s.transaction_amount,
        false as is_deleted,
        false as is_new,
        true as is_rekeyed
    from stg_transactions as s
    where s.customer_id in (select customer_id from {{ stream('bronze', 'customers') }})
        and s.transaction_id not in (
            select transaction_id from written
            union all
            select transaction_id from quarantined
        )
),

changed_transactions as (
    select * from written
    union all
    select * from quarantined
    union all
    select * from rekeyed_transactions
),

stored_keys as (
    -- the stored customer_key of the facts of customers that gained records since
    select transaction_id, customer_key from {{ this }}
    where customer_id in (select customer_id from {{ stream('bronze', 'customers') }})
),
{%- else -%}
changed_transactions as (
    select
        transaction_id,
        customer_id,
        transaction_date,
        transaction_ts,
        merchant_name,
        merchant_category,
        channel,
        status,
        transaction_amount,
        false as is_deleted,
        true as is_new,
        false as is_rekeyed
    from stg_transactions
),
{%- endif %}

customer_versions as (
    select customer_id, customer_key, valid_from, valid_to, version_number
    from {{ ref('dim_customer') }}
),

categories as (
    select category_key, category_name from {{ ref('dim_merchant_category') }}
),

point_in_time as (
    -- SPEC §4.3: the dim_customer version valid on the transaction date; a transaction
    -- before the first valid_from takes the first version
    select
        t.*,
        v.customer_key
    from changed_transactions as t
    left join customer_versions as v
        on t.customer_id = v.customer_id
        and (t.transaction_date >= v.valid_from or v.version_number = 1)
        and (t.transaction_date <= v.valid_to or v.valid_to is null)
)

select
    -- SPEC §4.3: deterministic surrogate of transaction_id
    {{ transaction_key('p.transaction_id') }} as transaction_key,
    p.transaction_id,
    p.customer_id,
    p.customer_key,
    {{ date_key('p.transaction_date') }} as date_key,
    c.category_key as merchant_category_key,
    p.transaction_date,
    p.transaction_ts,
    p.merchant_name,
    p.channel,
    p.status,
    p.transaction_amount,
    p.is_deleted,
    p.is_new
from point_in_time as p
left join categories as c on p.merchant_category = c.category_name
{%- if is_incremental() %}
left join stored_keys as k on p.is_rekeyed and p.transaction_id = k.transaction_id
-- a re-keyed candidate whose point-in-time version is the one stored is no change (most are:
-- a new version covers the facts from its valid_from on)
where not p.is_rekeyed or p.customer_key is distinct from k.customer_key
{%- endif %}
-- SPEC §4.3 clustered by transaction date: cluster_by sorts each written partition by
-- transaction_date, so every file covers a narrow range of dates (docs/engine.md)
