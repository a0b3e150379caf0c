-- SPEC §4.4 metric_mom_spend_change: per customer, one row per calendar month from the first
-- spend month to as_of's month, none missing, none repeated, and the first month of every
-- customer is a month with spend.
with months as (
    select * from {{ ref('metric_mom_spend_change') }}
),

per_customer as (
    select
        customer_id,
        min(month_start) as first_month,
        max(month_start) as last_month,
        count(*) as months,
        count(distinct month_start) as distinct_months
    from months
    group by customer_id
),

checked as (
    select p.*, m.monthly_spend as first_month_spend
    from per_customer as p
    left join months as m on m.customer_id = p.customer_id and m.month_start = p.first_month
)

select *
from checked
where months <> distinct_months
    or months <> {{ months_between('first_month', 'last_month') }} + 1
    or last_month <> {{ as_of_month() }}
    or not (first_month_spend > 0)
