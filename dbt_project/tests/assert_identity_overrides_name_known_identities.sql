{{ config(severity='warn') }}
-- An identity_overrides row naming an identity that no activity was made under (a typo, or
-- an identity not landed yet) changes nothing: listed here so it is noticed.
with

overrides as (
    select * from {{ ref('identity_overrides') }}
),

identities as (
    select * from {{ ref('int_identities') }}
),

named as (
    select
        action,
        lower(trim(identity_a)) as identity_ref
    from overrides
    union all
    select
        action,
        lower(trim(identity_b)) as identity_ref
    from overrides
)

select named.*
from named
left join identities
    on named.identity_ref = identities.identity_ref
where identities.identity_ref is null
