{#-
    Mailing-list messages, deduped, with their thread reconstructed (see the
    mail_threading docs block): the parent is the In-Reply-To message, else the newest
    References entry present, else (for a reply-looking subject) the earliest earlier
    message of the same list with the same subject; the thread root is the parent chain's
    top, found with a recursive walk from the roots.

    Incremental (issue 8): a run reads only the lake files it has not loaded (and files
    rewritten in place), as the other incremental staging models, and threads only what
    the batch can change:
    - the parent is chosen again for the batch's messages, the stored messages naming one
      of its new ids (In-Reply-To or References: a parent that lands late), the stored
      messages whose subject parent it replaces (that message may have left the subject),
      those whose parent is gone (its file was removed), and, per list and subject the
      batch touches, the messages from the earliest touched date to the subject window
      (`mail_subject_thread_days`) past the latest (the subject rule looks back that far);
    - root and depth are walked again for the messages whose parent changed and every
      reply below them (stored parent links, down to a cycle), starting from the stored
      root and depth of the first unchanged message above.
    The run writes the batch and the stored messages whose parent, rule, root or depth
    changed (fetched by row id). tests/dbt/test_mail_threading_incremental.py compares
    it with a full rebuild over random archives day by day.

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
-- not replace). A full build materializes it (or DuckDB would inline it into every join);
-- an incremental run reads only the parts it needs
thread_keys as {{ 'not materialized' if incremental else 'materialized' }} (
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

{% if incremental -%}
-- ids this run adds (or re-reads): a stored message naming one may find its parent now
arrived as materialized (
    select
        source,
        message_id
    from batch
    where not exists (
        select 1
        from {{ this }} as known
        where known.source = batch.source and known.message_id = batch.message_id
    )
),

-- the messages whose parent is chosen again: the batch; stored messages naming an arrived
-- id (In-Reply-To or References: a late parent); stored messages whose subject parent the
-- batch replaces (it may have left the subject, list or date: its stored row may be gone
-- already, deleted with its rewritten file); stored messages whose parent is gone (its
-- file was removed)
reparent_seeds as materialized (
    select
        source,
        message_id
    from batch
    union
    select
        known.source,
        known.message_id
    from {{ this }} as known
    semi join batch
        on known.source = batch.source and known.parent_message_id = batch.message_id
    where known.parent_rule = 'subject'
    union
    select
        known.source,
        known.message_id
    from {{ this }} as known
    semi join arrived
        on known.source = arrived.source and known.in_reply_to = arrived.message_id
    union
    select
        named.source,
        named.message_id
    from (
        select
            source,
            message_id,
            unnest("references") as referenced_id
        from {{ this }}
    ) as named
    semi join arrived
        on named.source = arrived.source and named.referenced_id = arrived.message_id
    union
    select
        known.source,
        known.message_id
    from {{ this }} as known
    where
        known.parent_message_id is not null
        and not exists (
            select 1
            from thread_keys
            where
                thread_keys.source = known.source
                and thread_keys.message_id = known.parent_message_id
        )
),

-- where the subject rule can answer differently: per subject (source, list, subject), the
-- span of the seeds' dates and of the dates the batch's messages had when stored (a message
-- can leave a subject or move in time). A message's subject parent is the earliest of the
-- days before it, so only the messages from the span's start to days past its end can
-- change, and they look back at most days before the start
subject_spans as materialized (
    select
        source,
        list_name,
        thread_subject,
        min(sent_at) as first_at,
        max(sent_at) as last_at
    from (
        select
            thread_keys.source,
            thread_keys.list_name,
            thread_keys.thread_subject,
            thread_keys.sent_at
        from thread_keys
        semi join reparent_seeds
            on
                thread_keys.source = reparent_seeds.source
                and thread_keys.message_id = reparent_seeds.message_id
        union all
        select
            known.source,
            known.list_name,
            known.thread_subject,
            known.sent_at
        from {{ this }} as known
        semi join batch
            on known.source = batch.source and known.message_id = batch.message_id
    ) as touched
    where thread_subject is not null and sent_at is not null
    group by source, list_name, thread_subject
),

-- the messages the subject rule is computed again over: the spans, widened by the days
-- before (what the window looks back at) and after (the messages that can change)
subject_window as materialized (
    select
        thread_keys.*,
        thread_keys.sent_at >= subject_spans.first_at as is_rechosen
    from thread_keys
    inner join subject_spans
        on
            thread_keys.source = subject_spans.source
            and thread_keys.list_name is not distinct from subject_spans.list_name
            and thread_keys.thread_subject = subject_spans.thread_subject
    where
        thread_keys.sent_at >= subject_spans.first_at - to_days({{ var('mail_subject_thread_days', 90) }})
        and thread_keys.sent_at <= subject_spans.last_at + to_days({{ var('mail_subject_thread_days', 90) }})
),

-- the messages whose parent is chosen again: the seeds, and those of the spans
rethread_set as materialized (
    select thread_keys.*
    from thread_keys
    semi join reparent_seeds
        on
            thread_keys.source = reparent_seeds.source
            and thread_keys.message_id = reparent_seeds.message_id
    union
    select * exclude (is_rechosen) from subject_window
    where is_rechosen
),
{%- endif %}

-- what the subject rule is computed over, and the messages whose parent is chosen: in a
-- full build every message
subject_keys as not materialized (
    select * from {{ 'subject_window' if incremental else 'thread_keys' }}
),

rethread_keys as not materialized (
    select * from {{ 'rethread_set' if incremental else 'thread_keys' }}
),

reference_entries as (
    select
        source,
        message_id,
        unnest("references") as referenced_id,
        generate_subscripts("references", 1) as reference_position
    from rethread_keys
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
    from subject_keys
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
    from subject_keys
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
    from rethread_keys
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
        rethread_keys.source,
        rethread_keys.message_id,
        chosen.parent_message_id,
        case chosen.rule_rank
            when 1 then 'in_reply_to'
            when 2 then 'references'
            when 3 then 'subject'
        end as parent_rule
    from rethread_keys
    left join chosen
        on rethread_keys.source = chosen.source and rethread_keys.message_id = chosen.message_id
),

{% if incremental -%}

-- the messages whose parent changed (the batch counts as changed)
reparented as materialized (
    select
        parented.source,
        parented.message_id
    from parented
    where
        exists (
            select 1
            from batch
            where batch.source = parented.source and batch.message_id = parented.message_id
        )
        or not exists (
            select 1
            from {{ this }} as known
            where
                known.source = parented.source
                and known.message_id = parented.message_id
                and known.parent_message_id is not distinct from parented.parent_message_id
                and known.parent_rule is not distinct from parented.parent_rule
        )
),

-- their replies, and the replies' replies (the stored parent of every other message is
-- still its parent): the messages whose root or depth may change. UNION stops at a cycle
region_ids as (
    select * from (
        with recursive down as (
            select
                source,
                message_id
            from reparented
            union
            select
                known.source,
                known.message_id
            from {{ this }} as known
            inner join down
                on known.source = down.source and known.parent_message_id = down.message_id
        )

        select * from down
    ) as descended
),

