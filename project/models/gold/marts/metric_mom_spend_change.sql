-- metric_mom_spend_change (SPEC §4.4): one row per current customer × calendar month, from the
-- customer's first spend month to as_of's month, months without spend included as 0.
-- Spend = approved, transaction_date <= as_of. Customers who never spent have no rows.
with current_customers as (
    select * from {{ ref('current_customers') }}
),

monthly as (
    -- the months with spend, up to as_of's month
    select customer_id, month_start, monthly_spend, transaction_count
    from {{ ref('monthly_spend_to_date') }}
),

first_month as (
    -- the month of each current customer's first spend; customers who never spent have none
    select m.customer_id, min(m.month_start) as first_month
    from monthly as m
    inner join current_customers as c on m.customer_id = c.customer_id
    group by m.customer_id
),

calendar_months as (
    -- every calendar month up to as_of's month, with its 'YYYY-MM' (the first 7 characters
    -- of the ISO date), formatted once per month rather than once per row
    select month_start, substr(cast(month_start as varchar), 1, 7) as year_month
    from (
        select distinct month_start from {{ ref('as_of_calendar') }}
        where days_before_as_of >= 0
    ) as m
),

filled as (
    -- SPEC §4.4: every calendar month from the first spend month to as_of's month, months
    -- without spend included as 0
    select
        f.customer_id,
        f.first_month,
        m.month_start,
        m.year_month,
        coalesce(s.monthly_spend, cast(0 as decimal(18, 2))) as monthly_spend,
        coalesce(s.transaction_count, 0) as transaction_count
    from first_month as f
    inner join calendar_months as m on m.month_start >= f.first_month
    left join monthly as s
        on f.customer_id = s.customer_id and m.month_start = s.month_start
),

compared as (
    -- SPEC §4.4: prior_month_spend is the previous calendar month's spend, NULL in the first
    -- month. Each customer's months are contiguous, so in (customer, month) order the row
    -- before a month that is not the customer's first is the customer's previous month: one
    -- window over the whole table (the sort the output needs anyway) instead of a window
    -- partition per customer, which costs DataFusion ~1 s per 50,000 partitions
    -- (apache/datafusion#23982)
    select
        customer_id,
        month_start,
        year_month,
        monthly_spend,
        transaction_count,
        month_start = first_month as is_first_month,
        case when month_start > first_month
            then lag(monthly_spend) over (order by customer_id, month_start)
        end as prior_month_spend
    from filled
)

select
    c.customer_id,
    c.month_start,
    c.year_month,
    c.monthly_spend,
    c.transaction_count,
    c.prior_month_spend,
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
    end as mom_trend,
    {{ as_of() }} as as_of_date
from compared as c
order by c.customer_id, c.month_start
