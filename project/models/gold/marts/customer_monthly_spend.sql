{{ config(
    materialized='incremental',
    unique_key=['customer_id', 'month_start'],
    delete_flag_column='is_deleted',
    cluster_by='month_start'
) }}
-- customer_monthly_spend: every customer's approved transactions summed per calendar month —
-- every month, not cut at as_of (the marts cut at as_of: monthly_spend_to_date). The one scan
-- of the fact that customer_behaviour, metric_mom_spend_change and metric_avg_transaction_value
-- share: ~18 rows per customer instead of ~270, with exact sums (SPEC §0) and every amount in
-- cents for the exact median.
--
-- Incremental (docs/models.md § Incremental runs): a fact can only change when a bronze copy
-- of its transaction arrives, or when its customer gains a record (an unknown_customer
-- transaction is retried into the fact). So a run recomputes
--   * the (customer, month) of every arrived copy and of the earlier copies of the ids that
--     arrived again (a correction can move or delete the fact), reading only those months of
--     the fact (it is laid out by month), and
--   * every month of the customers that gained records;
-- a recomputed pair without approved facts any more is deleted. Laid out one file per month,
-- so the MERGE rewrites only the months it touches.
with approved as (
    select * from {{ ref('approved_transactions') }}
),

{% if is_incremental() -%}
arrived as (
    select transaction_id, customer_id, transaction_date
    from {{ stream('bronze', 'transactions') }}
),

arrived_ids as (
    {{ arrived_transaction_ids('arrived', ref('duplicated_transaction_ids')) }}
),

changed_customers as (
    select distinct customer_id from {{ stream('bronze', 'customers') }}
    where customer_id is not null
),

copies as (
    -- the arrived copies, and every bronze copy of the ids that had copies before
    select customer_id, transaction_date from arrived
    union all
    select customer_id, transaction_date from {{ source('bronze', 'transactions') }}
    where transaction_id in (select transaction_id from arrived_ids where not is_new)
),

changed_pairs as (
    select distinct customer_id, {{ month_start(utc_date('transaction_date')) }} as month_start
    from copies
    where customer_id is not null
        and transaction_date is not null
        and customer_id not in (select customer_id from changed_customers)
),

changed_facts as (
    -- the facts of the changed pairs, from those months' files only
    select a.*
    from approved as a
    inner join changed_pairs as p
        on a.customer_id = p.customer_id
        and {{ month_start('a.transaction_date') }} = p.month_start
    where a.transaction_date in (
        select date_day from {{ ref('as_of_calendar') }}
        where month_start in (select month_start from changed_pairs)
    )
    union all
    -- every fact of the customers that gained records
    select a.*
    from approved as a
    where a.customer_id in (select customer_id from changed_customers)
),

monthly as (
    select
        s.customer_id,
        {{ month_start('s.transaction_date') }} as month_start,
        {{ monthly_spend_columns('s') }}
    from changed_facts as s
    group by s.customer_id, {{ month_start('s.transaction_date') }}
),

emptied as (
    -- recomputed pairs without approved facts any more
    select customer_id, month_start from changed_pairs
    union
    select customer_id, month_start from {{ this }}
    where customer_id in (select customer_id from changed_customers)
    except
    select customer_id, month_start from monthly
)

select *, false as is_deleted from monthly
union all
select
    customer_id,
    month_start,
    cast(null as decimal(18, 2)) as monthly_spend,
    cast(null as bigint) as transaction_count,
    cast(null as decimal(18, 2)) as travel_spend,
    cast(null as decimal(18, 2)) as necessities_spend,
    cast(null as decimal(38, 4)) as sum_of_squares,
    cast(null as decimal(12, 2)) as min_transaction_value,
    cast(null as decimal(12, 2)) as max_transaction_value,
    cast(null as date) as first_transaction_date,
    cast(null as date) as last_transaction_date,
    cast(null as bigint[]) as amount_cents,
    true as is_deleted
from emptied
{%- else -%}
monthly as (
    select
        s.customer_id,
        -- the calendar month, grouped as the integer YYYYMM of the fact's date_key (cheaper
        -- than a date)
        s.date_key / 100 as year_month,
        {{ monthly_spend_columns('s') }}
    from approved as s
    group by s.customer_id, s.date_key / 100
)

select
    customer_id,
    make_date(cast(year_month / 100 as int), cast(year_month % 100 as int), 1) as month_start,
    * exclude (customer_id, year_month),
    false as is_deleted
from monthly
{%- endif %}
