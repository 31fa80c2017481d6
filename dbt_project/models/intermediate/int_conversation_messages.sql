{#-
    Every forum post, mailing-list message, blog comment and issue/pull-request comment by a
    person (bots excluded) with the conversation_code_rules that match its text (quoted
    `>` lines removed, so a reply quoting code does not count twice): talks_about_code when
    any rule matched at least its min_matches times.
-#}
{{ config(materialized='table') }}

with

person_activities as (
    select * from {{ ref('int_person_activities') }}
),

activities as (
    select * from {{ ref('int_activities') }}
),

rules as (
    select * from {{ ref('conversation_code_rules') }}
),

messages as (
    select
        person_activities.activity_key,
        person_activities.person_id,
        person_activities.channel,
        person_activities.activity_type,
        person_activities.month,
        regexp_replace(coalesce(activities.content_text, ''), '(^|\n)[ \t]*>[^\n]*', '', 'g') as message_text
    from person_activities
    inner join activities
        on person_activities.activity_key = activities.activity_key
    where
        not person_activities.is_bot
        and person_activities.activity_type in (
            'forum_topic', 'forum_reply', 'mail_thread', 'mail_reply', 'blog_comment', 'issue_comment', 'review_comment'
        )
),

matches as (
    select
        messages.activity_key,
        list(rules.rule order by rules.rule) as matched_rules
    from messages
    inner join rules
        on len(regexp_extract_all(messages.message_text, rules.pattern)) >= rules.min_matches
    group by messages.activity_key
),

final as (
    select
        messages.activity_key,
        messages.person_id,
        messages.channel,
        messages.activity_type,
        messages.month,
        coalesce(matches.matched_rules, []) as matched_rules,
        matches.activity_key is not null as talks_about_code
    from messages
    left join matches
        on messages.activity_key = matches.activity_key
)

select * from final