-- the region's parent links as they are now
region as materialized (
    select
        region_ids.source,
        region_ids.message_id,
        case
            when parented.message_id is null then known.parent_message_id
            else parented.parent_message_id
        end as parent_message_id,
        case
            when parented.message_id is null then known.parent_rule
            else parented.parent_rule
        end as parent_rule,
        -- the stored row's threading, for telling the stored messages the run re-threads
        known.message_id is not null and not exists (
            select 1
            from batch
            where batch.source = region_ids.source and batch.message_id = region_ids.message_id
        ) as is_stored_unchanged,
        known.parent_message_id as stored_parent_message_id,
        known.parent_rule as stored_parent_rule,
        known.thread_root_message_id as stored_thread_root_message_id,
        known.thread_depth as stored_thread_depth,
        known.rowid as stored_rowid
    from region_ids
    left join parented
        on region_ids.source = parented.source and region_ids.message_id = parented.message_id
    left join {{ this }} as known
        on region_ids.source = known.source and region_ids.message_id = known.message_id
),

-- the walk also starts at the replies to a message outside the region (unchanged, so its
-- stored root and depth hold) that reaches a root (a message on or under a reply cycle is
-- its own root at depth 0 and reaches none)
region_entries as materialized (
    select
        region.source,
        region.message_id,
        outside.thread_root_message_id,
        outside.thread_depth + 1 as thread_depth
    from region
    inner join {{ this }} as outside
        on region.source = outside.source and region.parent_message_id = outside.message_id
    where
        (outside.parent_message_id is null or outside.thread_root_message_id != outside.message_id)
        and outside.thread_depth < 1000
        and not exists (
            select 1
            from region as inside
            where inside.source = outside.source and inside.message_id = outside.message_id
        )
),
{%- endif %}

