-- dim_customer (SPEC §4.1): SCD Type 2 over *all* valid customer records in bronze, so an
-- incremental build and a full rebuild give the same table.
--   type 2 (one version per change): card_type, credit_limit, state, city, employment_status
--   type 1 (latest value on every row): first_name, last_name, email, age, and likewise
--          account_open_date, customer_segment, decline_type
with valid_customer_records as (
    -- SPEC §4.1: each customer's valid records, standardised as in stg_customers (stray
    -- whitespace is not a change)
    select * from {{ ref('valid_customer_records') }}
),

latest as (
    select * from {{ ref('stg_customers') }}
),

dated as (
    -- SPEC §4.1: a record's day is the customer's account_open_date (its latest record's
    -- value) for the earliest record, greatest(date(updated_at), account_open_date) for the
    -- others
    select
        r.customer_id,
        r.record_seq,
        r.state,
        r.city,
        r.employment_status,
        r.card_type,
        r.credit_limit,
        r.record_count,
        case
            when r.record_seq = 1 then coalesce(l.account_open_date, cast(r.updated_at as date))
            else greatest(cast(r.updated_at as date), l.account_open_date)
        end as version_day
    from valid_customer_records as r
    inner join latest as l on r.customer_id = l.customer_id
),

single_record_versions as (
    -- the common case (~99% of customers): one valid record, so one version, from its day to
    -- no end. Kept out of the windows below: DataFusion's window operator pays per partition,
    -- and one partition per customer was most of this model's time (docs/benchmarks.md)
    select
        customer_id,
        version_day as valid_from,
        cast(null as date) as valid_to,
        cast(1 as int) as version_number,
        state,
        city,
        employment_status,
        card_type,
        credit_limit
    from dated
    where record_count = 1
),

last_of_day as (
    -- SPEC §4.1: keep the last record of each day (by updated_at, then ingested_at)
    select *
    from (
        select
            *,
            row_number() over (
                partition by customer_id, version_day
                order by record_seq desc
            ) as rank_in_day
        from dated
        where record_count > 1
    ) as d
    where rank_in_day = 1
),

compared as (
    select
        *,
        row_number() over by_day as kept_seq,
        lag(card_type) over by_day as prev_card_type,
        lag(credit_limit) over by_day as prev_credit_limit,
        lag(state) over by_day as prev_state,
        lag(city) over by_day as prev_city,
        lag(employment_status) over by_day as prev_employment_status
    from last_of_day
    window by_day as (partition by customer_id order by version_day)
),

changes as (
    -- SPEC §4.1: drop a kept record whose tracked attributes equal the previous kept
    -- record's (NULL equals NULL; parenthesised: DataFusion's parser binds OR before IS
    -- DISTINCT FROM)
    select * from compared
    where kept_seq = 1
        or (card_type is distinct from prev_card_type)
        or (credit_limit is distinct from prev_credit_limit)
        or (state is distinct from prev_state)
        or (city is distinct from prev_city)
        or (employment_status is distinct from prev_employment_status)
),

multi_record_versions as (
    -- SPEC §4.1: valid_from = its day, valid_to = the next version's valid_from − 1 day;
    -- the current version has valid_to NULL
    select
        customer_id,
        version_day as valid_from,
        cast(lead(version_day) over by_day - interval '1 day' as date) as valid_to,
        cast(row_number() over by_day as int) as version_number,
        state,
        city,
        employment_status,
        card_type,
        credit_limit
    from changes
    window by_day as (partition by customer_id order by version_day)
),

versions as (
    select * from single_record_versions
    union all
    select * from multi_record_versions
)

select
    -- SPEC §4.1: deterministic surrogate of (customer_id, valid_from)
    {{ customer_key('v.customer_id', 'v.valid_from') }} as customer_key,
    v.customer_id,
    -- type 1: the latest record's values on every row
    l.first_name,
    l.last_name,
    l.email,
    l.age,
    -- type 2: this version's values
    v.state,
    v.city,
    v.employment_status,
    v.card_type,
    v.credit_limit,
    -- like type 1 (SPEC §4.1)
    l.account_open_date,
    l.customer_segment,
    l.decline_type,
    v.valid_from,
    v.valid_to,
    v.valid_to is null as is_current,
    v.version_number
from versions as v
inner join latest as l on v.customer_id = l.customer_id
order by v.customer_id, v.valid_from
