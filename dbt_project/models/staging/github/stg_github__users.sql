with

lake_rows as not materialized (
    select * from {{ lake_source('github', 'repo_users') }}
),

-- profiles are global to GitHub: one row per login, the latest fetch wins
latest as (
    {{ dedup_lake_latest('lake_rows', ['lower(login)']) }}
),

renamed as (
    select
        source,
        lower(login) as login,
        user_id,
        user_type,
        nullif(trim(name), '') as name,
        nullif(trim(company), '') as company,
        nullif(trim(blog), '') as blog,
        nullif(trim(location), '') as location,
        -- raw-ish layer: marts never select email
        nullif(lower(trim(email)), '') as email,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('ingested_at') }} as ingested_at,
        run_id,
        coalesce(user_type = 'Bot', false) or {{ is_bot('login') }} as is_bot
    from latest
)

select * from renamed
