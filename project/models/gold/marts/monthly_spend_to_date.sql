{{ config(materialized='ephemeral') }}
-- monthly_spend_to_date: each customer's spend per calendar month up to as_of (SPEC §0: approved,
-- transaction_date <= as_of) — customer_monthly_spend's months before as_of's month, and its
-- as_of month when that month's last approved transaction is on or before as_of (always, when
-- as_of is the default: the latest transaction date). Only a customer with approved
-- transactions after as_of in as_of's month has that month summed again from the fact, up to
-- as_of (only that month's files are read, and none when no customer needs it). Months after
-- as_of's month are left out.
with stored_months as (
    select * from {{ ref('customer_monthly_spend') }}
    where month_start < {{ as_of_month() }}
        or (month_start = {{ as_of_month() }} and last_transaction_date <= {{ as_of() }})
),

cut_customers as (
    -- customers whose as_of month goes on after as_of
    select customer_id from {{ ref('customer_monthly_spend') }}
    where month_start = {{ as_of_month() }} and last_transaction_date > {{ as_of() }}
),

cut_month as (
    select
        s.customer_id,
        {{ as_of_month() }} as month_start,
        {{ monthly_spend_columns('s') }}
    from {{ ref('approved_transactions') }} as s
    where s.transaction_date in (
        select date_day from {{ ref('as_of_calendar') }} where in_as_of_month_to_date
    )
        and s.customer_id in (select customer_id from cut_customers)
    group by s.customer_id
)

select * from stored_months
union all
select * from cut_month
