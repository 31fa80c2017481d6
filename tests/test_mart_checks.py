"""The mart query checks (expectations/marts/checks/*.json) on a small hand-written warehouse.

The warehouse is built without dbt: the tables the checks read (tables stand in for the
staging and intermediate views), with only the columns they read, and a handful of rows
that agree the way the dbt models make them agree: three people (one of them staff), one
organization that is a customer and one CRM account on its own, one repository, one forum
thread, one mail thread, linkbacks and comments with the exclusions the reach marts make.
Every check passes on it; each tampering below breaks one invariant and the check fails
naming itself and showing the numbers.

Tests whose name contains ``gx`` run Great Expectations (importing it takes ~8 s, once per
process): deselect them with ``-k "not gx"``.
"""

from __future__ import annotations

import json
import re
import shutil
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest

from townsquare.paths import expectations_dir
from townsquare.quality import QualityGateError, check_marts, check_relations, mart_checks

CHECKS = mart_checks()

WAREHOUSE = """
create schema marts;
create schema staging;
create schema intermediate;

-- people: p1 (forum, acme.com, engaged, contributor), p2 (mailing list, no organization),
-- p3 (staff, vendor.io: not a dim_organizations key), all first seen in March 2026
create table marts.fct_activities (
    activity_id varchar, person_id varchar, month date, channel varchar,
    activity_type varchar, is_contribution boolean, source varchar, repo varchar,
    organization varchar, is_bot boolean, is_staff boolean
);
insert into marts.fct_activities values
    ('a1', 'p1', '2026-03-01', 'forum', 'forum_topic', false, 'f', null, 'acme.com', false, false),
    ('a2', 'p1', '2026-03-01', 'repository', 'commit', true, 'g', 'acme/app', 'acme.com',
        false, false),
    ('a3', 'p2', '2026-03-01', 'mailing_list', 'mail_thread', false, 'm', null, null, false,
        false),
    ('a4', 'p3', '2026-03-01', 'repository', 'commit', true, 'g', 'acme/app', 'vendor.io',
        false, true);

create table marts.dim_contributors (
    person_id varchar, organization varchar, is_bot boolean, is_staff boolean,
    first_seen_at timestamp, engaged_on date, first_contribution_at timestamp,
    blog_activities bigint, forum_activities bigint, mailing_list_activities bigint,
    repository_activities bigint, activities bigint, contributions bigint
);
insert into marts.dim_contributors values
    ('p1', 'acme.com', false, false, '2026-03-02 09:00', '2026-03-05', '2026-03-10 10:00',
        0, 1, 0, 1, 2, 1),
    ('p2', null, false, false, '2026-03-03 09:00', null, null, 0, 0, 1, 0, 1, 0),
    ('p3', 'vendor.io', false, true, '2026-03-04 09:00', null, '2026-03-04 09:00',
        0, 0, 0, 1, 1, 1);

create table marts.dim_organizations (
    organization varchar, account_id varchar, in_community boolean, first_touch_at timestamp,
    first_touch_channel varchar, business_users bigint, is_customer boolean,
    lifetime_revenue decimal(18, 2)
);
insert into marts.dim_organizations values
    ('acme.com', 'A1', true, '2026-03-02 09:00', 'forum', 1, true, 100.00),
    ('account:A2', 'A2', false, null, null, 0, false, 0);

create table marts.fct_organization_engagement_monthly (
    organization varchar, month date, active_people bigint, activities bigint, channels bigint
);
insert into marts.fct_organization_engagement_monthly values ('acme.com', '2026-03-01', 1, 2, 2);

create table marts.fct_leads (organization varchar);

create table marts.fct_repo_activity_monthly (
    repo varchar, month date, commits bigint, issues_opened bigint, prs_opened bigint,
    issues_closed bigint, prs_closed bigint, prs_merged bigint
);
insert into marts.fct_repo_activity_monthly values ('Acme/App', '2026-03-01', 3, 1, 1, 0, 1, 1);

create table marts.fct_forum_threads (channel varchar, source varchar);
insert into marts.fct_forum_threads values ('forum', 'f'), ('mailing_list', 'm');

create table marts.fct_inbound_reach_by_site (
    month date, referring_domain varchar, trackbacks bigint, pingbacks bigint, comments bigint,
    inbound_links bigint
);
insert into marts.fct_inbound_reach_by_site values ('2026-03-01', 'other.org', 1, 1, 1, 2);
create table marts.fct_inbound_reach_monthly (
    month date, post_key varchar, trackbacks bigint, pingbacks bigint, comments bigint,
    inbound_links bigint
);
insert into marts.fct_inbound_reach_monthly values ('2026-03-01', 'b:1', 1, 1, 1, 2);

create table marts.fct_community_funnel_monthly (
    month date, acquisition_channel varchar, acquired bigint, engaged bigint,
    contributors bigint, core bigint, engaged_rate double, contributor_rate double,
    core_rate double, acquired_to_contributor_rate double
);
insert into marts.fct_community_funnel_monthly values
    ('2026-03-01', 'forum', 1, 1, 1, 0, 1.0, 1.0, 0.0, 1.0),
    ('2026-03-01', 'mailing_list', 1, 0, 0, 0, 0.0, null, null, 0.0),
    ('2026-03-01', 'all', 2, 1, 1, 0, 0.5, 1.0, 0.0, 0.5);

create table marts.fct_monetization_funnel_monthly (
    month date, acquisition_channel varchar, organizations bigint, business_users bigint,
    engaged_organizations bigint, organizations_with_intent bigint, paying_customers bigint,
    customers bigint, engaged_rate double, intent_rate double, paying_rate double,
    business_user_to_customer_rate double, benchmark_rate double, rate_vs_benchmark double
);
insert into marts.fct_monetization_funnel_monthly values
    ('2026-03-01', 'forum', 1, 1, 1, 0, 0, 1, 1.0, 0.0, null, 1.0, 0.01, 100.0),
    ('2026-03-01', 'all', 1, 1, 1, 0, 0, 1, 1.0, 0.0, null, 1.0, 0.01, 100.0);

create table marts.fct_revenue_by_channel (
    acquisition_channel varchar, customers bigint, lifetime_revenue decimal(18, 2)
);
insert into marts.fct_revenue_by_channel values ('forum', 1, 100.00);

create table marts.fct_community_health_monthly (
    month date, active_contributors bigint, new_contributors bigint, code_contributors bigint,
    change_requests_opened bigint, change_requests_closed bigint
);
insert into marts.fct_community_health_monthly values ('2026-03-01', 3, 3, 2, 1, 1);

create table marts.fct_cohort_retention (
    cohort_month date, months_since_first integer, activity_month date, cohort_size bigint,
    active_people bigint, retention_rate double
);
insert into marts.fct_cohort_retention values ('2026-03-01', 0, '2026-03-01', 2, 2, 1.0);

create table marts.fct_contributors_monthly (
    month date, acquisition_channel varchar, active_contributors bigint,
    new_contributors bigint, returning_contributors bigint, code_contributors bigint
);
insert into marts.fct_contributors_monthly values
    ('2026-03-01', 'forum', 1, 1, 0, 1),
    ('2026-03-01', 'mailing_list', 1, 1, 0, 0),
    ('2026-03-01', 'repository', 1, 1, 0, 1),
    ('2026-03-01', 'all', 3, 3, 0, 2);

-- staging: s3 is a merge (a commit of the repo mart, not an activity)
create table staging.stg_git__commits (
    repo varchar, sha varchar, authored_at timestamp, is_merge boolean, author_email varchar,
    author_name varchar
);
insert into staging.stg_git__commits values
    ('Acme/App', 's1', '2026-03-10 10:00', false, 'ann@acme.com', 'Ann'),
    ('Acme/App', 's2', '2026-03-04 09:00', false, 'vic@vendor.io', 'Vic'),
    ('Acme/App', 's3', '2026-03-11 10:00', true, 'ann@acme.com', 'Ann');

create table staging.stg_github__issues (
    repo varchar, number bigint, is_pull_request boolean, created_at timestamp,
    closed_at timestamp, merged_at timestamp
);
insert into staging.stg_github__issues values
    ('Acme/App', 1, false, '2026-03-05 10:00', null, null),
    ('Acme/App', 2, true, '2026-03-06 10:00', '2026-03-08 10:00', '2026-03-08 10:00');

-- f:2 is deleted, f:3 is in a private-message topic: neither counts
create table staging.stg_discourse__posts (
    source varchar, post_key varchar, topic_key varchar, post_type varchar, is_deleted boolean,
    author_username varchar, author_user_id varchar, created_at timestamp
);
insert into staging.stg_discourse__posts values
    ('f', 'f:1', 'f:10', 'regular', false, 'ann', '7', '2026-03-02 09:00'),
    ('f', 'f:2', 'f:10', 'regular', true, 'bob', '8', '2026-03-02 10:00'),
    ('f', 'f:3', 'f:11', 'regular', false, 'ann', '7', '2026-03-02 11:00');
create table staging.stg_discourse__topics (topic_key varchar, archetype varchar);
insert into staging.stg_discourse__topics values ('f:10', 'regular'), ('f:11', 'private_message');

create table staging.stg_mail__messages (
    source varchar, message_id varchar, thread_root_message_id varchar
);
insert into staging.stg_mail__messages values
    ('m', 'r1@example.org', 'r1@example.org'), ('m', 'r2@example.org', 'r1@example.org');

-- t3 is a self link and c2 has no referring domain (int_inbound_reach_events excludes them)
create table staging.stg_trackback__trackbacks (
    source varchar, trackback_id varchar, kind varchar, received_at timestamp
);
insert into staging.stg_trackback__trackbacks values
    ('b', 't1', 'trackback', '2026-03-05 10:00'),
    ('b', 't2', 'pingback', '2026-03-06 10:00'),
    ('b', 't3', 'pingback', '2026-03-07 10:00');
create table staging.stg_blog__comments (
    source varchar, comment_id varchar, is_linkback boolean, published_at timestamp
);
insert into staging.stg_blog__comments values
    ('b', 'c1', false, '2026-03-08 10:00'),
    ('b', 'c2', false, '2026-03-09 10:00'),
    ('b', 't1', true, '2026-03-05 10:00');
create table intermediate.int_inbound_reach_events (
    source varchar, event_type varchar, event_id varchar, exclusion_reason varchar
);
insert into intermediate.int_inbound_reach_events values
    ('b', 'trackback', 't1', null), ('b', 'pingback', 't2', null),
    ('b', 'pingback', 't3', 'self_link'), ('b', 'comment', 'c1', null),
    ('b', 'comment', 'c2', 'no_referring_domain');

-- A1 pays, A2 is on a trial
create table staging.stg_crm__accounts (account_key varchar, account_id varchar);
insert into staging.stg_crm__accounts values ('crm:A1', 'A1'), ('crm:A2', 'A2');
create table intermediate.int_subscription_revenue (
    account_key varchar, is_paying boolean, billed_periods bigint,
    revenue_reporting decimal(18, 2)
);
insert into intermediate.int_subscription_revenue values
    ('crm:A1', true, 3, 100.00), ('crm:A2', false, 0, 0);

-- a linking site's activity is not a person's
create table intermediate.int_activities (
    activity_key varchar, channel varchar, actor_kind varchar
);
insert into intermediate.int_activities values
    ('forum:f:1', 'forum', 'person'), ('commit:acme/app:s1', 'repository', 'person'),
    ('mail:m:r1', 'mailing_list', 'person'), ('commit:acme/app:s2', 'repository', 'person'),
    ('linkback:b:t1', 'trackback', 'site');
"""

