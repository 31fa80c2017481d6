{#-
    Every forum post and mailing-list message as a post in a thread, in one shape (the
    opener first: see post_position):
    a Discourse topic is a thread; a mailing-list thread is the set of messages sharing a
    thread root (stg_mail__messages). Author identity is a hash (never an email).
-#}
with

discourse_posts as (
    select * from {{ ref('stg_discourse__posts') }}
),

discourse_topics as (
    select * from {{ ref('stg_discourse__topics') }}
),

mail_messages as (
    select * from {{ ref('stg_mail__messages') }}
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
    from discourse_posts as posts
    left join discourse_topics as topics
        on posts.topic_key = topics.topic_key
    where coalesce(topics.archetype, 'regular') = 'regular'
),

mail as (
    select
        'mailing_list' as channel,
        messages.source,
        messages.source || ':thread:' || left(md5(messages.thread_root_message_id), 16) as thread_key,
        messages.source || ':message:' || left(md5(messages.message_id), 16) as post_key,
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
    from mail_messages as messages
    left join mail_messages as roots
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
        ) as post_position
    from unioned
)

select * from ordered
