{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['source', 'post_id'],
        on_schema_change='append_new_columns',
        pre_hook="{{ lake_forget_removed_files('discourse', 'forum_posts') }}",
    )
}}

with

lake_rows as not materialized (
    select * from {{ lake_source_incremental('discourse', 'forum_posts') }}
),

latest as (
    {{ dedup_lake_latest('lake_rows', ['source', 'post_id']) }}
),

renamed as (
    select
        source || ':' || post_id as post_key,
        source,
        post_id,
        source || ':' || topic_id as topic_key,
        topic_id,
        post_number,
        reply_to_post_number,
        coalesce(lower(trim(post_type)), 'regular') as post_type,
        url,
        author_user_id,
        author_username,
        author_name,
        author_trust_level,
        author_title,
        author_primary_group,
        coalesce(author_is_staff, false) as author_is_staff,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('deleted_at') }} as deleted_at,
        deleted_at is not null as is_deleted,
        content_text,
        like_count,
        reply_count,
        {{ to_utc('ingested_at') }} as ingested_at,
        run_id,
        _lake_file,
        -- when a run wrote the row
        {{ computed_at() }} as _computed_at
    from latest
)

select * from renamed
{{ lake_newer_than_loaded('renamed', ['source', 'post_id']) }}