# table suites whose tables the warehouse holds in full: the rates and the funnel stages
TABLE_SUITES = (
    "fct_cohort_retention",
    "fct_community_funnel_monthly",
    "fct_monetization_funnel_monthly",
)


@pytest.fixture(scope="module")
def consistent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("checks") / "consistent.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(WAREHOUSE)
    return path


@pytest.fixture
def warehouse(consistent: Path, tmp_path: Path):
    """A copy of the consistent warehouse, tampered with the statements given."""

    def tampered(*statements: str) -> str:
        path = tmp_path / "warehouse.duckdb"
        shutil.copy(consistent, path)
        with duckdb.connect(str(path)) as con:
            for statement in statements:
                con.execute(statement)
        return str(path)

    return tampered


def run_checks(
    warehouse: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    checks: dict[str, dict] | None = None,
    suites: tuple[str, ...] = (),
) -> list[str]:
    """check_marts with only these checks (all by default) and table suites: the failures."""
    folder = tmp_path / "expectations"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "marts" / "checks").mkdir(parents=True)
    for name, doc in (CHECKS if checks is None else checks).items():
        (folder / "marts" / "checks" / f"{name}.json").write_text(json.dumps(doc))
    for table in suites:
        shutil.copy(expectations_dir() / "marts" / f"{table}.json", folder / "marts")
    monkeypatch.setenv("TOWNSQUARE_EXPECTATIONS_DIR", str(folder))
    try:
        check_marts(warehouse)
    except QualityGateError as failed:
        return str(failed).removeprefix("mart checks failed: ").split("; ")
    return []


