with

lake_rows as not materialized (
    select * from {{ lake_source('github', 'repo_issues') }}
),

latest as (
    {{ dedup_lake_latest('lake_rows', ['repo', 'number']) }}
),

renamed as (
    select
        source,
        repo,
        number,
        issue_id,
        coalesce(is_pull_request, false) as is_pull_request,
        title,
        lower(state) as state,
        state_reason,
        coalesce(labels, []) as labels,
        author_login,
        author_association,
        author_type,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('closed_at') }} as closed_at,
        {{ to_utc('merged_at') }} as merged_at,
        coalesce(is_draft, false) as is_draft,
        comments,
        url,
        body_text,
        {{ to_utc('ingested_at') }} as ingested_at,
        run_id,
        -- the row's lake file: int_activities tells changed rows by it and ingested_at
        _lake_file,
        repo || '#' || number as item_key,
        merged_at is not null as is_merged,
        coalesce(author_type = 'Bot', false) or {{ is_bot('author_login') }} as author_is_bot
    from latest
)

select * from renamed
