"""The tiny hand-made published snapshot of the dashboard tests (fixtures: conftest.py).

Every mart the snapshot publishes is created with its real column names and types
(``MARTS``), with a few rows small enough to check by hand: three months
(2025-01 … 2025-03), the four acquisition channels plus ``all``. The numbers the tests
expect are worked out in ``SELECTIONS`` from the rows below.

Traps on purpose: an IP address as a referring domain, an email address in a lead's
name, ``</script><!--`` in a lead's reasons, person display names (one email-shaped)
in dim_contributors that must never reach the page, and a revenue of 1200.50 (rounds up).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

MARTS: dict[str, str] = {
    "dim_contributors": (
        "person_id varchar, display_name varchar, organization varchar, organization_name "
        "varchar, is_staff boolean, is_bot boolean, identities bigint, first_seen_at timestamp, "
        "acquisition_channel varchar, acquisition_activity_type varchar, last_seen_at "
        "timestamp, engaged_on date, first_contribution_at timestamp, blog_activities bigint, "
        "forum_activities bigint, mailing_list_activities bigint, repository_activities bigint, "
        "activities bigint, weighted_activity double, contributions bigint, current_level "
        "varchar"
    ),
    "dim_organizations": (
        "organization varchar, organization_name varchar, domains varchar[], in_community "
        "boolean, account_id varchar, account_name varchar, match_rule varchar, first_touch_at "
        "timestamp, first_touch_channel varchar, last_activity_at timestamp, people bigint, "
        "business_users bigint, intent_signals bigint, intent_messages bigint, is_customer "
        "boolean, has_active_subscription boolean, customer_since timestamp, "
        "first_subscription_kind varchar, days_to_first_subscription bigint, lifetime_revenue "
        "decimal(18,2), reporting_currency varchar"
    ),
    "fct_activities": (
        "activity_id varchar, person_id varchar, identity_id varchar, occurred_at timestamp, "
        "activity_date date, month date, channel varchar, activity_type varchar, weight double, "
        "is_contribution boolean, source varchar, target_type varchar, target_key varchar, repo "
        "varchar, organization varchar, is_bot boolean, is_staff boolean"
    ),
    "fct_cohort_retention": (
        "cohort_month date, months_since_first integer, activity_month date, cohort_size "
        "bigint, active_people bigint, retention_rate double"
    ),
    "fct_community_funnel_monthly": (
        "month date, acquisition_channel varchar, acquired bigint, engaged bigint, contributors "
        "bigint, core bigint, engaged_rate double, contributor_rate double, core_rate double, "
        "acquired_to_contributor_rate double"
    ),
    "fct_community_health_monthly": (
        "month date, active_contributors bigint, new_contributors bigint, inactive_contributors "
        "bigint, code_contributors bigint, contributor_absence_factor bigint, elephant_factor "
        "bigint, change_requests_opened bigint, change_requests_closed bigint, "
        "change_requests_accepted bigint, change_request_closure_ratio double, "
        "change_request_acceptance_ratio double"
    ),
    "fct_contributors_monthly": (
        "month date, acquisition_channel varchar, active_contributors bigint, new_contributors "
        "bigint, returning_contributors bigint, code_contributors bigint"
    ),
    "fct_conversation_focus_monthly": (
        "month date, channel varchar, messages bigint, code_messages bigint, other_messages "
        "bigint, code_share double"
    ),
    "fct_forum_threads": (
        "thread_key varchar, channel varchar, source varchar, container varchar, title varchar, "
        "thread_url varchar, started_at timestamp, started_month date, opened_by varchar, "
        "first_response_at timestamp, first_responder varchar, hours_to_first_response double, "
        "is_answered boolean, replies bigint, participants bigint, last_activity_at timestamp"
    ),
    "fct_inbound_reach_by_site": (
        "month date, referring_domain varchar, trackbacks bigint, pingbacks bigint, comments "
        "bigint, inbound_links bigint, distinct_referring_urls bigint, posts_reached bigint, "
        "blogs_reached bigint"
    ),
    "fct_inbound_reach_monthly": (
        "month date, source varchar, referring_domain varchar, post_key varchar, post_title "
        "varchar, post_url varchar, trackbacks bigint, pingbacks bigint, comments bigint, "
        "inbound_links bigint, distinct_referring_urls bigint"
    ),
    "fct_leads": (
        "lead_rank bigint, organization varchar, organization_name varchar, account_id varchar, "
        "score double, business_users bigint, people bigint, weighted_activity_90d double, "
        "days_since_last_activity bigint, intent_signals_180d bigint, business_users_points "
        "double, activity_points double, recency_points double, intent_points double, reasons "
        "varchar[]"
    ),
    "fct_monetization_funnel_monthly": (
        "month date, acquisition_channel varchar, organizations bigint, business_users bigint, "
        "engaged_organizations bigint, organizations_with_intent bigint, paying_customers "
        "bigint, customers bigint, engaged_rate double, intent_rate double, paying_rate double, "
        "business_user_to_customer_rate double, benchmark_rate double, rate_vs_benchmark double"
    ),
    "fct_organization_engagement_monthly": (
        "organization varchar, month date, active_people bigint, activities bigint, "
        "weighted_activity double, channels bigint, channel_list varchar, intent_signals "
        "bigint, intent_signal_list varchar, is_customer boolean"
    ),
    "fct_repo_activity_monthly": (
        "repo varchar, month date, commits bigint, commit_authors bigint, issues_opened bigint, "
        "issues_closed bigint, prs_opened bigint, prs_closed bigint, prs_merged bigint, "
        "issues_responded bigint, prs_responded bigint, issue_median_hours_to_first_response "
        "double, pr_median_hours_to_first_response double, change_request_closure_ratio double"
    ),
    "fct_response_times_monthly": (
        "month date, item_kind varchar, channel varchar, items bigint, responded_items bigint, "
        "staff_responded_items bigint, community_responded_items bigint, "
        "median_hours_to_first_response double, p90_hours_to_first_response double, "
        "median_hours_to_first_staff_response double, p90_hours_to_first_staff_response double, "
        "median_hours_to_first_community_response double, p90_hours_to_first_community_response "
        "double"
    ),
    "fct_revenue_by_channel": (
        "acquisition_channel varchar, customers bigint, lifetime_revenue decimal(18,2), "
        "revenue_share double, median_days_to_first_subscription double, "
        "mean_days_to_first_subscription double, reporting_currency varchar"
    ),
}

JAN, FEB, MAR = dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1)

# (table, columns, rows): columns not named stay NULL
ROWS: list[tuple[str, str, list[tuple[Any, ...]]]] = [
    (
        "fct_contributors_monthly",
        "month, acquisition_channel, active_contributors, new_contributors, "
        "returning_contributors, code_contributors",
        [
            (JAN, "blog", 2, 2, 0, 0),
            (JAN, "forum", 1, 1, 0, 0),
            (JAN, "mailing_list", 0, 0, 0, 0),
            (JAN, "repository", 3, 3, 0, 2),
            (JAN, "all", 6, 6, 0, 2),
            (FEB, "blog", 1, 0, 1, 0),
            (FEB, "forum", 2, 1, 1, 0),
            (FEB, "mailing_list", 1, 1, 0, 0),
            (FEB, "repository", 3, 1, 2, 2),
            (FEB, "all", 7, 3, 4, 2),
            (MAR, "blog", 2, 1, 1, 0),
            (MAR, "forum", 0, 0, 0, 0),
            (MAR, "mailing_list", 1, 0, 1, 0),
            (MAR, "repository", 4, 1, 3, 3),
            (MAR, "all", 7, 2, 5, 3),
        ],
    ),
    (
        # rates filled in by SQL below (stage / previous stage)
        "fct_community_funnel_monthly",
        "month, acquisition_channel, acquired, engaged, contributors, core",
        [
            (JAN, "blog", 2, 1, 0, 0),
            (JAN, "forum", 1, 1, 0, 0),
            (JAN, "repository", 3, 2, 2, 1),
            (JAN, "all", 6, 4, 2, 1),
            (FEB, "forum", 1, 0, 0, 0),
            (FEB, "mailing_list", 1, 1, 0, 0),
            (FEB, "repository", 1, 1, 1, 0),
            (FEB, "all", 3, 2, 1, 0),
            (MAR, "blog", 1, 1, 0, 0),
            (MAR, "repository", 1, 0, 0, 0),
            (MAR, "all", 2, 1, 0, 0),
        ],
    ),
    (
        "fct_cohort_retention",
        "cohort_month, months_since_first, activity_month, cohort_size, active_people, "
        "retention_rate",
        [
            (JAN, 0, JAN, 6, 6, 1.0),
            (JAN, 1, FEB, 6, 3, 0.5),
            (JAN, 2, MAR, 6, 2, 2 / 6),
            (FEB, 0, FEB, 3, 3, 1.0),
            (FEB, 1, MAR, 3, 2, 2 / 3),
            (MAR, 0, MAR, 2, 2, 1.0),
        ],
    ),
    (
        "fct_response_times_monthly",
        "month, item_kind, channel, items, responded_items, median_hours_to_first_response, "
        "p90_hours_to_first_response",
        [
            (JAN, "forum_topic", "forum", 2, 2, 3.5, 5.0),
            (JAN, "issue", "repository", 1, 1, 10.0, 10.0),
            (FEB, "mailing_list_thread", "mailing_list", 1, 1, 24.0, 24.0),
            (MAR, "issue", "repository", 2, 1, 2.0, 2.0),
            (MAR, "blog_comment", "blog", 1, 0, None, None),
        ],
    ),
    (
        "fct_community_health_monthly",
        "month, active_contributors, new_contributors, inactive_contributors, code_contributors, "
        "contributor_absence_factor, elephant_factor",
        [
            (JAN, 6, 6, 0, 2, 1, 1),
            (FEB, 7, 3, 2, 2, 2, 1),
            (MAR, 7, 2, 3, 3, 2, 2),
        ],
    ),
    (
        "fct_conversation_focus_monthly",
        "month, channel, messages, code_messages, other_messages, code_share",
        [
            (JAN, "forum", 4, 1, 3, 0.25),
            (JAN, "repository", 2, 2, 0, 1.0),
            (FEB, "mailing_list", 5, 0, 5, 0.0),
            (MAR, "blog", 2, 0, 2, 0.0),
            (MAR, "repository", 4, 3, 1, 0.75),
        ],
    ),
    (
        "fct_inbound_reach_by_site",
        "month, referring_domain, trackbacks, pingbacks, comments, inbound_links",
        [
            (JAN, "a.example.org", 2, 1, 0, 3),
            (JAN, "b.example.net", 1, 0, 1, 1),
            (JAN, "203.0.113.7", 2, 0, 0, 2),
            (FEB, "b.example.net", 3, 1, 0, 4),
            (FEB, "c.example.com", 2, 0, 0, 2),
            (MAR, "a.example.org", 1, 0, 2, 1),
            (MAR, "c.example.com", 0, 2, 0, 2),
        ],
    ),
    (
        # business_user_to_customer_rate and the benchmark filled in by SQL below
        "fct_monetization_funnel_monthly",
        "month, acquisition_channel, organizations, business_users, engaged_organizations, "
        "organizations_with_intent, paying_customers, customers",
        [
            (JAN, "repository", 2, 10, 2, 1, 1, 1),
            (JAN, "blog", 1, 5, 1, 0, 0, 1),
            (JAN, "all", 3, 15, 3, 1, 1, 2),
            (FEB, "forum", 1, 20, 0, 0, 0, 0),
            (FEB, "all", 1, 20, 0, 0, 0, 0),
            (MAR, "repository", 1, 5, 1, 1, 1, 1),
            (MAR, "all", 1, 5, 1, 1, 1, 1),
        ],
    ),
    (
        "fct_leads",
        "lead_rank, organization, organization_name, account_id, score, business_users_points, "
        "activity_points, recency_points, intent_points, reasons",
        [
            (
                1,
                "acme.example",
                "Acme",
                "A-1",
                61.5,
                20.0,
                11.5,
                15.0,
                15.0,
                ["2 business users", "intent: pricing (1)"],
            ),
            (
                2,
                "globex.example",
                "Globex (sales@globex.example)",
                "A-2",
                30.25,
                10.0,
                5.25,
                15.0,
                0.0,
                ["1 business users", "</script><!-- not markup"],
            ),
            (
                3,
                "initech.example",
                "Initech",
                None,
                12.0,
                0.0,
                4.0,
                8.0,
                0.0,
                ["weighted activity 1.0 in 90 days"],
            ),
        ],
    ),
    (
        "fct_revenue_by_channel",
        "acquisition_channel, customers, lifetime_revenue, revenue_share, reporting_currency",
        [
            ("repository", 2, "1200.50", 0.6, "EUR"),
            ("not_in_community", 1, "499.75", 0.25, "EUR"),
            ("blog", 1, "300.00", 0.15, "EUR"),
        ],
    ),
    (
        "dim_contributors",
        "person_id, display_name, acquisition_channel, is_bot",
        [
            ("p1", "Alice Secretname", "repository", False),
            ("p2", "bob.hidden@example.org", "blog", False),
        ],
    ),
    ("dim_organizations", "organization, organization_name", [("acme.example", "Acme")]),
    ("fct_activities", "activity_id, person_id, month, channel", [("a1", "p1", JAN, "blog")]),
    ("fct_forum_threads", "thread_key, channel, opened_by", [("t1", "forum", "Alice Secretname")]),
    ("fct_inbound_reach_monthly", "month, referring_domain", [(JAN, "a.example.org")]),
    ("fct_organization_engagement_monthly", "organization, month", [("acme.example", JAN)]),
    ("fct_repo_activity_monthly", "repo, month, commits", [("lumen/lumen", JAN, 3)]),
]

DERIVED_SQL = (
    """update marts.fct_community_funnel_monthly set
        engaged_rate = engaged / nullif(acquired, 0),
        contributor_rate = contributors / nullif(engaged, 0),
        core_rate = core / nullif(contributors, 0),
        acquired_to_contributor_rate = contributors / nullif(acquired, 0)""",
    """update marts.fct_monetization_funnel_monthly set
        business_user_to_customer_rate = customers / nullif(business_users, 0),
        benchmark_rate = 0.01,
        rate_vs_benchmark = customers / nullif(business_users, 0) / 0.01""",
)

COMMENTS: dict[tuple[str, str | None], str] = {
    ("fct_contributors_monthly", None): "Active, new and returning contributors per month.",
    ("fct_contributors_monthly", "active_contributors"): (
        "People (bots excluded, staff included) with any activity in the month."
    ),
    ("fct_contributors_monthly", "new_contributors"): (
        "CHAOSS *New Contributors*: people whose first activity ever falls in the month."
    ),
    ("fct_community_funnel_monthly", "acquired"): "People acquired in the month.",
    ("fct_community_funnel_monthly", "acquired_to_contributor_rate"): "contributors / acquired.",
    ("fct_monetization_funnel_monthly", "business_user_to_customer_rate"): (
        'customers / business users, against the "one in a hundred" benchmark.'
    ),
    ("fct_leads", "score"): "**Lead score** from the `lead_score_weights` seed.",
}

RELEASE_ID = "r-tiny-0001"
PUBLISHED_AT = "2025-04-01 09:30:00+00"

# Hand-computed from ROWS: selection -> KPI value texts, the community funnel totals and
# the top referring sites.
SELECTIONS: dict[str, dict[str, Any]] = {
    "default": {
        "filters": {"start": "2025-01", "end": "2025-03", "channel": "all"},
        # active in Mar (all) 7; new 6+3+2; contributors 2+1+0 of acquired 6+3+2 = 3/11;
        # customers 2+0+1 of business users 15+20+5 = 3/40; revenue 1200.50+499.75+300.00
        "kpis": {
            "active_contributors": "7",
            "new_contributors": "11",
            "contributor_conversion": "27.3%",
            "customers": "3",
            "business_user_to_customer_rate": "7.5%",
            "lifetime_revenue": "EUR 2,000",
        },
        "funnel": {"acquired": 11, "engaged": 7, "contributors": 3, "core": 1},
        # a: 3+1, b: 1+4, c: 2+2, the IP: 2 (masked)
        "top_sites": [
            ("b.example.net", 5),
            ("a.example.org", 4),
            ("c.example.com", 4),
            ("[IP hidden]", 2),
        ],
        "nodata": [],
    },
    "repository_jan_feb": {
        "filters": {"start": "2025-01", "end": "2025-02", "channel": "repository"},
        # active in Feb 3; new 3+1; contributors 2+1 of acquired 3+1; customers 1 of 10 + 0;
        # revenue 1200.50 rounds up
        "kpis": {
            "active_contributors": "3",
            "new_contributors": "4",
            "contributor_conversion": "75.0%",
            "customers": "1",
            "business_user_to_customer_rate": "10.0%",
            "lifetime_revenue": "EUR 1,201",
        },
        "funnel": {"acquired": 4, "engaged": 3, "contributors": 3, "core": 1},
        # a: 3, b: 1+4, c: 2, the IP: 2 (the channel does not apply)
        "top_sites": [
            ("b.example.net", 5),
            ("a.example.org", 3),
            ("[IP hidden]", 2),
            ("c.example.com", 2),
        ],
        "nodata": [],
    },
    "blog_feb_mar": {
        "filters": {"start": "2025-02", "end": "2025-03", "channel": "blog"},
        # active in Mar 2; new 0+1; contributors 0 of acquired 1; no blog organizations in
        # Feb-Mar: no rate; revenue 300.00
        "kpis": {
            "active_contributors": "2",
            "new_contributors": "1",
            "contributor_conversion": "0.0%",
            "customers": "0",
            "business_user_to_customer_rate": "–",
            "lifetime_revenue": "EUR 300",
        },
        "funnel": {"acquired": 1, "engaged": 1, "contributors": 0, "core": 0},
        "top_sites": [("b.example.net", 4), ("c.example.com", 4), ("a.example.org", 1)],
        # blog: no monetization rows in Feb-Mar, only an unanswered blog comment
        "nodata": ["response_times", "monetization_funnel", "benchmark"],
    },
}


def build_snapshot(
    path: Path,
    *,
    drop: Sequence[str] = (),
    release: bool = True,
    rows: bool = True,
    extra_sql: Sequence[str] = (),
) -> Path:
    """Write the tiny snapshot to ``path`` (without the marts in ``drop``; with empty marts
    when not ``rows``), then run ``extra_sql``."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts")
        for table, columns in MARTS.items():
            if table not in drop:
                con.execute(f"create table marts.{table} ({columns})")
        for table, columns, values in ROWS if rows else ():
            if table in drop:
                continue
            marks = ", ".join("?" for _ in columns.split(","))
            con.executemany(f"insert into marts.{table} ({columns}) values ({marks})", values)
        for sql in DERIVED_SQL:
            if not any(t in sql for t in drop):
                con.execute(sql)
        for (table, column), text in COMMENTS.items():
            if table in drop:
                continue
            target = f"table marts.{table}" if column is None else f"column marts.{table}.{column}"
            quoted = text.replace("'", "''")
            con.execute(f"comment on {target} is '{quoted}'")
        if release:
            con.execute("create schema _townsquare")
            con.execute(
                "create table _townsquare.release (release_id varchar, "
                "published_at timestamp with time zone, marts bigint)"
            )
            con.execute(
                "insert into _townsquare.release values (?, ?::timestamptz, ?)",
                [RELEASE_ID, PUBLISHED_AT, len(MARTS)],
            )
        for sql in extra_sql:
            con.execute(sql)
    finally:
        con.close()
    return path
