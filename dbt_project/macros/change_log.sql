{#-
    Change log (issue 8): what an incremental model's run replaced, for the models built on
    it.

    A model with incremental_strategy='logged_delete_insert' is delete+insert on its
    unique_key, except that before the delete it appends the stored versions of the rows
    the run replaces or removes (tombstones included) to `state.<model>__replaced`, each
    stamped `_replaced_at` with the run's computed_at(). Its post-hook
    change_log_maintenance() resets the log on a full build and records in
    `state.<model>__log_since` from when the log is complete.

    A model downstream (incremental by some group: a conversation, a month, a person) finds
    the rows of its upstream that changed since its own last run with changed_versions():
    the rows computed since its watermark and the versions the log says they replaced,
    less those equal in the columns it reads. It recomputes the groups of both. When the
    log does not reach back to its watermark (the upstream was rebuilt in full, or this is
    the first run with a log), upstream_changes_mode() says 'all': every group is
    recomputed.
-#}

{% macro change_log_relation(upstream, what='replaced') -%}
    {{- return(api.Relation.create(
        database=upstream.database, schema='state', identifier=upstream.identifier ~ '__' ~ what
    )) -}}
{%- endmacro %}


{#- The strategy: log the stored rows the run replaces, then dbt's delete+insert. -#}
{% macro get_incremental_logged_delete_insert_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set temp = arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set log = change_log_relation(target) -%}
    {%- set existing = adapter.get_relation(
        database=log.database, schema=log.schema, identifier=log.identifier
    ) -%}
    {%- if existing is none -%}
        {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='name') | list -%}
    {%- else -%}
        {#- a column the log lacks (added since it was made) is not logged; one the model
            lost is logged as null -#}
        {%- set target_columns = adapter.get_columns_in_relation(target) | map(attribute='name') | list -%}
        {%- set columns = adapter.get_columns_in_relation(log) | map(attribute='name')
            | reject('equalto', '_replaced_at') | select('in', target_columns) | list -%}
    {%- endif %}
    create schema if not exists {{ log.without_identifier() }};
    create table if not exists {{ log }} as
    select
        *,
        {{ computed_at() }} as _replaced_at
    from {{ target }}
    where false;
    insert into {{ log }} by name
    select
        {% for column in columns -%}
            stored_rows.{{ adapter.quote(column) }},
        {% endfor -%}
        {{ computed_at() }} as _replaced_at
    from {{ target }} as stored_rows
    where stored_rows.{{ key }} in (select {{ key }} from {{ temp }});
    {{ get_incremental_delete_insert_sql(arg_dict) }}
{%- endmacro %}


{#-
    post_hook of a logged model: a full build empties the log and marks it complete from
    this run on; an incremental run marks it complete from this run on when no mark is
    recorded yet (the first run with a log), and forgets what is older than
    `change_log_retention_days`, moving the mark (a model downstream whose last run is
    older recomputes every row).
-#}
{% macro change_log_maintenance() -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- set log = change_log_relation(this) -%}
        {%- set since = change_log_relation(this, 'log_since') -%}
        create schema if not exists {{ log.without_identifier() }};
        {%- if not is_incremental() %}
        create or replace table {{ log }} as
        select
            *,
            {{ computed_at() }} as _replaced_at
        from {{ this }}
        where false;
        create or replace table {{ since }} as select {{ computed_at() }} as since;
        {%- else %}
        {%- set horizon = computed_at() ~ ' - to_days(' ~ var('change_log_retention_days', 90) ~ ')' %}
        create table if not exists {{ since }} as select {{ computed_at() }} as since;
        delete from {{ log }} where _replaced_at < {{ horizon }};
        update {{ since }} set since = greatest(since, {{ horizon }})
        {%- endif %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#-
    A downstream model's mode against its upstream's change log: incremental_mode()'s
    (its state tables: `watermark` and `states`), but 'all' when the log does not reach
    back to this model's watermark.
-#}
{% macro upstream_changes_mode(upstream, states=[]) -%}
    {%- set mode = incremental_mode(['watermark'] + states) -%}
    {%- if mode != 'changes' -%}
        {{- return(mode) -}}
    {%- endif -%}
    {%- set since = change_log_relation(upstream, 'log_since') -%}
    {%- if adapter.get_relation(database=since.database, schema=since.schema, identifier=since.identifier) is none -%}
        {%- set complete = false -%}
    {%- else -%}
        {%- set complete = run_query(
            'select coalesce((select max(computed_at) from ' ~ state_relation('watermark')
            ~ ') >= (select max(since) from ' ~ since ~ '), false)'
        ).columns[0].values()[0] -%}
    {%- endif -%}
    {%- if not complete -%}
        {%- do log(this.identifier ~ ': ' ~ upstream.identifier ~ "'s change log does not reach back to the last run: every row is recomputed", info=true) -%}
        {{- return('all') -}}
    {%- endif -%}
    {{- return('changes') -}}
{%- endmacro %}


{#-
    The versions of `upstream`'s rows that changed since this model's watermark, in the
    `columns` it reads (the key among them): the rows computed since then and the versions
    the change log says they replaced, less those that are the same in both.
-#}
{% macro changed_versions(upstream, columns) -%}
    {%- set listed = columns | join(', ') -%}
    {%- set watermark -%}
        (select coalesce(max(computed_at), '-infinity'::timestamp) from {{ state_relation('watermark') }})
    {%- endset -%}
    (
        select {{ listed }}
        from {{ upstream }}
        where _computed_at > {{ watermark }}
        except
        select {{ listed }}
        from {{ change_log_relation(upstream) }}
        where _replaced_at > {{ watermark }}
    )
    union
    (
        select {{ listed }}
        from {{ change_log_relation(upstream) }}
        where _replaced_at > {{ watermark }}
        except
        select {{ listed }}
        from {{ upstream }}
        where _computed_at > {{ watermark }}
    )
{%- endmacro %}


{#-
    post_hook of a model downstream of a logged model: its watermark is this run's
    computed_at(). Every row and log entry its upstream made before is older (an upstream
    that ran in this invocation stamped the same time, and this model ran after it); every
    later one is newer.
-#}
{% macro record_run_watermark(what='watermark') -%}
    {{- record_state(what, 'select ' ~ computed_at() ~ ' as computed_at') -}}
{%- endmacro %}
