{#-
    Every forum post, mailing-list message, blog comment and issue/pull-request comment by a
    person (bots excluded) with the conversation_code_rules that match its text (quoted
    `>` lines removed, so a reply quoting code does not count twice; see
    int_message_rule_matches): talks_about_code when any rule matched at least its
    min_matches times.
-#}
{{ config(materialized='table') }}

with

person_activities as (
    select * from {{ ref('int_person_activities') }}
),

rule_matches as (
    select * from {{ ref('int_message_rule_matches') }}
),

final as (
    select
        person_activities.activity_key,
        person_activities.person_id,
        person_activities.channel,
        person_activities.activity_type,
        person_activities.month,
        rule_matches.code_rules as matched_rules,
        len(rule_matches.code_rules) > 0 as talks_about_code
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
