{{ config(
    session_options={
        'datafusion.execution.skip_partial_aggregation_probe_rows_threshold': '0',
        'datafusion.execution.skip_partial_aggregation_probe_ratio_threshold': '0'
    }
) }}
-- metric_avg_transaction_value (SPEC §4.4): the distribution of each current customer's spend
-- transactions (approved, transaction_date <= as_of).
--
-- The aggregation runs in one phase (session_options: DataFusion skips its partial
-- aggregation from the first batch): a partial state of median_of_lists is a copy of the
-- lists it read, so passing the month rows straight to the final aggregation copies the 13.5M
-- amounts once instead of twice (docs/benchmarks.md).
with current_customers as (
    select * from {{ ref('current_customers') }}
),

monthly_totals as (
    -- count, sum, sum of squares, min and max, from the months' exact sums, and the median of
    -- every amount in cents (median_of_lists: docs/engine.md § SQL functions)
    select
        customer_id,
        cast(sum(transaction_count) as bigint) as n,
        sum(monthly_spend) as total,
        sum(sum_of_squares) as sum_of_squares,
        min(min_transaction_value) as min_transaction_value,
        max(max_transaction_value) as max_transaction_value,
        median_of_lists(amount_cents) as median_cents
    from {{ ref('monthly_spend_to_date') }}
    group by customer_id
),

stats as (
    select
        customer_id,
        n as transaction_count,
        cast(total as double) / n as avg_transaction_value,
        -- SPEC §4.4: sample standard deviation, NULL if < 2 transactions. From exact DECIMAL
        -- sums, sqrt((n·Σx² − (Σx)²) / (n(n − 1))): a streaming stddev over doubles depends on
        -- the order the rows arrive in, and SPEC §0 wants the same value from the same bronze
        case when n >= 2 then sqrt(
            cast(n * sum_of_squares - total * total as double)
                / (cast(n as double) * (n - 1))
        ) end as stddev_transaction_value,
        min_transaction_value,
        max_transaction_value,
        -- SPEC §4.4: exact median: the middle amount, or the mean of the two middle ones
        -- (a multiple of half a cent, which a double holds exactly); back to dollars as a
        -- DECIMAL with 3 places (a median can fall on half a cent)
        cast(cast(median_cents as decimal(16, 1)) / 100 as decimal(15, 3))
            as median_transaction_value
    from monthly_totals
),

measured as (
    select
        c.customer_id,
        coalesce(s.transaction_count, 0) as transaction_count,
        s.avg_transaction_value,
        s.stddev_transaction_value,
        s.min_transaction_value,
        s.max_transaction_value,
        s.median_transaction_value,
        -- cv = stddev / avg
        s.stddev_transaction_value / s.avg_transaction_value as coefficient_of_variation
    from current_customers as c
    left join stats as s on c.customer_id = s.customer_id
)

select
    customer_id,
    avg_transaction_value,
    stddev_transaction_value,
    min_transaction_value,
    max_transaction_value,
    median_transaction_value,
    transaction_count,
    coefficient_of_variation,
    -- SPEC §4.4: spending_consistency by the coefficient of variation
    case
        when transaction_count < 2 then 'Insufficient Data'
        when coefficient_of_variation < 0.5 then 'Consistent'
        when coefficient_of_variation < 1.0 then 'Moderate'
        else 'Variable'
    end as spending_consistency,
    {{ as_of() }} as as_of_date
from measured
order by customer_id
