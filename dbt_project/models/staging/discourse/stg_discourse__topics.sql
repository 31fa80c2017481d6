with

lake_rows as not materialized (
    select * from {{ lake_source('discourse', 'forum_topics') }}
),

latest as (
    {{ dedup_lake_latest('lake_rows', ['source', 'topic_id']) }}
),

renamed as (
    select
        source || ':' || topic_id as topic_key,
        source,
        topic_id,
        site_url,
        title,
        slug,
        url,
        category_id,
        category_name,
        coalesce(tags, []) as tags,
        author_user_id,
        author_username,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('last_posted_at') }} as last_posted_at,
        {{ to_utc('bumped_at') }} as bumped_at,
        posts_count,
        reply_count,
        views,
        like_count,
        coalesce(pinned, false) as is_pinned,
        coalesce(closed, false) as is_closed,
        coalesce(archived, false) as is_archived,
        coalesce(visible, true) as is_visible,
        coalesce(lower(trim(archetype)), 'regular') as archetype,
        {{ to_utc('ingested_at') }} as ingested_at,
        run_id,
        -- the row's lake file: int_activities tells changed rows by it and ingested_at
        _lake_file
    from latest
)

select * from renamed
