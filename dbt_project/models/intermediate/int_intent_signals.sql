{#-
    Buying intent (see the intent_signals docs block): every forum post, mailing-list message,
    blog comment, issue or pull request and comment by a community member (bots and staff
    excluded) whose text (quoted `>` lines removed) matches a rule of the intent_rules seed
    (see int_message_rule_matches); one row per message and rule that fired, with the
    person's organization at the time.
-#}
{{ config(materialized='table') }}

with

person_activities as (
    select * from {{ ref('int_person_activities') }}
),

rule_matches as (
    select * from {{ ref('int_message_rule_matches') }}
),

rules as (
    select * from {{ ref('intent_rules') }}
),

messages as (
    select
        person_activities.activity_key,
        person_activities.person_id,
        person_activities.organization,
        person_activities.channel,
        person_activities.activity_type,
        person_activities.occurred_at,
        person_activities.month,
        unnest(rule_matches.intent_rules) as rule
    from person_activities
    inner join rule_matches
        on person_activities.activity_key = rule_matches.activity_key
    where
        not person_activities.is_bot
        and not person_activities.is_staff
        and person_activities.activity_type in (
            'forum_topic', 'forum_reply', 'mail_thread', 'mail_reply', 'blog_comment',
            'issue_opened', 'pr_opened', 'issue_comment', 'review_comment'
        )
),

final as (
    select
        messages.activity_key,
        messages.person_id,
        messages.organization,
        messages.channel,
        messages.activity_type,
        messages.occurred_at,
        messages.month,
        rules.signal,
        messages.rule
    from messages
    inner join rules
        on messages.rule = rules.rule
)

select * from final
