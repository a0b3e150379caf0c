{{ config(materialized='append') }}
-- customer_segment_history: a log of segment assignments, one row each time a customer's
-- segment is first assigned or changes (SPEC §4.4 previous_segment / segment_assigned_date).
-- Each build appends the customers whose behavioural segment differs from their latest logged
-- one (all current customers on the first build or with --full-refresh, which restarts the
-- log). customer_segments reads the latest row per customer.
with behaviour as (
    select customer_id, customer_segment, as_of
    from {{ ref('customer_behaviour') }}
),

{% if is_incremental() -%}
logged as (
    -- the log so far (this model's own table)
    select * from {{ this }}
),

latest_logged as (
    -- each customer's latest logged segment (macro latest_assignment)
    {{ latest_assignment('logged') }}
),

next_seq as (
    select coalesce(max(assignment_seq), 0) + 1 as assignment_seq from logged
)
{%- else -%}
latest_logged as (
    -- first build: nothing logged yet
    select
        cast(null as varchar) as customer_id,
        cast(null as varchar) as customer_segment
    where false
),

next_seq as (
    select cast(1 as bigint) as assignment_seq
)
{%- endif %}

select
    b.customer_id,
    b.customer_segment,
    -- the segment held before this assignment (NULL for a customer's first)
    l.customer_segment as previous_segment,
    -- SPEC §4.4: the as_of at which the segment was assigned
    b.as_of as segment_assigned_date,
    -- which build appended the row (1, 2, ...): orders the log even if as_of moves backwards
    cast(n.assignment_seq as bigint) as assignment_seq
from behaviour as b
cross join next_seq as n
left join latest_logged as l on b.customer_id = l.customer_id
where l.customer_id is null
    or l.customer_segment <> b.customer_segment
