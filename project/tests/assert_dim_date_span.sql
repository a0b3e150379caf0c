-- SPEC §4.2: dim_date is every day, without holes, from the first transaction month's first
-- day for 580 days or through as_of + 30 days, whichever is later.
with expected as (
    select
        cast(date_trunc('month', min(transaction_date)) as date) as first_day,
        greatest(
            cast(date_trunc('month', min(transaction_date)) as date) + interval '579 days',
            {{ as_of() }} + interval '30 days'
        ) as last_day
    from {{ ref('stg_transactions') }}
),

actual as (
    select min(date_day) as first_day, max(date_day) as last_day, count(*) as days
    from {{ ref('dim_date') }}
)

select e.first_day, e.last_day, a.first_day as actual_first_day, a.last_day as actual_last_day, a.days
from expected as e
cross join actual as a
where a.first_day <> e.first_day
    or a.last_day <> e.last_day
    or a.days <> (e.last_day - e.first_day) + 1
