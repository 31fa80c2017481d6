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


{#-
    The key of the staging record an activity comes from (`_input_record`): the same
    expression in the activity's branch and where the records of new files are listed.
    `alias` qualifies the columns.
-#}
{% macro activity_input_record(kind, alias=none) -%}
    {%- set c = (alias ~ '.') if alias else '' -%}
    {%- set parts = {
        'blog': ["'blog:'", c ~ 'comment_key'],
        'forum': ["'forum:'", c ~ 'post_key'],
        'mail': ["'mail:'", c ~ 'source', "':'", c ~ 'message_id'],
        'commit': ["'commit:'", 'lower(' ~ c ~ 'repo)', "':'", c ~ 'sha'],
        'issue': ["'issue:'", 'lower(' ~ c ~ 'repo)', "'#'", c ~ 'number'],
        'comment': ["'comment:'", 'lower(' ~ c ~ 'repo)', "':'", c ~ 'kind', "':'", c ~ 'comment_id'],
        'star': ["'star:'", 'lower(' ~ c ~ 'repo)', "':'", 'lower(' ~ c ~ 'login)'],
        'gharchive': ["'gharchive:'", c ~ 'event_id'],
    } -%}
    {{- parts[kind] | join(' || ') -}}
{%- endmacro %}


{#- (record kind, import CTE of int_activities) for each input whose rows are records. -#}
{% macro activity_input_tables() -%}
    {{- return([
        ('blog', 'blog_comments_all'),
        ('forum', 'forum_posts_all'),
        ('mail', 'mail_messages_all'),
        ('commit', 'commits_all'),
        ('issue', 'issues'),
        ('comment', 'issue_comments'),
        ('star', 'stars'),
        ('gharchive', 'archive_activities'),
    ]) -}}
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
    incremental_mode() on the recorded inputs, and 'all' too when the seeds changed since
    the last run.
-#}
{% macro activities_mode() -%}
    {%- set mode = incremental_mode(['inputs', 'watermark']) -%}
    {%- if mode != 'changes' -%}
        {{- return(mode) -}}
    {%- endif -%}
    {%- set same = run_query(
        'select coalesce((select any_value(digest) from ' ~ state_relation('inputs') ~ " where kind = 'seeds') = "
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


{#- post_hook: the inputs' (file, ingested_at) pairs and the seeds' digest, for the next run. -#}
{% macro activities_record_inputs() -%}
    {%- set pairs = [] -%}
    {%- for input in activity_inputs() -%}
        {%- do pairs.append('select distinct _lake_file, ingested_at from ' ~ input) -%}
    {%- endfor -%}
    {{- return(record_state(
        'inputs',
        "select 'input' as kind, _lake_file, ingested_at, null::varchar as digest from ("
        ~ (pairs | join(' union ')) ~ ') as pairs '
        ~ "union all select 'seeds', null::varchar, null::timestamp, " ~ activity_seeds_digest()
    )) -}}
{%- endmacro %}
