with

activities as (
    select * from {{ ref('int_person_activities') }}
),

stages as (
    select * from {{ ref('int_person_stages') }}
),

-- the people of fct_community_health_monthly: bots excluded, staff included
people as (
    select
        activities.month,
        activities.person_id,
        activities.is_contribution,
        stages.acquisition_channel,
        stages.acquisition_month
    from activities
    inner join stages
        on activities.person_id = stages.person_id
    where not activities.is_bot
),

person_months as (
    select
        month,
        person_id,
        acquisition_channel,
        acquisition_month,
        bool_or(is_contribution) as contributed
    from people
    group by month, person_id, acquisition_channel, acquisition_month
),

newcomers as (
    select distinct
        person_id,
        acquisition_channel,
        acquisition_month as month
    from people
),

months as (
    select cast(spine.month_start as date) as month
    from range(
        (select min(people.month) from people),
        (select max(people.month) from people) + interval 1 month,
        interval 1 month
    ) as spine (month_start)
),

channels as (
    select distinct acquisition_channel from people
    union all
    select 'all' as acquisition_channel
),

-- every person-month under its own channel and under `all`
person_months_by_channel as (
    select
        month,
        person_id,
        acquisition_channel,
        acquisition_month,
        contributed
    from person_months
    union all
    select
        month,
        person_id,
        'all' as acquisition_channel,
        acquisition_month,
        contributed
    from person_months
),

newcomers_by_channel as (
    select
        month,
        person_id,
        acquisition_channel
    from newcomers
    union all
    select
        month,
        person_id,
        'all' as acquisition_channel
    from newcomers
),

active_counts as (
    select
        month,
        acquisition_channel,
        count(*) as active_contributors,
        count(*) filter (where acquisition_month < month) as returning_contributors,
        count(*) filter (where contributed) as code_contributors
    from person_months_by_channel
    group by month, acquisition_channel
),

new_counts as (
    select
        month,
        acquisition_channel,
        count(*) as new_contributors
    from newcomers_by_channel
    group by month, acquisition_channel
),

grid as (
    select
        months.month,
        channels.acquisition_channel
    from months
    cross join channels
)

select
    cast(grid.month as date) as month,
    cast(grid.acquisition_channel as varchar) as acquisition_channel,
    cast(coalesce(active_counts.active_contributors, 0) as bigint) as active_contributors,
    cast(coalesce(new_counts.new_contributors, 0) as bigint) as new_contributors,
    cast(coalesce(active_counts.returning_contributors, 0) as bigint) as returning_contributors,
    cast(coalesce(active_counts.code_contributors, 0) as bigint) as code_contributors
from grid
left join active_counts
    on
        grid.month = active_counts.month
        and grid.acquisition_channel = active_counts.acquisition_channel
left join new_counts
    on
        grid.month = new_counts.month
        and grid.acquisition_channel = new_counts.acquisition_channel
