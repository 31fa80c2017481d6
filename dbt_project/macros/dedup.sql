{#-
    Keep one row per natural key: the latest ingestion wins (ingested_at, then run_id).
    Renders a complete select statement over `relation` (a CTE name or relation).
-#}
{% macro dedup_latest(relation, key_columns, order_by=['ingested_at desc', 'run_id desc']) -%}
    select *
    from {{ relation }}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by {{ order_by | join(', ') }}
    ) = 1
{%- endmacro %}
