{#-
    Each person's journey (see the funnel_stages docs block): acquired at the first activity
    (in the acquisition channel), engaged at the first activity on a second distinct day
    within 30 days of an earlier one, a contributor at the first code-side contribution,
    core in the first month they were core. Stages are nested: a stage counts only when every
    earlier one was reached (reached_* flags).

    Incremental (issue 8, macros/change_log.sql): a run recomputes the persons with an
    activity whose person, time, channel, type or contribution flag changed since its last
    run (the old and the new person, from int_person_activities' change log), and those
    whose first core month changed.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='person_id',
        on_schema_change='sync_all_columns',
        post_hook=[
            "{{ forget_tombstones('acquired_at', 'persons') }}",
            "{{ record_run_watermark() }}",
        ],
    )
}}
{%- set mode = upstream_changes_mode(ref('int_person_activities')) %}

with

all_activities as not materialized (
    select * from {{ ref('int_person_activities') }}
),

core_members as (
    select * from {{ ref('int_core_members') }}
),

core as (
    select
        person_id,
        min(month) as first_core_month
    from core_members
    where is_core
    group by person_id
),
{% if mode == 'changes' %}
affected as materialized (
    -- the persons of the activities that changed, before and after
    select changed.person_id
    from (
        {{ changed_versions(ref('int_person_activities'), [
            'activity_key', 'person_id', 'occurred_at', 'channel', 'activity_type',
            'is_contribution', 'activity_date',
        ]) }}
    ) as changed
    union
    -- and those whose first core month changed
    select coalesce(core.person_id, stored.person_id) as person_id
    from core
    full join (select person_id, first_core_month from {{ this }}) as stored
        on core.person_id = stored.person_id
    where core.first_core_month is distinct from stored.first_core_month
),
{% elif mode == 'all' %}
affected as materialized (
    select person_id from all_activities
    union
    select person_id from {{ this }}
),
{% endif %}
activities as (
    select * from all_activities
    {%- if mode != 'full' %}
    where person_id in (select affected.person_id from affected)
    {%- endif %}
),

firsts as (
    select
        person_id,
        min(occurred_at) as acquired_at,
        arg_min(channel, (occurred_at, activity_key)) as acquisition_channel,
        arg_min(activity_type, (occurred_at, activity_key)) as acquisition_activity_type,
        max(occurred_at) as last_seen_at,
        min(occurred_at) filter (where is_contribution) as first_contribution_at
    from activities
    group by person_id
),

activity_days as (
    select distinct
        person_id,
        activity_date
    from activities
),

day_pairs as (
    select
        person_id,
        activity_date,
        lag(activity_date) over (partition by person_id order by activity_date) as previous_date
    from activity_days
),

engagement as (
    select
        person_id,
        min(activity_date) as engaged_on
    from day_pairs
    where activity_date - previous_date <= {{ var('engaged_within_days', 30) }}
    group by person_id
),

final as (
    select
        firsts.person_id,
        firsts.acquired_at,
        firsts.acquisition_channel,
        firsts.acquisition_activity_type,
        firsts.last_seen_at,
        engagement.engaged_on,
        firsts.first_contribution_at,
        core.first_core_month,
        cast(date_trunc('month', firsts.acquired_at) as date) as acquisition_month,
        engagement.engaged_on is not null as reached_engaged,
        engagement.engaged_on is not null and firsts.first_contribution_at is not null as reached_contributor,
        engagement.engaged_on is not null
        and firsts.first_contribution_at is not null
        and core.first_core_month is not null as reached_core,
        {{ computed_at() }} as _computed_at
    from firsts
    left join engagement
        on firsts.person_id = engagement.person_id
    left join core
        on firsts.person_id = core.person_id
)

select * from final
{%- if mode != 'full' %}
-- a person recomputed and gone: a row with the key only (tombstones())
union all by name
{{ tombstones(key='person_id') }}
{%- endif %}
