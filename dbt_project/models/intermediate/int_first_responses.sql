{#-
    Every conversation start (forum topic, mailing-list thread, issue, pull request, top-level
    blog comment) with its first response: the earliest activity in the same conversation by
    another person (the same person under another identity is still the author), bots
    excluded; and the first by staff and by the community separately. Items opened by bots
    are left out. Responses stamped before the item (clock skew) count as 0 hours.

    Incremental (issue 8, macros/change_log.sql): a run recomputes the conversations of the
    activities whose conversation, person, flags, type or time changed since its last run
    (their old and new conversations, from int_person_activities' change log).
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='conversation_key',
        on_schema_change='sync_all_columns',
        post_hook=[
            "{{ forget_tombstones('item_kind', 'conversations') }}",
            "{{ record_run_watermark() }}",
        ],
    )
}}
{%- set mode = upstream_changes_mode(ref('int_person_activities')) %}

with

all_activities as not materialized (
    select * from {{ ref('int_person_activities') }}
),
{% if mode == 'changes' %}
-- the conversations of the activities that changed, before and after
affected as materialized (
    select distinct conversation_key
    from (
        {{ changed_versions(ref('int_person_activities'), [
            'activity_key', 'conversation_key', 'person_id', 'is_staff', 'is_bot',
            'occurred_at', 'activity_type', 'is_conversation_start', 'channel',
        ]) }}
    ) as changed
    where conversation_key is not null
),
{% elif mode == 'all' %}
affected as materialized (
    select conversation_key from all_activities where conversation_key is not null
    union
    select conversation_key from {{ this }}
),
{% endif %}
activities as (
    select * from all_activities
    {%- if mode != 'full' %}
    where conversation_key in (select affected.conversation_key from affected)
    {%- endif %}
),

starts as (
    select
        conversation_key,
        channel,
        person_id as author_person_id,
        is_staff as author_is_staff,
        occurred_at as opened_at,
        case activity_type
            when 'forum_topic' then 'forum_topic'
            when 'mail_thread' then 'mailing_list_thread'
            when 'issue_opened' then 'issue'
            when 'pr_opened' then 'pull_request'
            when 'blog_comment' then 'blog_comment'
        end as item_kind
    from activities
    where is_conversation_start and not is_bot and conversation_key is not null
    qualify row_number() over (partition by conversation_key order by occurred_at, activity_key) = 1
),

responses as (
    select
        starts.conversation_key,
        min(replies.occurred_at) as first_response_at,
        min(replies.occurred_at) filter (where replies.is_staff) as first_staff_response_at,
        min(replies.occurred_at) filter (where not replies.is_staff) as first_community_response_at
    from starts
    inner join activities as replies
        on
            starts.conversation_key = replies.conversation_key
            and not replies.is_conversation_start
            and not replies.is_bot
            and starts.author_person_id != replies.person_id
    group by starts.conversation_key
),

final as (
    select
        starts.conversation_key,
        starts.channel,
        starts.item_kind,
        starts.author_person_id,
        starts.author_is_staff,
        starts.opened_at,
        responses.first_response_at,
        responses.first_staff_response_at,
        responses.first_community_response_at,
        cast(date_trunc('month', starts.opened_at) as date) as month,
        -- greatest() skips nulls: an unanswered item must stay null, not 0 hours
        case
            when responses.first_response_at is not null
                then greatest(date_diff('second', starts.opened_at, responses.first_response_at), 0) / 3600.0
        end as hours_to_first_response,
        -- greatest() skips nulls: an unanswered item must stay null, not 0 hours
        case
            when responses.first_staff_response_at is not null
                then greatest(date_diff('second', starts.opened_at, responses.first_staff_response_at), 0) / 3600.0
        end as hours_to_first_staff_response,
        -- greatest() skips nulls: an unanswered item must stay null, not 0 hours
        case
            when responses.first_community_response_at is not null
                then greatest(date_diff('second', starts.opened_at, responses.first_community_response_at), 0) / 3600.0
        end as hours_to_first_community_response,
        {{ computed_at() }} as _computed_at
    from starts
    left join responses
        on starts.conversation_key = responses.conversation_key
    where starts.item_kind is not null
)

select * from final
{%- if mode != 'full' %}
-- a conversation recomputed and gone: a row with the key only (tombstones())
union all by name
{{ tombstones(key='conversation_key') }}
{%- endif %}
