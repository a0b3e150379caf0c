{{ config(
    materialized='incremental',
    unique_key='category_key',
    delete_flag_column='is_deleted'
) }}
-- dim_merchant_category (SPEC §4.2): the seed's categories (stable keys, groups, flags), plus
-- one row in group Other for every category seen in stg_transactions that the seed lacks.
-- 'Uncategorized' (blank categories, SPEC §3) is a seed row in group Other.
--
-- Incremental (docs/models.md § Incremental runs): the seed's rows are written again on every
-- run (a few rows; an edited seed takes effect), and the categories seen are those of the
-- stg_transactions rows written since this model's offset, plus the stored unseen categories
-- that some transaction still has — instead of every category of 13.5M rows. A stored row
-- that is in neither any more is deleted.
with seed_categories as (
    select * from {{ ref('merchant_categories') }}
),

seen_categories as (
{%- if is_incremental() %}
    select merchant_category as category_name
    from {{ stream(ref('stg_transactions')) }}
    union
    -- a stored unseen category stays while a transaction has it (none usually: nothing read)
    select merchant_category as category_name
    from {{ ref('stg_transactions') }}
    where merchant_category in (select category_name from {{ this }} where not in_seed)
{%- else %}
    select distinct merchant_category as category_name
    from {{ ref('stg_transactions') }}
{%- endif %}
),

unseen_categories as (
    -- SPEC §4.2: a category seen in transactions but not in the seed gets a row in group Other
    select s.category_name
    from seen_categories as s
    left join seed_categories as c on s.category_name = c.category_name
    where c.category_name is null
),

categories as (
    select
        cast(category_key as bigint) as category_key,
        category_name,
        category_group,
        spending_type,
        cast(discretionary_flag as boolean) as discretionary_flag,
        -- SPEC §0: travel = {Travel, Airlines, Hotels}, necessity = group 'Necessities'
        cast(is_travel as boolean) as is_travel,
        category_group = 'Necessities' as is_necessity,
        true as in_seed
    from seed_categories

    union all

    select
        {{ unseen_category_key('category_name') }} as category_key,
        category_name,
        'Other' as category_group,
        'Unknown' as spending_type,
        false as discretionary_flag,
        false as is_travel,
        false as is_necessity,
        false as in_seed
    from unseen_categories
)

select *, false as is_deleted from categories
{%- if is_incremental() %}
union all
-- stored rows no longer in the seed nor seen
select *, true as is_deleted from {{ this }}
where category_key not in (select category_key from categories)
{%- endif %}
order by category_key
