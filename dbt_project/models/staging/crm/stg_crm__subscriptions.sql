with

lake_rows as not materialized (
    select * from {{ lake_source('crm', 'subscriptions') }}
),

latest as (
    {{ dedup_lake_latest('lake_rows', ['source', 'subscription_id']) }}
),

renamed as (
    select
        source || ':' || subscription_id as subscription_key,
        source,
        subscription_id,
        source || ':' || account_id as account_key,
        account_id,
        lower(trim(product_kind)) as product_kind,
        product,
        lower(trim(plan)) as plan,
        {{ to_utc('started_at') }} as started_at,
        {{ to_utc('ended_at') }} as ended_at,
        amount,
        upper(trim(currency)) as currency,
        lower(trim(status)) as status,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('ingested_at') }} as ingested_at,
        run_id
    from latest
)

select * from renamed
