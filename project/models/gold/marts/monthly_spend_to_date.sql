{{ config(materialized='ephemeral') }}
-- monthly_spend_to_date: each customer's spend per calendar month up to as_of (SPEC §0: approved,
-- transaction_date <= as_of) — customer_monthly_spend for the months before as_of's month, and
-- as_of's month summed again from the fact up to as_of (the days after it left out; only that
-- month's files are read). Months after as_of's month are left out.
with earlier_months as (
    select * from {{ ref('customer_monthly_spend') }}
    where month_start < {{ as_of_month() }}
),

as_of_month as (
    select
        s.customer_id,
        {{ as_of_month() }} as month_start,
        {{ monthly_spend_columns('s') }}
    from {{ ref('approved_transactions') }} as s
    where s.transaction_date in (
        select date_day from {{ ref('as_of_calendar') }} where in_as_of_month_to_date
    )
    group by s.customer_id
)

select * from earlier_months
union all
select * from as_of_month
