{#-
    Mailing-list messages, deduped, with their thread reconstructed (see the
    mail_threading docs block): the parent is the In-Reply-To message, else the newest
    References entry present, else (for a reply-looking subject) the earliest earlier
    message of the same list with the same subject; the thread root is the parent chain's
    top, found with a recursive walk from the roots.

    Scale: the threading works on a narrow copy of the ids (thread_keys); the wide rows
    (bodies) are read from the lake once more at the end and never sorted.
-#}
with

lake_rows as not materialized (
    select * from {{ lake_source('mail', 'mail_messages') }}
),

-- a message id can clean to the same value twice (e.g. with and without brackets): the
-- latest ingestion wins, then the earliest sent
latest as not materialized (
    {{ dedup_lake_latest(
        'lake_rows',
        ['source', clean_message_id('message_id')],
        ['ingested_at desc', 'run_id desc', 'sent_at', 'message_id'],
    ) }}
),

messages as not materialized (
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

thread_keys as (
    select
        source,
        message_id,
        list_name,
        thread_subject,
        is_reply_subject,
        sent_at,
        in_reply_to,
        "references",
    from messages
),

by_in_reply_to as (
    select
        child.source,
        child.message_id,
        parent.message_id as parent_message_id
    from thread_keys as child
    inner join thread_keys as parent
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
    from thread_keys
),

by_references as (
    select
        entry.source,
        entry.message_id,
        entry.referenced_id as parent_message_id
    from reference_entries as entry
    inner join thread_keys as parent
        on
            entry.source = parent.source
            and entry.referenced_id = parent.message_id
            and entry.message_id != parent.message_id
    qualify row_number() over (
        partition by entry.source, entry.message_id order by entry.reference_position desc
    ) = 1
),

-- the earliest message of the same list and subject sent in the 90 days before (a window
-- frame, not a self-join: a common subject would pair every message with every other)
subject_candidates as (
    select
        source,
        message_id,
        is_reply_subject,
        min({'sent_at': sent_at, 'message_id': message_id}) over (
            partition by source, list_name, thread_subject
            order by sent_at
            range between
                to_days({{ var('mail_subject_thread_days', 90) }}) preceding
                and current row
            exclude group
        ) as earliest_earlier
    from thread_keys
    where sent_at is not null and thread_subject is not null
),

by_subject as (
    select
        source,
        message_id,
        earliest_earlier.message_id as parent_message_id
    from subject_candidates
    where is_reply_subject and earliest_earlier is not null
),

parented as (
    select
        thread_keys.source,
        thread_keys.message_id,
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
    from thread_keys
    left join by_in_reply_to
        on thread_keys.source = by_in_reply_to.source and thread_keys.message_id = by_in_reply_to.message_id
    left join by_references
        on thread_keys.source = by_references.source and thread_keys.message_id = by_references.message_id
    left join by_subject
        on thread_keys.source = by_subject.source and thread_keys.message_id = by_subject.message_id
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
        messages.source,
        messages.message_id,
        messages.is_message_id_generated,
        messages.list_name,
        messages.archive_url,
        messages.from_name,
        -- raw-ish layer: marts never select from_email
        messages.from_email,
        messages.subject,
        messages.thread_subject,
        messages.sent_at,
        messages.sent_utc_offset_minutes,
        messages.date_source,
        messages.in_reply_to,
        messages."references",
        parented.parent_message_id,
        parented.parent_rule,
        messages.body_text,
        messages.ingested_at,
        messages.run_id,
        messages.source || ':' || messages.message_id as message_key,
        -- messages on a reply cycle (corrupt headers) never reach a root: each starts its own
        coalesce(thread_walk.thread_root_message_id, messages.message_id) as thread_root_message_id,
        coalesce(thread_walk.thread_depth, 0) as thread_depth
    from messages
    left join parented
        on messages.source = parented.source and messages.message_id = parented.message_id
    left join thread_walk
        on messages.source = thread_walk.source and messages.message_id = thread_walk.message_id
)

select * from final
