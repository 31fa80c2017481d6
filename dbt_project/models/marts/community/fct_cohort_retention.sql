with

activities as (
    select * from {{ ref('int_person_activities') }}
),

stages as (
    select * from {{ ref('int_person_stages') }}
),

community_activity as (
    select distinct
        person_id,
        month
    from activities
    where not is_bot and not is_staff
),

cohorts as (
    select
        stages.acquisition_month as cohort_month,
        count(*) as cohort_size
    from stages
    where stages.person_id in (select community_activity.person_id from community_activity)
    group by stages.acquisition_month
),

month_spine as (
    select cast(spine.month_start as date) as activity_month
    from range(
        (select min(community_activity.month) from community_activity),
        (select max(community_activity.month) from community_activity) + interval 1 month,
        interval 1 month
    ) as spine (month_start)
),

offsets as (
    select
        cohorts.cohort_month,
        cohorts.cohort_size,
        month_spine.activity_month,
        date_diff('month', cohorts.cohort_month, month_spine.activity_month) as months_since_first
    from cohorts
    inner join month_spine
        on cohorts.cohort_month <= month_spine.activity_month
),

active as (
    select
        stages.acquisition_month as cohort_month,
        community_activity.month as activity_month,
        count(distinct community_activity.person_id) as active_people
    from community_activity
    inner join stages
        on community_activity.person_id = stages.person_id
    group by stages.acquisition_month, community_activity.month
)

select
    cast(offsets.cohort_month as date) as cohort_month,
    cast(offsets.months_since_first as integer) as months_since_first,
    cast(offsets.activity_month as date) as activity_month,
    cast(offsets.cohort_size as bigint) as cohort_size,
    cast(coalesce(active.active_people, 0) as bigint) as active_people,
    cast(coalesce(active.active_people, 0) / offsets.cohort_size as double) as retention_rate
from offsets
left join active
    on offsets.cohort_month = active.cohort_month and offsets.activity_month = active.activity_month
