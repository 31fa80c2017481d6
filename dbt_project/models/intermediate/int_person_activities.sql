{#-
    The activity stream keyed to persons: every activity of a person (linking sites are not
    persons: they stay in the reach marts), with the person's bot and staff flags and the
    organization the person belonged to when it happened (int_person_organizations).
-#}
{{ config(materialized='table') }}

with

activities as (
    select * from {{ ref('int_activities') }}
),

identities as (
    select * from {{ ref('int_identities') }}
),

organizations as (
    select * from {{ ref('int_person_organizations') }}
),

persons as (
    select
        person_id,
        bool_or(is_bot) as is_bot,
        bool_or(is_staff) as is_staff
    from identities
    group by person_id
),

keyed as (
    select
        activities.activity_key,
        identities.person_id,
        identities.identity_id,
        activities.occurred_at,
        activities.channel,
        activities.activity_type,
        activities.weight,
        activities.is_contribution,
        activities.source,
        activities.target_type,
        activities.target_key,
        activities.repo,
        activities.conversation_key,
        activities.is_conversation_start,
        persons.is_bot,
        persons.is_staff,
        cast(activities.occurred_at as date) as activity_date,
        cast(date_trunc('month', activities.occurred_at) as date) as month
    from activities
    inner join identities
        on activities.identity_ref = identities.identity_ref
    inner join persons
        on identities.person_id = persons.person_id
    where activities.actor_kind = 'person'
),

final as (
    select
        keyed.*,
        organizations.organization
    from keyed
    left join organizations
        on
            keyed.person_id = organizations.person_id
            and keyed.occurred_at >= coalesce(organizations.valid_from, cast('-infinity' as timestamp))
            and keyed.occurred_at < coalesce(organizations.valid_to, cast('infinity' as timestamp))
    qualify row_number() over (
        partition by keyed.activity_key
        order by
            organizations.evidence = 'override' desc,
            organizations.valid_from desc nulls last,
            organizations.organization asc
    ) = 1
)

select * from final
