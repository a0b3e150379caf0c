-- as_of_calendar: every day any fact can fall on — from the first day of the first transaction
-- month through as_of + 30 days or the latest transaction date, whichever is later — with its
-- calendar month and its distance from as_of (SPEC §0 windows are counted in days).
--
-- The marts read the fact through it: `transaction_date in (select date_day from
-- as_of_calendar where ...)` is a join whose build side, a scan of this small
-- table, DataFusion pushes into the fact's scan, so only the month files of those days are
-- read (the fact is laid out by month). A range written against as_of() itself is a scalar
-- subquery, which no file statistics can use.
with bounds as (
    select
        as_of,
        {{ month_start('first_transaction_date') }} as first_day,
        greatest(cast(as_of + interval '30 days' as date), max_transaction_date) as last_day
    from {{ ref('as_of_date') }}
),

days as (
    select
        as_of,
        cast(unnest(generate_series(first_day, last_day, interval '1 day')) as date) as date_day
    from bounds
)

select
    date_day,
    {{ month_start('date_day') }} as month_start,
    -- as_of − date_day in days: 0 is as_of, 0..89 the last 90 days, 90..179 the 90 before
    as_of - date_day as days_before_as_of,
    -- as_of's calendar month up to as_of
    {{ month_start('date_day') }} = {{ month_start('as_of') }} and date_day <= as_of
        as in_as_of_month_to_date
from days
