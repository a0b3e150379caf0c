{#- The latest row of each customer in a log of segment assignments (`customer_segment_history`,
    or its own `{{ this }}`): the row of the customer's max(assignment_seq). An aggregate and a
    join, not a window partition per customer, which costs DataFusion ~1 s per 50,000
    partitions (apache/datafusion#23982). -#}
{% macro latest_assignment(log) -%}
select l.*
    from {{ log }} as l
    inner join (
        select customer_id, max(assignment_seq) as assignment_seq
        from {{ log }}
        group by customer_id
    ) as latest
        on l.customer_id = latest.customer_id and l.assignment_seq = latest.assignment_seq
{%- endmacro %}
