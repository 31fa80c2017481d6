with

commits as (
    select * from {{ ref('stg_git__commits') }}
),

items as (
    select * from {{ ref('int_repo_items_responded') }}
),

co_authors as (
    -- Co-authored-by trailers: names and addresses, zipped
    select
        repo,
        authored_at,
        unnest(co_author_emails) as co_author_email,
        unnest(co_author_names) as co_author_name
    from commits
),

commit_people as (
    select
        repo,
        date_trunc('month', authored_at) as month,
        coalesce(author_login, author_email, lower(author_name)) as person,
        author_is_bot as is_bot
    from commits
    union all
    select
        repo,
        date_trunc('month', authored_at) as month,
        coalesce(
            {{ github_login_from_email('co_author_email') }},
            co_author_email,
            lower(co_author_name)
        ) as person,
        {{ is_bot('co_author_email') }} or {{ is_bot('co_author_name') }} as is_bot
    from co_authors
),

commit_counts as (
    select
        repo,
        date_trunc('month', authored_at) as month,
        count(*) as commits
    from commits
    group by repo, date_trunc('month', authored_at)
),

author_counts as (
    select
        repo,
        month,
        count(distinct person) as commit_authors
    from commit_people
    where not is_bot and person is not null
    group by repo, month
),

opened as (
    select
        repo,
        date_trunc('month', created_at) as month,
        count(*) filter (where not is_pull_request) as issues_opened,
        count(*) filter (where is_pull_request) as prs_opened,
        count(first_response_at) filter (where not is_pull_request) as issues_responded,
        count(first_response_at) filter (where is_pull_request) as prs_responded,
        median(hours_to_first_response) filter (
            where not is_pull_request
        ) as issue_median_hours_to_first_response,
        median(hours_to_first_response) filter (
            where is_pull_request
        ) as pr_median_hours_to_first_response
    from items
    group by repo, date_trunc('month', created_at)
),

closed as (
    select
        repo,
        date_trunc('month', closed_at) as month,
        count(*) filter (where not is_pull_request) as issues_closed,
        count(*) filter (where is_pull_request) as prs_closed
    from items
    where closed_at is not null
    group by repo, date_trunc('month', closed_at)
),

merged as (
    select
        repo,
        date_trunc('month', merged_at) as month,
        count(*) as prs_merged
    from items
    where merged_at is not null
    group by repo, date_trunc('month', merged_at)
),

spine as (
    select
        repo,
        month
    from commit_counts
    union
    select
        repo,
        month
    from opened
    union
    select
        repo,
        month
    from closed
    union
    select
        repo,
        month
    from merged
),

monthly as (
    select
        spine.repo,
        spine.month,
        opened.issue_median_hours_to_first_response,
        opened.pr_median_hours_to_first_response,
        coalesce(commit_counts.commits, 0) as commits,
        coalesce(author_counts.commit_authors, 0) as commit_authors,
        coalesce(opened.issues_opened, 0) as issues_opened,
        coalesce(closed.issues_closed, 0) as issues_closed,
        coalesce(opened.prs_opened, 0) as prs_opened,
        coalesce(closed.prs_closed, 0) as prs_closed,
        coalesce(merged.prs_merged, 0) as prs_merged,
        coalesce(opened.issues_responded, 0) as issues_responded,
        coalesce(opened.prs_responded, 0) as prs_responded
    from spine
    left join commit_counts
        on spine.repo = commit_counts.repo and spine.month = commit_counts.month
    left join author_counts
        on spine.repo = author_counts.repo and spine.month = author_counts.month
    left join opened
        on spine.repo = opened.repo and spine.month = opened.month
    left join closed
        on spine.repo = closed.repo and spine.month = closed.month
    left join merged
        on spine.repo = merged.repo and spine.month = merged.month
)

select
    cast(repo as varchar) as repo,
    cast(month as date) as month,
    cast(commits as bigint) as commits,
    cast(commit_authors as bigint) as commit_authors,
    cast(issues_opened as bigint) as issues_opened,
    cast(issues_closed as bigint) as issues_closed,
    cast(prs_opened as bigint) as prs_opened,
    cast(prs_closed as bigint) as prs_closed,
    cast(prs_merged as bigint) as prs_merged,
    cast(issues_responded as bigint) as issues_responded,
    cast(prs_responded as bigint) as prs_responded,
    cast(issue_median_hours_to_first_response as double) as issue_median_hours_to_first_response,
    cast(pr_median_hours_to_first_response as double) as pr_median_hours_to_first_response,
    cast(
        case when prs_opened > 0 then prs_closed / prs_opened end as double
    ) as change_request_closure_ratio
from monthly
