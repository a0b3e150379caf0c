{{ config(materialized='ephemeral') }}
-- customer_records: every bronze customer record, standardised, with why it is unusable (if it
-- is). The one place the customer rules of SPEC §3 live; stg_customers, quarantine_customers
-- and dim_customer all read it.
with bronze_customers as (
    select * from {{ source('bronze', 'customers') }}
),

standardised as (
    select
        customer_id,
        -- SPEC §3: names and city trimmed and Title-cased
        {{ title_case('first_name') }} as first_name,
        {{ title_case('last_name') }} as last_name,
        -- SPEC §3: email trimmed and lower-cased
        lower({{ trim_ws('email') }}) as email,
        age,
        -- SPEC §3: state trimmed and upper-cased
        upper({{ trim_ws('state') }}) as state,
        {{ title_case('city') }} as city,
        employment_status,
        card_type,
        credit_limit,
        account_open_date,
        customer_segment,
        decline_type,
        updated_at,
        ingested_at,
        source,
        -- SPEC §3: records with NULL/blank customer_id, or an age outside 18–120, are
        -- quarantined (first reason wins; a NULL age is not "outside", see docs/models.md)
        case
            when {{ is_blank('customer_id') }} then 'missing_id'
            when age < 18 or age > 120 then 'bad_age'
        end as quarantine_reason,
        -- the record as it arrived, for quarantine_customers
        first_name as raw_first_name,
        last_name as raw_last_name,
        email as raw_email,
        state as raw_state,
        city as raw_city
    from bronze_customers
)

select * from standardised
