with

organizations as (
    select * from {{ ref('int_organizations') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

revenue as (
    select * from {{ ref('int_subscription_revenue') }}
),

signals as (
    select * from {{ ref('int_intent_signals') }}
),

account_revenue as (
    select
        account_key,
        min(started_at) filter (where is_paying and billed_periods > 0) as customer_since,
        arg_min(product_kind, (started_at, subscription_key)) filter (
            where is_paying and billed_periods > 0
        ) as first_subscription_kind,
        sum(revenue_reporting) as lifetime_revenue,
        bool_or(
            status = 'active' and started_at <= {{ as_of_date() }}
            and (ended_at is null or ended_at > {{ as_of_date() }})
        ) as has_active_subscription
    from revenue
    group by account_key
),

organization_signals as (
    select
        organization,
        count(*) as intent_signals,
        count(distinct activity_key) as intent_messages
    from signals
    where organization is not null
    group by organization
),

final as (
    select
        organizations.organization,
        organizations.organization_name,
        organizations.in_community,
        organizations.account_id,
        organizations.account_name,
        organizations.match_rule,
        organizations.first_touch_at,
        organizations.first_touch_channel,
        organizations.last_activity_at,
        organizations.people,
        organizations.business_users,
        account_revenue.customer_since,
        account_revenue.first_subscription_kind,
        coalesce(
            accounts.domains,
            case when organizations.organization like '%.%' then [organizations.organization] end,
            []
        ) as domains,
        coalesce(organization_signals.intent_signals, 0) as intent_signals,
        coalesce(organization_signals.intent_messages, 0) as intent_messages,
        account_revenue.customer_since is not null as is_customer,
        coalesce(account_revenue.has_active_subscription, false) as has_active_subscription,
        coalesce(account_revenue.lifetime_revenue, 0) as lifetime_revenue,
        date_diff('day', organizations.first_touch_at, account_revenue.customer_since)
            as days_to_first_subscription
    from organizations
    left join accounts
        on organizations.account_key = accounts.account_key
    left join account_revenue
        on organizations.account_key = account_revenue.account_key
    left join organization_signals
        on organizations.organization = organization_signals.organization
)

select
    cast(organization as varchar) as organization,
    cast(organization_name as varchar) as organization_name,
    cast(domains as varchar[]) as domains,
    cast(in_community as boolean) as in_community,
    cast(account_id as varchar) as account_id,
    cast(account_name as varchar) as account_name,
    cast(match_rule as varchar) as match_rule,
    cast(first_touch_at as timestamp) as first_touch_at,
    cast(first_touch_channel as varchar) as first_touch_channel,
    cast(last_activity_at as timestamp) as last_activity_at,
    cast(people as bigint) as people,
    cast(business_users as bigint) as business_users,
    cast(intent_signals as bigint) as intent_signals,
    cast(intent_messages as bigint) as intent_messages,
    cast(is_customer as boolean) as is_customer,
    cast(has_active_subscription as boolean) as has_active_subscription,
    cast(customer_since as timestamp) as customer_since,
    cast(first_subscription_kind as varchar) as first_subscription_kind,
    cast(days_to_first_subscription as bigint) as days_to_first_subscription,
    cast(lifetime_revenue as decimal(18, 2)) as lifetime_revenue,
    cast('{{ var("reporting_currency", "EUR") }}' as varchar) as reporting_currency
from final
