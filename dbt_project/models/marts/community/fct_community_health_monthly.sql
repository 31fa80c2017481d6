with

activities as (
    select * from {{ ref('int_person_activities') }}
),

stages as (
    select * from {{ ref('int_person_stages') }}
),

items as (
    select * from {{ ref('stg_github__issues') }}
),

people as (
    select * from activities
    where not is_bot
),

months as (
    select cast(spine.month_start as date) as month
    from range(
        (select min(people.month) from people),
        (select max(people.month) from people) + interval 1 month,
        interval 1 month
    ) as spine (month_start)
),

active as (
    select distinct
        month,
        person_id
    from people
),

active_counts as (
    select
        month,
        count(*) as active_contributors
    from active
    group by month
),

new_people as (
    select
        cast(date_trunc('month', stages.acquired_at) as date) as month,
        count(*) as new_contributors
    from stages
    where stages.person_id in (select people.person_id from people)
    group by cast(date_trunc('month', stages.acquired_at) as date)
),

inactive as (
    select
        cast(previous.month + interval 1 month as date) as month,
        count(*) as inactive_contributors
    from active as previous
    left join active as current_month
        on
            previous.person_id = current_month.person_id
            and current_month.month = previous.month + interval 1 month
    where current_month.person_id is null
    group by cast(previous.month + interval 1 month as date)
),

person_contributions as (
    select
        month,
        person_id,
        organization,
        count(*) as contributions
    from people
    where is_contribution
    group by month, person_id, organization
),

-- contributor absence factor: the fewest people making half of the month's contributions
per_person as (
    select
        month,
        person_id,
        sum(contributions) as contributions
    from person_contributions
    group by month, person_id
),

person_ranked as (
    select
        month,
        person_id,
        sum(contributions) over (partition by month) as month_total,
        sum(contributions) over (
            partition by month order by contributions desc, person_id asc
            rows between unbounded preceding and current row
        ) as running_total,
        row_number() over (partition by month order by contributions desc, person_id asc) as people_needed
    from per_person
),

absence as (
    select
        month,
        count(distinct person_id) as code_contributors,
        min(people_needed) filter (where running_total * 2 >= month_total) as contributor_absence_factor
    from person_ranked
    group by month
),

organization_totals as (
    select
        month,
        organization,
        sum(contributions) as contributions
    from person_contributions
    where organization is not null
    group by month, organization
),

organization_ranked as (
    select
        month,
        sum(contributions) over (partition by month) as month_total,
        sum(contributions) over (
            partition by month order by contributions desc, organization asc
            rows between unbounded preceding and current row
        ) as running_total,
        row_number() over (partition by month order by contributions desc, organization asc) as organizations_needed
    from organization_totals
),

elephant as (
    select
        month,
        min(organizations_needed) filter (where running_total * 2 >= month_total) as elephant_factor
    from organization_ranked
    group by month
),

opened as (
    select
        cast(date_trunc('month', created_at) as date) as month,
        count(*) as change_requests_opened
    from items
    where is_pull_request
    group by cast(date_trunc('month', created_at) as date)
),

closed as (
    select
        cast(date_trunc('month', closed_at) as date) as month,
        count(*) as change_requests_closed,
        count(*) filter (where is_merged) as change_requests_accepted
    from items
    where is_pull_request and closed_at is not null
    group by cast(date_trunc('month', closed_at) as date)
),

final as (
    select
        months.month,
        absence.contributor_absence_factor,
        elephant.elephant_factor,
        coalesce(active_counts.active_contributors, 0) as active_contributors,
        coalesce(new_people.new_contributors, 0) as new_contributors,
        coalesce(inactive.inactive_contributors, 0) as inactive_contributors,
        coalesce(absence.code_contributors, 0) as code_contributors,
        coalesce(opened.change_requests_opened, 0) as change_requests_opened,
        coalesce(closed.change_requests_closed, 0) as change_requests_closed,
        coalesce(closed.change_requests_accepted, 0) as change_requests_accepted
    from months
    left join active_counts on months.month = active_counts.month
    left join new_people on months.month = new_people.month
    left join inactive on months.month = inactive.month
    left join absence on months.month = absence.month
    left join elephant on months.month = elephant.month
    left join opened on months.month = opened.month
    left join closed on months.month = closed.month
)

select
    cast(month as date) as month,
    cast(active_contributors as bigint) as active_contributors,
    cast(new_contributors as bigint) as new_contributors,
    cast(inactive_contributors as bigint) as inactive_contributors,
    cast(code_contributors as bigint) as code_contributors,
    cast(contributor_absence_factor as bigint) as contributor_absence_factor,
    cast(elephant_factor as bigint) as elephant_factor,
    cast(change_requests_opened as bigint) as change_requests_opened,
    cast(change_requests_closed as bigint) as change_requests_closed,
    cast(change_requests_accepted as bigint) as change_requests_accepted,
    cast(
        case when change_requests_opened > 0 then change_requests_closed / change_requests_opened end as double
    ) as change_request_closure_ratio,
    cast(
        case
            when change_requests_closed > 0 then change_requests_accepted / change_requests_closed
        end as double
    ) as change_request_acceptance_ratio
from final
