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
-- Incremental (docs/models.md § Incremental runs): a fact's month can only change where
-- stg_transactions wrote a row (an arrived transaction, a correction, an unknown_customer
-- transaction retried now that its customer exists) or where an earlier bronze copy of an id
-- that arrived again put its fact (a correction can move or delete it). So a run recomputes
-- the (customer, month) of every row in `stream(ref('stg_transactions'))` and of those earlier
-- copies, reading only those months of the fact (it is laid out by month); a recomputed pair
-- without approved facts any more is deleted. Laid out one file per month, so the MERGE
-- rewrites only the months it touches.
with approved as (
    select * from {{ ref('approved_transactions') }}
),

{% if is_incremental() -%}
arrived_ids as (
    {{ arrived_transaction_ids(stream('bronze', 'transactions'), ref('duplicated_transaction_ids')) }}
),

changed_pairs as (
    -- the months of the stg_transactions rows written since this model's offset on that table
    select customer_id, {{ month_start('transaction_date') }} as month_start
    from {{ stream(ref('stg_transactions')) }}
    union
    -- the months of every bronze copy of the ids that had copies before (where their fact was)
    select customer_id, {{ month_start(utc_date('transaction_date')) }} as month_start
    from {{ source('bronze', 'transactions') }}
    where transaction_id in (select transaction_id from arrived_ids where not is_new)
        and customer_id is not null
        and transaction_date is not null
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
),

monthly as (
    select
        s.customer_id,
        {{ month_start('s.transaction_date') }} as month_start,
        {{ monthly_spend_columns('s') }}
    from changed_facts as s
    group by s.customer_id, {{ month_start('s.transaction_date') }}
)

-- one reference to `monthly` (a CTE referenced twice is computed twice)
select
    coalesce(m.customer_id, p.customer_id) as customer_id,
    coalesce(m.month_start, p.month_start) as month_start,
    m.* exclude (customer_id, month_start),
    m.customer_id is null as is_deleted
from monthly as m
full outer join changed_pairs as p
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
