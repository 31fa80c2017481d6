{#-
    Who is core at the end of each month (see the core_contributor docs block): among
    community members (bots and staff excluded), the people making 80% of the weighted
    activity of the 90 days before the month's end, biggest first; people tied with the last
    one needed are all core.
-#}
{{ config(materialized='table') }}

with

activities as (
    select * from {{ ref('int_person_activities') }}
),

community as (
    select * from activities
    where not is_bot and not is_staff and weight > 0
),

months as (
    select
        cast(spine.month_start as date) as month,
        spine.month_start + interval 1 month as window_end,
        spine.month_start + interval 1 month - to_days({{ var('core_window_days', 90) }}) as window_start
    from range(
        (select date_trunc('month', min(community.occurred_at)) from community),
        (select date_trunc('month', max(community.occurred_at)) + interval 1 month from community),
        interval 1 month
    ) as spine (month_start)
),

windowed as (
    select
        months.month,
        community.person_id,
        sum(community.weight) as weighted_activity
    from months
    inner join community
        on
            months.window_start <= community.occurred_at
            and months.window_end > community.occurred_at
    group by months.month, community.person_id
),

ranked as (
    select
        month,
        person_id,
        weighted_activity,
        sum(weighted_activity) over (partition by month) as window_total,
        -- everyone above this person (ties share a place)
        sum(weighted_activity)
            over (
                partition by month order by weighted_activity desc
                range between unbounded preceding and current row
            )
        - weighted_activity * count(*) over (
            partition by month, weighted_activity
        ) as weighted_above
    from windowed
),

final as (
    select
        month,
        person_id,
        weighted_activity,
        window_total,
        weighted_activity / window_total as share_of_window,
        weighted_above < {{ var('core_share', 0.8) }} * window_total as is_core
    from ranked
)

select * from final
