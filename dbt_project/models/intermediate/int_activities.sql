{#-
    One row per action in any channel, with the actor's identity (identity_ref, see
    int_identities) and identity evidence, the target and the conversation it belongs to,
    weighted by the activity_weights seed. The same action seen by two sources (an issue in
    the GitHub API and in GH Archive, a star in both) is one row: activity_key is built the
    same way for both and the API row wins. GH Archive events are read as actions once, by
    the incremental int_archive_activities.

    Incremental (issue 8, macros/activities.sql): a run recomputes only the activities that
    may have changed since the last run, and replaces them (delete+insert on activity_key):
    - every activity of a record (a comment, a post, a message, a commit, an issue, a star,
      an event) landed in a new or rewritten lake file, now and as it was before;
    - every activity whose row came from a lake file that is gone or rewritten;
    - forum posts of topics landed again (a topic that becomes a private message takes its
      posts out) and of topics with no row;
    - mail that stg_mail__messages wrote since the last run (`_computed_at` past the state
      table `watermark`): a late parent re-threads replies that did not change themselves;
    - trackbacks and pingbacks (few: always).
    Blog comments, forum posts, mail and commits are read for those records only (an
    activity of theirs comes from its own record); GitHub's API and GH Archive are read
    whole, so an activity both saw is chosen again from every candidate.
    Each row keeps the lake file, ingested_at and record it was computed from (`_lake_file`,
    `ingested_at`, `_input_record`) and when (`_computed_at`). `--full-refresh` rebuilds all.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='activity_key',
        on_schema_change='sync_all_columns',
        post_hook=[
            "{{ forget_tombstones('identity_ref') }}",
            "{{ activities_record_inputs() }}",
            "{{ record_run_watermark() }}",
        ],
    )
}}
{%- set mode = activities_mode() %}

-- CTEs are `not materialized`: `unioned` is read three times below, and DuckDB would
-- otherwise materialize every branch with its message bodies
with

blog_comments_all as not materialized (
    select * from {{ ref('stg_blog__comments') }}
),

reach_events as not materialized (
    select * from {{ ref('int_inbound_reach_events') }}
),

forum_posts_all as not materialized (
    select * from {{ ref('stg_discourse__posts') }}
),

forum_topics as not materialized (
    select * from {{ ref('stg_discourse__topics') }}
),

mail_messages_all as not materialized (
    select * from {{ ref('stg_mail__messages') }}
),

commits_all as not materialized (
    select * from {{ ref('stg_git__commits') }}
),

issues as not materialized (
    select * from {{ ref('stg_github__issues') }}
),

issue_comments as not materialized (
    select * from {{ ref('stg_github__comments') }}
),

stars as not materialized (
    select * from {{ ref('stg_github__stars') }}
),

archive_activities as not materialized (
    select * from {{ ref('int_archive_activities') }}
),

weights as not materialized (
    select * from {{ ref('activity_weights') }}
),

{% if mode == 'changes' %}
stored as not materialized (
    select * from {{ this }}
),

previous_inputs as materialized (
    select
        _lake_file,
        ingested_at
    from {{ state_relation('inputs') }}
    where kind = 'input'
),

current_inputs as materialized (
    {%- for input in activity_inputs() %}
    select distinct
        _lake_file,
        ingested_at
    from {{ input }}
    {{ 'union' if not loop.last }}
    {%- endfor %}
),

-- files landed or rewritten since the last run
new_inputs as materialized (
    select * from current_inputs
    except
    select * from previous_inputs
),

-- files removed or rewritten since the last run
gone_inputs as materialized (
    select * from previous_inputs
    except
    select * from current_inputs
),

-- the records of the new files, whether or not they make an activity now
new_records as materialized (
    {%- for kind, input in activity_input_tables() %}
    select {{ activity_input_record(kind) }} as _input_record
    from {{ input }}
    where {{ from_lake_pairs(input, 'new_inputs') }}
    {{ 'union' if not loop.last }}
    {%- endfor %}
),

-- topics landed again, and posts' topics with no row: their posts may come or go
changed_topics as materialized (
    select topic_key
    from forum_topics
    where {{ from_lake_pairs('forum_topics', 'new_inputs') }}
    union
    select forum_posts_all.topic_key
    from forum_posts_all
    where not exists (
        select 1
        from forum_topics
        where forum_topics.topic_key = forum_posts_all.topic_key
    )
),

