{#-
    Incremental (issue 8, macros/change_log.sql): a run recomputes the threads of the
    posts whose thread, position, author, time or thread details changed since its last run
    (the old and the new thread, from int_forum_posts_threaded's change log). A thread left
    without an opener is deleted after the run (the contract's not-null columns leave no
    room for tombstones).
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='thread_key',
        on_schema_change='fail',
        post_hook=[
            "{{ forget_rows_where(forum_thread_gone(ref('int_forum_posts_threaded')), 'threads') }}",
            "{{ record_run_watermark() }}",
        ],
    )
}}
{%- set mode = upstream_changes_mode(ref('int_forum_posts_threaded')) %}

with

all_thread_posts as not materialized (
    select * from {{ ref('int_forum_posts_threaded') }}
),
{% if mode == 'changes' %}
affected as materialized (
    select distinct changed.thread_key
    from (
        {{ changed_versions(ref('int_forum_posts_threaded'), [
            'post_key', 'thread_key', 'channel', 'source', 'container', 'thread_title',
            'thread_url', 'posted_at', 'author_hash', 'has_author', 'author_display_name',
            'is_countable', 'post_position',
        ]) }}
    ) as changed
),
{% elif mode == 'all' %}
affected as materialized (
    select thread_key from all_thread_posts
    union
    select thread_key from {{ this }}
),
{% endif %}
thread_posts as (
    select * from all_thread_posts
    {%- if mode != 'full' %}
    where thread_key in (select affected.thread_key from affected)
    {%- endif %}
),

countable as (
    select * from thread_posts
    where is_countable
),

openers as (
    select * from countable
    where post_position = 1
),

first_responses as (
    select
        openers.thread_key,
        replies.posted_at as first_response_at,
        replies.author_display_name as first_responder
    from openers
    inner join countable as replies
        on
            openers.thread_key = replies.thread_key
            and replies.post_position > 1
            and replies.has_author
            and openers.author_hash != replies.author_hash
    qualify row_number() over (
        partition by openers.thread_key order by replies.post_position
    ) = 1
),

thread_counts as (
    select
        thread_key,
        count(*) - 1 as replies,
        count(distinct author_hash) filter (where has_author) as participants,
        max(posted_at) as last_activity_at
    from countable
    group by thread_key
),

threads as (
    select
        openers.thread_key,
        openers.channel,
        openers.source,
        openers.container,
        {{ mask_emails('openers.thread_title') }} as title,
        openers.thread_url,
        openers.posted_at as started_at,
        date_trunc('month', openers.posted_at) as started_month,
        {{ mask_emails('openers.author_display_name') }} as opened_by,
        first_responses.first_response_at,
        {{ mask_emails('first_responses.first_responder') }} as first_responder,
        -- a responder whose clock is behind the opener's would give a negative time
        -- (greatest() skips nulls, so unanswered threads need the case)
        case
            when first_responses.first_response_at is not null
                then greatest(
                    date_diff('second', openers.posted_at, first_responses.first_response_at), 0
                ) / 3600.0
        end as hours_to_first_response,
        first_responses.first_response_at is not null as is_answered,
        thread_counts.replies,
        thread_counts.participants,
        thread_counts.last_activity_at
    from openers
    inner join thread_counts
        on openers.thread_key = thread_counts.thread_key
    left join first_responses
        on openers.thread_key = first_responses.thread_key
)

select
    cast(thread_key as varchar) as thread_key,
    cast(channel as varchar) as channel,
    cast(source as varchar) as source,
    cast(container as varchar) as container,
    cast(title as varchar) as title,
    cast(thread_url as varchar) as thread_url,
    cast(started_at as timestamp) as started_at,
    cast(started_month as date) as started_month,
    cast(opened_by as varchar) as opened_by,
    cast(first_response_at as timestamp) as first_response_at,
    cast(first_responder as varchar) as first_responder,
    cast(hours_to_first_response as double) as hours_to_first_response,
    cast(is_answered as boolean) as is_answered,
    cast(replies as bigint) as replies,
    cast(participants as bigint) as participants,
    cast(last_activity_at as timestamp) as last_activity_at
from threads
