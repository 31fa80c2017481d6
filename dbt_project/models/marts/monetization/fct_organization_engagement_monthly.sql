with

activities as (
    select * from {{ ref('int_person_activities') }}
),

signals as (
    select * from {{ ref('int_intent_signals') }}
),

organizations as (
    select * from {{ ref('dim_organizations') }}
),

engagement as (
    select
        organization,
        month,
        count(distinct person_id) as active_people,
        count(*) as activities,
        sum(weight) as weighted_activity,
        count(distinct channel) as channels,
        string_agg(distinct channel, ', ' order by channel) as channel_list
    from activities
    where organization is not null and not is_bot and not is_staff
    group by organization, month
),

monthly_signals as (
    select
        organization,
        month,
        count(*) as intent_signals,
        string_agg(distinct signal, ', ' order by signal) as intent_signal_list
    from signals
    where organization is not null
    group by organization, month
),

final as (
    select
        engagement.organization,
        engagement.month,
        engagement.active_people,
        engagement.activities,
        engagement.weighted_activity,
        engagement.channels,
        engagement.channel_list,
        monthly_signals.intent_signal_list,
        coalesce(monthly_signals.intent_signals, 0) as intent_signals,
        coalesce(
            organizations.customer_since < engagement.month + interval 1 month, false
        ) as is_customer
    from engagement
    left join monthly_signals
        on engagement.organization = monthly_signals.organization and engagement.month = monthly_signals.month
    left join organizations
        on engagement.organization = organizations.organization
)

select
    cast(organization as varchar) as organization,
    cast(month as date) as month,
    cast(active_people as bigint) as active_people,
    cast(activities as bigint) as activities,
    cast(weighted_activity as double) as weighted_activity,
    cast(channels as bigint) as channels,
    cast(channel_list as varchar) as channel_list,
    cast(intent_signals as bigint) as intent_signals,
    cast(intent_signal_list as varchar) as intent_signal_list,
    cast(is_customer as boolean) as is_customer
from final
