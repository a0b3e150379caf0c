-- dim_date (SPEC §4.2): one row per day from the first transaction month's first day, for 580
-- days or through as_of + 30 days, whichever is later.
with bounds as (
    select
        cast(date_trunc('month', min(transaction_date)) as date) as first_day,
        {{ as_of() }} as as_of
    from {{ ref('stg_transactions') }}
),

span as (
    select
        first_day,
        -- SPEC §4.2: 580 days (first_day .. first_day + 579) or through as_of + 30 days
        greatest(first_day + interval '579 days', as_of + interval '30 days') as last_day
    from bounds
),

days as (
    select unnest(generate_series(first_day, last_day, interval '1 day')) as date_day
    from span
),

attributes as (
    select
        {{ date_key('date_day') }} as date_key,
        date_day,
        cast(date_part('year', date_day) as int) as year,
        cast(date_part('quarter', date_day) as int) as quarter,
        -- 'Q4 2025'
        concat('Q', cast(date_part('quarter', date_day) as int), ' ', cast(date_part('year', date_day) as int)) as quarter_name,
        cast(date_part('month', date_day) as int) as month,
        -- 'November'
        to_char(date_day, '%B') as month_name,
        -- '2025-11'
        to_char(date_day, '%Y-%m') as year_month,
        -- ISO 8601 week number (1–53)
        cast(date_part('week', date_day) as int) as week_iso,
        cast(date_part('day', date_day) as int) as day_of_month,
        -- 0 = Sunday … 6 = Saturday
        cast(date_part('dow', date_day) as int) as day_of_week,
        to_char(date_day, '%A') as day_name,
        cast(date_part('doy', date_day) as int) as day_of_year,
        date_part('dow', date_day) in (0, 6) as is_weekend,
        date_part('day', date_day) = 1 as is_month_start,
        date_part('day', date_day + interval '1 day') = 1 as is_month_end
    from days
)

select * from attributes
order by date_day
