{#-
    Incremental (issue 8): a run copies the rows int_person_activities computed since this
    model's last run (its `_computed_at` past the recorded watermark, state.fct_activities__watermark)
    and deletes the activities int_person_activities no longer has. The contract holds for
    the table as for a full build.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='activity_id',
        on_schema_change='fail',
        post_hook=[
            "{{ forget_rows_missing_from(ref('int_person_activities'), 'activity_id', computed_since_watermark()) }}",
            "{{ record_state('watermark', 'select max(_computed_at) as computed_at from ' ~ ref('int_person_activities')) }}",
        ],
    )
}}
{%- set mode = incremental_mode(['watermark']) %}

with

activities as (
    select * from {{ ref('int_person_activities') }}
    {%- if mode == 'changes' %}
    where {{ computed_since_watermark() }}
    {%- endif %}
),

final as (
    select
        cast(activity_id as varchar) as activity_id,
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
)

select * from final
