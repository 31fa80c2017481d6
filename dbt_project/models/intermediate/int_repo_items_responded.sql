{#-
    Every GitHub issue and pull request with its first response: the earliest issue comment,
    review comment or submitted review by someone other than the item's author, bots excluded.
-#}
with

items as (
    select * from {{ ref('stg_github__issues') }}
),

comments as (
    select * from {{ ref('stg_github__comments') }}
),

first_responses as (
    select
        items.item_key,
        min(comments.created_at) as first_response_at
    from items
    inner join comments
        on items.item_key = comments.item_key
    where
        not comments.author_is_bot
        and items.author_login is distinct from comments.author_login
        and coalesce(comments.review_state, '') != 'PENDING'
    group by items.item_key
),

responded as (
    select
        items.repo,
        items.item_key,
        items.number,
        items.is_pull_request,
        items.author_is_bot,
        items.created_at,
        items.closed_at,
        items.merged_at,
        first_responses.first_response_at,
        -- a response stamped before the item (clock skew, imported history) counts as 0 hours
        case
            when first_responses.first_response_at is not null
                then greatest(
                    date_diff('second', items.created_at, first_responses.first_response_at), 0
                ) / 3600.0
        end as hours_to_first_response
    from items
    left join first_responses
        on items.item_key = first_responses.item_key
)

select * from responded
