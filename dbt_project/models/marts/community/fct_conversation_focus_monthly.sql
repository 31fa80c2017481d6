with

messages as (
    select * from {{ ref('int_conversation_messages') }}
)

select
    cast(month as date) as month,
    cast(channel as varchar) as channel,
    cast(count(*) as bigint) as messages,
    cast(count(*) filter (where talks_about_code) as bigint) as code_messages,
    cast(count(*) filter (where not talks_about_code) as bigint) as other_messages,
    cast(count(*) filter (where talks_about_code) / count(*) as double) as code_share
from messages
group by month, channel
