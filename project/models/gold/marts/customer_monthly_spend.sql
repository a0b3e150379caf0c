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

recomputed_pairs as (
    -- the pairs recomputed: a pair among them without approved facts any more is deleted
    select customer_id, month_start from changed_pairs
    union
    select customer_id, month_start from {{ this }}
    where customer_id in (select customer_id from changed_customers)
)

-- one reference to `monthly` (a CTE referenced twice is computed twice)
select
    coalesce(m.customer_id, p.customer_id) as customer_id,
    coalesce(m.month_start, p.month_start) as month_start,
    m.* exclude (customer_id, month_start),
    m.customer_id is null as is_deleted
from monthly as m
full outer join recomputed_pairs as p
    on m.customer_id = p.customer_id and m.month_start = p.month_start
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
