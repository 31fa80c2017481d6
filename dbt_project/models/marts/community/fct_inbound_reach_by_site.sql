with

events as (
    select * from {{ ref('int_inbound_reach_events') }}
),

counted as (
    select * from events
    where exclusion_reason is null
),

by_site as (
    select
        month,
        referring_domain,
        count(*) filter (where event_type = 'trackback') as trackbacks,
        count(*) filter (where event_type = 'pingback') as pingbacks,
        count(*) filter (where event_type = 'comment') as comments,
        count(*) filter (where event_type in ('trackback', 'pingback')) as inbound_links,
        count(distinct referring_url) as distinct_referring_urls,
        count(distinct post_key) as posts_reached,
        count(distinct source) as blogs_reached
    from counted
    group by month, referring_domain
)

select
    cast(month as date) as month,
    cast(referring_domain as varchar) as referring_domain,
    cast(trackbacks as bigint) as trackbacks,
    cast(pingbacks as bigint) as pingbacks,
    cast(comments as bigint) as comments,
    cast(inbound_links as bigint) as inbound_links,
    cast(distinct_referring_urls as bigint) as distinct_referring_urls,
    cast(posts_reached as bigint) as posts_reached,
    cast(blogs_reached as bigint) as blogs_reached
from by_site
