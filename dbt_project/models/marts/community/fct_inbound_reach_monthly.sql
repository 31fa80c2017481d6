with

events as (
    select * from {{ ref('int_inbound_reach_events') }}
),

counted as (
    select * from events
    where exclusion_reason is null
),

monthly as (
    select
        month,
        source,
        referring_domain,
        post_key,
        max(post_title) as post_title,
        max(post_url) as post_url,
        count(*) filter (where event_type = 'trackback') as trackbacks,
        count(*) filter (where event_type = 'pingback') as pingbacks,
        count(*) filter (where event_type = 'comment') as comments,
        count(*) filter (where event_type in ('trackback', 'pingback')) as inbound_links,
        count(distinct referring_url) as distinct_referring_urls
    from counted
    group by month, source, referring_domain, post_key
)

select
    cast(month as date) as month,
    cast(source as varchar) as source,
    cast(referring_domain as varchar) as referring_domain,
    cast(post_key as varchar) as post_key,
    cast(post_title as varchar) as post_title,
    cast(post_url as varchar) as post_url,
    cast(trackbacks as bigint) as trackbacks,
    cast(pingbacks as bigint) as pingbacks,
    cast(comments as bigint) as comments,
    cast(inbound_links as bigint) as inbound_links,
    cast(distinct_referring_urls as bigint) as distinct_referring_urls
from monthly