# -- without Great Expectations -----------------------------------------------------------


def test_every_check_documents_its_invariant_and_relations() -> None:
    assert len(CHECKS) >= 15
    for name, doc in CHECKS.items():
        meta = doc["meta"]
        assert doc["name"] == f"check_{name}"
        assert len(meta["note"]) > 80, name
        assert doc["expectations"], name
        # meta.requires names every relation the query reads (the code adds them anyway)
        assert sorted(meta["requires"]) == sorted(check_relations(doc)), name


def test_every_query_runs_and_names_the_columns_its_expectations_test(consistent: Path) -> None:
    with duckdb.connect(str(consistent), read_only=True) as con:
        for name, doc in CHECKS.items():
            columns = set(con.execute(doc["meta"]["query"]).df().columns)
            for exp in doc["expectations"]:
                kwargs = exp["kwargs"]
                tested = {kwargs.get(k) for k in ("column", "column_A", "column_B")} - {None}
                assert tested <= columns, (name, tested - columns)


def test_every_rate_in_a_table_suite_is_within_0_and_1() -> None:
    """Rates and shares are bounded; ratios that are not proportions are left out."""
    not_proportions = {"rate_vs_benchmark", "change_request_closure_ratio"}
    for path in sorted((expectations_dir() / "marts").glob("*.json")):
        doc = json.loads(path.read_text())
        columns = [
            c
            for e in doc["expectations"]
            if e["type"] == "expect_table_columns_to_match_set"
            for c in e["kwargs"]["column_set"]
        ]
        bounded = {
            e["kwargs"]["column"]
            for e in doc["expectations"]
            if e["type"] == "expect_column_values_to_be_between"
            and e["kwargs"].get("min_value") == 0
            and e["kwargs"].get("max_value") == 1
        }
        rates = {c for c in columns if re.search(r"(rate|share|ratio)$", c)} - not_proportions
        assert rates <= bounded, (path.name, rates - bounded)


