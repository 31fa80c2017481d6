with

responses as (
    select * from {{ ref('int_first_responses') }}
)

select
    cast(month as date) as month,
    cast(item_kind as varchar) as item_kind,
    cast(channel as varchar) as channel,
    cast(count(*) as bigint) as items,
    cast(count(first_response_at) as bigint) as responded_items,
    cast(count(first_staff_response_at) as bigint) as staff_responded_items,
    cast(count(first_community_response_at) as bigint) as community_responded_items,
    cast(quantile_cont(hours_to_first_response, 0.5) as double) as median_hours_to_first_response,
    cast(quantile_cont(hours_to_first_response, 0.9) as double) as p90_hours_to_first_response,
    cast(quantile_cont(hours_to_first_staff_response, 0.5) as double) as median_hours_to_first_staff_response,
    cast(quantile_cont(hours_to_first_staff_response, 0.9) as double) as p90_hours_to_first_staff_response,
    cast(
        quantile_cont(hours_to_first_community_response, 0.5) as double
    ) as median_hours_to_first_community_response,
    cast(quantile_cont(hours_to_first_community_response, 0.9) as double) as p90_hours_to_first_community_response
from responses
group by month, item_kind, channel
