-- as_of_date (SPEC §0): the one date every window of the run is measured from, in one place.
-- `--var as_of=YYYY-MM-DD` sets it; by default it is the latest transaction_date present in
-- stg_transactions. Nothing reads the wall clock. Models use it through the as_of() macro.
with stg_transactions as (
    select * from {{ ref('stg_transactions') }}
)

select
    {% if var('as_of', '') | string != '' -%}
    cast('{{ var('as_of') }}' as date) as as_of,
    'var' as as_of_source,
    {%- else -%}
    max(transaction_date) as as_of,
    'latest stg_transactions date' as as_of_source,
    {%- endif %}
    min(transaction_date) as first_transaction_date,
    max(transaction_date) as max_transaction_date
from stg_transactions
