{#-
    Incremental models past staging (issue 8) tell what changed since their last run by
    comparing their inputs with what they recorded of them at the end of that run: small
    side tables named `<model>__<what>` in the schema `state` (state tables: out of the
    marts schema, which BI tools read and releases copy). A model with no state yet (first
    incremental run after an upgrade) recomputes every row.

    Rows that a run finds gone are replaced by a tombstone (a row whose `marker` column is
    null) through delete+insert, and the tombstones are deleted by forget_tombstones().
-#}

{% macro state_relation(what) -%}
    {{- return(api.Relation.create(
        database=this.database, schema='state', identifier=this.identifier ~ '__' ~ what
    )) -}}
{%- endmacro %}


{#-
    'full' (a table build: first run, --full-refresh, unit tests), 'changes' (an incremental
    run with every state table of `states` present) or 'all' (an incremental run without
    them: recompute every row, drop the ones gone).
-#}
{% macro incremental_mode(states) -%}
    {%- if not execute or model.resource_type == 'unit_test' or not is_incremental() -%}
        {{- return('full') -}}
    {%- endif -%}
    {%- for what in states -%}
        {%- set relation = state_relation(what) -%}
        {%- if adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier
        ) is none -%}
            {%- do log(this.identifier ~ ': no record of the last run (' ~ relation.identifier ~ '): every row is recomputed', info=true) -%}
            {{- return('all') -}}
        {%- endif -%}
    {%- endfor -%}
    {{- return('changes') -}}
{%- endmacro %}


{#- post_hook: record `sql` as the state table `what`, for the next run. -#}
{% macro record_state(what, sql) -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- set relation = state_relation(what) -%}
        create schema if not exists {{ relation.without_identifier() }};
        create or replace table {{ relation }} as {{ sql }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- When this run computed a row (`_computed_at`): the run's start, the same for every row. -#}
{% macro computed_at() -%}
    {%- if execute -%}
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
    {%- else -%}
        cast(null as timestamp)
    {%- endif -%}
{%- endmacro %}


{#-
    post_hook of an incremental run: delete the tombstones (rows whose `marker` is null),
    after delete+insert put them in place of the rows they remove. Logs how many rows the
    run recomputed and removed.
-#}
{% macro forget_tombstones(marker, noun='activities') -%}
    {%- if execute and model.resource_type != 'unit_test' and is_incremental() -%}
        {%- set counts = run_query(
            'select count(*) filter (where ' ~ marker ~ ' is not null), count(*) filter (where '
            ~ marker ~ ' is null) from ' ~ this ~ ' where _computed_at = ' ~ computed_at()
        ) -%}
        {%- do log(
            this.identifier ~ ': recomputed ' ~ counts.columns[0].values()[0] ~ ' ' ~ noun ~ ', removed '
            ~ counts.columns[1].values()[0], info=true
        ) -%}
        delete from {{ this }} where {{ marker }} is null
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}




{#-
    An incremental run's tombstones: a row with the key only for every recomputed key
    (`affected`) that is stored and not in `final`; delete+insert puts it in place of the
    stored row and forget_tombstones() deletes it after the run.
-#}
{% macro tombstones(affected='affected', final='final', key='activity_key') -%}
    select
        {{ affected }}.{{ key }},
        {{ computed_at() }} as _computed_at
    from {{ affected }}
    where
        not exists (
            select 1
            from {{ final }}
            where {{ final }}.{{ key }} = {{ affected }}.{{ key }}
        )
        and exists (
            select 1
            from {{ this }} as stored_rows
            where stored_rows.{{ key }} = {{ affected }}.{{ key }}
        )
{%- endmacro %}


{#- The keys `key` of the rows that differ between two relations of the same columns. -#}
{% macro changed_keys(current, recorded, key) -%}
    select {{ key }}
    from (
        select * from {{ current }}
        except
        select * from {{ recorded }}
    ) as added
    union
    select {{ key }}
    from (
        select * from {{ recorded }}
        except
        select * from {{ current }}
    ) as removed
{%- endmacro %}


{#-
    post_hook of an incremental model that copies rows of `upstream` (for a model whose
    contract forbids the null columns of a tombstone): delete the rows whose `key`
    `upstream` no longer has. Logs how many rows the run copied (the upstream rows matching
    `copied`, a condition) and removed.
-#}
{% macro forget_rows_missing_from(upstream, key, copied) -%}
    {%- if execute and model.resource_type != 'unit_test' and is_incremental() -%}
        {%- set missing = 'not exists (select 1 from ' ~ upstream ~ ' as upstream where upstream.' ~ key
            ~ ' = ' ~ this ~ '.' ~ key ~ ')' -%}
        {%- set counts = run_query(
            'select (select count(*) from ' ~ upstream ~ ' where ' ~ copied ~ '), '
            ~ '(select count(*) from ' ~ this ~ ' where ' ~ missing ~ ')'
        ) -%}
        {%- do log(
            this.identifier ~ ': recomputed ' ~ counts.columns[0].values()[0] ~ ' activities, removed '
            ~ counts.columns[1].values()[0], info=true
        ) -%}
        delete from {{ this }} where {{ missing }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#-
    The rows of an upstream model (with `_computed_at`) that it computed since the watermark
    this model recorded after its last run (state table `watermark`): every row when no
    watermark is recorded.
-#}
{% macro computed_since_watermark() -%}
    {%- if not execute -%}
        {{- return('true') -}}
    {%- endif -%}
    {%- set relation = state_relation('watermark') -%}
    {%- if adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) is none -%}
        true
    {%- else -%}
        (
            _computed_at is null
            or _computed_at > (
                select coalesce(max(watermark.computed_at), '-infinity'::timestamp)
                from {{ relation }} as watermark
            )
        )
    {%- endif -%}
{%- endmacro %}


{#-
    post_hook of an incremental model whose contract forbids tombstones (null or extra
    columns): delete the rows matching `gone` (a condition on the model's own rows) and log
    how many there were.
-#}
{% macro forget_rows_where(gone, noun) -%}
    {%- if execute and model.resource_type != 'unit_test' and is_incremental() -%}
        {%- set removed = run_query(
            'select count(*) from ' ~ this ~ ' where ' ~ gone
        ).columns[0].values()[0] -%}
        {%- do log(this.identifier ~ ': removed ' ~ removed ~ ' ' ~ noun, info=true) -%}
        delete from {{ this }} where {{ gone }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
