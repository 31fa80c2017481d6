{#-
    Merge edges of the identity graph: identities holding the same evidence key are joined,
    each to the first identity (by identity_ref) holding that key. Every edge keeps the rule
    that made it (for a username key: the rule of the identity joined, or the first one's when
    the joined identity is the GitHub account itself), so a wrong merge can be traced to its
    evidence and undone with one identity_overrides row.
-#}
{{ config(materialized='table') }}

with

evidence as (
    select * from {{ ref('int_identity_evidence') }}
),

keyed as (
    select
        identity_ref,
        evidence_key,
        rule,
        first_value(identity_ref) over by_key as anchor_ref,
        first_value(rule) over by_key as anchor_rule
    from evidence
    window by_key as (partition by evidence_key order by identity_ref, rule)
),

edges as (
    select
        anchor_ref as identity_a,
        identity_ref as identity_b,
        evidence_key,
        case
            when evidence_key like 'override:%' then 'override_merge'
            when evidence_key like 'email:%' then 'same_email'
            when rule = 'github_login' then anchor_rule
            else rule
        end as rule
    from keyed
    where identity_ref != anchor_ref
    qualify row_number() over (partition by identity_a, identity_b, evidence_key order by rule) = 1
)

select * from edges