-- the records whose activities are computed again: those of new files, those of stored
-- activities whose file is gone or whose topic changed, the posts of changed topics, and
-- the messages stg_mail__messages wrote since the last run (a parent that landed late
-- re-threads replies that did not change themselves)
records as materialized (
    select _input_record from new_records
    union
    select _input_record
    from stored
    where
        {{ from_lake_pairs('stored', 'gone_inputs') }}
        or (channel = 'forum' and target_key in (select changed_topics.topic_key from changed_topics))
    union
    select {{ activity_input_record('forum') }}
    from forum_posts_all
    where topic_key in (select changed_topics.topic_key from changed_topics)
    union
    select {{ activity_input_record('mail') }}
    from mail_messages_all
    where _computed_at > (select max(watermark.computed_at) from {{ state_relation('watermark') }} as watermark)
),
{% endif %}
-- the inputs whose rows make activities of their own record only are read for the records
-- computed again; those whose activities two sources share (GitHub's API and GH Archive)
-- are read whole, so every candidate of an activity meets again
blog_comments as not materialized (
    select * from blog_comments_all
    {%- if mode == 'changes' %}
    where {{ activity_input_record('blog') }} in (select records._input_record from records)
    {%- endif %}
),

forum_posts as not materialized (
    select * from forum_posts_all
    {%- if mode == 'changes' %}
    where {{ activity_input_record('forum') }} in (select records._input_record from records)
    {%- endif %}
),

mail_messages as not materialized (
    select * from mail_messages_all
    {%- if mode == 'changes' %}
    where {{ activity_input_record('mail') }} in (select records._input_record from records)
    {%- endif %}
),

commits as not materialized (
    select * from commits_all
    {%- if mode == 'changes' %}
    where {{ activity_input_record('commit') }} in (select records._input_record from records)
    {%- endif %}
),

blog as not materialized (
    select
        'blog:' || comment_key as activity_key,
        'blog' as channel,
        source,
        'blog_comment' as activity_type,
        published_at as occurred_at,
        case
            when {{ normalize_email('author_email') }} is not null then 'blog:' || lower(trim(author_email))
            when nullif(trim(author_name), '') is not null
                then 'blog:' || source || '/name:' || lower(trim(author_name))
        end as identity_ref,
        'person' as actor_kind,
        author_email as actor_email,
        null::varchar as actor_username,
        nullif(trim(author_name), '') as actor_name,
        nullif(trim(author_url), '') as actor_profile_url,
        false as actor_is_bot,
        'post' as target_type,
        post_key as target_key,
        null::varchar as repo,
        source || ':comment:' || coalesce(parent_id, comment_id) as conversation_key,
        parent_id is null as is_conversation_start,
        content_text,
        _lake_file,
        ingested_at,
        {{ activity_input_record('blog') }} as _input_record
    from blog_comments
    where is_approved and not is_linkback and published_at is not null
),

linkbacks as not materialized (
    select
        'linkback:' || source || ':' || event_id as activity_key,
        'trackback' as channel,
        source,
        'linkback' as activity_type,
        occurred_at,
        'site:' || referring_domain as identity_ref,
        'site' as actor_kind,
        null::varchar as actor_email,
        null::varchar as actor_username,
        referring_domain as actor_name,
        referring_url as actor_profile_url,
        false as actor_is_bot,
        'post' as target_type,
        post_key as target_key,
        null::varchar as repo,
        null::varchar as conversation_key,
        false as is_conversation_start,
        null::varchar as content_text,
        null::varchar as _lake_file,
        null::timestamp as ingested_at,
        'linkback:' || source || ':' || event_id as _input_record
    from reach_events
    where exclusion_reason is null and event_type in ('trackback', 'pingback')
),

forum as not materialized (
    select
        'forum:' || forum_posts.post_key as activity_key,
        'forum' as channel,
        forum_posts.source,
        case when forum_posts.post_number = 1 then 'forum_topic' else 'forum_reply' end as activity_type,
        forum_posts.created_at as occurred_at,
        'discourse:' || forum_posts.source || ':'
        || coalesce(lower(trim(forum_posts.author_username)), 'id:' || forum_posts.author_user_id) as identity_ref,
        'person' as actor_kind,
        null::varchar as actor_email,
        lower(trim(forum_posts.author_username)) as actor_username,
        coalesce(nullif(trim(forum_posts.author_name), ''), forum_posts.author_username) as actor_name,
        null::varchar as actor_profile_url,
        {{ is_bot('forum_posts.author_username') }} or forum_posts.author_user_id in ('-1', '-2') as actor_is_bot,
        'thread' as target_type,
        forum_posts.topic_key as target_key,
        null::varchar as repo,
        forum_posts.topic_key as conversation_key,
        forum_posts.post_number = 1 as is_conversation_start,
        forum_posts.content_text,
        forum_posts._lake_file,
        forum_posts.ingested_at,
        {{ activity_input_record('forum', 'forum_posts') }} as _input_record
    from forum_posts
    left join forum_topics
        on forum_posts.topic_key = forum_topics.topic_key
    where
        coalesce(forum_topics.archetype, 'regular') = 'regular'
        and forum_posts.post_type = 'regular'
        and not forum_posts.is_deleted
        and coalesce(forum_posts.author_username, forum_posts.author_user_id) is not null
),

-- lists that rewrite From for DMARC ("Jane Doe via lumen-dev <lumen-dev@lists...>") send
-- everyone's mail from the list's address: such a message is known by the name only
mail_senders as not materialized (
    select
        *,
        regexp_matches(coalesce(from_name, ''), '^.+ via [^ ]+$') as is_rewritten,
        regexp_replace(coalesce(from_name, ''), ' via [^ ]+$', '') as sender_name
    from mail_messages
),

mail as not materialized (
    select
        'mail:' || source || ':' || message_id as activity_key,
        'mailing_list' as channel,
        source,
        case when thread_depth = 0 then 'mail_thread' else 'mail_reply' end as activity_type,
        sent_at as occurred_at,
        case
            when not is_rewritten and {{ normalize_email('from_email') }} is not null then 'mail:' || from_email
            when nullif(sender_name, '') is not null then 'mail:' || source || '/name:' || lower(sender_name)
        end as identity_ref,
        'person' as actor_kind,
        case when not is_rewritten then from_email end as actor_email,
        null::varchar as actor_username,
        nullif(sender_name, '') as actor_name,
        null::varchar as actor_profile_url,
        {{ is_bot('from_email') }} as actor_is_bot,
        'thread' as target_type,
        source || ':thread:' || left(md5(thread_root_message_id), 16) as target_key,
        null::varchar as repo,
        source || ':thread:' || left(md5(thread_root_message_id), 16) as conversation_key,
        thread_depth = 0 as is_conversation_start,
        body_text as content_text,
        _lake_file,
        ingested_at,
        {{ activity_input_record('mail') }} as _input_record
    from mail_senders
    where sent_at is not null and coalesce(from_email, from_name) is not null
),

commit_authors as not materialized (
    select
        'commit:' || lower(repo) || ':' || sha as activity_key,
        'repository' as channel,
        source,
        'commit' as activity_type,
        authored_at as occurred_at,
        case
            when author_email is not null then 'git:' || author_email
            when nullif(trim(author_name), '') is not null then 'git:name:' || lower(trim(author_name))
        end as identity_ref,
        'person' as actor_kind,
        author_email as actor_email,
        author_login as actor_username,
        nullif(trim(author_name), '') as actor_name,
        null::varchar as actor_profile_url,
        author_is_bot as actor_is_bot,
        'repository' as target_type,
        lower(repo) as target_key,
        lower(repo) as repo,
        null::varchar as conversation_key,
        false as is_conversation_start,
        null::varchar as content_text,
        _lake_file,
        ingested_at,
        {{ activity_input_record('commit') }} as _input_record
    from commits
    where not is_merge and authored_at is not null
),

co_author_entries as not materialized (
    select
        source,
        repo,
        sha,
        authored_at,
        _lake_file,
        ingested_at,
        unnest(co_author_emails) as co_author_email,
        unnest(co_author_names) as co_author_name
    from commits
    where not is_merge and authored_at is not null
),

co_authors as not materialized (
    select
        'co_authored_commit:' || lower(repo) || ':' || sha || ':'
        || coalesce(nullif(co_author_email, ''), lower(trim(co_author_name))) as activity_key,
        'repository' as channel,
        source,
        'co_authored_commit' as activity_type,
        authored_at as occurred_at,
        case
            when nullif(co_author_email, '') is not null then 'git:' || co_author_email
            when nullif(trim(co_author_name), '') is not null then 'git:name:' || lower(trim(co_author_name))
        end as identity_ref,
        'person' as actor_kind,
        nullif(co_author_email, '') as actor_email,
        {{ github_login_from_email('co_author_email') }} as actor_username,
        nullif(trim(co_author_name), '') as actor_name,
        null::varchar as actor_profile_url,
        {{ is_bot('co_author_email') }} or {{ is_bot('co_author_name') }} as actor_is_bot,
        'repository' as target_type,
        lower(repo) as target_key,
        lower(repo) as repo,
        null::varchar as conversation_key,
        false as is_conversation_start,
        null::varchar as content_text,
        _lake_file,
        ingested_at,
        {{ activity_input_record('commit') }} as _input_record
    from co_author_entries
    qualify row_number() over (partition by activity_key order by co_author_name) = 1
),

github_opened as not materialized (
    select
        'opened:' || lower(repo) || '#' || number as activity_key,
        'repository' as channel,
        source,
        case when is_pull_request then 'pr_opened' else 'issue_opened' end as activity_type,
        created_at as occurred_at,
        'github:' || lower(author_login) as identity_ref,
        'person' as actor_kind,
        null::varchar as actor_email,
        lower(author_login) as actor_username,
        null::varchar as actor_name,
        null::varchar as actor_profile_url,
        author_is_bot as actor_is_bot,
        'repository' as target_type,
        lower(repo) as target_key,
        lower(repo) as repo,
        lower(repo) || '#' || number as conversation_key,
        true as is_conversation_start,
        coalesce(title, '') || chr(10) || coalesce(body_text, '') as content_text,
        _lake_file,
        ingested_at,
        {{ activity_input_record('issue') }} as _input_record
    from issues
    where author_login is not null
),

github_merged as not materialized (
    select
        'merged:' || lower(repo) || '#' || number as activity_key,
        'repository' as channel,
        source,
        'pr_merged' as activity_type,
        merged_at as occurred_at,
        'github:' || lower(author_login) as identity_ref,
        'person' as actor_kind,
        null::varchar as actor_email,
        lower(author_login) as actor_username,
        null::varchar as actor_name,
        null::varchar as actor_profile_url,
        author_is_bot as actor_is_bot,
        'repository' as target_type,
        lower(repo) as target_key,
        lower(repo) as repo,
        null::varchar as conversation_key,
        false as is_conversation_start,
        null::varchar as content_text,
        _lake_file,
        ingested_at,
        {{ activity_input_record('issue') }} as _input_record
    from issues
    where is_merged and author_login is not null
),

github_comments as not materialized (
    select
        'comment:' || lower(repo) || ':' || kind || ':' || comment_id as activity_key,
        'repository' as channel,
        source,
        kind as activity_type,
        created_at as occurred_at,
        'github:' || lower(author_login) as identity_ref,
        'person' as actor_kind,
        null::varchar as actor_email,
        lower(author_login) as actor_username,
        null::varchar as actor_name,
        null::varchar as actor_profile_url,
        author_is_bot as actor_is_bot,
        'repository' as target_type,
        lower(repo) as target_key,
        lower(repo) as repo,
        lower(repo) || '#' || number as conversation_key,
        false as is_conversation_start,
        body_text as content_text,
        _lake_file,
        ingested_at,
        {{ activity_input_record('comment') }} as _input_record
    from issue_comments
    where author_login is not null and coalesce(review_state, '') != 'PENDING'
),

github_stars as not materialized (
    select
        'star:' || lower(repo) || ':' || lower(login) as activity_key,
        'repository' as channel,
        source,
        'star' as activity_type,
        starred_at as occurred_at,
        'github:' || lower(login) as identity_ref,
        'person' as actor_kind,
        null::varchar as actor_email,
        lower(login) as actor_username,
        null::varchar as actor_name,
        null::varchar as actor_profile_url,
        is_bot as actor_is_bot,
        'repository' as target_type,
        lower(repo) as target_key,
        lower(repo) as repo,
        null::varchar as conversation_key,
        false as is_conversation_start,
        null::varchar as content_text,
        _lake_file,
        ingested_at,
        {{ activity_input_record('star') }} as _input_record
    from stars
    where starred_at is not null
),

archive as not materialized (
    select
        activity_key,
        'repository' as channel,
        source,
        activity_type,
        occurred_at,
        'github:' || actor_username as identity_ref,
        'person' as actor_kind,
        null::varchar as actor_email,
        actor_username,
        null::varchar as actor_name,
        null::varchar as actor_profile_url,
        {{ is_bot('bot_login') }} as actor_is_bot,
        'repository' as target_type,
        repo as target_key,
        repo,
        conversation_key,
        is_conversation_start,
        null::varchar as content_text,
        _lake_file,
        ingested_at,
        {{ activity_input_record('gharchive') }} as _input_record
    from archive_activities
    where activity_type is not null
),

unioned as not materialized (
    select
        *,
        1 as source_priority
    from blog
    union all
    select
        *,
        1 as source_priority
    from linkbacks
    union all
    select
        *,
        1 as source_priority
    from forum
    union all
    select
        *,
        1 as source_priority
    from mail
    union all
    select
        *,
        1 as source_priority
    from commit_authors
    union all
    select
        *,
        1 as source_priority
    from co_authors
    union all
    select
        *,
        1 as source_priority
    from github_opened
    union all
    select
        *,
        1 as source_priority
    from github_merged
    union all
    select
        *,
        1 as source_priority
    from github_comments
    union all
    select
        *,
        1 as source_priority
    from github_stars
    union all
    select
        *,
        2 as source_priority
    from archive
),
{% if mode == 'changes' %}
affected as materialized (
    select activity_key
    from unioned
    where _input_record in (select records._input_record from records)
    union
    select activity_key
    from stored
    where _input_record in (select records._input_record from records)
    union
    select activity_key from linkbacks
    union
    select activity_key
    from stored
    where channel = 'trackback'
),
{% elif mode == 'all' %}
stored as not materialized (
    select * from {{ this }}
),

affected as materialized (
    select activity_key from unioned
    union
    select activity_key from stored
),
{% endif %}
candidates as not materialized (
    select * from unioned
    {%- if mode == 'changes' %}
    where activity_key in (select affected.activity_key from affected)
    {%- endif %}
),

-- one row per action: the API beats GH Archive, then the earliest record. The ranking
-- reads the narrow columns only and the winning rows are joined back: a window over the
-- whole rows (message bodies included) sorted and spilled every row (at scale 10: 76 s
-- for the model alone that way, 42 s this way).
winners as (
    select
        activity_key,
        source_priority,
        occurred_at,
        source,
        count(*) over (
            partition by activity_key, source_priority, occurred_at, source
        ) as tied_rows
    from candidates
    where identity_ref is not null and occurred_at is not null
    qualify rank() over (
        partition by activity_key order by source_priority, occurred_at, source
    ) = 1
),

winning_rows as not materialized (
    select
        candidates.*,
        winners.tied_rows
    from candidates
    inner join winners
        on
            candidates.activity_key = winners.activity_key
            and candidates.source_priority = winners.source_priority
            and candidates.occurred_at = winners.occurred_at
            and candidates.source is not distinct from winners.source
    where candidates.identity_ref is not null
),

-- rows tied on all of that (the same action recorded twice at the same instant) are few:
-- only they go through a window over whole rows
deduplicated as (
    select * from winning_rows
    where tied_rows = 1
    union all
    select * from winning_rows
    where tied_rows > 1
    qualify row_number() over (partition by activity_key order by channel, activity_type) = 1
),

final as (
    select
        deduplicated.activity_key,
        deduplicated.channel,
        deduplicated.source,
        deduplicated.activity_type,
        deduplicated.occurred_at,
        deduplicated.identity_ref,
        deduplicated.actor_kind,
        -- raw-ish: identity evidence for int_identities; marts never select it
        deduplicated.actor_email,
        deduplicated.actor_username,
        deduplicated.actor_name,
        deduplicated.actor_profile_url,
        deduplicated.actor_is_bot,
        deduplicated.target_type,
        deduplicated.target_key,
        deduplicated.repo,
        deduplicated.conversation_key,
        deduplicated.is_conversation_start,
        deduplicated.content_text,
        coalesce(weights.weight, 0) as weight,
        coalesce(weights.is_contribution, false) as is_contribution,
        deduplicated._lake_file,
        deduplicated.ingested_at,
        deduplicated._input_record,
        {{ computed_at() }} as _computed_at
    from deduplicated
    left join weights
        on deduplicated.activity_type = weights.activity_type
)

select * from final
{%- if mode != 'full' %}
-- an activity recomputed and gone: a row with the key only (tombstones())
union all by name
{{ tombstones() }}
{%- endif %}
