-- fct_transactions (SPEC §4.3): one row per stg_transactions row, declined ones included,
-- with the dimension keys; written in transaction_date order.
with stg_transactions as (
    select * from {{ ref('stg_transactions') }}
),

customer_versions as (
    select customer_id, customer_key, valid_from, valid_to, version_number
    from {{ ref('dim_customer') }}
),

categories as (
    select category_key, category_name from {{ ref('dim_merchant_category') }}
),

point_in_time as (
    -- SPEC §4.3: the dim_customer version valid on the transaction date; a transaction
    -- before the first valid_from takes the first version
    select
        t.*,
        v.customer_key
    from stg_transactions as t
    inner join customer_versions as v
        on t.customer_id = v.customer_id
        and (t.transaction_date >= v.valid_from or v.version_number = 1)
        and (t.transaction_date <= v.valid_to or v.valid_to is null)
)

select
    -- SPEC §4.3: deterministic surrogate of transaction_id
    {{ transaction_key('p.transaction_id') }} as transaction_key,
    p.transaction_id,
    p.customer_id,
    p.customer_key,
    {{ date_key('p.transaction_date') }} as date_key,
    c.category_key as merchant_category_key,
    p.transaction_date,
    p.transaction_ts,
    p.merchant_name,
    p.channel,
    p.status,
    p.transaction_amount
from point_in_time as p
left join categories as c on p.merchant_category = c.category_name
-- SPEC §4.3 clustered by transaction date: rows are written in transaction_date order (within a
-- day in no particular order; a second sort key costs a third more at seed scale)
order by p.transaction_date
