with

stages as (
    select * from {{ ref('int_person_stages') }}
),

identities as (
    select * from {{ ref('int_identities') }}
),

community as (
    select person_id
    from identities
    group by person_id
    having not bool_or(is_bot) and not bool_or(is_staff)
),

cohort as (
    select stages.*
    from stages
    inner join community
        on stages.person_id = community.person_id
),

by_channel as (
    select
        acquisition_month as month,
        acquisition_channel,
        count(*) as acquired,
        count(*) filter (where reached_engaged) as engaged,
        count(*) filter (where reached_contributor) as contributors,
        count(*) filter (where reached_core) as core
    from cohort
    group by acquisition_month, acquisition_channel
),

all_channels as (
    select
        acquisition_month as month,
        'all' as acquisition_channel,
        count(*) as acquired,
        count(*) filter (where reached_engaged) as engaged,
        count(*) filter (where reached_contributor) as contributors,
        count(*) filter (where reached_core) as core
    from cohort
    group by acquisition_month
),

unioned as (
    select * from by_channel
    union all
    select * from all_channels
)

select
    cast(month as date) as month,
    cast(acquisition_channel as varchar) as acquisition_channel,
    cast(acquired as bigint) as acquired,
    cast(engaged as bigint) as engaged,
    cast(contributors as bigint) as contributors,
    cast(core as bigint) as core,
    cast(engaged / acquired as double) as engaged_rate,
    cast(case when engaged > 0 then contributors / engaged end as double) as contributor_rate,
    cast(case when contributors > 0 then core / contributors end as double) as core_rate,
    cast(contributors / acquired as double) as acquired_to_contributor_rate
from unioned
