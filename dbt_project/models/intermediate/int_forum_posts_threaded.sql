{#-
    Every forum post and mailing-list message as a post in a thread, in one shape (the
    opener first: see post_position):
    a Discourse topic is a thread; a mailing-list thread is the set of messages sharing a
    thread root (stg_mail__messages). Author identity is a hash (never an email).

    Incremental (issue 8): a run recomputes every post of the threads that have a post the
    staging models wrote since its last run (their `_computed_at`: new, re-landed or
    re-threaded), a post gone from staging, or a topic whose title, category, url or
    archetype changed (state table `topics`); a post that moved keeps both threads. The
    versions it replaces go to its change log (macros/change_log.sql) for fct_forum_threads.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='logged_delete_insert',
        unique_key='post_key',
        on_schema_change='sync_all_columns',
        post_hook=[
            "{{ forget_tombstones('channel', 'posts') }}",
            "{{ change_log_maintenance() }}",
            "{{ record_state('topics', forum_thread_topics(ref('stg_discourse__topics'))) }}",
            "{{ record_run_watermark() }}",
        ],
    )
}}
{%- set mode = incremental_mode(['watermark', 'topics']) %}

with

discourse_posts as not materialized (
    select * from {{ ref('stg_discourse__posts') }}
),

discourse_topics as (
    select * from {{ ref('stg_discourse__topics') }}
),

mail_messages as not materialized (
    select
        *,
        source || ':thread:' || left(md5(thread_root_message_id), 16) as thread_key,
        source || ':message:' || left(md5(message_id), 16) as post_key
    from {{ ref('stg_mail__messages') }}
),
{% if mode == 'changes' %}
stored as not materialized (
    select
        post_key,
        thread_key,
        channel
    from {{ this }}
),

watermark as (
    select max(computed_at) as computed_at from {{ state_relation('watermark') }}
),

-- the posts staging wrote since the last run, in their thread now
changed_posts as materialized (
    select
        post_key,
        topic_key as thread_key
    from discourse_posts
    where _computed_at > (select watermark.computed_at from watermark)
    union all
    select
        post_key,
        thread_key
    from mail_messages
    where _computed_at > (select watermark.computed_at from watermark)
),

affected as materialized (
    select thread_key from changed_posts
    union
    -- the thread a changed post was in
    select stored.thread_key
    from stored
    where stored.post_key in (select changed_posts.post_key from changed_posts)
    union
    -- topics whose title, category, url or archetype changed
    select topic_key
    from (
        {{ changed_keys(
            '(' ~ forum_thread_topics('discourse_topics') ~ ')',
            state_relation('topics'),
            'topic_key',
        ) }}
    ) as changed_topics
    union
    -- posts gone from staging
    select stored.thread_key
    from stored
    where
        stored.channel = 'forum'
        and not exists (
            select 1
            from discourse_posts
            where discourse_posts.post_key = stored.post_key
        )
    union
    select stored.thread_key
    from stored
    where
        stored.channel = 'mailing_list'
        and not exists (
            select 1
            from mail_messages
            where mail_messages.post_key = stored.post_key
        )
),
{% endif %}

thread_posts as (
    select * from discourse_posts
    {%- if mode == 'changes' %}
    where topic_key in (select affected.thread_key from affected)
    {%- endif %}
),

forum as (
    select
        'forum' as channel,
        posts.source,
        posts.topic_key as thread_key,
        posts.post_key,
        coalesce(topics.category_name, topics.category_id) as container,
        topics.title as thread_title,
        topics.url as thread_url,
        posts.post_number as position_hint,
        posts.post_number = 1 as is_thread_start,
        posts.created_at as posted_at,
        md5(
            'discourse:' || posts.source || ':'
            || coalesce('id:' || posts.author_user_id, 'name:' || lower(posts.author_username), '')
        ) as author_hash,
        coalesce(posts.author_user_id, posts.author_username) is not null as has_author,
        coalesce(posts.author_name, posts.author_username) as author_display_name,
        posts.post_type = 'regular' and not posts.is_deleted as is_countable
    from thread_posts as posts
    left join discourse_topics as topics
        on posts.topic_key = topics.topic_key
    where coalesce(topics.archetype, 'regular') = 'regular'
),

thread_messages as (
    select * from mail_messages
    {%- if mode == 'changes' %}
    where thread_key in (select affected.thread_key from affected)
    {%- endif %}
),

-- the roots of those threads (their subject is the thread's title)
thread_roots as (
    select
        source,
        message_id,
        subject
    from mail_messages
    where (source, message_id) in (
        select (thread_messages.source, thread_messages.thread_root_message_id)
        from thread_messages
    )
),

mail as (
    select
        'mailing_list' as channel,
        messages.source,
        messages.thread_key,
        messages.post_key,
        messages.list_name as container,
        roots.subject as thread_title,
        null::varchar as thread_url,
        messages.thread_depth as position_hint,
        messages.thread_depth = 0 as is_thread_start,
        messages.sent_at as posted_at,
        md5(
            'mail:'
            || coalesce('email:' || messages.from_email, 'name:' || lower(messages.from_name), '')
        ) as author_hash,
        coalesce(messages.from_email, messages.from_name) is not null as has_author,
        messages.from_name as author_display_name,
        true as is_countable
    from thread_messages as messages
    left join thread_roots as roots
        on
            messages.source = roots.source
            and messages.thread_root_message_id = roots.message_id
),

unioned as (
    select * from forum
    union all
    select * from mail
),

ordered as (
    select
        *,
        -- the thread's start first (Discourse post 1, the mail thread root), whatever the
        -- clocks say; then Discourse posts in post_number order (posts moved in by a merge
        -- keep older timestamps) and mail by time
        row_number() over (
            partition by thread_key
            order by
                not is_countable,
                not is_thread_start,
                case when channel = 'forum' then position_hint end,
                posted_at,
                post_key
        ) as post_position,
        {{ computed_at() }} as _computed_at
    from unioned
)

select * from ordered
{%- if mode != 'full' %}
-- a post recomputed and gone: a row with the key only
union all by name
select
    stored_rows.post_key,
    {{ computed_at() }} as _computed_at
from {{ this }} as stored_rows
where
    {%- if mode == 'changes' %}
    stored_rows.thread_key in (select affected.thread_key from affected)
    and
    {%- endif %}
    not exists (
        select 1
        from ordered
        where ordered.post_key = stored_rows.post_key
    )
{%- endif %}
