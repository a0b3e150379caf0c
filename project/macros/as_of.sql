{#- SPEC §0 as_of: every window reads it from the one-row model `as_of_date`
    (the `--var as_of=YYYY-MM-DD` override, else the latest stg_transactions date). -#}
{% macro as_of() -%}
(select as_of from {{ ref('as_of_date') }})
{%- endmacro %}

{#- SPEC §0 months_between(a, b) = (year(b)*12 + month(b)) - (year(a)*12 + month(a)). -#}
{% macro months_between(a, b) -%}
((cast(date_part('year', {{ b }}) as bigint) * 12 + cast(date_part('month', {{ b }}) as bigint))
     - (cast(date_part('year', {{ a }}) as bigint) * 12 + cast(date_part('month', {{ a }}) as bigint)))
{%- endmacro %}

{#- SPEC §0 sums of money are DECIMAL(18,2). -#}
{% macro money_sum(expr) -%}
cast(coalesce(sum({{ expr }}), 0) as decimal(18, 2))
{%- endmacro %}
