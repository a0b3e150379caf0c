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
