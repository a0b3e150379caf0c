-- SPEC §4.3: a fact's customer_key is the version of its customer valid on the transaction
-- date (the first version for a transaction before the first valid_from).
select f.transaction_id, f.transaction_date, d.valid_from, d.valid_to, d.version_number
from {{ ref('fct_transactions') }} as f
left join {{ ref('dim_customer') }} as d on f.customer_key = d.customer_key
where d.customer_key is null
    or d.customer_id <> f.customer_id
    or (f.transaction_date > d.valid_to)
    or (f.transaction_date < d.valid_from and d.version_number <> 1)
