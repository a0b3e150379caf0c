{{ config(materialized='table') }}
-- customer_behaviour: the behavioural metrics and segment of every current customer at as_of
-- (SPEC §4.4). Spend = approved, transaction_date <= as_of: the sums add up the months of
-- monthly_spend_to_date, and the 90-day windows take the days of their (at most two) boundary
-- months from those months' transactions (only those months' files are read). A table read by
-- customer_segments and customer_segment_history.
--
-- Segment thresholds are evaluated exactly on the DECIMAL sums (e.g. travel_spend_pct >= 25 as
-- travel_spend * 100 >= lifetime_value * 25), so a boundary case never depends on floating
-- point; the DOUBLE percentage columns are the same quantities for display.
with current_customers as (
    select * from {{ ref('current_customers') }}
),

run as (
    select {{ as_of() }} as as_of
),

window_months as (
    -- SPEC §0 windows: last_90 = (as_of - 90, as_of], prior_90 = (as_of - 180, as_of - 90],
    -- i.e. 0..89 and 90..179 days before as_of. Each calendar month touching them, by where
    -- its days up to as_of fall: all in last_90, all in prior_90, or split (a boundary month,
    -- at most two, summed from its transactions)
    select
        month_start,
        case
            when max(days_before_as_of) <= 89 then 'last_90'
            when min(days_before_as_of) >= 90 and max(days_before_as_of) <= 179 then 'prior_90'
            else 'boundary'
        end as part
    from {{ ref('as_of_calendar') }}
    where days_before_as_of >= 0
    group by month_start
    having min(days_before_as_of) <= 179
),

months_by_customer as (
    -- the months up to as_of added up (exact sums: the same values as summing the
    -- transactions), and the whole months of each window
    select
        m.customer_id,
        cast(sum(m.transaction_count) as bigint) as total_transactions,
        {{ money_sum('m.monthly_spend') }} as lifetime_value,
        min(m.first_transaction_date) as first_transaction_date,
        max(m.last_transaction_date) as last_transaction_date,
        {{ money_sum('m.travel_spend') }} as travel_spend,
        {{ money_sum('m.necessities_spend') }} as necessities_spend,
        {{ money_sum("case when w.part = 'last_90' then m.monthly_spend end") }} as whole_months_last_90,
        {{ money_sum("case when w.part = 'prior_90' then m.monthly_spend end") }} as whole_months_prior_90
    from {{ ref('monthly_spend_to_date') }} as m
    left join window_months as w on m.month_start = w.month_start
    group by m.customer_id
),

boundary_days_by_customer as (
    -- the window days of the boundary months, from those months' transactions
    select
        s.customer_id,
        {{ money_sum('case when d.days_before_as_of < 90 then s.transaction_amount end') }} as last_90,
        {{ money_sum('case when d.days_before_as_of >= 90 then s.transaction_amount end') }} as prior_90
    from (
        select date_day, days_before_as_of from {{ ref('as_of_calendar') }}
        where days_before_as_of between 0 and 179
            and month_start in (select month_start from window_months where part = 'boundary')
    ) as d
    inner join {{ ref('approved_transactions') }} as s on s.transaction_date = d.date_day
    group by s.customer_id
),

spend_by_customer as (
    select
        m.* exclude (whole_months_last_90, whole_months_prior_90),
        cast(m.whole_months_last_90 + coalesce(b.last_90, 0) as decimal(18, 2))
            as spend_last_90_days,
        cast(m.whole_months_prior_90 + coalesce(b.prior_90, 0) as decimal(18, 2))
            as spend_prior_90_days
    from months_by_customer as m
    left join boundary_days_by_customer as b on m.customer_id = b.customer_id
),

metrics as (
    select
        c.customer_id,
        run.as_of,
        coalesce(s.total_transactions, 0) as total_transactions,
        coalesce(s.lifetime_value, cast(0 as decimal(18, 2))) as lifetime_value,
        s.first_transaction_date,
        s.last_transaction_date,
        coalesce(s.spend_last_90_days, cast(0 as decimal(18, 2))) as spend_last_90_days,
        coalesce(s.spend_prior_90_days, cast(0 as decimal(18, 2))) as spend_prior_90_days,
        coalesce(s.travel_spend, cast(0 as decimal(18, 2))) as travel_spend,
        coalesce(s.necessities_spend, cast(0 as decimal(18, 2))) as necessities_spend
    from current_customers as c
    cross join run
    left join spend_by_customer as s on c.customer_id = s.customer_id
),

derived as (
    select
        *,
        -- SPEC §4.4: avg_transaction_value = lifetime_value / total_transactions (NULL if none)
        case when total_transactions > 0
            then cast(lifetime_value as double) / total_transactions
        end as avg_transaction_value,
        -- SPEC §4.4: tenure_months = months_between(first_transaction_date, as_of)
        {{ months_between('first_transaction_date', 'as_of') }} as tenure_months,
        -- SPEC §4.4: (last − prior) / prior × 100, NULL if prior = 0
        case when spend_prior_90_days <> 0
            then cast(spend_last_90_days - spend_prior_90_days as double)
                / cast(spend_prior_90_days as double) * 100
        end as spend_change_pct,
        -- SPEC §4.4: avg_monthly_spend = spend_last_90_days / 3
        cast(spend_last_90_days as double) / 3 as avg_monthly_spend,
        -- SPEC §4.4: shares of lifetime spend, 0 when lifetime spend is 0
        case when lifetime_value <> 0
            then cast(travel_spend as double) / cast(lifetime_value as double) * 100
            else 0
        end as travel_spend_pct,
        case when lifetime_value <> 0
            then cast(necessities_spend as double) / cast(lifetime_value as double) * 100
            else 0
        end as necessities_spend_pct
    from metrics
),

segmented as (
    select
        *,
        -- SPEC §4.4: the first rule that matches
        case
            -- 1. avg_monthly_spend >= 5000 and travel_spend_pct >= 25
            when spend_last_90_days >= 15000
                and lifetime_value > 0
                and travel_spend * 100 >= lifetime_value * 25
                then 'High-Value Travelers'
            -- 2. spend_change_pct <= −30 and spend_prior_90_days >= 2000
            when spend_prior_90_days >= 2000
                and (spend_last_90_days - spend_prior_90_days) * 100 <= spend_prior_90_days * -30
                then 'Declining'
            -- 3. tenure_months <= 6 and (spend_change_pct >= 50 or spend_change_pct is NULL)
            when tenure_months <= 6
                and (spend_prior_90_days = 0
                    or (spend_last_90_days - spend_prior_90_days) * 100 >= spend_prior_90_days * 50)
                then 'New & Growing'
            -- 4. avg_monthly_spend < 1500 and necessities_spend_pct >= 60
            when spend_last_90_days < 4500
                and lifetime_value > 0
                and necessities_spend * 100 >= lifetime_value * 60
                then 'Budget-Conscious'
            -- 5. everything else, including customers with no spend
            else 'Stable Mid-Spenders'
        end as customer_segment
    from derived
)

select * from segmented
