-- customer_segments (SPEC §4.4): behavioural metrics and segment of every current customer at
-- as_of (computed in customer_behaviour), with previous_segment and segment_assigned_date
-- from the segment log (customer_segment_history).
with behaviour as (
    select * from {{ ref('customer_behaviour') }}
),

history as (
    select * from {{ ref('customer_segment_history') }}
),

latest_assignment as (
    -- each customer's latest assignment (macro latest_assignment)
    {{ latest_assignment('history') }}
),

assigned as (
    select
        b.*,
        -- SPEC §4.4: unchanged segment ⇒ previous_segment and segment_assigned_date kept from
        -- the build that assigned it; a segment the log does not hold yet (e.g. a run that
        -- skipped the log) is assigned at this as_of
        case
            when a.customer_segment = b.customer_segment then a.previous_segment
            else a.customer_segment
        end as previous_segment,
        case
            when a.customer_segment = b.customer_segment then a.segment_assigned_date
            else b.as_of
        end as segment_assigned_date
    from behaviour as b
    left join latest_assignment as a on b.customer_id = a.customer_id
)

select
    customer_id,
    customer_segment,
    total_transactions,
    lifetime_value,
    avg_transaction_value,
    first_transaction_date,
    last_transaction_date,
    tenure_months,
    spend_last_90_days,
    spend_prior_90_days,
    spend_change_pct,
    avg_monthly_spend,
    travel_spend_pct,
    necessities_spend_pct,
    travel_spend,
    necessities_spend,
    previous_segment,
    segment_assigned_date,
    as_of as as_of_date
from assigned
order by customer_id
