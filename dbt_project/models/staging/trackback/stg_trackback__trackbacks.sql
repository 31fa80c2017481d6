with

lake_rows as not materialized (
    select * from {{ lake_source('trackback', 'trackbacks') }}
),

latest as (
    {{ dedup_lake_latest('lake_rows', ['source', 'trackback_id']) }}
),

renamed as (
    select
        source || ':' || trackback_id as trackback_key,
        source,
        trackback_id,
        lower(trim(kind)) as kind,
        source_url,
        coalesce({{ normalize_domain('source_domain') }}, {{ url_domain('source_url') }}) as source_domain,
        case when target_post_id is not null then source || ':' || target_post_id end as target_post_key,
        target_post_id,
        target_url,
        {{ url_domain('target_url') }} as target_domain,
        blog_name,
        title,
        excerpt,
        {{ to_utc('received_at') }} as received_at,
        lower(trim(origin)) as origin,
        {{ to_utc('ingested_at') }} as ingested_at,
        run_id
    from latest
)

select * from renamed
