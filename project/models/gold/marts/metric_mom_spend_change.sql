{{ config(
    materialized='incremental',
    unique_key=['customer_id', 'month_start'],
    delete_flag_column='is_deleted',
    cluster_by='month_start',
    session_options={'datafusion.optimizer.repartition_joins': 'false'}
) }}
-- metric_mom_spend_change (SPEC §4.4): one row per current customer × calendar month, from the
-- customer's first spend month to as_of's month, months without spend included as 0.
-- Spend = approved, transaction_date <= as_of. Customers who never spent have no rows.
--
-- A row is a function of its customer's spend in its month and the month before, the
-- customer's first spend month, and as_of (which months exist, is_complete_month, the cut of
-- as_of's month). Incremental (docs/models.md § Incremental runs), a run recomputes, for every
-- customer, the months from the one this model last ended on (its as_of month then, or as_of's
-- month if earlier) on, the months customer_monthly_spend changed since this model's last run
-- (its stream, and the months whose count of spend rows differs) and the month after each; and
-- for a customer whose first spend month changed, every month between the old and the new one.
-- A recomputed row that no longer exists is deleted. Laid out one file per month, so a daily
-- run rewrites as_of's month, not ~900K rows.
--
-- Joins build one hash table each (session_options: no repartitioned joins): the dynamic filter
-- a broadcast join pushes into the scan of customer_monthly_spend is a plain range on
-- month_start, which skips the other months' files (a repartitioned join's filter is per
-- partition, which file statistics cannot use).
with monthly as (
    -- the months with spend, up to as_of's month
    select customer_id, month_start, monthly_spend, transaction_count
    from {{ ref('monthly_spend_to_date') }}
),

first_month as (
    -- the month of each current customer's first spend (customer_behaviour's
    -- first_transaction_date: the first approved transaction up to as_of); customers who never
    -- spent have none
    select customer_id, {{ month_start('first_transaction_date') }} as first_month
    from {{ ref('customer_behaviour') }}
    where first_transaction_date is not null
),

calendar_months as (
    -- every calendar month up to as_of's month (and, in an incremental run, the stored months
    -- after it, whose rows are deleted), with the month before it and its 'YYYY-MM' (the first
    -- 7 characters of the ISO date), formatted once per month rather than per row
    select
        month_start,
        cast(month_start - interval '1 month' as date) as prior_month,
        substr(cast(month_start as varchar), 1, 7) as year_month
    from (
        select distinct month_start from {{ ref('as_of_calendar') }}
        where days_before_as_of >= 0
        {%- if is_incremental() %}
        union
        select month_start from {{ this }} where month_start > {{ as_of_month() }}
        {%- endif %}
    ) as m
),

{% if is_incremental() -%}
stored as (
    select customer_id, month_start, transaction_count from {{ this }}
),

stored_last_month as (
    -- the month this model last ended on: as_of's month then (every stored customer's rows
    -- run from their first spend month to it, one per month: assert_mom_months_complete)
    select coalesce(max(month_start), {{ as_of_month() }}) as month_start from stored
),

