{#-
    Organizations (from the contributor work: int_person_organizations) matched to CRM
    accounts (see the account_matching docs block): by domain, an account's domains rolled up
    to their registrable domain (eu.acme.com → acme.com); freemail domains never match; the
    account_overrides seed wins (`match` pairs an organization with an account, `never_match`
    removes a domain match). An organization matching several accounts takes the oldest one
    (created_at, then account id); matched_accounts says how many matched.
-#}
{{ config(materialized='table') }}

with

person_organizations as (
    select * from {{ ref('int_person_organizations') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

freemail as (
    select * from {{ ref('freemail_domains') }}
),

overrides as (
    select * from {{ ref('account_overrides') }}
),

organizations as (
    select distinct organization
    from person_organizations
),

account_domains as (
    select distinct
        accounts.account_key,
        accounts.account_id,
        {{ registrable_domain('domain_entries.domain') }} as domain
    from accounts
    cross join unnest(accounts.domains) as domain_entries (domain)
),

business_account_domains as (
    select account_domains.*
    from account_domains
    left join freemail
        on account_domains.domain = freemail.domain
    where freemail.domain is null and account_domains.domain is not null
),

by_domain as (
    select
        organizations.organization,
        business_account_domains.account_key,
        'domain' as match_rule
    from organizations
    inner join business_account_domains
        on organizations.organization = business_account_domains.domain
),

blocked as (
    select
        lower(trim(overrides.organization)) as organization,
        accounts.account_key
    from overrides
    inner join accounts
        on trim(overrides.account_id) = accounts.account_id
    where lower(trim(overrides.action)) = 'never_match'
),

by_override as (
    select
        lower(trim(overrides.organization)) as organization,
        accounts.account_key,
        'override' as match_rule
    from overrides
    inner join accounts
        on trim(overrides.account_id) = accounts.account_id
    where lower(trim(overrides.action)) = 'match'
),

all_candidates as (
    select by_domain.*
    from by_domain
    left join blocked
        on
            by_domain.organization = blocked.organization
            and by_domain.account_key = blocked.account_key
    where blocked.organization is null
    union all
    select * from by_override
),

-- one row per organization and account (an override beats a domain match of the same pair)
candidates as (
    select *
    from all_candidates
    qualify row_number() over (
        partition by organization, account_key order by match_rule = 'override' desc
    ) = 1
),

final as (
    select
        candidates.organization,
        candidates.account_key,
        accounts.account_id,
        accounts.account_name,
        candidates.match_rule,
        count(*) over (partition by candidates.organization) as matched_accounts
    from candidates
    inner join accounts
        on candidates.account_key = accounts.account_key
    qualify row_number() over (
        partition by candidates.organization
        order by
            candidates.match_rule = 'override' desc,
            accounts.created_at asc nulls last,
            accounts.account_id asc
    ) = 1
)

select * from final
