with

identities as (
    select * from {{ ref('int_identities') }}
),

activities as (
    select * from {{ ref('int_person_activities') }}
),

stages as (
    select * from {{ ref('int_person_stages') }}
),

organizations as (
    select * from {{ ref('int_person_organizations') }}
),

core_members as (
    select * from {{ ref('int_core_members') }}
),

persons as (
    select
        person_id,
        -- the GitHub profile's name first, else the name of the most active identity
        arg_max(
            display_name,
            (
                identity_kind = 'github' and display_name is not null,
                display_name is not null,
                activities,
                identity_ref
            )
        ) as display_name,
        bool_or(is_bot) as is_bot,
        bool_or(is_staff) as is_staff,
        count(*) as identities
    from identities
    where actor_kind = 'person'
    group by person_id
),

counts as (
    select
        person_id,
        count(*) filter (where channel = 'blog') as blog_activities,
        count(*) filter (where channel = 'forum') as forum_activities,
        count(*) filter (where channel = 'mailing_list') as mailing_list_activities,
        count(*) filter (where channel = 'repository') as repository_activities,
        count(*) as activities,
        sum(weight) as weighted_activity,
        count(*) filter (where is_contribution) as contributions
    from activities
    group by person_id
),

current_organizations as (
    select
        person_id,
        organization,
        organization_name
    from organizations
    where is_current
    qualify row_number() over (
        partition by person_id
        order by evidence = 'override' desc, valid_from desc nulls last, organization asc
    ) = 1
),

core_now as (
    select
        person_id,
        is_core
    from core_members
    where month = (select max(latest.month) from core_members as latest)
),

final as (
    select
        persons.person_id,
        persons.display_name,
        current_organizations.organization,
        current_organizations.organization_name,
        persons.is_staff,
        persons.is_bot,
        persons.identities,
        stages.acquired_at as first_seen_at,
        stages.acquisition_channel,
        stages.acquisition_activity_type,
        stages.last_seen_at,
        stages.engaged_on,
        stages.first_contribution_at,
        counts.blog_activities,
        counts.forum_activities,
        counts.mailing_list_activities,
        counts.repository_activities,
        counts.activities,
        counts.weighted_activity,
        counts.contributions,
        case
            when stages.reached_contributor and coalesce(core_now.is_core, false) then 'core'
            when stages.reached_contributor then 'contributor'
            when stages.reached_engaged then 'engaged'
            else 'acquired'
        end as current_level
    from persons
    inner join stages
        on persons.person_id = stages.person_id
    inner join counts
        on persons.person_id = counts.person_id
    left join current_organizations
        on persons.person_id = current_organizations.person_id
    left join core_now
        on persons.person_id = core_now.person_id
)

select
    cast(person_id as varchar) as person_id,
    cast(display_name as varchar) as display_name,
    cast(organization as varchar) as organization,
    cast(organization_name as varchar) as organization_name,
    cast(is_staff as boolean) as is_staff,
    cast(is_bot as boolean) as is_bot,
    cast(identities as bigint) as identities,
    cast(first_seen_at as timestamp) as first_seen_at,
    cast(acquisition_channel as varchar) as acquisition_channel,
    cast(acquisition_activity_type as varchar) as acquisition_activity_type,
    cast(last_seen_at as timestamp) as last_seen_at,
    cast(engaged_on as date) as engaged_on,
    cast(first_contribution_at as timestamp) as first_contribution_at,
    cast(blog_activities as bigint) as blog_activities,
    cast(forum_activities as bigint) as forum_activities,
    cast(mailing_list_activities as bigint) as mailing_list_activities,
    cast(repository_activities as bigint) as repository_activities,
    cast(activities as bigint) as activities,
    cast(weighted_activity as double) as weighted_activity,
    cast(contributions as bigint) as contributions,
    cast(current_level as varchar) as current_level
from final
