{#-
    Every GH Archive event read as an action (int_activities' GitHub-side rows): its
    activity_key (built as the API's rows build theirs, so the two meet in int_activities),
    type, actor and conversation, read from the event's JSON payload. One row per event;
    activity_type is null for an event that is no action (an issue closed, a comment edited,
    an event without actor or repository).

    Reading payloads is the costliest part of the activities, and an event never changes:
    the model is incremental. A run reads only the events of staging rows it has not seen
    (a lake file and its ingested_at it has no row of; a file rewritten in place has a new
    ingested_at), and after the run forgets the rows whose lake file and ingested_at are no
    longer in staging (a file removed, or rewritten without some of its events).
    Whether the actor is a bot is decided in int_activities (bot_login), so a change to the
    bot_patterns seed needs no rebuild here.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        on_schema_change='sync_all_columns',
        post_hook="{{ forget_unstaged_events() }}",
    )
}}

with

events as (
    select * from {{ ref('stg_gharchive__events') }}
),

batch as (
    select *
    from events
    {% if is_incremental() -%}
        where not exists (
            select 1
            from (
                select distinct
                    _lake_file,
                    ingested_at
                from {{ this }}
            ) as loaded
            where loaded._lake_file = events._lake_file and loaded.ingested_at = events.ingested_at
        )
    {%- endif %}
),

typed as (
    select
        *,
        case
            when actor_login is null or repo_name is null then null
            when event_type = 'IssuesEvent' and action = 'opened' then 'issue_opened'
            when event_type = 'PullRequestEvent' and action = 'opened' then 'pr_opened'
            when
                event_type = 'PullRequestEvent' and action = 'closed'
                and json_extract(payload, '$.pull_request.merged')::boolean
                then 'pr_merged'
            when event_type = 'IssueCommentEvent' and action = 'created' then 'issue_comment'
            when event_type = 'PullRequestReviewEvent' then 'review'
            when event_type = 'PullRequestReviewCommentEvent' and action = 'created' then 'review_comment'
            when event_type = 'WatchEvent' then 'star'
            when event_type = 'ForkEvent' then 'fork'
            when event_type = 'ReleaseEvent' and action = 'published' then 'release'
            when event_type = 'PushEvent' then 'push'
            when event_type in ('IssuesEvent', 'PullRequestEvent', 'IssueCommentEvent', 'PullRequestReviewCommentEvent')
                then null
            else 'other_event'
        end as activity_type,
        coalesce(
            json_extract_string(payload, '$.issue.number'),
            json_extract_string(payload, '$.pull_request.number'),
            json_extract_string(payload, '$.number')
        ) as item_number,
        -- the author of a merged pull request (the event's actor is whoever merged it)
        lower(json_extract_string(payload, '$.pull_request.user.login')) as pull_author_login
    from batch
),

final as (
    select
        event_id,
        source,
        activity_type,
        created_at as occurred_at,
        ingested_at,
        _lake_file,
        case activity_type
            when 'issue_opened' then 'opened:' || lower(repo_name) || '#' || item_number
            when 'pr_opened' then 'opened:' || lower(repo_name) || '#' || item_number
            when 'pr_merged' then 'merged:' || lower(repo_name) || '#' || item_number
            when 'issue_comment'
                then 'comment:' || lower(repo_name) || ':issue_comment:' || json_extract_string(payload, '$.comment.id')
            when 'review_comment'
                then
                    'comment:' || lower(repo_name) || ':review_comment:' || json_extract_string(payload, '$.comment.id')
            when 'review'
                then 'comment:' || lower(repo_name) || ':review:' || json_extract_string(payload, '$.review.id')
            when 'star' then 'star:' || lower(repo_name) || ':' || lower(actor_login)
            else 'gharchive:' || event_id
        end as activity_key,
        case
            when activity_type = 'pr_merged' then coalesce(pull_author_login, lower(actor_login))
            else lower(actor_login)
        end as actor_username,
        -- what is_bot() is asked about in int_activities
        coalesce(case when activity_type = 'pr_merged' then pull_author_login end, actor_login) as bot_login,
        lower(repo_name) as repo,
        case
            when activity_type in ('issue_opened', 'pr_opened', 'issue_comment', 'review', 'review_comment')
                then lower(repo_name) || '#' || item_number
        end as conversation_key,
        coalesce(activity_type in ('issue_opened', 'pr_opened'), false) as is_conversation_start
    from typed
)

select * from final
