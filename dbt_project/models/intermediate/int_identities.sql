{#-
    Every identity (an account or address in one channel: `github:<login>`,
    `discourse:<source>:<username>`, `mail:<address>`, `git:<address>`, `blog:<address>`, a
    name-only commenter, `site:<domain>` for linking sites) with its evidence and its person:
    persons are the connected components of int_identity_edges, found with a recursive walk;
    person_id is a salted hash of the component's first identity_ref. Bots are flagged (seed
    patterns, `[bot]` logins, GitHub's Bot type), never dropped; staff come from the
    staff_identities seed.
-#}
{{ config(materialized='table') }}

with

activities as (
    select * from {{ ref('int_activities') }}
),

edges as (
    select * from {{ ref('int_identity_edges') }}
),

profiles as (
    select * from {{ ref('stg_github__users') }}
),

staff as (
    select * from {{ ref('staff_identities') }}
),

freemail as (
    select * from {{ ref('freemail_domains') }}
),

seen as (
    select
        identity_ref,
        min(channel) as channel,
        min(source) as source,
        min(actor_kind) as actor_kind,
        max(actor_email) as email,
        max(actor_username) as username,
        mode(actor_name) as activity_name,
        max(actor_profile_url) as profile_url,
        bool_or(actor_is_bot) as seen_as_bot,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        count(*) as activities
    from activities
    group by identity_ref
),

described as (
    select
        seen.identity_ref,
        split_part(seen.identity_ref, ':', 1) as identity_kind,
        seen.channel,
        seen.source,
        seen.actor_kind,
        seen.username,
        seen.profile_url,
        seen.first_seen_at,
        seen.last_seen_at,
        seen.activities,
        profiles.company,
        -- raw-ish: the identity's address (its own, else the GitHub profile's public one)
        coalesce(seen.email, profiles.email) as email,
        coalesce(profiles.name, seen.activity_name, seen.username) as display_name,
        coalesce(seen.seen_as_bot, false)
        or coalesce(profiles.is_bot, false)
        or {{ is_bot('seen.username') }} as is_bot
    from seen
    left join profiles
        on seen.identity_ref = 'github:' || profiles.login
),

with_domains as (
    select
        *,
        {{ email_domain('email') }} as email_host,
        {{ registrable_domain(email_domain('email')) }} as email_domain,
        exists(
            select 1
            from freemail
            where
                freemail.domain in (
                    {{ email_domain('described.email') }}, {{ registrable_domain(email_domain('described.email')) }}
                )
        ) as is_freemail
    from described
),

-- connected components: every identity spreads its own ref to its neighbours; the
-- component's first ref (the smallest) names the person
walked as (
    select * from (
        with recursive neighbours as (
            select
                identity_a as from_ref,
                identity_b as to_ref
            from edges
            union
            select
                identity_b as from_ref,
                identity_a as to_ref
            from edges
        ),

        walk as (
            select
                identity_ref,
                identity_ref as reached_ref
            from with_domains
            union
            select
                neighbours.to_ref as identity_ref,
                walk.reached_ref
            from walk
            inner join neighbours
                on walk.identity_ref = neighbours.from_ref
        )

        select
            identity_ref,
            min(reached_ref) as component_ref
        from walk
        group by identity_ref
    ) as components
),

staff_matches as (
    select distinct with_domains.identity_ref
    from with_domains
    inner join staff
        on
            (staff.match_type = 'identity' and with_domains.identity_ref = lower(trim(staff.match_value)))
            or (staff.match_type = 'email_domain' and with_domains.email_domain = lower(trim(staff.match_value)))
),

final as (
    select
        with_domains.identity_ref,
        {{ pseudonym('i_', 'with_domains.identity_ref') }} as identity_id,
        {{ pseudonym('p_', 'walked.component_ref') }} as person_id,
        -- raw-ish: the component's first identity (the person id is its salted hash)
        walked.component_ref as person_anchor_ref,
        with_domains.identity_kind,
        with_domains.channel,
        with_domains.source,
        with_domains.actor_kind,
        with_domains.email,
        case
            when
                with_domains.email_domain is not null
                and not with_domains.is_freemail
                and {{ github_login_from_email('with_domains.email') }} is null
                then with_domains.email_domain
        end as business_domain,
        with_domains.username,
        {{ mask_emails('with_domains.display_name') }} as display_name,
        with_domains.profile_url,
        with_domains.company,
        with_domains.is_bot,
        staff_matches.identity_ref is not null as is_staff,
        with_domains.first_seen_at,
        with_domains.last_seen_at,
        with_domains.activities,
        count(*) over (partition by walked.component_ref) as identities_in_person
    from with_domains
    inner join walked
        on with_domains.identity_ref = walked.identity_ref
    left join staff_matches
        on with_domains.identity_ref = staff_matches.identity_ref
)

select * from final
