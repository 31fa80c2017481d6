{#-
    Every CRM subscription with the revenue it has brought so far (see the revenue docs
    block): paying statuses only (active, cancelled, expired: not trial or pending); the
    amount is per billing period (plan): `annual` bills once per year started before the end,
    `monthly` once per month started before it, `one-off` (and any other plan) once when it
    has started; the end is ended_at or the as-of date, whichever comes first. Converted to the reporting currency with
    the fx_rates seed (null when the currency has no rate).
-#}
with

subscriptions as (
    select * from {{ ref('stg_crm__subscriptions') }}
),

rates as (
    select * from {{ ref('fx_rates') }}
),

bounded as (
    select
        subscriptions.*,
        rates.rate_to_reporting,
        subscriptions.status in ('active', 'cancelled', 'expired') as is_paying,
        least(
            coalesce(subscriptions.ended_at, {{ as_of_date() }}::timestamp), {{ as_of_date() }}::timestamp
        ) as billed_until
    from subscriptions
    left join rates
        on subscriptions.currency = upper(rates.currency)
),

periods as (
    select
        *,
        -- a period bills once it has started before the end (or the as-of date): the number
        -- of whole years/months elapsed strictly before billed_until, plus the first
        case
            when not is_paying then 0
            when plan = 'annual' and started_at < billed_until
                then date_sub('year', started_at, billed_until - interval 1 microsecond) + 1
            when plan = 'monthly' and started_at < billed_until
                then date_sub('month', started_at, billed_until - interval 1 microsecond) + 1
            when plan in ('annual', 'monthly') then 0
            when started_at <= billed_until then 1
            else 0
        end as billed_periods
    from bounded
),

final as (
    select
        subscription_key,
        account_key,
        product_kind,
        product,
        plan,
        status,
        started_at,
        ended_at,
        currency,
        amount,
        is_paying,
        billed_periods,
        rate_to_reporting,
        cast(amount * billed_periods as decimal(18, 2)) as revenue,
        cast(amount * billed_periods * rate_to_reporting as decimal(18, 2)) as revenue_reporting
    from periods
)

select * from final
