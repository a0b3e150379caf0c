{{ config(
    materialized='incremental',
    unique_key='transaction_id',
    delete_flag_column='is_deleted',
    new_key_flag_column='is_new'
) }}
-- stg_transactions (SPEC §3): one row per valid transaction_id — the surviving copy of every
-- transaction whose latest copy passed validation (an earlier valid copy never resurrects a
-- quarantined transaction).
--
-- Incremental (docs/models.md § Incremental runs): the ids whose decision in int_transactions
-- may have changed since this model's last commit are the ids of the bronze rows that arrived
-- since (its own stream offset) and the valid transactions of customers that gained records
-- since and are not here yet (unknown_customer rows that were retried). Their current
-- int_transactions rows are merged; an id no longer valid is deleted (a later bad correction
-- removes the row it corrects). Ids this table cannot hold yet (no earlier bronze copy, or a
-- retried id found absent) are appended without a lookup (`is_new`).
with int_transactions as (
    select * from {{ ref('int_transactions') }}
),

{% if is_incremental() -%}
arrived_ids as (
    {{ arrived_transaction_ids(stream('bronze', 'transactions'), ref('duplicated_transaction_ids')) }}
),

changed_customers as (
    select customer_id from {{ stream('bronze', 'customers') }}
),

retried_ids as (
    -- SPEC §3: unknown_customer rows flow into silver once their customer exists: the valid
    -- transactions of customers that gained records that are not here yet (both sides read
    -- only those customers' rows)
    select i.transaction_id, true as is_new
    from int_transactions as i
    left anti join (
        select transaction_id from {{ this }}
        where customer_id in (select customer_id from changed_customers)
    ) as t on i.transaction_id = t.transaction_id
    where i.quarantine_reason is null
        and i.customer_id in (select customer_id from changed_customers)
),

touched_ids as (
    -- new only if no source says otherwise: an arrived id with earlier copies may be held
    -- under another customer (a correction can change it), which the retried test, reading
    -- only the changed customers' rows, would not see
    select transaction_id, bool_and(is_new) as is_new
    from (
        select transaction_id, is_new from arrived_ids
        union all
        select transaction_id, is_new from retried_ids
    ) as touched
    group by transaction_id
),

decided as (
    select i.*, i.quarantine_reason is not null as is_deleted, t.is_new
    from int_transactions as i
    inner join touched_ids as t on i.transaction_id = t.transaction_id
)
{%- else -%}
decided as (
    select *, false as is_deleted, true as is_new
    from int_transactions
    where quarantine_reason is null
)
{%- endif %}

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
    source,
    is_deleted,
    is_new
from decided