-- the parent links the walk follows: every message's in a full build, the region's in an
-- incremental run
walk_nodes as not materialized (
    select * from {{ 'region' if incremental else 'parented' }}
),

-- a nested WITH keeps the recursion out of the model's top-level CTE list; the walk starts
-- at the roots (and, incrementally, at the region's entries)
thread_walk as (
    select * from (
        with recursive walk as (
            select
                source,
                message_id,
                message_id as thread_root_message_id,
                0 as thread_depth
            from walk_nodes
            where parent_message_id is null
            {%- if incremental %}
                union all
                select * from region_entries
            {%- endif %}
            union all
            select
                child.source,
                child.message_id,
                walk.thread_root_message_id,
                walk.thread_depth + 1 as thread_depth
            from walk_nodes as child
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
        walk_nodes.source,
        walk_nodes.message_id,
        walk_nodes.parent_message_id,
        walk_nodes.parent_rule,
        -- messages on a reply cycle (corrupt headers) never reach a root: each starts its own
        coalesce(thread_walk.thread_root_message_id, walk_nodes.message_id) as thread_root_message_id,
        coalesce(thread_walk.thread_depth, 0) as thread_depth{% if incremental %},
            walk_nodes.is_stored_unchanged,
            walk_nodes.stored_parent_message_id,
            walk_nodes.stored_parent_rule,
            walk_nodes.stored_thread_root_message_id,
            walk_nodes.stored_thread_depth,
            walk_nodes.stored_rowid
        {%- endif %}
    from walk_nodes
    left join thread_walk
        on walk_nodes.source = thread_walk.source and walk_nodes.message_id = thread_walk.message_id
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

-- the stored messages whose parent, root or depth the batch changed (their own row did not
-- change: only their narrow columns were read; few, materialized)
rethreaded as materialized (
    select
        source,
        message_id,
        parent_message_id,
        parent_rule,
        thread_root_message_id,
        thread_depth,
        stored_rowid
    from threads
    where
        is_stored_unchanged
        and (
            stored_parent_message_id is distinct from parent_message_id
            or stored_parent_rule is distinct from parent_rule
            or stored_thread_root_message_id is distinct from thread_root_message_id
            or stored_thread_depth is distinct from thread_depth
        )
)
{%- endif %}

select * from final
{%- if incremental %}
    union all by name
    -- stored messages the batch re-threads (their own row unchanged), fetched by row id: a
    -- join on the key would read every stored row's wide columns (and a hash join built on
    -- them ran out of memory at scale 10)
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
        where rowid in (select rethreaded.stored_rowid from rethreaded)
    ) as known
    inner join rethreaded
        on known.source = rethreaded.source and known.message_id = rethreaded.message_id
{%- endif %}
