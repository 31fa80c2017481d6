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
        repo || ':' || login as star_key,
        coalesce(user_type = 'Bot', false) or {{ is_bot('login') }} as is_bot
    from latest
)

select * from renamed
