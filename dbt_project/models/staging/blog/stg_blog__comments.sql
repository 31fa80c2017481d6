{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['source', 'comment_id'],
        on_schema_change='append_new_columns',
        pre_hook="{{ lake_forget_removed_files('blog', 'blog_comments') }}",
    )
}}

with

lake_rows as not materialized (
    select * from {{ lake_source_incremental('blog', 'blog_comments') }}
),

latest as (
    {{ dedup_lake_latest('lake_rows', ['source', 'comment_id']) }}
),

normalized as (
    select
        *,
        coalesce(nullif(lower(trim(comment_type)), ''), 'comment') as comment_type_normalized,
        -- WXR writes 1/0/spam/trash/post-trashed, the REST API approved/hold/spam/trash.
        case lower(trim(status))
            when '1' then 'approved'
            when 'approve' then 'approved'
            when '0' then 'pending'
            when 'hold' then 'pending'
            when 'unapproved' then 'pending'
            when 'post-trashed' then 'trash'
            else nullif(lower(trim(status)), '')
        end as status_normalized
    from latest
),

renamed as (
    select
        source || ':' || comment_id as comment_key,
        source,
        comment_id,
        case when post_id is not null then source || ':' || post_id end as post_key,
        post_id,
        post_url,
        parent_id,
        comment_type_normalized as comment_type,
        status_normalized as status,
        author_name,
        -- raw-ish layer: marts never select author_email
        author_email,
        author_url,
        {{ url_domain('author_url') }} as author_domain,
        {{ to_utc('published_at') }} as published_at,
        content_text,
        -- feeds publish approved comments only and carry no status
        coalesce(status_normalized = 'approved', status_normalized is null) as is_approved,
        comment_type_normalized = 'pingback' as is_pingback,
        comment_type_normalized = 'trackback' as is_trackback,
        comment_type_normalized in ('pingback', 'trackback') as is_linkback,
        {{ to_utc('ingested_at') }} as ingested_at,
        run_id,
        _lake_file
    from normalized
)

select * from renamed
{{ lake_newer_than_loaded('renamed', ['source', 'comment_id']) }}
