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
-- since this model's last commit are those of the bronze rows that arrived since (its own
-- stream offset), and every transaction of a customer that gained records since (a new
-- dim_customer version re-keys the facts it covers; an unknown customer's retried
-- transactions arrive). Their rows are merged on transaction_id — the MERGE leaves identical
-- rows in place, so only re-keyed facts are rewritten — and ids gone from stg_transactions are
-- deleted. Ids with no earlier bronze copy cannot be here yet and are appended without a
-- lookup (`is_new`).
with stg_transactions as (
    select * from {{ ref('stg_transactions') }}
),

{% if is_incremental() -%}
arrived_ids as (
    {{ arrived_transaction_ids(stream('bronze', 'transactions'), ref('duplicated_transaction_ids')) }}
),

arrived_transactions as (
    -- the transactions of the bronze rows that arrived since; an id absent from
    -- stg_transactions (its latest copy is quarantined) is deleted here.
    -- (`few LEFT JOIN many`: the hash table is built on the arrived ids and stg_transactions
    -- is probed through the join's dynamic filter, decoding full rows only for those ids)
    select
        a.transaction_id,
        s.customer_id,
        s.transaction_date,
        s.transaction_ts,
        s.merchant_name,
        s.merchant_category,
        s.channel,
        s.status,
        s.transaction_amount,
        s.transaction_id is null as is_deleted,
        a.is_new
    from arrived_ids as a
    left join stg_transactions as s on a.transaction_id = s.transaction_id
),

rekeyed_transactions as (
    -- every other transaction of a customer that gained records since: a new dim_customer
    -- version re-keys the facts it covers, and an unknown customer's retried transactions
    -- arrive
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
        false as is_new
    from stg_transactions as s
    left anti join arrived_ids as a on s.transaction_id = a.transaction_id
    where s.customer_id in (select customer_id from {{ stream('bronze', 'customers') }})
),

changed_transactions as (
    select * from arrived_transactions
    union all
    select * from rekeyed_transactions
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
        true as is_new
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
-- SPEC §4.3 clustered by transaction date: cluster_by sorts each written partition by
-- transaction_date, so every file covers a narrow range of dates (docs/engine.md)
