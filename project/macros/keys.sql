{#- Deterministic surrogate keys (SPEC §4.1, §4.2, §4.3). Plain md5 of the natural key, so any
    engine can recompute them: md5 of the UTF-8 text, lower-case hex (32 characters). -#}

{#- SPEC §4.1: customer_key = md5(customer_id || '|' || valid_from as 'YYYY-MM-DD'). -#}
{% macro customer_key(customer_id, valid_from) -%}
md5(concat({{ customer_id }}, '|', cast({{ valid_from }} as varchar)))
{%- endmacro %}

{#- SPEC §4.3: transaction_key = md5(transaction_id). -#}
{% macro transaction_key(transaction_id) -%}
md5({{ transaction_id }})
{%- endmacro %}

{#- SPEC §4.2: a stable integer for a category name the seed does not know:
    2^32 + the first 8 hex digits of md5(name) read as an unsigned integer. Always above every
    seed key, never reused for another name unless md5 prefixes collide, and independent of
    which other categories exist. -#}
{% macro unseen_category_key(name) -%}
(4294967296
    {%- for i in range(8) %}
    + (strpos('0123456789abcdef', substr(md5({{ name }}), {{ i + 1 }}, 1)) - 1) * {{ 16 ** (7 - i) }}
    {%- endfor %})
{%- endmacro %}

{#- SPEC §4.2: date_key = YYYYMMDD as an integer. -#}
{% macro date_key(day) -%}
cast(date_part('year', {{ day }}) * 10000 + date_part('month', {{ day }}) * 100 + date_part('day', {{ day }}) as int)
{%- endmacro %}

{#- quarantine_transactions' key: 'id:' + the transaction_id for the latest copy of an
    invalid id; for a bronze row without an id, 'row:' + md5 of the row's values (each column
    length-prefixed, NULL as '-', so different rows never give the same text) + ':' + its
    ordinal among the bronze rows with the same values (1, 2, … — identical rows are
    interchangeable, so any order numbers them the same). This macro gives the md5; `r` is
    the alias of a bronze transactions relation. -#}
{% macro row_values_md5(r) -%}
md5(concat(
        {%- for c in ['transaction_id', 'customer_id', 'transaction_date', 'transaction_amount',
                      'merchant_name', 'merchant_category', 'channel', 'status', 'ingested_at',
                      'source'] %}
        coalesce(concat(cast(length(cast({{ r }}.{{ c }} as varchar)) as varchar), ':', cast({{ r }}.{{ c }} as varchar)), '-'){{ ", '|'," if not loop.last }}
        {%- endfor %}
    ))
{%- endmacro %}
