{#-
    Incremental models past staging (issue 8) tell what changed since their last run by
    comparing their inputs with what they recorded of them at the end of that run: small
    side tables named `<model>__<what>` in the model's schema (state tables). A model with
    no state yet (first incremental run after an upgrade) recomputes every row.

    Rows that a run finds gone are replaced by a tombstone (a row whose `marker` column is
    null) through delete+insert, and the tombstones are deleted by forget_tombstones().
-#}

{% macro state_relation(what) -%}
    {{- return(api.Relation.create(
        database=this.database, schema=this.schema, identifier=this.identifier ~ '__' ~ what
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
        create or replace table {{ state_relation(what) }} as {{ sql }}
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
{% macro forget_tombstones(marker) -%}
    {%- if execute and model.resource_type != 'unit_test' and is_incremental() -%}
        {%- set counts = run_query(
            'select count(*) filter (where ' ~ marker ~ ' is not null), count(*) filter (where '
            ~ marker ~ ' is null) from ' ~ this ~ ' where _computed_at = ' ~ computed_at()
        ) -%}
        {%- do log(
            this.identifier ~ ': recomputed ' ~ counts.columns[0].values()[0] ~ ' activities, removed '
            ~ counts.columns[1].values()[0], info=true
        ) -%}
        delete from {{ this }} where {{ marker }} is null
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


