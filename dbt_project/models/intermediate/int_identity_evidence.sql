{#-
    The identity graph's evidence: one row per (identity, evidence key) with the rule that
    gave the identity that key. Two identities holding the same key are one person (see
    int_identity_edges). Keys: `email:<normalized address>` (same_email), `username:github:<login>`
    (github_login for GitHub accounts, github_noreply for a noreply address),
    `username:<namespace>:<username>` (shared_username, only for sources listed in the
    username_namespaces seed), `username:github:<login>` again for a commenter whose website
    is that GitHub profile (github_profile_url) and `override:<hash>` (override_merge). A
    `split` override detaches identity_b from every key it shares with identity_a
    (identity_a when identity_b is the GitHub account owning the login key).
-#}
with

-- the activities grouped by how each identity appeared in them
activities as (
    select * from {{ ref('int_identity_appearances') }}
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

-- a commenter's website that is a GitHub profile (https://github.com/octocat) names the
-- account: only a login seen as a GitHub account here (issues, comments, stars, events) and
-- not an organization, and only while few identities link it (a project's or employer's
-- organization page linked by many people is not anyone's profile)
profile_links as (
    select distinct
        activities.identity_ref,
        lower(
            regexp_extract(
                activities.actor_profile_url,
                '^https?://(?:www\.)?github\.com/([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/?$',
                1
            )
        ) as login
    from activities
    where
        activities.actor_profile_url is not null
        and regexp_matches(
            activities.actor_profile_url, '^https?://(?:www\.)?github\.com/[A-Za-z0-9][A-Za-z0-9-]{0,38}/?$'
        )
        and not regexp_matches(activities.identity_ref, '^(github|site):')
),

profile_evidence as (
    select
        profile_links.identity_ref,
        'username:github:' || profile_links.login as evidence_key,
        'github_profile_url' as rule
    from profile_links
    inner join accounts
        on
            accounts.identity_kind = 'github'
            and profile_links.login = accounts.username
    left join profiles
        on profile_links.login = profiles.login
    where coalesce(profiles.user_type, 'User') = 'User'
    qualify count(*) over (partition by profile_links.login) <= {{ var('max_profile_url_links', 3) }}
),

-- override keys are a hash of the row, so adding a row does not renumber the others
keyed_overrides as (
    select
        lower(trim(action)) as action,
        lower(trim(identity_a)) as identity_a,
        lower(trim(identity_b)) as identity_b,
        'override:' || left(md5(lower(trim(identity_a)) || '|' || lower(trim(identity_b))), 12) as evidence_key
    from overrides
),

override_evidence as (
    select
        identity_a as identity_ref,
        evidence_key,
        'override_merge' as rule
    from keyed_overrides
    where action = 'merge'
    union
    select
        identity_b as identity_ref,
        evidence_key,
        'override_merge' as rule
    from keyed_overrides
    where action = 'merge'
),

automatic as (
    select * from email_evidence
    union
    select * from username_evidence
    union
    select * from profile_evidence
),

-- split overrides: the two identities stop sharing any key. The key is taken from
-- identity_b, unless identity_b owns it (a GitHub account's own login key): then from
-- identity_a, so whatever else names that login still reaches the account
detached as (
    select
        evidence_b.evidence_key,
        case
            when evidence_b.rule = 'github_login' then evidence_a.identity_ref
            else evidence_b.identity_ref
        end as identity_ref
    from keyed_overrides as splits
    inner join automatic as evidence_a
        on splits.identity_a = evidence_a.identity_ref
    inner join automatic as evidence_b
        on
            splits.identity_b = evidence_b.identity_ref
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
