{#-
    Incremental int_activities (issue 8). An activity row is recomputed when something it
    depends on changed since the model's last run; every other row is left alone.

    What changed is told by the inputs' lake files: every staging row under the activities
    carries its `_lake_file` and `ingested_at`, and after each run the model records the
    distinct (file, ingested_at) pairs of its inputs in `<model>__inputs`
    (activities_record_inputs). The next run compares:
    - a pair now and not before: a new or rewritten file, whose rows are new versions of
      their records;
    - a pair before and not now: a removed or rewritten file, whose rows are gone.
    The seeds the rows are computed with (weights, bot patterns, email providers) are
    recorded as a digest: when they change, every activity is recomputed. A change to the
    model's SQL needs `dbt build --full-refresh`, as for any incremental model.
-#}

{#- The inputs whose files are tracked: each relation has `_lake_file` and `ingested_at`. -#}
{% macro activity_inputs() -%}
    {{- return([
        ref('stg_blog__comments'),
        ref('stg_discourse__posts'),
        ref('stg_discourse__topics'),
        ref('stg_mail__messages'),
        ref('stg_git__commits'),
        ref('stg_github__issues'),
        ref('stg_github__comments'),
        ref('stg_github__stars'),
        ref('int_archive_activities'),
    ]) -}}
{%- endmacro %}


{% macro activity_inputs_relation() -%}
    {{- return(api.Relation.create(
        database=this.database, schema=this.schema, identifier=this.identifier ~ '__inputs'
    )) -}}
{%- endmacro %}


{#- One value that changes when any seed the activities are computed with changes. -#}
{% macro activity_seeds_digest() -%}
    md5(concat_ws(
        '#',
        {%- for seed in ['activity_weights', 'bot_patterns', 'email_providers'] %}
        (
            select coalesce(string_agg(cast(seed_rows as varchar), '|' order by cast(seed_rows as varchar)), '')
            from {{ ref(seed) }} as seed_rows
        ){{ ',' if not loop.last }}
        {%- endfor %}
    ))
{%- endmacro %}


{#-
    How the model runs: 'full' (a table build: the first run, --full-refresh, unit tests),
    'changes' (an incremental run: recompute what changed), or 'all' (an incremental run
    that cannot tell what changed, because nothing was recorded yet or the seeds changed:
    recompute every activity and drop the ones that are gone).
-#}
{% macro activities_mode() -%}
    {%- if not execute or model.resource_type == 'unit_test' or not is_incremental() -%}
        {{- return('full') -}}
    {%- endif -%}
    {%- set recorded = activity_inputs_relation() -%}
    {%- if adapter.get_relation(
        database=recorded.database, schema=recorded.schema, identifier=recorded.identifier
    ) is none -%}
        {%- do log(this.identifier ~ ': no record of the inputs of the last run: every activity is recomputed', info=true) -%}
        {{- return('all') -}}
    {%- endif -%}
    {%- set same = run_query(
        'select coalesce((select any_value(digest) from ' ~ recorded ~ " where kind = 'seeds') = "
        ~ activity_seeds_digest() ~ ', false)'
    ).columns[0].values()[0] -%}
    {%- if not same -%}
        {%- do log(this.identifier ~ ': the activity seeds changed: every activity is recomputed', info=true) -%}
        {{- return('all') -}}
    {%- endif -%}
    {{- return('changes') -}}
{%- endmacro %}


{#- `where` clause: the row of `alias` comes from a (file, ingested_at) pair of `pairs`. -#}
{% macro from_lake_pairs(alias, pairs) -%}
    exists (
        select 1
        from {{ pairs }}
        where {{ pairs }}._lake_file = {{ alias }}._lake_file and {{ pairs }}.ingested_at = {{ alias }}.ingested_at
    )
{%- endmacro %}


{#-
    post_hook: an incremental run inserts a row without identity (a tombstone) for each
    recomputed activity that no longer exists; they go here, after delete+insert removed
    the old rows. Logs how many activities the run recomputed and removed.
-#}
{% macro activities_forget_tombstones() -%}
    {%- if execute and model.resource_type != 'unit_test' and is_incremental() -%}
        {%- set counts = run_query(
            'select count(*) filter (where identity_ref is not null), count(*) filter (where identity_ref is null) from '
            ~ this ~ ' where _computed_at = ' ~ activities_computed_at()
        ) -%}
        {%- do log(
            this.identifier ~ ': recomputed ' ~ counts.columns[0].values()[0] ~ ' activities, removed '
            ~ counts.columns[1].values()[0], info=true
        ) -%}
        delete from {{ this }} where identity_ref is null
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- post_hook: the inputs' (file, ingested_at) pairs and the seeds' digest, for the next run. -#}
{% macro activities_record_inputs() -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        create or replace table {{ activity_inputs_relation() }} as
        select
            'input' as kind,
            _lake_file,
            ingested_at,
            null::varchar as digest
        from (
            {%- for input in activity_inputs() %}
            select distinct
                _lake_file,
                ingested_at
            from {{ input }}
            {{ 'union' if not loop.last }}
            {%- endfor %}
        ) as pairs
        union all
        select
            'seeds' as kind,
            null::varchar as _lake_file,
            null::timestamp as ingested_at,
            {{ activity_seeds_digest() }} as digest
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- When this run computed a row (`_computed_at`): the run's start, the same for every row. -#}
{% macro activities_computed_at() -%}
    {%- if execute -%}
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
    {%- else -%}
        cast(null as timestamp)
    {%- endif -%}
{%- endmacro %}
