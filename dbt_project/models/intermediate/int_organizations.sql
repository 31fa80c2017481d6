{#-
    One row per organization: every organization of the contributor work (see
    organization_rules) and every CRM account no community organization matched (customers
    the community never saw: organization = the account's first registrable business domain,
    else `account:<id>`), with the matched account, the first community touch and people.
    An account is matched to one community organization at most (see account_matching).
-#}
{{ config(materialized='table') }}

with

person_organizations as (
    select * from {{ ref('int_person_organizations') }}
),

person_activities as (
    select * from {{ ref('int_person_activities') }}
),

identities as (
    select * from {{ ref('int_identities') }}
),

matches as (
    select * from {{ ref('int_organization_accounts') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

freemail as (
    select * from {{ ref('freemail_domains') }}
),

community_people as (
    select
        person_id,
        bool_or(is_bot) as is_bot,
        bool_or(is_staff) as is_staff
    from identities
    group by person_id
),

members as (
    select distinct
        person_organizations.organization,
        person_organizations.organization_name,
        person_organizations.person_id,
        person_organizations.evidence
    from person_organizations
    inner join community_people
        on person_organizations.person_id = community_people.person_id
    where not community_people.is_bot and not community_people.is_staff
),

community as (
    select
        organization,
        min(organization_name) as organization_name,
        count(distinct person_id) as people,
        -- people known by an address at the organization's domain (not only a GitHub company)
        count(distinct person_id) filter (where evidence = 'email_domain') as business_users
    from members
    group by organization
),

touches as (
    select
        organization,
        min(occurred_at) as first_touch_at,
        arg_min(channel, (occurred_at, activity_key)) as first_touch_channel,
        max(occurred_at) as last_activity_at
    from person_activities
    where organization is not null and not is_bot and not is_staff
    group by organization
),

-- an account belongs to one community organization at most (two organizations can match
-- the same account, by two of its domains or by a domain and an override; each would
-- otherwise count it as a customer and its revenue): an override first, then the earliest
-- first touch, then the name. An organization matched only by staff or bots is not in the
-- community: its account stays unmatched (below), not lost
community_matches as (
    select matches.*
    from community
    inner join matches
        on community.organization = matches.organization
    left join touches
        on community.organization = touches.organization
    qualify row_number() over (
        partition by matches.account_key
        order by
            matches.match_rule = 'override' desc,
            touches.first_touch_at asc nulls last,
            community.organization asc
    ) = 1
),

account_domain_entries as (
    select
        accounts.account_key,
        unnest(accounts.domains) as domain,
        generate_subscripts(accounts.domains, 1) as position
    from accounts
    where accounts.account_key not in (select community_matches.account_key from community_matches)
),

account_first_domains as (
    select
        account_domain_entries.account_key,
        arg_min({{ registrable_domain('account_domain_entries.domain') }}, account_domain_entries.position)
            as domain
    from account_domain_entries
    left join freemail
        on {{ registrable_domain('account_domain_entries.domain') }} = freemail.domain
    where freemail.domain is null
    group by account_domain_entries.account_key
),

-- an account whose domain is taken (a community organization it was not matched to, or
-- another account) is known by its id
unmatched_accounts as (
    select
        accounts.account_key,
        accounts.account_id,
        accounts.account_name,
        case
            when
                account_first_domains.domain is null
                or account_first_domains.domain in (select community.organization from community)
                or count(*) over (partition by account_first_domains.domain) > 1
                then 'account:' || accounts.account_id
            else account_first_domains.domain
        end as organization
    from accounts
    left join account_first_domains
        on accounts.account_key = account_first_domains.account_key
    where accounts.account_key not in (select community_matches.account_key from community_matches)
),

final as (
    select
        community.organization,
        community.organization_name,
        true as in_community,
        community.people,
        community.business_users,
        touches.first_touch_at,
        touches.first_touch_channel,
        touches.last_activity_at,
        matches.account_key,
        matches.account_id,
        matches.account_name,
        matches.match_rule
    from community
    left join touches
        on community.organization = touches.organization
    left join community_matches as matches
        on community.organization = matches.organization
    union all
    select
        organization,
        account_name as organization_name,
        false as in_community,
        0 as people,
        0 as business_users,
        null::timestamp as first_touch_at,
        null::varchar as first_touch_channel,
        null::timestamp as last_activity_at,
        account_key,
        account_id,
        account_name,
        null::varchar as match_rule
    from unmatched_accounts
)

select * from final
