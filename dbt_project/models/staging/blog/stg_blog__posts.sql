with

lake_rows as not materialized (
    select * from {{ lake_source('blog', 'blog_posts') }}
),

latest as (
    {{ dedup_lake_latest('lake_rows', ['source', 'post_id']) }}
),

renamed as (
    select
        source || ':' || post_id as post_key,
        source,
        post_id,
        lower(trim(post_type)) as post_type,
        lower(trim(status)) as status,
        title,
        slug,
        url,
        {{ url_domain('url') }} as post_domain,
        site_url,
        {{ url_domain('site_url') }} as site_domain,
        author_name,
        author_login,
        {{ to_utc('published_at') }} as published_at,
        {{ to_utc('modified_at') }} as modified_at,
        content_text,
        categories,
        tags,
        comment_count,
        comments_feed_url,
        {{ to_utc('ingested_at') }} as ingested_at,
        run_id
    from latest
)

select * from renamed
