{{ config(materialized='table') }}
-- customer_monthly_spend: every customer's spend (SPEC §0: approved, transaction_date <= as_of)
-- summed per calendar month, with the pieces the marts need — the one scan of the fact that
-- customer_behaviour, metric_mom_spend_change and metric_avg_transaction_value share (only the
-- exact median needs the single amounts). ~18 rows per customer instead of ~270.
--
-- Every sum is exact (DECIMAL), so a mart that adds the months up gets the value it would
-- have got from the transactions.
with spend as (
    select * from {{ ref('spend_transactions') }}
),

run as (
    -- SPEC §0 windows, computed once: last_90 = (as_of - 90, as_of],
    -- prior_90 = (as_of - 180, as_of - 90]
    select
        {{ as_of() }} - interval '90 days' as last_90_after,
        {{ as_of() }} - interval '180 days' as prior_90_after
),

monthly as (
    select
        s.customer_id,
        -- the calendar month as YYYYMM, from the fact's date_key (YYYYMMDD)
        s.date_key / 100 as year_month,
        {{ money_sum('s.transaction_amount') }} as monthly_spend,
        count(*) as transaction_count,
        {{ money_sum('case when s.is_travel then s.transaction_amount end') }} as travel_spend,
        {{ money_sum('case when s.is_necessity then s.transaction_amount end') }} as necessities_spend,
        {{ money_sum('case when s.transaction_date > run.last_90_after then s.transaction_amount end') }} as spend_last_90_days,
        {{ money_sum('case when s.transaction_date > run.prior_90_after and s.transaction_date <= run.last_90_after then s.transaction_amount end') }} as spend_prior_90_days,
        -- for the sample standard deviation (metric_avg_transaction_value), exactly
        sum(cast(s.transaction_amount * s.transaction_amount as decimal(38, 4))) as sum_of_squares,
        min(s.transaction_amount) as min_transaction_value,
        max(s.transaction_amount) as max_transaction_value,
        min(s.transaction_date) as first_transaction_date,
        max(s.transaction_date) as last_transaction_date
    from spend as s
    cross join run
    group by s.customer_id, s.date_key / 100
)

select
    customer_id,
    make_date(cast(year_month / 100 as int), cast(year_month % 100 as int), 1) as month_start,
    monthly_spend,
    transaction_count,
    travel_spend,
    necessities_spend,
    spend_last_90_days,
    spend_prior_90_days,
    sum_of_squares,
    min_transaction_value,
    max_transaction_value,
    first_transaction_date,
    last_transaction_date
from monthly
