{#-
    The identity graph's evidence: one row per (identity, evidence key) with the rule that
    gave the identity that key. Two identities holding the same key are one person (see
    int_identity_edges). Keys: `email:<normalized address>` (same_email), `username:github:<login>`
    (github_login for GitHub accounts, github_noreply for a noreply address),
    `username:<namespace>:<username>` (shared_username, only for sources listed in the
    username_namespaces seed) and `override:<n>` (override_merge). A `split` override detaches
    identity_b from every key it shares with identity_a.
-#}
with

activities as (
    select * from {{ ref('int_activities') }}
),

profiles as (
    select * from {{ ref('stg_github__users') }}
),

namespaces as (
    select * from {{ ref('username_namespaces') }}
),

overrides as (
    select * from {{ ref('identity_overrides') }}
),

identity_addresses as (
    select distinct
        identity_ref,
        actor_email as email
    from activities
    where actor_email is not null
    union
    select
        'github:' || login as identity_ref,
        email
    from profiles
    where email is not null
),

normalized as (
    select
        identity_ref,
        {{ github_login_from_email('email') }} as noreply_login,
        {{ normalize_email('email') }} as normalized_email
    from identity_addresses
),

email_evidence as (
    select
        identity_ref,
        case
            when noreply_login is not null then 'username:github:' || noreply_login
            else 'email:' || normalized_email
        end as evidence_key,
        case when noreply_login is not null then 'github_noreply' else 'same_email' end as rule
    from normalized
    where normalized_email is not null
),

accounts as (
    select distinct
        identity_ref,
        actor_username as username,
        split_part(identity_ref, ':', 1) as identity_kind,
        case
            when identity_ref like 'discourse:%' then split_part(identity_ref, ':', 2)
        end as source
    from activities
    where actor_username is not null and regexp_matches(identity_ref, '^(github|discourse):')
),

username_evidence as (
    select
        identity_ref,
        'username:github:' || username as evidence_key,
        'github_login' as rule
    from accounts
    where identity_kind = 'github'
    union all
    select
        accounts.identity_ref,
        'username:' || namespaces.namespace || ':' || accounts.username as evidence_key,
        'shared_username' as rule
    from accounts
    inner join namespaces
        on
            accounts.source = namespaces.source
            and namespaces.channel = 'forum'
    where accounts.identity_kind = 'discourse'
),

-- a commenter's website that is a GitHub profile (https://github.com/octocat) names the account
profile_evidence as (
    select distinct
        identity_ref,
        'username:github:' || lower(
            regexp_extract(
                actor_profile_url,
                '^https?://(?:www\.)?github\.com/([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/?$',
                1
            )
        ) as evidence_key,
        'github_profile_url' as rule
    from activities
    where
        actor_profile_url is not null
        and regexp_matches(actor_profile_url, '^https?://(?:www\.)?github\.com/[A-Za-z0-9][A-Za-z0-9-]{0,38}/?$')
        and not regexp_matches(identity_ref, '^(github|site):')
),

numbered_overrides as (
    select
        *,
        row_number() over (order by identity_a, identity_b) as override_number
    from overrides
),

override_evidence as (
    select
        lower(trim(identity_a)) as identity_ref,
        'override:' || override_number as evidence_key,
        'override_merge' as rule
    from numbered_overrides
    where action = 'merge'
    union all
    select
        lower(trim(identity_b)) as identity_ref,
        'override:' || override_number as evidence_key,
        'override_merge' as rule
    from numbered_overrides
    where action = 'merge'
),

automatic as (
    select * from email_evidence
    union
    select * from username_evidence
    union
    select * from profile_evidence
),

-- split overrides: identity_b loses every key it shares with identity_a
detached as (
    select
        evidence_b.identity_ref,
        evidence_b.evidence_key
    from numbered_overrides as splits
    inner join automatic as evidence_a
        on lower(trim(splits.identity_a)) = evidence_a.identity_ref
    inner join automatic as evidence_b
        on
            lower(trim(splits.identity_b)) = evidence_b.identity_ref
            and evidence_a.evidence_key = evidence_b.evidence_key
    where splits.action = 'split'
),

kept as (
    select automatic.*
    from automatic
    left join detached
        on
            automatic.identity_ref = detached.identity_ref
            and automatic.evidence_key = detached.evidence_key
    where detached.identity_ref is null
),

final as (
    select * from kept
    union all
    select * from override_evidence
)

select * from final
