{#-
    Reading the Parquet lake written by the ingestion library:

        <lake>/raw/<entity>/source=<slug>/ingest_date=YYYY-MM-DD/<run_id>-<n>.parquet

    Staging models call lake_source(source_name, table_name) where they would call source():
    it registers the dependency on the dbt source (lineage, freshness, docs) and renders either
    a read_parquet() over the entity's files or, when no file has landed yet (DuckDB errors on a
    glob that matches nothing), a typed empty relation built from the source's declared columns.
-#}

{% macro lake_root() -%}
    {%- set root = env_var('TOWNSQUARE_LAKE', '../.townsquare/lake') | trim -%}
    {%- if root | length > 1 and root.endswith('/') -%}
        {%- set root = root[:-1] -%}
    {%- endif -%}
    {{- return(root) -}}
{%- endmacro %}


{% macro lake_glob(entity) -%}
    {{- return(lake_root() ~ '/raw/' ~ entity ~ '/*/*/*.parquet') -}}
{%- endmacro %}


{% macro sql_string(value) -%}
    {{- return("'" ~ (value | string | replace("'", "''")) ~ "'") -}}
{%- endmacro %}


{#-
    Every lake row carries its file (`_lake_file`) and its position in the file
    (`file_row_number`): together they identify a row, so dedup_lake_latest() can rank the
    narrow key columns and join the winning rows back instead of sorting whole rows.
-#}
{% macro lake_read_options() -%}
    {{- return(", union_by_name = true, hive_partitioning = false, filename = '_lake_file', file_row_number = true)") -}}
{%- endmacro %}


{% macro lake_read(entity) -%}
    {{- return('read_parquet(' ~ sql_string(lake_glob(entity)) ~ lake_read_options()) -}}
{%- endmacro %}


{#- True when at least one Parquet file of the entity has landed (checked at execution time). -#}
{% macro lake_has_files(entity) -%}
    {%- if not execute -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set result = run_query(
        'select count(*) as n from (select file from glob(' ~ sql_string(lake_glob(entity)) ~ ') limit 1)'
    ) -%}
    {{- return(result.columns[0].values()[0] > 0) -}}
{%- endmacro %}


{#- The graph node of a declared source table; a compiler error if it is not declared. -#}
{% macro lake_source_node(source_name, table_name) -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.source_name == source_name and node.name == table_name -%}
            {{- return(node) -}}
        {%- endif -%}
    {%- endfor -%}
    {{- exceptions.raise_compiler_error(
        'lake_source: no source ' ~ source_name ~ '.' ~ table_name ~ ' is declared'
    ) -}}
{%- endmacro %}


{#- The lake entity of a source node: meta.lake_entity, else the table identifier. -#}
{% macro lake_entity_of(node) -%}
    {%- set config_meta = (node.get('config') or {}).get('meta') or {} -%}
    {%- set node_meta = node.get('meta') or {} -%}
    {{- return(config_meta.get('lake_entity') or node_meta.get('lake_entity')) -}}
{%- endmacro %}


{#- `(select cast(null as <type>) as <col>, ... where false)` from the declared columns. -#}
{% macro lake_empty_relation(node) -%}
    {%- set columns = node.columns.values() | list -%}
    {%- if columns | length == 0 -%}
        {{- exceptions.raise_compiler_error(
            'lake_source: source ' ~ node.source_name ~ '.' ~ node.name ~ ' declares no columns'
        ) -}}
    {%- endif -%}
    {%- set selects = [] -%}
    {%- for column in columns -%}
        {%- if not column.data_type -%}
            {{- exceptions.raise_compiler_error(
                'lake_source: column ' ~ column.name ~ ' of source ' ~ node.source_name ~ '.'
                ~ node.name ~ ' has no data_type'
            ) -}}
        {%- endif -%}
        {%- do selects.append('cast(null as ' ~ column.data_type ~ ') as ' ~ adapter.quote(column.name)) -%}
    {%- endfor -%}
    {%- do selects.append('cast(null as varchar) as _lake_file') -%}
    {%- do selects.append('cast(null as bigint) as file_row_number') -%}
    {{- return('(select ' ~ (selects | join(', ')) ~ ' where false)') -}}
{%- endmacro %}


{#- What a lake-backed source node reads from right now (files or the typed empty relation). -#}
{% macro lake_relation_for_node(node) -%}
    {%- set entity = lake_entity_of(node) -%}
    {%- if not entity -%}
        {{- exceptions.raise_compiler_error(
            'lake_source: source ' ~ node.source_name ~ '.' ~ node.name ~ ' has no meta.lake_entity'
        ) -}}
    {%- endif -%}
    {%- if lake_has_files(entity) -%}
        {{- return(lake_read(entity)) -}}
    {%- else -%}
        {{- return(lake_empty_relation(node)) -}}
    {%- endif -%}
{%- endmacro %}


{#-
    A unit test's `given` rows stand for one lake file; the row ids keep them apart. The ids
    follow the rows' hashes, not the scan order: the rows are read twice (dedup_lake_latest)
    and must get the same ids both times (identical rows may swap ids, to the same effect).
-#}
{% macro lake_given_rows(relation) -%}
    {%- if not execute -%}
        {{- return(relation) -}}
    {%- endif -%}
    {{- return(
        "(select *, 'given' as _lake_file, row_number() over (order by hash(given_rows)) "
        ~ 'as file_row_number from ' ~ relation ~ ' as given_rows)'
    ) -}}
{%- endmacro %}


{% macro lake_source(source_name, table_name) -%}
    {#- Calling source() registers the model's dependency on the dbt source. -#}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {#- Parsing, or a unit test whose `given` input (format: sql) replaces the source. -#}
        {{- return(lake_given_rows(relation)) -}}
    {%- endif -%}
    {{- return(lake_relation_for_node(lake_source_node(source_name, table_name))) -}}
{%- endmacro %}


{#-
    `dbt source freshness` on lake sources: max(ingested_at) over the entity's files. With no file
    landed yet max_loaded_at is null, which dbt reads as "infinitely old": the source is reported
    stale (error), not skipped. Sources without meta.lake_entity use dbt's default query.
-#}
{% macro duckdb__collect_freshness(source, loaded_at_field, filter) -%}
    {%- set found = namespace(node=none) -%}
    {%- for node in graph.sources.values() -%}
        {%- if found.node is none and node.identifier == source.identifier
              and node.schema == source.schema and lake_entity_of(node) -%}
            {%- set found.node = node -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set lake_node = found.node -%}
    {%- if lake_node is none -%}
        {{- return(dbt.default__collect_freshness(source, loaded_at_field, filter)) -}}
    {%- endif -%}
    {%- call statement('collect_freshness', fetch_result=True, auto_begin=False) -%}
        select
            max({{ loaded_at_field }}) as max_loaded_at,
            {{ current_timestamp() }} as snapshotted_at
        from {{ lake_relation_for_node(lake_node) }} as lake_rows
        {% if filter %}
        where {{ filter }}
        {% endif %}
    {%- endcall -%}
    {{- return(load_result('collect_freshness')) -}}
{%- endmacro %}


{#-
    Incremental staging over the lake (issue 8): a model configured with
    materialized='incremental' and a unique_key calls lake_source_incremental() instead of
    lake_source(). Every row keeps the lake file it came from (`_lake_file`).

    - Full build (first run, --full-refresh): every file of the entity, as lake_source().
    - Incremental run: only the files the table has not loaded yet, and loaded files whose
      ingested_at (from the Parquet footer's statistics) differs from the loaded rows' (a
      re-run of an interval rewrites its files in place under the same names). The model's dedup keeps
      the latest row per key within the batch; delete+insert on the unique key replaces
      older versions already in the table.
    The file list is computed when the model runs (glob() minus the loaded files), so the
    work is proportional to the new files, not to the lake.
-#}
{% macro lake_read_files(files) -%}
    {%- set quoted = [] -%}
    {%- for f in files -%}{%- do quoted.append(sql_string(f)) -%}{%- endfor -%}
    {{- return('read_parquet([' ~ (quoted | join(', ')) ~ ']' ~ lake_read_options()) -}}
{%- endmacro %}
{% macro lake_new_files(entity) -%}
    {#- files not loaded yet, and loaded files rewritten since (a re-run of an interval
        rewrites its files in place under the same names, with the run's new ingested_at:
        the file's Parquet statistics say so without reading its rows) -#}
    {%- set current = run_query(
        'select file from glob(' ~ sql_string(lake_glob(entity)) ~ ') order by file'
    ).columns[0].values() | list -%}
    {%- if current | length == 0 -%}
        {#- parquet_metadata() fails on an empty list; with no file there is nothing new -#}
        {{- return([]) -}}
    {%- endif -%}
    {%- set quoted = [] -%}
    {%- for f in current -%}{%- do quoted.append(sql_string(f)) -%}{%- endfor -%}
    {%- set files = '[' ~ (quoted | join(', ')) ~ ']' -%}
    {%- set found = run_query(
        'with current_files as (select unnest(' ~ files ~ ') as file), '
        ~ 'loaded as (select _lake_file, max(ingested_at) as loaded_at from ' ~ this ~ ' group by 1), '
        ~ 'written as (select file_name, max(stats_max_value) as written_at from parquet_metadata('
        ~ files ~ ") where path_in_schema = 'ingested_at' group by 1) "
        ~ 'select current_files.file from current_files '
        ~ 'left join loaded on current_files.file = loaded._lake_file '
        ~ 'left join written on current_files.file = written.file_name '
        ~ 'where loaded._lake_file is null or written.written_at is null '
        ~ "or cast(timezone('UTC', cast(written.written_at as timestamptz)) as timestamp) "
        ~ '<> loaded.loaded_at order by 1'
    ) -%}
    {{- return(found.columns[0].values() | list) -}}
{%- endmacro %}


{% macro lake_source_incremental(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        {{- return(relation) -}}
    {%- endif -%}
    {%- if model.resource_type == 'unit_test' -%}
        {{- return(lake_given_rows(relation)) -}}
    {%- endif -%}
    {%- set node = lake_source_node(source_name, table_name) -%}
    {%- set entity = lake_entity_of(node) -%}
    {%- if not entity -%}
        {{- exceptions.raise_compiler_error(
            'lake_source_incremental: source ' ~ source_name ~ '.' ~ table_name ~ ' has no meta.lake_entity'
        ) -}}
    {%- endif -%}
    {%- if is_incremental() -%}
        {%- set files = lake_new_files(entity) -%}
        {%- do log('lake_source_incremental: ' ~ this.identifier ~ ' reads ' ~ (files | length) ~ ' new or rewritten file(s)', info=false) -%}
    {%- elif lake_has_files(entity) -%}
        {{- return(lake_read(entity)) -}}
    {%- else -%}
        {%- set files = [] -%}
    {%- endif -%}
    {%- if files | length > 0 -%}
        {{- return(lake_read_files(files)) -}}
    {%- endif -%}
    {{- return(lake_empty_relation(node)) -}}
{%- endmacro %}


{#-
    pre_hook of the incremental staging models: rows whose lake file is gone (an interval
    re-landed on a later day replaces its old files), and rows of files rewritten in place
    (a re-run of an interval: the model reads them again, and a key the re-run no longer
    has must not stay), are deleted before the files are read, so an incremental run keeps
    what a full rebuild would keep.
-#}
{% macro lake_forget_removed_files(source_name, table_name) -%}
    {%- if execute and is_incremental() -%}
        {%- set entity = lake_entity_of(lake_source_node(source_name, table_name)) -%}
        {%- set reread = [] -%}
        {%- for f in lake_new_files(entity) -%}{%- do reread.append(sql_string(f)) -%}{%- endfor -%}
        delete from {{ this }}
        where
            _lake_file not in (select file from glob({{ sql_string(lake_glob(entity)) }}))
            {%- if reread %}
            or _lake_file in ({{ reread | join(', ') }})
            {%- endif %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#-
    The final filter of an incremental staging model: in an incremental run, drop batch rows
    older than the version of the same key already loaded (a file can be re-read while a
    newer version of its rows sits in a file that is not), so delete+insert never replaces
    a newer row with an older one.
-#}
{% macro lake_newer_than_loaded(relation, key_columns) -%}
    {%- if execute and model.resource_type != 'unit_test' and is_incremental() -%}
    where not exists (
        select 1
        from {{ this }} as loaded
        where
            {% for key in key_columns -%}
            loaded.{{ key }} = {{ relation }}.{{ key }}
            and {% endfor -%}
            (
                loaded.ingested_at > {{ relation }}.ingested_at
                or (
                    loaded.ingested_at = {{ relation }}.ingested_at
                    and loaded.run_id > {{ relation }}.run_id
                )
            )
    )
    {%- endif -%}
{%- endmacro %}


{#-
    post_hook of int_archive_activities: rows whose lake file and ingested_at are no longer
    in stg_gharchive__events (the file was removed, or rewritten in place without some of
    its events), so an incremental run keeps what a full rebuild would keep.
-#}
{% macro forget_unstaged_events() -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        delete from {{ this }}
        where not exists (
            select 1
            from (
                select distinct _lake_file, ingested_at
                from {{ ref('stg_gharchive__events') }}
            ) as staged
            where staged._lake_file = {{ this }}._lake_file and staged.ingested_at = {{ this }}.ingested_at
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