def test_a_suite_without_a_row_minimum_names_the_check_that_says_when_it_has_rows() -> None:
    """A row-count minimum holds only where an upstream with rows means a mart with rows."""
    for path in sorted((expectations_dir() / "marts").glob("*.json")):
        doc = json.loads(path.read_text())
        if doc["meta"]["table"] == "fct_leads":
            continue  # no lead at all is a possible answer
        types = {e["type"] for e in doc["expectations"]}
        if "expect_table_row_count_to_be_between" not in types:
            note = doc["meta"]["note"]
            assert "query check" in note and any(name in note for name in CHECKS), path.name


def test_funnel_suites_say_stages_never_increase() -> None:
    def pairs(table: str) -> set[tuple[str, str]]:
        doc = json.loads((expectations_dir() / "marts" / f"{table}.json").read_text())
        return {
            (e["kwargs"]["column_A"], e["kwargs"]["column_B"])
            for e in doc["expectations"]
            if e["type"] == "expect_column_pair_values_a_to_be_greater_than_b"
            and e["kwargs"].get("or_equal")
        }

    community = ["acquired", "engaged", "contributors", "core"]
    monetization = ["organizations", "engaged_organizations", "organizations_with_intent"]
    monetization += ["paying_customers"]
    for table, stages in (
        ("fct_community_funnel_monthly", community),
        ("fct_monetization_funnel_monthly", monetization),
    ):
        assert set(pairwise(stages)) <= pairs(table), table
    assert ("customers", "paying_customers") in pairs("fct_monetization_funnel_monthly")


