{#-
    Persons as connected components of int_identity_edges. Every identity starts labelled
    with itself, ordered by when it was first seen (then its ref), and the smallest label
    spreads over the edges until nothing changes: DuckDB's `WITH RECURSIVE ... USING KEY`
    keeps one row per identity, so work grows with edges × the graph's diameter, not with
    the square of a person's size. The component's first-seen identity anchors the person,
    so a person's id stays put when a newer identity joins them.

    (Excluded from sqlfluff in .sqlfluffignore: sqlfluff 4.4 cannot parse USING KEY.)
-#}
{{ config(materialized='table') }}

with recursive

appearances as (
    select * from {{ ref('int_identity_appearances') }}
),

edges as (
    select * from {{ ref('int_identity_edges') }}
),

identities as (
    select
        identity_ref,
        strftime(min(first_seen_at), '%Y%m%d%H%M%S%f') || '|' || identity_ref as label
    from appearances
    group by identity_ref
),

neighbours as (
    select
        identity_a as from_ref,
        identity_b as to_ref
    from edges
    union
    select
        identity_b as from_ref,
        identity_a as to_ref
    from edges
),

walk (identity_ref, label) using key (identity_ref) as (
    select
        identity_ref,
        label
    from identities
    union
    select
        neighbours.to_ref as identity_ref,
        min(changed.label) as label
    from walk as changed
    inner join neighbours
        on changed.identity_ref = neighbours.from_ref
    inner join recurring.walk as current_labels
        on neighbours.to_ref = current_labels.identity_ref
    group by neighbours.to_ref
    having min(changed.label) < min(current_labels.label)
),

final as (
    select
        identity_ref,
        substr(label, strpos(label, '|') + 1) as component_ref
    from walk
)

select * from final
