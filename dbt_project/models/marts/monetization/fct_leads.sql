with

organizations as (
    select * from {{ ref('dim_organizations') }}
),

activities as (
    select * from {{ ref('int_person_activities') }}
),

signals as (
    select * from {{ ref('int_intent_signals') }}
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

weights as (
    select * from {{ ref('lead_score_weights') }}
),

factors as (
    select
        max(weight) filter (where factor = 'business_users') as business_users_weight,
        max(cap) filter (where factor = 'business_users') as business_users_cap,
        max(weight) filter (where factor = 'weighted_activity_90d') as activity_weight,
        max(weight) filter (where factor = 'recency') as recency_weight,
        max(weight) filter (where factor = 'intent_signals_180d') as intent_weight,
        max(cap) filter (where factor = 'intent_signals_180d') as intent_cap
    from weights
),

engaged_organizations as (
    {{ engaged_organizations('person_organizations', 'stages', 'identities') }}
),

recent_activity as (
    select
        organization,
        sum(weight) as weighted_activity_90d
    from activities
    where
        organization is not null and not is_bot and not is_staff
        and occurred_at >= {{ as_of_date() }} - interval 90 day
        and occurred_at < {{ as_of_date() }} + interval 1 day
    group by organization
),

signal_counts as (
    select
        organization,
        signal,
        count(*) as signal_count
    from signals
    where
        organization is not null
        and occurred_at >= {{ as_of_date() }} - interval 180 day
        and occurred_at < {{ as_of_date() }} + interval 1 day
    group by organization, signal
),

recent_signals as (
    select
        organization,
        sum(signal_count) as intent_signals_180d,
        string_agg(signal || ' (' || signal_count || ')', ', ' order by signal_count desc, signal asc) as intent_summary
    from signal_counts
    group by organization
),

candidates as (
    select
        organizations.organization,
        organizations.organization_name,
        organizations.account_id,
        organizations.business_users,
        organizations.people,
        organizations.last_activity_at,
        recent_signals.intent_summary,
        coalesce(recent_activity.weighted_activity_90d, 0) as weighted_activity_90d,
        coalesce(recent_signals.intent_signals_180d, 0) as intent_signals_180d,
        date_diff('day', organizations.last_activity_at, {{ as_of_date() }}::timestamp) as days_since_last_activity
    from organizations
    inner join engaged_organizations
        on organizations.organization = engaged_organizations.organization
    left join recent_activity
        on organizations.organization = recent_activity.organization
    left join recent_signals
        on organizations.organization = recent_signals.organization
    where organizations.in_community and not organizations.is_customer
),

scored as (
    select
        candidates.*,
        factors.business_users_weight * least(candidates.business_users, factors.business_users_cap)
            as business_users_points,
        factors.activity_weight * ln(1 + candidates.weighted_activity_90d) as activity_points,
        factors.recency_weight * least(1, greatest(0, 1 - candidates.days_since_last_activity / 90.0))
            as recency_points,
        factors.intent_weight * least(candidates.intent_signals_180d, factors.intent_cap) as intent_points
    from candidates
    cross join factors
),

final as (
    select
        *,
        round(business_users_points + activity_points + recency_points + intent_points, 2) as score,
        list_filter(
            [
                case when business_users > 0 then business_users || ' business users' end,
                case
                    when weighted_activity_90d > 0
                        then 'weighted activity ' || round(weighted_activity_90d, 1) || ' in 90 days'
                end,
                'last active ' || days_since_last_activity || ' days ago',
                case when intent_signals_180d > 0 then 'intent: ' || intent_summary end
            ],
            lambda reason: reason is not null
        ) as reasons
    from scored
)

select
    cast(row_number() over (order by score desc, organization asc) as bigint) as lead_rank,
    cast(organization as varchar) as organization,
    cast(organization_name as varchar) as organization_name,
    cast(account_id as varchar) as account_id,
    cast(score as double) as score,
    cast(business_users as bigint) as business_users,
    cast(people as bigint) as people,
    cast(weighted_activity_90d as double) as weighted_activity_90d,
    cast(days_since_last_activity as bigint) as days_since_last_activity,
    cast(intent_signals_180d as bigint) as intent_signals_180d,
    cast(round(business_users_points, 2) as double) as business_users_points,
    cast(round(activity_points, 2) as double) as activity_points,
    cast(round(recency_points, 2) as double) as recency_points,
    cast(round(intent_points, 2) as double) as intent_points,
    cast(reasons as varchar[]) as reasons
from final
