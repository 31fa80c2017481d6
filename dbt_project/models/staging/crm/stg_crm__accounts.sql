with

lake_rows as not materialized (
    select * from {{ lake_source('crm', 'accounts') }}
),

latest as (
    {{ dedup_lake_latest('lake_rows', ['source', 'account_id']) }}
),

renamed as (
    select
        source || ':' || account_id as account_key,
        source,
        account_id,
        trim(name) as account_name,
        list_distinct(
            list_filter(
                list_transform(coalesce(domains, []), lambda d: trim(lower(d), '.')),
                lambda d: d != ''
            )
        ) as domains,
        website,
        industry,
        upper(trim(country)) as country,
        lower(trim(segment)) as segment,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('ingested_at') }} as ingested_at,
        run_id
    from latest
)

select * from renamed
