{#-
    Mailing-list messages, deduped, with their thread reconstructed (see the
    mail_threading docs block): the parent is the In-Reply-To message, else the newest
    References entry present, else (for a reply-looking subject) the earliest earlier
    message of the same list with the same subject; the thread root is the parent chain's
    top, found with a recursive walk from the roots.
-#}
with

lake_rows as (
    select * from {{ lake_source('mail', 'mail_messages') }}
),

latest as (
    {{ dedup_latest('lake_rows', ['source', 'message_id']) }}
),

cleaned as (
    select
        source,
        {{ clean_message_id('message_id') }} as message_id,
        coalesce(message_id_generated, false) as is_message_id_generated,
        list_name,
        archive_url,
        nullif(trim(from_name), '') as from_name,
        nullif(lower(trim(from_email)), '') as from_email,
        subject,
        {{ thread_subject('subject') }} as thread_subject,
        {{ is_reply_subject('subject') }} as is_reply_subject,
        {{ to_utc('sent_at') }} as sent_at,
        sent_utc_offset_minutes,
        date_source,
        {{ clean_message_id('in_reply_to') }} as in_reply_to,
        list_filter(
            list_transform(coalesce("references", []), lambda r: {{ clean_message_id('r') }}),
            lambda r: r is not null
        ) as "references",
        body_text,
        {{ to_utc('ingested_at') }} as ingested_at,
        run_id
    from latest
),

-- a message id can clean to the same value twice (e.g. with and without brackets)
messages as (
    {{ dedup_latest('cleaned', ['source', 'message_id'], ['ingested_at desc', 'run_id desc', 'sent_at']) }}
),

by_in_reply_to as (
    select
        child.source,
        child.message_id,
        parent.message_id as parent_message_id
    from messages as child
    inner join messages as parent
        on
            child.source = parent.source
            and child.in_reply_to = parent.message_id
            and child.message_id != parent.message_id
),

reference_entries as (
    select
        source,
        message_id,
        unnest("references") as referenced_id,
        generate_subscripts("references", 1) as reference_position
    from messages
),

by_references as (
    select
        entry.source,
        entry.message_id,
        entry.referenced_id as parent_message_id
    from reference_entries as entry
    inner join messages as parent
        on
            entry.source = parent.source
            and entry.referenced_id = parent.message_id
            and entry.message_id != parent.message_id
    qualify row_number() over (
        partition by entry.source, entry.message_id order by entry.reference_position desc
    ) = 1
),

by_subject as (
    select
        child.source,
        child.message_id,
        parent.message_id as parent_message_id
    from messages as child
    inner join messages as parent
        on
            child.source = parent.source
            and child.list_name is not distinct from parent.list_name
            and child.thread_subject = parent.thread_subject
            and child.sent_at > parent.sent_at
            and child.sent_at - to_days({{ var('mail_subject_thread_days', 90) }}) <= parent.sent_at
    where child.is_reply_subject
    qualify row_number() over (
        partition by child.source, child.message_id order by parent.sent_at, parent.message_id
    ) = 1
),

parented as (
    select
        messages.*,
        coalesce(
            by_in_reply_to.parent_message_id,
            by_references.parent_message_id,
            by_subject.parent_message_id
        ) as parent_message_id,
        case
            when by_in_reply_to.parent_message_id is not null then 'in_reply_to'
            when by_references.parent_message_id is not null then 'references'
            when by_subject.parent_message_id is not null then 'subject'
        end as parent_rule
    from messages
    left join by_in_reply_to
        on messages.source = by_in_reply_to.source and messages.message_id = by_in_reply_to.message_id
    left join by_references
        on messages.source = by_references.source and messages.message_id = by_references.message_id
    left join by_subject
        on messages.source = by_subject.source and messages.message_id = by_subject.message_id
),

-- a nested WITH keeps the recursion out of the model's top-level CTE list
thread_walk as (
    select * from (
        with recursive walk as (
            select
                source,
                message_id,
                message_id as thread_root_message_id,
                0 as thread_depth
            from parented
            where parent_message_id is null
            union all
            select
                child.source,
                child.message_id,
                walk.thread_root_message_id,
                walk.thread_depth + 1 as thread_depth
            from parented as child
            inner join walk
                on
                    child.source = walk.source
                    and child.parent_message_id = walk.message_id
            where walk.thread_depth < 1000
        )

        select * from walk
    ) as walked
),

final as (
    select
        parented.source,
        parented.message_id,
        parented.is_message_id_generated,
        parented.list_name,
        parented.archive_url,
        parented.from_name,
        -- raw-ish layer: marts never select from_email
        parented.from_email,
        parented.subject,
        parented.thread_subject,
        parented.sent_at,
        parented.sent_utc_offset_minutes,
        parented.date_source,
        parented.in_reply_to,
        parented."references",
        parented.parent_message_id,
        parented.parent_rule,
        parented.body_text,
        parented.ingested_at,
        parented.run_id,
        parented.source || ':' || parented.message_id as message_key,
        -- messages on a reply cycle (corrupt headers) never reach a root: each starts its own
        coalesce(thread_walk.thread_root_message_id, parented.message_id) as thread_root_message_id,
        coalesce(thread_walk.thread_depth, 0) as thread_depth
    from parented
    left join thread_walk
        on parented.source = thread_walk.source and parented.message_id = thread_walk.message_id
)

select * from final
