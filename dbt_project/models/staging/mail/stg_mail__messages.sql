{#-
    Mailing-list messages, deduped, with their thread reconstructed (see the
    mail_threading docs block): the parent is the In-Reply-To message, else the newest
    References entry present, else (for a reply-looking subject) the earliest earlier
    message of the same list with the same subject; the thread root is the parent chain's
    top, found with a recursive walk from the roots.

    Incremental (issue 8): a run reads only the lake files it has not loaded (and files
    rewritten in place), as the other incremental staging models. Threading needs every
    message, so it runs on a narrow copy of the ids of all of them (the stored messages'
    and the batch's, thread_keys); the run writes the batch, and the stored messages whose
    parent, root or depth the batch changed (a parent that lands late re-threads replies
    that did not change themselves; a message whose file is gone un-threads its replies).

    Scale: the wide rows (bodies) are read from the new files only and never sorted.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['source', 'message_id'],
        on_schema_change='append_new_columns',
        pre_hook="{{ lake_forget_removed_files('mail', 'mail_messages') }}",
    )
}}
{%- set incremental = execute and model.resource_type != 'unit_test' and is_incremental() %}
{#- a table built before rows were stamped has no _computed_at until this run adds it -#}
{%- set stamped = incremental
    and '_computed_at' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) %}

with

lake_rows as not materialized (
    select * from {{ lake_source_incremental('mail', 'mail_messages') }}
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
        run_id,
        _lake_file
    from latest
),

-- the batch: in an incremental run, the new files' messages not older than the stored ones
-- (few: materialized); in a full build every message, whose wide rows are read twice rather
-- than held (thread_keys takes the ids, final the rest)
batch as {{ 'materialized' if incremental else 'not materialized' }} (
    select * from messages
    {{ lake_newer_than_loaded('messages', ['source', 'message_id']) }}
),

-- the threading input: every message's ids (the batch's, and the stored messages' it does
-- not replace); materialized, or DuckDB would inline it into every join
thread_keys as materialized (
    select
        source,
        message_id,
        list_name,
        thread_subject,
        is_reply_subject,
        sent_at,
        in_reply_to,
        "references"
    from batch
    {%- if incremental %}
        union all
        select
            source,
            message_id,
            list_name,
            thread_subject,
            {{ is_reply_subject('subject') }} as is_reply_subject,
            sent_at,
            in_reply_to,
            "references"
        from {{ this }} as known
        where not exists (
            select 1
            from batch
            where batch.source = known.source and batch.message_id = known.message_id
        )
    {%- endif %}
),

reference_entries as (
    select
        source,
        message_id,
        unnest("references") as referenced_id,
        generate_subscripts("references", 1) as reference_position
    from thread_keys
),

-- the earliest message of the same list and subject sent in the 90 days before (a window
-- frame, not a self-join: a common subject would pair every message with every other)
subject_candidates as (
    select
        source,
        message_id,
        list_name,
        thread_subject,
        is_reply_subject,
        min(sent_at) over (
            partition by source, list_name, thread_subject
            order by sent_at
            range between to_days({{ var('mail_subject_thread_days', 90) }}) preceding and current row exclude group  -- noqa: PRS, LT05
        ) as earliest_earlier_at
    from thread_keys
    where sent_at is not null and thread_subject is not null
),

-- of messages sent at the same instant, the smallest id
subject_firsts as (
    select
        source,
        list_name,
        thread_subject,
        sent_at,
        min(message_id) as message_id
    from thread_keys
    where sent_at is not null and thread_subject is not null
    group by source, list_name, thread_subject, sent_at
),

by_subject as (
    select
        candidate.source,
        candidate.message_id,
        earliest.message_id as parent_message_id
    from subject_candidates as candidate
    inner join subject_firsts as earliest
        on
            candidate.source = earliest.source
            and candidate.list_name is not distinct from earliest.list_name
            and candidate.thread_subject = earliest.thread_subject
            and candidate.earliest_earlier_at = earliest.sent_at
    where candidate.is_reply_subject
),

-- every rule's candidate parent, ranked: In-Reply-To, then References (newest first),
-- then the subject
candidates as (
    select
        source,
        message_id,
        1 as rule_rank,
        0 as rule_order,
        in_reply_to as parent_message_id
    from thread_keys
    where in_reply_to != message_id
    union all
    select
        source,
        message_id,
        2 as rule_rank,
        -reference_position as rule_order,
        referenced_id as parent_message_id
    from reference_entries
    where referenced_id != message_id
    union all
    select
        source,
        message_id,
        3 as rule_rank,
        0 as rule_order,
        parent_message_id
    from by_subject
),

