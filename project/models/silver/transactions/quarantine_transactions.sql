{{ config(
    materialized='incremental',
    unique_key='quarantine_key',
    delete_flag_column='is_deleted'
) }}
-- quarantine_transactions (SPEC §3): one row per bronze row that is quarantined, as it
-- arrived, with exactly one reason:
--   * the latest copy of a transaction_id that failed validation (its older copies are
--     counted duplicates, see transactions_conservation), and
--   * every bronze row whose transaction_id is NULL or blank (missing_id), one row each.
-- quarantine_key names the row: 'id:' + transaction_id, or for a row without an id 'row:' +
-- md5 of its values + ':' + its ordinal among identical bronze rows (macro row_values_md5).
--
-- Incremental (docs/models.md § Incremental runs): an id's quarantine decision can only change
-- when int_transactions writes the id (a copy arrived, or an unknown_customer row was retried),
-- so a run upserts the quarantined rows int_transactions wrote since this model's offset on it
-- and deletes the stored ids it wrote back valid; a row without an id is final, so the bronze
-- rows without one that arrived since are appended, numbered after the identical rows stored.
with arrived_missing_id as (
    -- SPEC §3 missing_id: NULL or blank transaction_id (the first reason of the list), among
    -- the bronze rows that arrived since this model's last commit (every row on a full build);
    -- may_be_blank lets file statistics skip the files without one
    select *, {{ row_values_md5('b') }} as row_md5
    from {{ stream('bronze', 'transactions') }} as b
    where {{ may_be_blank('b.transaction_id') }} and {{ is_blank('b.transaction_id') }}
),

{% if is_incremental() -%}
written as (
    -- the int_transactions rows written since this model's offset on that table
    select * from {{ stream(ref('int_transactions')) }}
),

decided as (
    -- quarantined rows are upserted; a valid one is deleted, when this table holds its id
    select *, quarantine_reason is null as is_deleted
    from written
    where quarantine_reason is not null
        or transaction_id in (select transaction_id from {{ this }} where reason <> 'missing_id')
),

stored_missing_id as (
    -- how many rows with the same values this table holds already
    select split_part(quarantine_key, ':', 2) as row_md5, count(*) as stored
    from {{ this }}
    where reason = 'missing_id'
    group by split_part(quarantine_key, ':', 2)
),
{%- else -%}
decided as (
    select *, false as is_deleted
    from {{ ref('int_transactions') }}
    where quarantine_reason is not null
),

stored_missing_id as (
    select cast(null as varchar) as row_md5, cast(0 as bigint) as stored
    where false
),
{%- endif %}

missing_id as (
    select
        a.* exclude (row_md5),
        concat('row:', a.row_md5, ':', cast(
            coalesce(s.stored, 0) + row_number() over (partition by a.row_md5) as varchar
        )) as quarantine_key
    from arrived_missing_id as a
    left join stored_missing_id as s on a.row_md5 = s.row_md5
),

invalid_transactions as (
    select
        concat('id:', transaction_id) as quarantine_key,
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
        quarantine_reason as reason,
        is_deleted
    from decided
)

select
    quarantine_key,
    -- the bronze row's columns, in bronze order
    * exclude (quarantine_key),
    cast(1 as bigint) as copies,
    'missing_id' as reason,
    false as is_deleted
from missing_id
union all
select * from invalid_transactions
