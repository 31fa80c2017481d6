{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['repo', 'kind', 'comment_id'],
        on_schema_change='append_new_columns',
        pre_hook="{{ lake_forget_removed_files('github', 'repo_comments') }}",
    )
}}

with

lake_rows as not materialized (
    select * from {{ lake_source_incremental('github', 'repo_comments') }}
),

latest as (
    {{ dedup_lake_latest('lake_rows', ['repo', 'kind', 'comment_id']) }}
),

renamed as (
    select
        source,
        repo,
        kind,
        comment_id,
        number,
        author_login,
        author_association,
        author_type,
        upper(review_state) as review_state,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
        url,
        body_text,
        {{ to_utc('ingested_at') }} as ingested_at,
        run_id,
        _lake_file,
        repo || ':' || kind || ':' || comment_id as comment_key,
        repo || '#' || number as item_key,
        coalesce(author_type = 'Bot', false) or {{ is_bot('author_login') }} as author_is_bot
    from latest
)

select * from renamed
{{ lake_newer_than_loaded('renamed', ['repo', 'kind', 'comment_id']) }}
