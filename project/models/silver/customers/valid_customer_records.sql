{{ config(materialized='ephemeral') }}
-- valid_customer_records: the usable records of each customer, numbered in time order.
-- record_seq 1 is the earliest record, record_seq = record_count the latest.
with customer_records as (
    select * from {{ ref('customer_records') }}
    where quarantine_reason is null
),

record_counts as (
    select customer_id, count(*) as record_count
    from customer_records
    group by customer_id
),

counted as (
    select r.*, c.record_count
    from customer_records as r
    inner join record_counts as c on r.customer_id = c.customer_id
),

single_records as (
    -- the common case (~99% of customers): one record, the earliest and the latest. Numbered
    -- without a window: DataFusion's window operator pays per partition, and one partition per
    -- customer made it most of dim_customer's time (docs/benchmarks.md)
    select * exclude (record_count), arrow_cast(1, 'UInt64') as record_seq, record_count
    from counted
    where record_count = 1
),

sequenced_records as (
    select
        * exclude (record_count),
        -- SPEC §3: "latest" = by updated_at, ties by ingested_at; bronze keeps no row order, so
        -- remaining ties fall to source and then every other column (docs/models.md). NULL
        -- timestamps count as the oldest.
        row_number() over (
            partition by customer_id
            order by
                updated_at asc nulls first,
                ingested_at asc nulls first,
                source asc nulls first,
                raw_first_name asc nulls first,
                raw_last_name asc nulls first,
                raw_email asc nulls first,
                age asc nulls first,
                raw_state asc nulls first,
                raw_city asc nulls first,
                employment_status asc nulls first,
                card_type asc nulls first,
                credit_limit asc nulls first,
                account_open_date asc nulls first,
                customer_segment asc nulls first,
                decline_type asc nulls first
        ) as record_seq,
        record_count
    from counted
    where record_count > 1
)

select * from single_records
union all
select * from sequenced_records
