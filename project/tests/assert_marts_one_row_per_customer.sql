-- SPEC §4.4: the customer marts hold one row per current customer — every customer of
-- stg_customers, once.
with customers as (
    select customer_id from {{ ref('stg_customers') }}
),

marts as (
    select 'customer_segments' as mart, customer_id from {{ ref('customer_segments') }}
    union all
    select 'metric_customer_ltv' as mart, customer_id from {{ ref('metric_customer_ltv') }}
    union all
    select 'metric_avg_transaction_value' as mart, customer_id from {{ ref('metric_avg_transaction_value') }}
),

counted as (
    select m.mart, c.customer_id, count(x.customer_id) as rows_in_mart
    from customers as c
    cross join (select distinct mart from marts) as m
    left join marts as x on x.mart = m.mart and x.customer_id = c.customer_id
    group by m.mart, c.customer_id
),

strays as (
    select m.mart, m.customer_id, 0 as rows_in_mart
    from marts as m
    left join customers as c on m.customer_id = c.customer_id
    where c.customer_id is null
)

select * from counted where rows_in_mart <> 1
union all
select * from strays
