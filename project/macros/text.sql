{#- Text standardisation shared by the silver models (SPEC §3). -#}

{#- The whitespace "trimmed" removes: space, tab, LF, VT, FF, CR (ASCII whitespace). -#}
{% macro whitespace() -%}
concat(' ', chr(9), chr(10), chr(11), chr(12), chr(13))
{%- endmacro %}

{#- SPEC §3 "trimmed": leading and trailing whitespace removed. -#}
{% macro trim_ws(expr) -%}
btrim({{ expr }}, {{ whitespace() }})
{%- endmacro %}

{#- SPEC §3 "NULL or blank": NULL, empty, or whitespace only. A value whose first character
    is not whitespace is not blank, which `ascii` tells without copying it: only the rare
    value that starts with whitespace is trimmed (trimming every id of a 13.5M-row bronze
    table costs a second of CPU per use). -#}
{% macro is_blank(expr) -%}
(case
        when {{ expr }} is null or {{ expr }} = '' then true
        when ascii({{ expr }}) in (9, 10, 11, 12, 13, 32) then {{ trim_ws(expr) }} = ''
        else false
    end)
{%- endmacro %}

{#- A condition every blank value meets (NULL, or before '!' in byte order: empty, or starting
    with whitespace), written so Parquet statistics can prove a file holds no blank value
    (null count 0 and minimum >= '!') and skip it. Put it before `is_blank`. -#}
{% macro may_be_blank(expr) -%}
({{ expr }} is null or {{ expr }} < '!')
{%- endmacro %}

{#- SPEC §3 "Title-cased": first letter of every word upper case, the rest lower case
    (DataFusion's initcap: a word is a run of letters and digits). -#}
{% macro title_case(expr) -%}
initcap({{ trim_ws(expr) }})
{%- endmacro %}

{#- SPEC §3 "case- and space-insensitively": lower-cased with every whitespace character
    removed (anywhere in the value), before comparing with the accepted spellings. -#}
{% macro fold(expr) -%}
regexp_replace(lower({{ expr }}), '\s', '', 'g')
{%- endmacro %}

{#- SPEC §3: channel normalised to {Online, In-Store, Mobile}; anything else is NULL
    (and the row is quarantined as bad_channel). A value already spelled right (almost all of
    them) skips the fold. -#}
{% macro normalise_channel(expr) -%}
case
        when {{ expr }} in ('Online', 'In-Store', 'Mobile') then {{ expr }}
        else case {{ fold(expr) }}
            when 'online' then 'Online'
            when 'in-store' then 'In-Store'
            when 'mobile' then 'Mobile'
        end
    end
{%- endmacro %}

{#- SPEC §3: status normalised to {approved, declined}; anything else is NULL
    (and the row is quarantined as bad_status). -#}
{% macro normalise_status(expr) -%}
case
        when {{ expr }} in ('approved', 'declined') then {{ expr }}
        else case {{ fold(expr) }}
            when 'approved' then 'approved'
            when 'declined' then 'declined'
        end
    end
{%- endmacro %}
