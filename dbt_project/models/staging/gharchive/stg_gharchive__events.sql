{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['event_id'],
        on_schema_change='append_new_columns',
        pre_hook="{{ lake_forget_removed_files('gharchive', 'repo_events') }}",
    )
}}

with

lake_rows as not materialized (
    select * from {{ lake_source_incremental('gharchive', 'repo_events') }}
),

latest as (
    {{ dedup_lake_latest('lake_rows', ['event_id']) }}
),

renamed as (
    select
        source,
        event_id,
        event_type,
        action,
        actor_login,
        actor_id,
        repo_name,
        repo_id,
        org_login,
        {{ to_utc('created_at') }} as created_at,
        coalesce(is_public, true) as is_public,
        payload,
        {{ to_utc('ingested_at') }} as ingested_at,
        run_id,
        _lake_file,
        {{ is_bot('actor_login') }} as actor_is_bot
    from latest
)

select * from renamed
{{ lake_newer_than_loaded('renamed', ['event_id']) }}
