-- SPEC §4.1 invariant: no gaps or overlaps. Per customer, versions ordered by valid_from:
-- each valid_to is the next valid_from − 1 day, only the last is open (valid_to NULL and
-- is_current), no version ends before it starts, and the first starts on the customer's
-- account_open_date when there is one.
with versions as (
    select
        customer_id,
        valid_from,
        valid_to,
        is_current,
        version_number,
        account_open_date,
        lead(valid_from) over (partition by customer_id order by valid_from) as next_valid_from,
        row_number() over (partition by customer_id order by valid_from) as position
    from {{ ref('dim_customer') }}
)

select *
from versions
where (next_valid_from is not null and (valid_to is null or valid_to <> next_valid_from - interval '1 day'))
    or (next_valid_from is null and (valid_to is not null or not is_current))
    or (valid_to is not null and valid_to < valid_from)
    or version_number <> position
    or (position = 1 and account_open_date is not null and valid_from <> account_open_date)