recomputed_from as (
    -- from the stored last month, or as_of's month if earlier, on, as_of decides the rows
    -- (months gained or lost, is_complete_month, the cut of as_of's month)
    select least(month_start, {{ as_of_month() }}) as month_start from stored_last_month
),

changed_months as (
    -- months whose customer_monthly_spend rows were inserted or updated since this model's
    -- last run (the stream holds every row of the files written since: a superset)
    select distinct month_start from {{ stream(ref('customer_monthly_spend')) }}
    union
    -- months that lost rows (a deleted row is in no stream): their count of months with spend
    -- differs from the stored rows'
    select coalesce(n.month_start, o.month_start) as month_start
    from (
        select month_start, count(*) as spend_months from monthly group by month_start
    ) as n
    full outer join (
        select month_start, count(*) as spend_months from stored
        where transaction_count > 0
        group by month_start
    ) as o on n.month_start = o.month_start
    where n.spend_months is distinct from o.spend_months
),

recomputed_months as (
    -- every month from recomputed_from on (stored ones after as_of's month are deleted)
    select month_start from calendar_months
    where month_start >= (select month_start from recomputed_from)
    union
    -- a changed month, and the month after it, whose prior_month_spend it is
    select case when k.is_next then cast(c.month_start + interval '1 month' as date)
        else c.month_start
    end as month_start
    from changed_months as c
    cross join (values (false), (true)) as k (is_next)
),

customer_first_months as (
    -- each customer's first spend month now and in the stored rows; when they differ (or one
    -- is missing) every month between them is recomputed (to the end when one is missing)
    select
        coalesce(n.customer_id, o.customer_id) as customer_id,
        n.first_month,
        o.first_month as stored_first_month,
        -- (least and greatest skip a NULL)
        case when n.first_month is distinct from o.first_month
            then least(n.first_month, o.first_month)
        end as shifted_from,
        case when n.first_month is null or o.first_month is null then date '9999-12-31'
            else greatest(n.first_month, o.first_month)
        end as shifted_to
    from first_month as n
    full outer join (
        -- the stored first months: one row per stored customer is its first month
        select customer_id, month_start as first_month from {{ this }}
        where mom_trend = 'First Month'
    ) as o on n.customer_id = o.customer_id
),

recomputed_pairs as (
    -- every customer in the recomputed months, and a customer whose first month shifted in
    -- the other months of its shift. One join (a condition, not a cross join: DataFusion's
    -- cross join emits one batch per row of its build side, here 50K one-row batches), so
    -- customer_first_months is computed once
    select f.*, m.month_start, m.prior_month, m.year_month
    from customer_first_months as f
    inner join (
        select c.*, r.month_start is not null as is_recomputed
        from calendar_months as c
        left join recomputed_months as r on c.month_start = r.month_start
    ) as m
        on (m.is_recomputed
                and (m.month_start >= f.first_month or m.month_start >= f.stored_first_month))
            or m.month_start between f.shifted_from and f.shifted_to
),

customer_months as (
    -- the recomputed pairs among the rows that exist now (SPEC §4.4: every month from the
    -- first spend month to as_of's month) or are stored (from the stored first month to the
    -- stored last month)
    select
        customer_id,
        first_month,
        month_start,
        prior_month,
        year_month,
        coalesce(month_start >= first_month and month_start <= {{ as_of_month() }}, false)
            as is_current_row
    from recomputed_pairs
    where month_start >= first_month
        or (month_start >= stored_first_month
            and month_start <= (select month_start from stored_last_month))
),

{% else -%}
customer_months as (
    -- SPEC §4.4: every calendar month from the customer's first spend month to as_of's month
    select
        f.customer_id,
        f.first_month,
        m.month_start,
        m.prior_month,
        m.year_month,
        true as is_current_row
    from first_month as f
    inner join calendar_months as m on m.month_start >= f.first_month
),

{% endif -%}
filled as (
    -- SPEC §4.4: months without spend included as 0; prior_month_spend is the previous
    -- calendar month's spend (0 without spend), NULL in the first month
    select
        cm.customer_id,
        cm.month_start,
        cm.year_month,
        cm.is_current_row,
        cm.month_start = cm.first_month as is_first_month,
        coalesce(s.monthly_spend, cast(0 as decimal(18, 2))) as monthly_spend,
        coalesce(s.transaction_count, 0) as transaction_count,
        case when cm.month_start > cm.first_month
            then coalesce(p.monthly_spend, cast(0 as decimal(18, 2)))
        end as prior_month_spend
    from customer_months as cm
    left join monthly as s
        on cm.customer_id = s.customer_id and cm.month_start = s.month_start
    left join monthly as p
        on cm.customer_id = p.customer_id and cm.prior_month = p.month_start
),

measured as (
    select
        c.customer_id,
        c.month_start,
        c.year_month,
        c.monthly_spend,
        c.transaction_count,
        c.prior_month_spend,
        c.is_current_row,
        cast(c.monthly_spend - c.prior_month_spend as decimal(18, 2)) as mom_change_amount,
        -- SPEC §4.4: NULL in the first month or if prior = 0
        case when c.prior_month_spend <> 0
            then cast(c.monthly_spend - c.prior_month_spend as double)
                / cast(c.prior_month_spend as double) * 100
        end as mom_change_pct,
        -- SPEC §4.4: false for as_of's month unless as_of is its last day
        case
            when c.month_start < {{ as_of_month() }} then true
            else date_part('day', {{ as_of() }} + interval '1 day') = 1
        end as is_complete_month,
        -- SPEC §4.4 mom_trend (thresholds compared exactly on the DECIMAL amounts)
        case
            when c.is_first_month then 'First Month'
            when c.prior_month_spend = 0 and c.monthly_spend > 0 then 'Reactivated'
            when c.prior_month_spend = 0 then 'Inactive'
            when (c.monthly_spend - c.prior_month_spend) * 100 > c.prior_month_spend * 50 then 'High Growth'
            when c.monthly_spend > c.prior_month_spend then 'Growth'
            when c.monthly_spend = c.prior_month_spend then 'Flat'
            when (c.monthly_spend - c.prior_month_spend) * 100 > c.prior_month_spend * -30 then 'Decline'
            else 'High Decline'
        end as mom_trend
    from filled as c
)

-- the rows (all of them, or the recomputed ones); a recomputed stored row that no longer
-- exists is deleted
select * exclude (is_current_row), not is_current_row as is_deleted
from measured
