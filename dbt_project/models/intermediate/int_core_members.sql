{#-
    Who is core at the end of each month (see the core_contributor docs block): among
    community members (bots and staff excluded), the people making 80% of the weighted
    activity of the 90 days before the month's end, biggest first; people tied with the last
    one needed are all core.

    Incremental (issue 8, macros/change_log.sql): a run recomputes the months whose window
    holds an activity whose person, flags, weight or time changed since its last run (its
    old and new time, from int_person_activities' change log).
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month',
        on_schema_change='sync_all_columns',
        post_hook=[
            "{{ forget_tombstones('person_id', 'person-months') }}",
            "{{ record_run_watermark() }}",
        ],
    )
}}
{%- set mode = upstream_changes_mode(ref('int_person_activities')) %}
{%- set window = 'to_days(' ~ var('core_window_days', 90) ~ ')' %}

with

activities as not materialized (
    select * from {{ ref('int_person_activities') }}
),

community as not materialized (
    select * from activities
    where not is_bot and not is_staff and weight > 0
),

spine as (
    select
        cast(month_starts.month_start as date) as month,
        month_starts.month_start + interval 1 month as window_end,
        month_starts.month_start + interval 1 month - {{ window }} as window_start
    from range(
        (select date_trunc('month', min(community.occurred_at)) from community),
        (select date_trunc('month', max(community.occurred_at)) + interval 1 month from community),
        interval 1 month
    ) as month_starts (month_start)
),
{% if mode == 'changes' %}
-- the months whose window holds a changed activity, before or after the change
affected as materialized (
    select distinct
        cast(unnest(generate_series(
            date_trunc('month', changed.occurred_at),
            date_trunc('month', changed.occurred_at + {{ window }} - interval 1 month),
            interval 1 month
        )) as date) as month
    from (
        {{ changed_versions(ref('int_person_activities'), [
            'activity_key', 'person_id', 'occurred_at', 'weight', 'is_bot', 'is_staff',
        ]) }}
    ) as changed
),
{% elif mode == 'all' %}
affected as (
    select month from spine
    union
    select month from {{ this }}
),
{% endif %}
months as materialized (
    select * from spine
    {%- if mode == 'changes' %}
    where month in (select affected.month from affected)
    {%- endif %}
),

-- the activities of the months' windows only (a run recomputes a few months)
bounds as (
    select
        min(window_start) as first_window_start,
        max(window_end) as last_window_end
    from months
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
    where
        community.occurred_at >= (select bounds.first_window_start from bounds)
        and community.occurred_at < (select bounds.last_window_end from bounds)
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
        weighted_above < {{ var('core_share', 0.8) }} * window_total as is_core,
        {{ computed_at() }} as _computed_at
    from ranked
)

select * from final
{%- if mode != 'full' %}
-- a month recomputed and gone: a row with the month only (tombstones())
union all by name
{{ tombstones(key='month') }}
{%- endif %}
