{#- SPEC §3 dedupe: the rank of a bronze copy among the copies of its transaction_id, 1 = the
    latest ingested_at, which is *the* row of the transaction. Bronze has no row-order column,
    so ties fall to the row's other columns, each descending (docs/models.md). NULL
    ingested_at counts as the oldest. `r` is the alias of the raw (as-arrived) columns. -#}
{% macro latest_copy_rank(r) -%}
row_number() over (
            partition by {{ r }}.transaction_id
            order by
                {{ r }}.ingested_at desc nulls last,
                {{ r }}.source desc nulls last,
                {{ r }}.transaction_date desc nulls last,
                {{ r }}.customer_id desc nulls last,
                {{ r }}.transaction_amount desc nulls last,
                {{ r }}.merchant_name desc nulls last,
                {{ r }}.merchant_category desc nulls last,
                {{ r }}.channel desc nulls last,
                {{ r }}.status desc nulls last
        )
{%- endmacro %}

{#- int_transactions keeps a column as it arrived (`raw_*`) only where normalising changed it:
    NULL means "as normalised", so the ~99.9% of rows that arrived clean cost no string to
    encode. A normalised column that maps blanks to a default (merchant_category →
    'Uncategorized') keeps the arrived value, NULL included, on every defaulted row. -#}
{% macro kept_as_arrived(raw, normalised, blank_default=none) -%}
case
        {%- if blank_default %}
        when {{ normalised }} = '{{ blank_default }}' then {{ raw }}
        {%- endif %}
        when {{ raw }} is distinct from {{ normalised }} then {{ raw }}
    end
{%- endmacro %}

{#- The column as it arrived, from what kept_as_arrived stored and the normalised value. -#}
{% macro as_arrived(kept, normalised, blank_default=none) -%}
{%- if blank_default -%}
case
        when {{ normalised }} = '{{ blank_default }}' then {{ kept }}
        else coalesce({{ kept }}, {{ normalised }})
    end
{%- else -%}
coalesce({{ kept }}, {{ normalised }})
{%- endif %}
{%- endmacro %}

{#- The ids of `arrived` (bronze rows a model's stream holds), with their number of copies
    there (`arrived_copies`) and `is_new`: true when every bronze copy of the id is among them,
    so no model fed by bronze can hold the id yet (each holds only ids whose copies are at or
    before its own stream offset). Copies are counted by `duplicated`
    (ref('duplicated_transaction_ids')), which streams bronze ahead of every model that calls
    this (a model reads a stream no further than its upstream models have), so its count
    covers every copy in `arrived`; an id it counts more copies of is treated as possibly
    held. -#}
{% macro arrived_transaction_ids(arrived, duplicated) -%}
{%- from "macros/text.sql" import is_blank -%}
select
        a.transaction_id,
        a.arrived_copies,
        coalesce(d.copies, 1) = a.arrived_copies as is_new
    from (
        select transaction_id, count(*) as arrived_copies
        from {{ arrived }}
        where not {{ is_blank('transaction_id') }}
        group by transaction_id
    ) as a
    left join {{ duplicated }} as d
        on a.transaction_id = d.transaction_id
{%- endmacro %}
