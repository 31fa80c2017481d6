{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['repo', 'sha'],
        on_schema_change='append_new_columns',
        pre_hook="{{ lake_forget_removed_files('git', 'repo_commits') }}",
    )
}}

with

lake_rows as not materialized (
    select * from {{ lake_source_incremental('git', 'repo_commits') }}
),

-- the same commit may come from several sources (a mirror and a fork): one row per repo + sha
latest as (
    {{ dedup_lake_latest('lake_rows', ['repo', 'sha']) }}
),

renamed as (
    select
        source,
        repo,
        sha,
        coalesce(parents, []) as parents,
        coalesce(is_merge, len(coalesce(parents, [])) > 1) as is_merge,
        author_name,
        -- raw-ish layer: marts never select emails
        nullif(lower(trim(author_email)), '') as author_email,
        committer_name,
        nullif(lower(trim(committer_email)), '') as committer_email,
        {{ to_utc('authored_at') }} as authored_at,
        author_utc_offset_minutes,
        {{ to_utc('committed_at') }} as committed_at,
        committer_utc_offset_minutes,
        message,
        files_changed,
        insertions,
        deletions,
        coalesce(co_author_names, []) as co_author_names,
        list_transform(coalesce(co_author_emails, []), lambda e: lower(trim(e))) as co_author_emails,
        {{ to_utc('ingested_at') }} as ingested_at,
        run_id,
        _lake_file,
        repo || ':' || sha as commit_key,
        split_part(message, chr(10), 1) as message_subject,
        {{ github_login_from_email('author_email') }} as author_login,
        {{ is_bot('author_name') }} or {{ is_bot('author_email') }} as author_is_bot
    from latest
)

select * from renamed
{{ lake_newer_than_loaded('renamed', ['repo', 'sha']) }}
