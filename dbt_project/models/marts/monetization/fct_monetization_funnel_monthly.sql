with

organizations as (
    select * from {{ ref('dim_organizations') }}
),

person_organizations as (
    select * from {{ ref('int_person_organizations') }}
),

stages as (
    select * from {{ ref('int_person_stages') }}
),

identities as (
    select * from {{ ref('int_identities') }}
),

-- an organization is engaged when at least one of its people (not staff, not a bot) reached
-- the engaged stage
engaged_organizations as (
    {{ engaged_organizations('person_organizations', 'stages', 'identities') }}
),

cohort as (
    select
        organizations.organization,
        organizations.business_users,
        organizations.is_customer,
        cast(date_trunc('month', organizations.first_touch_at) as date) as month,
        organizations.first_touch_channel as acquisition_channel,
        engaged_organizations.organization is not null as is_engaged,
        engaged_organizations.organization is not null and organizations.intent_signals > 0 as has_intent
    from organizations
    left join engaged_organizations
        on organizations.organization = engaged_organizations.organization
    where organizations.in_community and organizations.first_touch_at is not null
),

by_channel as (
    select
        month,
        acquisition_channel,
        count(*) as organizations,
        sum(business_users) as business_users,
        count(*) filter (where is_engaged) as engaged_organizations,
        count(*) filter (where has_intent) as organizations_with_intent,
        count(*) filter (where has_intent and is_customer) as paying_customers,
        count(*) filter (where is_customer) as customers,
        count(*) filter (where is_customer and business_users > 0) as converted_customers
    from cohort
    group by month, acquisition_channel
),

all_channels as (
    select
        month,
        'all' as acquisition_channel,
        count(*) as organizations,
        sum(business_users) as business_users,
        count(*) filter (where is_engaged) as engaged_organizations,
        count(*) filter (where has_intent) as organizations_with_intent,
        count(*) filter (where has_intent and is_customer) as paying_customers,
        count(*) filter (where is_customer) as customers,
        count(*) filter (where is_customer and business_users > 0) as converted_customers
    from cohort
    group by month
),

unioned as (
    select * from by_channel
    union all
    select * from all_channels
)

select
    cast(month as date) as month,
    cast(acquisition_channel as varchar) as acquisition_channel,
    cast(organizations as bigint) as organizations,
    cast(business_users as bigint) as business_users,
    cast(engaged_organizations as bigint) as engaged_organizations,
    cast(organizations_with_intent as bigint) as organizations_with_intent,
    cast(paying_customers as bigint) as paying_customers,
    cast(customers as bigint) as customers,
    cast(engaged_organizations / organizations as double) as engaged_rate,
    cast(
        case when engaged_organizations > 0 then organizations_with_intent / engaged_organizations end as double
    ) as intent_rate,
    cast(
        case when organizations_with_intent > 0 then paying_customers / organizations_with_intent end as double
    ) as paying_rate,
    -- customers with business users only: each counted customer brings at least one to the
    -- denominator, so the rate never passes 1
    cast(
        case when business_users > 0 then converted_customers / business_users end as double
    ) as business_user_to_customer_rate,
    cast({{ var('customer_benchmark_rate', 0.01) }} as double) as benchmark_rate,
    cast(
        case
            when business_users > 0
                then converted_customers / business_users / {{ var('customer_benchmark_rate', 0.01) }}
        end as double
    ) as rate_vs_benchmark
from unioned
