with

organizations as (
    select * from {{ ref('dim_organizations') }}
),

customers as (
    select
        lifetime_revenue,
        days_to_first_subscription,
        coalesce(first_touch_channel, 'not_in_community') as acquisition_channel
    from organizations
    where is_customer
),

by_channel as (
    select
        acquisition_channel,
        count(*) as customers,
        sum(lifetime_revenue) as lifetime_revenue,
        median(days_to_first_subscription) as median_days_to_first_subscription,
        avg(days_to_first_subscription) as mean_days_to_first_subscription
    from customers
    group by acquisition_channel
)

select
    cast(acquisition_channel as varchar) as acquisition_channel,
    cast(customers as bigint) as customers,
    cast(lifetime_revenue as decimal(18, 2)) as lifetime_revenue,
    cast(lifetime_revenue / sum(lifetime_revenue) over () as double) as revenue_share,
    cast(median_days_to_first_subscription as double) as median_days_to_first_subscription,
    cast(mean_days_to_first_subscription as double) as mean_days_to_first_subscription,
    cast('{{ var("reporting_currency", "EUR") }}' as varchar) as reporting_currency
from by_channel
