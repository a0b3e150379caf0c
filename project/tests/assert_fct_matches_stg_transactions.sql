-- SPEC §4.3: one fact row per stg_transactions row, none lost or invented by the joins.
with counts as (
    select
        (select count(*) from {{ ref('fct_transactions') }}) as facts,
        (select count(*) from {{ ref('stg_transactions') }}) as staged
)

select * from counts where facts <> staged
