-- One row per inbound-reach event (trackback, pingback or comment) on a blog post, with the
-- resolved post and exclusion_reason: null when the event counts in the reach marts.
with

posts as (
    select * from {{ ref('stg_blog__posts') }}
),

comments as (
    select * from {{ ref('stg_blog__comments') }}
),

trackbacks as (
    select * from {{ ref('stg_trackback__trackbacks') }}
),

-- linkbacks found among comments keep their moderation status there (trackback_id = comment_id)
linkback_status as (
    select
        source,
        comment_id,
        status,
        is_approved
    from comments
    where is_linkback
),

trackback_events as (
    select
        trackbacks.source,
        trackbacks.kind as event_type,
        trackbacks.trackback_id as event_id,
        trackbacks.target_post_id as post_id,
        trackbacks.target_url,
        trackbacks.source_domain as referring_domain,
        trackbacks.source_url as referring_url,
        trackbacks.received_at as occurred_at,
        case
            when not coalesce(linkback_status.is_approved, true) then linkback_status.status
            when trackbacks.kind not in ('pingback', 'trackback') or trackbacks.kind is null
                then 'unknown_kind'
        end as status_exclusion
    from trackbacks
    left join linkback_status
        on
            trackbacks.source = linkback_status.source
            and trackbacks.trackback_id = linkback_status.comment_id
),

comment_events as (
    select
        source,
        'comment' as event_type,
        comment_id as event_id,
        post_id,
        post_url as target_url,
        author_domain as referring_domain,
        author_url as referring_url,
        published_at as occurred_at,
        case when not is_approved then status end as status_exclusion
    from comments
    where not is_linkback
),

events as (
    select * from trackback_events
    union all
    select * from comment_events
),

-- events that only know the target URL resolve to the post with that permalink
posts_by_url as (
    select
        source,
        url,
        post_id
    from posts
    where url is not null
    qualify row_number() over (partition by source, url order by post_id) = 1
),

resolved as (
    select
        events.*,
        coalesce(events.post_id, posts_by_url.post_id) as resolved_post_id
    from events
    left join posts_by_url
        on
            events.post_id is null
            and events.source = posts_by_url.source
            and events.target_url = posts_by_url.url
),

with_posts as (
    select
        resolved.*,
        posts.title as post_title,
        posts.post_domain,
        posts.site_domain,
        coalesce(
            posts.post_key,
            resolved.source || ':' || resolved.resolved_post_id,
            resolved.source || ':url:' || resolved.target_url,
            resolved.source || ':unknown'
        ) as post_key,
        coalesce(posts.url, resolved.target_url) as post_url,
        {{ url_domain('resolved.target_url') }} as target_domain
    from resolved
    left join posts
        on
            resolved.source = posts.source
            and resolved.resolved_post_id = posts.post_id
),

final as (
    select
        source,
        event_type,
        event_id,
        post_key,
        resolved_post_id as post_id,
        post_title,
        post_url,
        referring_domain,
        referring_url,
        occurred_at,
        cast(date_trunc('month', occurred_at) as date) as month,
        case
            when status_exclusion is not null then status_exclusion
            when referring_domain is null then 'no_referring_domain'
            when
                referring_domain = post_domain
                or referring_domain = site_domain
                or referring_domain = target_domain
                then 'self_link'
        end as exclusion_reason
    from with_posts
)

select * from final
