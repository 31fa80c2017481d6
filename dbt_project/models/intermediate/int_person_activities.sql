{#-
    The activity stream keyed to persons: every activity of a person (linking sites are not
    persons: they stay in the reach marts), with the person's bot and staff flags and the
    organization the person belonged to when it happened (int_person_organizations).

    Incremental (issue 8, macros/incremental_state.sql): a run recomputes the activities
    int_activities computed since this model's last run, every activity of an identity
    whose person, identity id or flags changed (identity resolution can move an identity to
    another person), every activity of a person whose organization periods changed, and
    removes the activities int_activities no longer has. The identities, the periods and
    int_activities' latest `_computed_at` are recorded after each run (state tables). The
    versions of the rows a run replaces or removes go to its change log
    (state.int_person_activities__replaced, macros/change_log.sql), from which the models
    grouped by conversation, month or person tell what changed.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='logged_delete_insert',
        unique_key='activity_key',
        on_schema_change='sync_all_columns',
        post_hook=[
            "{{ forget_tombstones('person_id') }}",
            "{{ change_log_maintenance() }}",
            "{{ record_state('identities', person_activity_identities(ref('int_identities'))) }}",
            "{{ record_state('periods', person_activity_periods(ref('int_person_organizations'))) }}",
            "{{ record_state('watermark', 'select max(_computed_at) as computed_at from ' ~ ref('int_activities')) }}",
        ],
    )
}}
{%- set mode = incremental_mode(['identities', 'periods', 'watermark']) %}

with

activities as not materialized (
    select * from {{ ref('int_activities') }}
),

identities as (
    select * from {{ ref('int_identities') }}
),

organizations as (
    select * from {{ ref('int_person_organizations') }}
),

-- each identity with its person and the person's flags
mapped as materialized (
    {{ person_activity_identities('identities') }}
),
{% if mode == 'changes' %}
stored as not materialized (
    select * from {{ this }}
),

-- identities whose person, id or flags changed, and those that came or went
changed_identities as materialized (
    {{ changed_keys('mapped', state_relation('identities'), 'identity_ref') }}
),

periods as (
    {{ person_activity_periods('organizations') }}
),

-- persons whose organization periods changed
changed_persons as materialized (
    {{ changed_keys('periods', state_relation('periods'), 'person_id') }}
),

affected as materialized (
    select activity_key
    from activities
    where {{ computed_since_watermark() }}
    union
    select activity_key
    from activities
    where identity_ref in (select changed_identities.identity_ref from changed_identities)

    -- (an activity of a changed person whose identity kept its person is stored under it)
    union
    select activity_key
    from stored
    where person_id in (select changed_persons.person_id from changed_persons)
    union
    -- activities int_activities removed
    select activity_key
    from stored
    where not exists (
        select 1
        from activities
        where activities.activity_key = stored.activity_key
    )
),
{% elif mode == 'all' %}
affected as materialized (
    select activity_key from activities
    union
    select activity_key from {{ this }}
),
{% endif %}
batch as not materialized (
    select * from activities
    {%- if mode == 'changes' %}
    where activity_key in (select affected.activity_key from affected)
    {%- endif %}
),

keyed as (
    select
        batch.activity_key,
        mapped.person_id,
        mapped.identity_id,
        batch.occurred_at,
        batch.channel,
        batch.activity_type,
        batch.weight,
        batch.is_contribution,
        batch.source,
        batch.target_type,
        batch.target_key,
        batch.repo,
        batch.conversation_key,
        batch.is_conversation_start,
        mapped.is_bot,
        mapped.is_staff,
        cast(batch.occurred_at as date) as activity_date,
        cast(date_trunc('month', batch.occurred_at) as date) as month
    from batch
    inner join mapped
        on batch.identity_ref = mapped.identity_ref
    where batch.actor_kind = 'person'
),

final as (
    select
        keyed.*,
        organizations.organization,
        {{ pseudonym('a_', 'keyed.activity_key') }} as activity_id,
        {{ computed_at() }} as _computed_at
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
{%- if mode != 'full' %}
-- an activity recomputed and gone: a row with the key only (tombstones())
union all by name
{{ tombstones() }}
{%- endif %}
