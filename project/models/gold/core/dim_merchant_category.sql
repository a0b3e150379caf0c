-- dim_merchant_category (SPEC §4.2): the seed's categories (stable keys, groups, flags), plus
-- one row in group Other for every category seen in stg_transactions that the seed lacks.
-- 'Uncategorized' (blank categories, SPEC §3) is a seed row in group Other.
with seed_categories as (
    select * from {{ ref('merchant_categories') }}
),

seen_categories as (
    select distinct merchant_category as category_name
    from {{ ref('stg_transactions') }}
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

select * from categories
order by category_key
