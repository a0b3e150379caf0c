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
-- Incremental (docs/models.md § Incremental runs): the ids whose decision may have changed
-- since this model's last commit are those of the int_transactions rows written since —
-- `stream(ref('int_transactions'))`: ids that arrived, corrections, and unknown_customer rows
-- retried now that their customer exists (plus unchanged rows a MERGE rewrote with them, which
-- merge as no-ops). Each is upserted when valid, deleted when not (a later bad correction
-- removes the row it corrects). Ids this table cannot hold yet (no bronze copy before this
-- model's stream) are appended without a lookup (`is_new`).
with int_transactions as (
    select * from {{ ref('int_transactions') }}
),

{% if is_incremental() -%}
arrived_ids as (
    {{ arrived_transaction_ids(stream('bronze', 'transactions'), ref('duplicated_transaction_ids')) }}
),

written as (
    -- the int_transactions rows written since this model's offset on that table (the int
    -- rows of every id in this model's bronze stream among them: both offsets move together)
    select * from {{ stream(ref('int_transactions')) }}
),

decided as (
    select
        w.*,
        w.quarantine_reason is not null as is_deleted,
        coalesce(a.is_new, false) as is_new
    from written as w
    left join arrived_ids as a on w.transaction_id = a.transaction_id
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
