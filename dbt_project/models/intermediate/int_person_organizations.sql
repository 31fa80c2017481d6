{#-
    Each person's organization over time (see the organization_rules docs block): from the
    business email domains of their identities (freemail and noreply addresses say nothing;
    subdomains roll up to the registrable domain); when a person changes domain, the newer
    one takes over from its first use. Without email evidence, a GitHub profile's company
    (matched to a known email domain when its name is that domain's first label: "@northwind-
    robotics", "Northwind Robotics GmbH" → northwind-robotics.example.com). org_overrides win:
    an email_domain row renames a domain's organization for the activities in its period, an
    identity row gives the person that organization within its period (evidence `override`,
    preferred over the automatic periods where both apply).
-#}
{{ config(materialized='table') }}

with

identities as (
    select * from {{ ref('int_identities') }}
),

activities as (
    select * from {{ ref('int_activities') }}
),

overrides as (
    select * from {{ ref('org_overrides') }}
),

-- every activity under a business address, renamed by an email_domain override in force then
domain_activities as (
    select
        identities.person_id,
        activities.occurred_at,
        coalesce(lower(trim(overrides.organization)), identities.business_domain) as organization
    from activities
    inner join identities
        on activities.identity_ref = identities.identity_ref
    left join overrides
        on
            overrides.match_type = 'email_domain'
            and identities.business_domain = lower(trim(overrides.match_value))
            and activities.occurred_at >= coalesce(overrides.valid_from, '-infinity'::timestamp)
            and activities.occurred_at < coalesce(overrides.valid_to, 'infinity'::timestamp)
    where identities.business_domain is not null and not identities.is_bot
),

domain_evidence as (
    select
        person_id,
        organization,
        min(occurred_at) as first_at,
        max(occurred_at) as last_at
    from domain_activities
    group by person_id, organization
),

known_domains as (
    select
        split_part(organization, '.', 1) as first_label,
        min(organization) as organization
    from domain_evidence
    group by split_part(organization, '.', 1)
),

companies as (
    select
        person_id,
        -- "@northwind-robotics", "Northwind Robotics GmbH" → northwind-robotics
        trim(
            regexp_replace(
                regexp_replace(
                    lower(trim(ltrim(trim(company), '@'))),
                    '[,.]?\s+(inc|gmbh|ltd|llc|corp|corporation|ag|sa|bv|oy|ab|plc|co)\.?$',
                    ''
                ),
                '[^a-z0-9]+',
                '-',
                'g'
            ),
            '-'
        ) as company_slug,
        min(first_seen_at) as first_at,
        max(last_seen_at) as last_at
    from identities
    where company is not null and not is_bot
    group by person_id, company_slug
),

company_evidence as (
    select
        companies.person_id,
        companies.first_at,
        companies.last_at,
        coalesce(known_domains.organization, companies.company_slug) as organization
    from companies
    left join known_domains
        on companies.company_slug = known_domains.first_label
    where
        companies.company_slug != ''
        and companies.person_id not in (select domain_evidence.person_id from domain_evidence)
    qualify row_number() over (
        partition by companies.person_id order by companies.last_at desc, companies.company_slug asc
    ) = 1
),

automatic as (
    select
        person_id,
        organization,
        'email_domain' as evidence,
        first_at,
        last_at
    from domain_evidence
    union all
    select
        person_id,
        organization,
        'github_company' as evidence,
        first_at,
        last_at
    from company_evidence
),

automatic_periods as (
    select
        person_id,
        organization,
        evidence,
        first_at as evidence_first_at,
        last_at as evidence_last_at,
        -- the first organization holds from the person's start; each later one from its first use
        case
            when row_number() over by_start > 1 then first_at
        end as valid_from,
        lead(first_at) over by_start as valid_to
    from automatic
    window by_start as (partition by person_id order by first_at, organization)
),

override_periods as (
    select distinct
        identities.person_id,
        lower(trim(overrides.organization)) as organization,
        'override' as evidence,
        null::timestamp as evidence_first_at,
        null::timestamp as evidence_last_at,
        overrides.valid_from,
        overrides.valid_to
    from overrides
    inner join identities
        on
            overrides.match_type = 'identity'
            and lower(trim(overrides.match_value)) = identities.identity_ref
),

-- both kinds are kept: an override wins inside its own period only (int_person_activities,
-- dim_contributors pick the override first where both apply)
periods as (
    select * from override_periods
    union all
    select * from automatic_periods
),

final as (
    select
        person_id,
        organization,
        evidence,
        evidence_first_at,
        evidence_last_at,
        valid_from,
        valid_to,
        -- northwind-robotics.example.com → Northwind Robotics
        array_to_string(
            list_transform(
                string_split(split_part(organization, '.', 1), '-'),
                lambda word: upper(left(word, 1)) || substr(word, 2)
            ),
            ' '
        ) as organization_name,
        valid_to is null as is_current
    from periods
)

select * from final
