-- SPEC §4.1 invariant: exactly one current row per customer (and every stg_customers
-- customer has one).
with current_rows as (
    select customer_id, count(case when is_current then 1 end) as current_rows
    from {{ ref('dim_customer') }}
    group by customer_id
)

select coalesce(c.customer_id, s.customer_id) as customer_id, c.current_rows
from current_rows as c
full outer join {{ ref('stg_customers') }} as s on c.customer_id = s.customer_id
where c.current_rows is null or c.current_rows <> 1 or s.customer_id is null