# -- with Great Expectations ---------------------------------------------------------------


def test_gx_every_check_and_suite_passes_on_consistent_data(
    warehouse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert run_checks(warehouse(), monkeypatch, tmp_path, suites=TABLE_SUITES) == []


TAMPERED = {
    "orphan_keys": (
        ["update marts.fct_activities set person_id = 'p_ghost' where activity_id = 'a3'"],
        "foreign_key=fct_activities.person_id -> dim_contributors orphan_rows=1 orphan_keys=1 "
        "examples=p_ghost",
    ),
    "repo_commits_reconcile": (
        [
            "insert into staging.stg_git__commits values "
            "('Acme/App', 's4', '2026-03-12 10:00', true, 'ann@acme.com', 'Ann')"
        ],
        "repo=Acme/App month=2026-03-01 marts_commits=3 staging_commits=4",
    ),
    "repo_items_reconcile": (
        ["update staging.stg_github__issues set closed_at = '2026-03-20' where number = 1"],
        "repo=Acme/App month=2026-03-01 marts_issues_closed=0 staging_issues_closed=1",
    ),
    "forum_threads_reconcile": (
        ["update staging.stg_discourse__topics set archetype = 'regular' where topic_key = 'f:11'"],
        "channel=forum source=f marts_threads=1 staging_threads=2",
    ),
    "inbound_links_reconcile": (
        ["delete from intermediate.int_inbound_reach_events where event_id = 't3'"],
        "month=2026-03-01 marts_pingbacks=1 staging_pingbacks=2",
    ),
    "customers_reconcile": (
        ["update intermediate.int_subscription_revenue set is_paying = true, billed_periods = 1"],
        "account_id=A2 marts_customer=False staging_customer=True",
    ),
    "revenue_reconcile": (
        ["insert into intermediate.int_subscription_revenue values ('crm:A1', true, 1, 50.00)"],
        "marts_lifetime_revenue=100 staging_lifetime_revenue=150",
    ),
    "activities_per_channel_reconcile": (
        [
            "insert into marts.fct_activities select * from marts.fct_activities where activity_id = 'a1'"
        ],
        "channel=forum marts_activities=2 intermediate_activities=1",
    ),
    "commit_activities_reconcile": (
        ["update staging.stg_git__commits set is_merge = false where sha = 's3'"],
        "repo=acme/app marts_commits=2 staging_commits=3",
    ),
    "forum_posts_reconcile": (
        ["update staging.stg_discourse__posts set is_deleted = false where post_key = 'f:2'"],
        "source=f marts_posts=1 staging_posts=2",
    ),
    "organization_engagement_reconcile": (
        ["update marts.fct_activities set organization = 'acme.com' where activity_id = 'a3'"],
        "month=2026-03-01 engagement_activities=2 activities_activities=3",
    ),
    "contributor_activity_counts": (
        [
            "update marts.dim_contributors set forum_activities = 2, activities = 3 where person_id = 'p1'"
        ],
        "person_id=p1 dim_forum_activities=2 fct_forum_activities=1",
    ),
    "community_funnel_totals": (
        [
            "update marts.fct_community_funnel_monthly set engaged = 2 where acquisition_channel = 'all'"
        ],
        "month=2026-03-01 all_engaged=2 channels_engaged=1",
    ),
    "monetization_funnel_totals": (
        [
            "update marts.fct_monetization_funnel_monthly set customers = 0 "
            "where acquisition_channel = 'forum'"
        ],
        "month=2026-03-01 all_customers=1 channels_customers=0",
    ),
    "revenue_by_channel_totals": (
        ["update marts.fct_revenue_by_channel set lifetime_revenue = 100.01"],
        "acquisition_channel=forum revenue_lifetime_revenue=100.01 dim_lifetime_revenue=100",
    ),
    "community_health_reconcile": (
        ["update marts.fct_community_health_monthly set change_requests_opened = 2"],
        "month=2026-03-01 health_change_requests_opened=2 repo_prs_opened=1",
    ),
    "cohort_retention_reconcile": (
        ["update marts.dim_contributors set is_staff = true where person_id = 'p2'"],
        "cohort_month=2026-03-01 retention_cohort_size=2 contributors_acquired=1",
    ),
    "inbound_reach_marts_agree": (
        ["update marts.fct_inbound_reach_monthly set comments = 0"],
        "month=2026-03-01 by_site_comments=1 by_post_comments=0",
    ),
    "contributors_monthly_totals": (
        [
            "update marts.fct_contributors_monthly set active_contributors = 2 "
            "where acquisition_channel = 'all'"
        ],
        "month=2026-03-01 all_active_contributors=2 health_active_contributors=3",
    ),
}


def test_gx_every_check_has_a_tampering_test() -> None:
    assert set(TAMPERED) == set(CHECKS)


@pytest.mark.parametrize("name", sorted(TAMPERED))
def test_gx_a_check_fails_on_tampered_data_naming_itself_and_the_numbers(
    name: str, warehouse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    statements, numbers = TAMPERED[name]
    failures = run_checks(warehouse(*statements), monkeypatch, tmp_path, {name: CHECKS[name]})
    assert failures, name
    assert all(f.startswith(f"check {name}: expect_") for f in failures), failures
    assert any(numbers in f for f in failures), failures


def test_gx_all_failures_are_reported_together(
    warehouse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tampered = warehouse(
        "update marts.fct_activities set person_id = 'p_ghost' where activity_id = 'a3'",
        "insert into staging.stg_git__commits values "
        "('Acme/App', 's4', '2026-03-12 10:00', false, 'ann@acme.com', 'Ann')",
        "update marts.fct_cohort_retention set retention_rate = 1.5",
        "update marts.fct_community_funnel_monthly set engaged = 2 "
        "where acquisition_channel = 'mailing_list'",
        "update marts.fct_monetization_funnel_monthly set organizations = 2 "
        "where acquisition_channel = 'all'",
    )
    failures = run_checks(tampered, monkeypatch, tmp_path, suites=TABLE_SUITES)
    expected = [
        # an orphan person_id
        "check orphan_keys: expect_column_values_to_be_between(column=orphan_rows, "
        "min_value=0.0, max_value=0.0) failed on 1 of 5 rows: foreign_key=fct_activities.person_id -> "
        "dim_contributors orphan_rows=1 orphan_keys=1 examples=p_ghost",
        # an extra commit in staging
        "check repo_commits_reconcile: expect_column_pair_values_to_be_equal(column_A="
        "marts_commits, column_B=staging_commits) failed on 1 of 1 rows: repo=Acme/App "
        "month=2026-03-01 marts_commits=3 staging_commits=4",
        # a rate of 1.5 (the table suite)
        "fct_cohort_retention: expect_column_values_to_be_between retention_rate e.g. [1.5]",
        # a funnel stage that increases (the table suite)
        "fct_community_funnel_monthly: expect_column_pair_values_a_to_be_greater_than_b",
        # an 'all' row that does not sum
        "month=2026-03-01 all_organizations=2 channels_organizations=1",
    ]
    for text in expected:
        assert any(text in f for f in failures), (text, failures)
    # the ghost and the commit break other invariants too: every failed expectation is listed
    assert any(f.startswith("check contributor_activity_counts:") for f in failures)
    assert any(f.startswith("check commit_activities_reconcile:") for f in failures)


def test_gx_an_empty_mart_that_must_have_rows_fails_its_check(
    warehouse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The marts without a row-count minimum: their checks say when they must have rows."""
    emptied = warehouse(
        "delete from marts.fct_revenue_by_channel",
        "delete from marts.fct_organization_engagement_monthly",
        "delete from marts.fct_monetization_funnel_monthly",
        "delete from marts.fct_inbound_reach_by_site",
        "delete from marts.fct_inbound_reach_monthly",
    )
    failures = run_checks(emptied, monkeypatch, tmp_path)
    for text in (
        "check revenue_by_channel_totals: expect_column_pair_values_to_be_equal(column_A="
        "revenue_customers, column_B=dim_customers) failed on 1 of 1 rows: "
        "acquisition_channel=forum revenue_customers=0 dim_customers=1",
        "month=2026-03-01 engagement_activities=0 activities_activities=2",
        "month=2026-03-01 all_organizations=0 dim_organizations=1",
        "month=2026-03-01 marts_inbound_links=0 staging_inbound_links=2",
    ):
        assert any(text in f for f in failures), (text, failures)


def test_gx_a_missing_required_table_fails_clearly(
    warehouse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tampered = warehouse("drop table marts.fct_contributors_monthly")
    assert run_checks(tampered, monkeypatch, tmp_path) == [
        "check contributors_monthly_totals: needs marts.fct_contributors_monthly, which does "
        "not exist (a model that was not built?)"
    ]


def test_gx_a_check_whose_query_fails_is_a_failure_not_a_crash(
    warehouse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = {
        "name": "check_broken",
        "meta": {"note": "a typo", "query": "select no_such_column from marts.fct_leads"},
        "expectations": [{"type": "expect_table_row_count_to_equal", "kwargs": {"value": 0}}],
    }
    failures = run_checks(warehouse(), monkeypatch, tmp_path, {"broken": broken})
    assert len(failures) == 1
    assert failures[0].startswith("check broken: query failed: Binder Error"), failures


def test_gx_skip_if_empty_skips_a_check_only_while_its_upstream_is_empty(
    warehouse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # "every CRM account pays": only makes sense with a CRM, and fails on this one
    check = {
        "name": "check_paying",
        "meta": {
            "note": "every account pays",
            "skip_if_empty": ["staging.stg_crm__accounts"],
            "query": "select account_key, is_paying from intermediate.int_subscription_revenue",
        },
        "expectations": [
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "is_paying", "value_set": [True]},
            }
        ],
    }
    assert run_checks(warehouse(), monkeypatch, tmp_path, {"paying": check}) == [
        "check paying: expect_column_values_to_be_in_set(column=is_paying, value_set=[True]) "
        "failed on 1 of 2 rows: account_key=crm:A2 is_paying=False"
    ]
    no_crm = warehouse("delete from staging.stg_crm__accounts")
    assert run_checks(no_crm, monkeypatch, tmp_path, {"paying": check}) == []
    assert check_marts(no_crm) == {"checks/paying": 0}  # skipped: nothing evaluated
    # a family nobody configured: its staging relations exist but are empty, and the
    # reconciliations hold (0 = 0) without skipping
    empty = warehouse(
        "delete from staging.stg_crm__accounts",
        "delete from intermediate.int_subscription_revenue",
        "delete from marts.dim_organizations where account_id = 'A2'",
        "update marts.dim_organizations set account_id = null, is_customer = false, "
        "lifetime_revenue = 0",
        "delete from marts.fct_revenue_by_channel",
        "update marts.fct_monetization_funnel_monthly set customers = 0",
    )
    names = ("customers_reconcile", "revenue_reconcile", "revenue_by_channel_totals")
    names += ("monetization_funnel_totals",)
    assert run_checks(empty, monkeypatch, tmp_path, {n: CHECKS[n] for n in names}) == []
