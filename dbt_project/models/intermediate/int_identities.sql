{#-
    Every identity (an account or address in one channel: `github:<login>`,
    `discourse:<source>:<username>`, `mail:<address>`, `git:<address>`, `blog:<address>`, a
    name-only commenter, `site:<domain>` for linking sites) with its evidence and its person:
    persons are the connected components of int_identity_edges (int_identity_components);
    person_id is a salted hash of the component's first-seen identity. Bots are flagged
    from the account itself (seed patterns on the login, username or address, `[bot]`
    logins, GitHub's Bot type), never from one activity's author name, and never dropped;
    staff come from the staff_identities seed.
-#}
{{ config(materialized='table') }}

with

-- the activities grouped by how each identity appeared in them
appearances as (
    select * from {{ ref('int_identity_appearances') }}
),

components as (
    select * from {{ ref('int_identity_components') }}
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

names as (
    select
        identity_ref,
        actor_name,
        sum(uses) as uses
    from appearances
    where actor_name is not null
    group by identity_ref, actor_name
),

-- the name an identity used most (ties: the alphabetically first)
usual_names as (
    select
        identity_ref,
        arg_min(actor_name, (-uses, actor_name)) as activity_name
    from names
    group by identity_ref
),

seen as (
    select
        identity_ref,
        cast(sum(uses) as bigint) as activities,
        min(channel) as channel,
        min(source) as source,
        min(actor_kind) as actor_kind,
        max(actor_email) as email,
        max(actor_username) as username,
        max(actor_profile_url) as profile_url,
        -- account-level flags only: GitHub's Bot type, Discourse's system users (an author
        -- *name* on one commit or message says nothing about the account)
        bool_or(actor_is_bot) filter (
            where identity_ref like 'github:%' or identity_ref like 'discourse:%'
        ) as seen_as_bot,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from appearances
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
        coalesce(profiles.name, usual_names.activity_name, seen.username) as display_name,
        coalesce(seen.seen_as_bot, false)
        or coalesce(profiles.is_bot, false)
        or {{ is_bot('seen.username') }}
        or {{ is_bot('seen.email') }} as is_bot
    from seen
    left join usual_names
        on seen.identity_ref = usual_names.identity_ref
    left join profiles
        on seen.identity_ref = 'github:' || profiles.login
),

with_hosts as (
    select
        *,
        {{ email_domain('email') }} as email_host
    from described
),

address_hosts as (
    select distinct email_host
    from with_hosts
    where email_host is not null
),

-- each address host once: the registrable domain looks every public suffix up (per host,
-- not per identity: at scale 10, 67 s for 350,000 identities, against a few thousand hosts)
host_domains as (
    select
        email_host,
        email_domain,
        exists(
            select 1
            from freemail
            where freemail.domain in (domains.email_host, domains.email_domain)
        ) as is_freemail
    from (
        select
            email_host,
            {{ registrable_domain('email_host') }} as email_domain
        from address_hosts
    ) as domains
),

with_domains as (
    select
        with_hosts.*,
        host_domains.email_domain,
        coalesce(host_domains.is_freemail, false) as is_freemail
    from with_hosts
    left join host_domains
        on with_hosts.email_host = host_domains.email_host
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
        {{ pseudonym('p_', 'components.component_ref') }} as person_id,
        -- raw-ish: the component's first-seen identity (the person id is its salted hash)
        components.component_ref as person_anchor_ref,
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
        count(*) over (partition by components.component_ref) as identities_in_person
    from with_domains
    inner join components
        on with_domains.identity_ref = components.identity_ref
    left join staff_matches
        on with_domains.identity_ref = staff_matches.identity_ref
)

select * from final
