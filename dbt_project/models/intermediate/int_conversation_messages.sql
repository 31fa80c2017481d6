{#-
    Every forum post, mailing-list message, blog comment and issue/pull-request comment by a
    person (bots excluded) with the conversation_code_rules that match its text (quoted
    `>` lines removed, so a reply quoting code does not count twice; see
    int_message_rule_matches): talks_about_code when any rule matched at least its
    min_matches times.

    Incremental (issue 8, macros/change_log.sql): a run recomputes the activities whose
    person, channel, type, month or bot flag changed since its last run (from
    int_person_activities' change log) and those int_message_rule_matches matched since
    (its `_computed_at` past the state table `rules_watermark`).
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='activity_key',
        on_schema_change='sync_all_columns',
        post_hook=[
            "{{ forget_tombstones('person_id', 'messages') }}",
            "{{ record_run_watermark() }}",
            "{{ record_run_watermark('rules_watermark') }}",
        ],
    )
}}
{%- set mode = upstream_changes_mode(ref('int_person_activities'), ['rules_watermark']) %}

with

all_person_activities as not materialized (
    select * from {{ ref('int_person_activities') }}
),

all_rule_matches as not materialized (
    select * from {{ ref('int_message_rule_matches') }}
),
{% if mode == 'changes' %}
affected as materialized (
    select changed.activity_key
    from (
        {{ changed_versions(ref('int_person_activities'), [
            'activity_key', 'person_id', 'channel', 'activity_type', 'month', 'is_bot',
        ]) }}
    ) as changed
    union
    select activity_key
    from all_rule_matches
    where _computed_at > (
        select coalesce(max(computed_at), '-infinity'::timestamp)
        from {{ state_relation('rules_watermark') }}
    )
),
{% elif mode == 'all' %}
affected as materialized (
    select activity_key from all_person_activities
    union
    select activity_key from {{ this }}
),
{% endif %}
person_activities as (
    select * from all_person_activities
    {%- if mode != 'full' %}
    where activity_key in (select affected.activity_key from affected)
    {%- endif %}
),

rule_matches as (
    select * from all_rule_matches
    {%- if mode != 'full' %}
    where activity_key in (select affected.activity_key from affected)
    {%- endif %}
),

final as (
    select
        person_activities.activity_key,
        person_activities.person_id,
        person_activities.channel,
        person_activities.activity_type,
        person_activities.month,
        rule_matches.code_rules as matched_rules,
        len(rule_matches.code_rules) > 0 as talks_about_code,
        {{ computed_at() }} as _computed_at
    from person_activities
    inner join rule_matches
        on person_activities.activity_key = rule_matches.activity_key
    where
        not person_activities.is_bot
        and person_activities.activity_type in (
            'forum_topic', 'forum_reply', 'mail_thread', 'mail_reply', 'blog_comment', 'issue_comment', 'review_comment'
        )
)

select * from final
{%- if mode != 'full' %}
-- an activity recomputed and gone: a row with the key only (tombstones())
union all by name
{{ tombstones() }}
{%- endif %}
