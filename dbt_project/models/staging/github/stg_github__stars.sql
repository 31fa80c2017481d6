with

lake_rows as not materialized (
    select * from {{ lake_source('github', 'repo_stars') }}
),

latest as (
    {{ dedup_lake_latest('lake_rows', ['repo', 'login']) }}
),

renamed as (
    select
        source,
        repo,
        login,
        user_id,
        user_type,
        {{ to_utc('starred_at') }} as starred_at,
        {{ to_utc('ingested_at') }} as ingested_at,
        run_id,
        -- the row's lake file: int_activities tells changed rows by it and ingested_at
        _lake_file,
        repo || ':' || login as star_key,
        coalesce(user_type = 'Bot', false) or {{ is_bot('login') }} as is_bot
    from latest
)

select * from renamed
