-- customer_360_profile (SPEC §6): one row per current customer — all of them, scored or not,
-- with or without spend — joining identity and account (dim_customer's current version), the
-- segment and every metric of §4.4 (customer_segments, metric_customer_ltv,
-- metric_avg_transaction_value, and metric_mom_spend_change's row for as_of's month), the
-- churn prediction (churn_predictions; absent ⇒ 'Not Scored'), campaign flags and the next
-- best action. Reads predictions; nothing of the ML layer reads this model (no cycle).
with customers as (
    select * from {{ ref('dim_customer') }}
    where is_current
),

segments as (
    select * from {{ ref('customer_segments') }}
),

ltv as (
    select customer_id, customer_age_days, avg_spend_per_day
    from {{ ref('metric_customer_ltv') }}
),

transaction_values as (
    select
        customer_id,
        stddev_transaction_value,
        min_transaction_value,
        max_transaction_value,
        median_transaction_value,
        coefficient_of_variation,
        spending_consistency
    from {{ ref('metric_avg_transaction_value') }}
),

run as (
    select {{ as_of() }} as as_of
),

current_month as (
    -- metric_mom_spend_change's row for as_of's month (customers who never spent have none)
    select
        m.customer_id,
        m.monthly_spend,
        m.mom_change_pct,
        m.mom_trend
    from {{ ref('metric_mom_spend_change') }} as m
    where m.month_start = {{ as_of_month() }}
),

predictions as (
    select customer_id, churn_risk_score, churn_risk_category, top_drivers, model_version
    from {{ ref('churn_predictions') }}
),

joined as (
    select
        c.customer_id,
        c.customer_key,
        c.first_name,
        c.last_name,
        c.email,
        c.age,
        c.state,
        c.city,
        c.employment_status,
        c.card_type,
        c.credit_limit,
        c.account_open_date,
        run.as_of,
        s.customer_segment,
        s.previous_segment,
        s.segment_assigned_date,
        s.tenure_months,
        s.total_transactions,
        s.lifetime_value,
        s.avg_transaction_value,
        s.first_transaction_date,
        s.last_transaction_date,
        s.spend_last_90_days,
        s.spend_prior_90_days,
        s.spend_change_pct,
        s.avg_monthly_spend,
        s.travel_spend,
        s.necessities_spend,
        s.travel_spend_pct,
        s.necessities_spend_pct,
        l.customer_age_days,
        l.avg_spend_per_day,
        t.stddev_transaction_value,
        t.min_transaction_value,
        t.max_transaction_value,
        t.median_transaction_value,
        t.coefficient_of_variation,
        t.spending_consistency,
        m.monthly_spend as current_month_spend,
        m.mom_change_pct as current_month_mom_change_pct,
        m.mom_trend as current_month_mom_trend,
        p.churn_risk_score,
        p.churn_risk_category,
        p.top_drivers,
        p.model_version,
        -- SPEC §6: days_since_last_transaction = as_of − last spend date
        cast(run.as_of - s.last_transaction_date as bigint) as days_since_last_transaction,
        -- SPEC §6: credit_utilization_pct = avg_monthly_spend / credit_limit × 100
        case when c.credit_limit > 0
            then s.avg_monthly_spend / cast(c.credit_limit as double) * 100
        end as credit_utilization_pct
    from customers as c
    cross join run
    left join segments as s on c.customer_id = s.customer_id
    left join ltv as l on c.customer_id = l.customer_id
    left join transaction_values as t on c.customer_id = t.customer_id
    left join current_month as m on c.customer_id = m.customer_id
    left join predictions as p on c.customer_id = p.customer_id
),

flagged as (
    select
        *,
        -- SPEC §6 campaign flags
        (coalesce(customer_segment = 'Declining', false) or coalesce(churn_risk_score >= 70, false))
            as eligible_for_retention_campaign,
        coalesce(customer_segment = 'New & Growing', false) as eligible_for_onboarding_campaign,
        coalesce(customer_segment = 'High-Value Travelers' and card_type = 'Standard', false)
            as eligible_for_premium_campaign
    from joined
)

select
    customer_id,
    customer_key,
    concat_ws(' ', first_name, last_name) as full_name,
    first_name,
    last_name,
    email,
    age,
    state,
    city,
    employment_status,
    card_type,
    credit_limit,
    account_open_date,
    -- SPEC §6: account_age_days = as_of − account_open_date
    cast(as_of - account_open_date as bigint) as account_age_days,
    customer_segment,
    previous_segment,
    segment_assigned_date,
    tenure_months,
    -- SPEC §4.4 metrics
    total_transactions,
    lifetime_value,
    avg_transaction_value,
    first_transaction_date,
    last_transaction_date,
    spend_last_90_days,
    spend_prior_90_days,
    spend_change_pct,
    avg_monthly_spend,
    travel_spend_pct,
    necessities_spend_pct,
    customer_age_days,
    avg_spend_per_day,
    stddev_transaction_value,
    min_transaction_value,
    max_transaction_value,
    median_transaction_value,
    coefficient_of_variation,
    spending_consistency,
    current_month_spend,
    current_month_mom_change_pct,
    current_month_mom_trend,
    days_since_last_transaction,
    -- SPEC §6 recency_status
    case
        when last_transaction_date is null then 'Never Active'
        when days_since_last_transaction <= 30 then 'Active'
        when days_since_last_transaction <= 60 then 'Recent'
        when days_since_last_transaction <= 90 then 'At Risk'
        else 'Inactive'
    end as recency_status,
    -- SPEC §6 spending_profile, on the exact DECIMAL sums (travel_spend_pct >= 25 as
    -- travel_spend * 100 >= lifetime_value * 25); no spend ⇒ both shares 0 ⇒ 'Balanced'
    case
        when lifetime_value > 0 and travel_spend * 100 >= lifetime_value * 25 then 'Travel-Focused'
        when lifetime_value > 0 and necessities_spend * 100 >= lifetime_value * 60 then 'Necessity-Focused'
        else 'Balanced'
    end as spending_profile,
    credit_utilization_pct,
    churn_risk_score,
    coalesce(churn_risk_category, 'Not Scored') as churn_risk_category,
    top_drivers as top_churn_drivers,
    model_version as churn_model_version,
    eligible_for_retention_campaign,
    eligible_for_onboarding_campaign,
    eligible_for_premium_campaign,
    -- SPEC §6 next_best_action: the first that applies
    case
        when eligible_for_retention_campaign then 'Retention offer'
        when eligible_for_premium_campaign then 'Premium upgrade'
        when eligible_for_onboarding_campaign then 'Onboarding journey'
        when credit_utilization_pct > 80 then 'Credit limit review'
        else 'None'
    end as next_best_action,
    -- SPEC §6: profile_updated_date = as_of
    as_of as profile_updated_date
from flagged
order by customer_id
