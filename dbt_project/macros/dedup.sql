{#-
    Keep one row per natural key of lake rows: the latest ingestion wins (ingested_at, then
    run_id, unless `order_by` says otherwise). Renders a complete select statement.

    lake_source() and lake_source_incremental() give every row `_lake_file` and
    `file_row_number`: the window ranks only the key and order columns, and the winning rows
    are joined back by their row ids, so a wide row (a mail body, an event payload) is never
    sorted or spilled. `relation` must be a CTE declared `as not materialized` (DuckDB
    materializes a CTE that is read twice) or a relation. Key columns and order terms may
    be expressions over the raw lake columns.
-#}
{% macro dedup_lake_latest(relation, key_columns, order_by=['ingested_at desc', 'run_id desc']) -%}
    select {{ relation }}.*
    from {{ relation }}
    inner join (
        select
            _lake_file as winner_file,
            file_row_number as winner_row
        from {{ relation }}
        qualify row_number() over (
            partition by {{ key_columns | join(', ') }}
            order by {{ order_by | join(', ') }}
        ) = 1
    ) as winners
        on {{ relation }}._lake_file = winners.winner_file and {{ relation }}.file_row_number = winners.winner_row
{%- endmacro %}
