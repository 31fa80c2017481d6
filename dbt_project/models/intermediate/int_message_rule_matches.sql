{#-
    Every message-like activity (forum posts, mailing-list messages, blog comments, issues,
    pull requests and their comments) with the rules its text matches, quoted `>` lines
    removed (a reply quoting a question does not ask it again): intent_rules (the
    intent_rules seed) and code_rules (conversation_code_rules, each at least min_matches
    times). Identity-free, so it is incremental: a run reads only the messages
    int_activities recomputed since its last run (a watermark on `_computed_at`, state table
    `watermark`), matches those that are new or whose text changed, or all of them when the
    rules changed (rules_hash); messages gone from int_activities are deleted after the run.
-#}
-- depends_on: {{ ref('intent_rules') }}
-- depends_on: {{ ref('conversation_code_rules') }}
{%- set intent = rule_rows('intent_rules', ['rule', 'pattern'], 'rule') -%}
{%- set code = rule_rows('conversation_code_rules', ['rule', 'pattern', 'min_matches'], 'rule') -%}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='activity_key',
        on_schema_change='sync_all_columns',
        post_hook=[
            "{{ forget_removed_messages() }}",
            "{{ record_state('watermark', 'select max(_computed_at) as computed_at from ' ~ ref('int_activities')) }}",
        ],
    )
}}

with

activities as (
    select * from {{ ref('int_activities') }}
),

messages as (
    select
        activity_key,
        hash(content_text) as text_hash,
        {{ rules_fingerprint(intent + code) }} as rules_hash,
        regexp_replace(coalesce(content_text, ''), '(^|\n)[ \t]*>[^\n]*', '', 'g') as message_text
    from activities
    where
        activity_type in (
            'forum_topic', 'forum_reply', 'mail_thread', 'mail_reply', 'blog_comment',
            'issue_opened', 'pr_opened', 'issue_comment', 'review_comment'
        )
        {%- if is_incremental() %}
            -- only what int_activities recomputed since this model's last run, unless the
            -- rules changed since (then every message)
            and (
                {{ computed_since_watermark() }}
                or (select any_value(known.rules_hash) from {{ this }} as known)
                is distinct from {{ rules_fingerprint(intent + code) }}
            )
        {%- endif %}
),

batch as (
    select * from messages
    {% if is_incremental() -%}
        where not exists (
            select 1
            from {{ this }} as known
            where
                known.activity_key = messages.activity_key
                and known.text_hash = messages.text_hash
                and known.rules_hash = messages.rules_hash
        )
    {%- endif %}
),

final as (
    select
        activity_key,
        text_hash,
        rules_hash,
        {{ matched_rule_names('message_text', intent) }} as intent_rules,
        {{ matched_rule_names('message_text', code) }} as code_rules,
        {{ computed_at() }} as _computed_at
    from batch
)

select * from final
