with

activities as (
    select * from {{ ref('int_person_activities') }}
)

select
    cast({{ pseudonym('a_', 'activity_key') }} as varchar) as activity_id,
    cast(person_id as varchar) as person_id,
    cast(identity_id as varchar) as identity_id,
    cast(occurred_at as timestamp) as occurred_at,
    cast(activity_date as date) as activity_date,
    cast(month as date) as month,
    cast(channel as varchar) as channel,
    cast(activity_type as varchar) as activity_type,
    cast(weight as double) as weight,
    cast(is_contribution as boolean) as is_contribution,
    cast(source as varchar) as source,
    cast(target_type as varchar) as target_type,
    cast(target_key as varchar) as target_key,
    cast(repo as varchar) as repo,
    cast(organization as varchar) as organization,
    cast(is_bot as boolean) as is_bot,
    cast(is_staff as boolean) as is_staff
from activities