-- the best-ranked candidate that is a message of the same source
chosen as (
    select
        candidates.source,
        candidates.message_id,
        -- [rank, order] is unique per message (one In-Reply-To, one subject parent, a
        -- position per References entry); lists compare element by element
        arg_min(
            candidates.parent_message_id,
            [candidates.rule_rank, candidates.rule_order]
        ) as parent_message_id,
        min(candidates.rule_rank) as rule_rank
    from candidates
    semi join thread_keys as parent
        on
            candidates.source = parent.source
            and candidates.parent_message_id = parent.message_id
    group by candidates.source, candidates.message_id
),

parented as materialized (
    select
        thread_keys.source,
        thread_keys.message_id,
        chosen.parent_message_id,
        case chosen.rule_rank
            when 1 then 'in_reply_to'
            when 2 then 'references'
            when 3 then 'subject'
        end as parent_rule
    from thread_keys
    left join chosen
        on thread_keys.source = chosen.source and thread_keys.message_id = chosen.message_id
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

threads as (
    select
        parented.source,
        parented.message_id,
        parented.parent_message_id,
        parented.parent_rule,
        -- messages on a reply cycle (corrupt headers) never reach a root: each starts its own
        coalesce(thread_walk.thread_root_message_id, parented.message_id) as thread_root_message_id,
        coalesce(thread_walk.thread_depth, 0) as thread_depth
    from parented
    left join thread_walk
        on parented.source = thread_walk.source and parented.message_id = thread_walk.message_id
),

final as (
    select
        batch.source,
        batch.message_id,
        batch.is_message_id_generated,
        batch.list_name,
        batch.archive_url,
        batch.from_name,
        -- raw-ish layer: marts never select from_email
        batch.from_email,
        batch.subject,
        batch.thread_subject,
        batch.sent_at,
        batch.sent_utc_offset_minutes,
        batch.date_source,
        batch.in_reply_to,
        batch."references",
        threads.parent_message_id,
        threads.parent_rule,
        batch.body_text,
        batch.ingested_at,
        batch.run_id,
        -- the row's lake file: int_activities tells changed rows by it and ingested_at
        batch._lake_file,
        threads.thread_root_message_id,
        threads.thread_depth,
        batch.source || ':' || batch.message_id as message_key,
        -- when a run wrote the row (the batch, and the stored messages it re-threads)
        {{ computed_at() }} as _computed_at
    from batch
    inner join threads
        on batch.source = threads.source and batch.message_id = threads.message_id
){%- if incremental %},

-- the stored messages whose parent, root or depth the batch changed: compared on the
-- narrow columns, materialized (few), so only their wide rows are read back
rethreaded as materialized (
    select threads.*
    from {{ this }} as known
    inner join threads
        on known.source = threads.source and known.message_id = threads.message_id
    where
        (
            known.parent_message_id is distinct from threads.parent_message_id
            or known.parent_rule is distinct from threads.parent_rule
            or known.thread_root_message_id is distinct from threads.thread_root_message_id
            or known.thread_depth is distinct from threads.thread_depth
        )
        and not exists (
            select 1
            from batch
            where batch.source = known.source and batch.message_id = known.message_id
        )
)
{%- endif %}

select * from final
{%- if incremental %}
    union all by name
    -- stored messages the batch re-threads (their own row unchanged). The semi join keeps
    -- the wide stored rows on the probe side (streamed): a hash join built on them ran out
    -- of memory at scale 10
    select
        known.* replace (  -- noqa: AM04
            rethreaded.parent_message_id as parent_message_id,
            rethreaded.parent_rule as parent_rule,
            rethreaded.thread_root_message_id as thread_root_message_id,
            rethreaded.thread_depth as thread_depth{% if stamped %},
            {{ computed_at() }} as _computed_at
            {%- endif %}
        )
    from (
        select * from {{ this }}
        where (source, message_id) in (select (rethreaded.source, rethreaded.message_id) from rethreaded)
    ) as known
    inner join rethreaded
        on known.source = rethreaded.source and known.message_id = rethreaded.message_id
{%- endif %}
