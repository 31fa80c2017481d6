"""The Great Expectations landing gate (real GX, real suites from expectations/)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from townsquare.quality import (
    QualityGateError,
    RawGate,
    check_marts,
    check_quarantine_threshold,
    stale_suites,
)
from townsquare.schemas import BLOG_COMMENTS, TRACKBACKS

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def row(i: int, **over):
    base = {c: None for c in TRACKBACKS.data_columns}
    base.update(
        trackback_id=f"t{i}",
        source_url=f"https://a{i}.example.org/x",
        received_at=datetime(2026, 5, 1, tzinfo=UTC),
        target_url=None,
    )
    base.update(over)
    return base


def test_committed_suites_match_the_schema_registry() -> None:
    assert stale_suites() == []


def test_gate_flags_each_bad_row_with_its_reason() -> None:
    rows = [
        row(0),
        row(1, source_url="javascript:alert(1)"),
        row(2, received_at=datetime(1970, 1, 1, tzinfo=UTC)),
        row(3, received_at=datetime(2026, 6, 3, tzinfo=UTC)),  # two days ahead of "now"
        row(4, source_url=None),
        row(5, target_url="not a url", received_at=None),
        row(6, source_url="https://ok.example.org:8080/p?q=1#f"),
    ]
    bad = RawGate(now=NOW)(TRACKBACKS, rows)
    assert bad == {
        1: "source_url is not an absolute http(s) URL",
        2: "received_at is before 1990 or in the future",
        3: "received_at is before 1990 or in the future",
        4: "source_url is missing",
        5: "received_at is missing; target_url is not an absolute http(s) URL",
    }


def test_gate_on_comments_allows_null_optional_urls() -> None:
    base = {c: None for c in BLOG_COMMENTS.data_columns}
    rows = [
        {**base, "comment_id": "1", "published_at": datetime(2025, 1, 1, tzinfo=UTC)},
        {
            **base,
            "comment_id": "2",
            "published_at": datetime(2025, 1, 1, tzinfo=UTC),
            "post_url": "https://blog.example.org/p/#comment-2",
        },
    ]
    assert RawGate(now=NOW)(BLOG_COMMENTS, rows) == {}


def test_threshold() -> None:
    check_quarantine_threshold("trackbacks", rows=95, quarantined=5, threshold=0.05)
    with pytest.raises(QualityGateError, match=r"6 of 100 rows \(6.0%\).*over the 5.0% threshold"):
        check_quarantine_threshold("trackbacks", rows=94, quarantined=6, threshold=0.05)


FORUM_THREADS_DDL = """
create schema marts;
create schema staging;
create table staging.stg_discourse__posts (post_key varchar);
create table staging.stg_mail__messages (message_key varchar);
create table marts.fct_forum_threads (
    thread_key varchar, channel varchar, source varchar, container varchar, title varchar,
    thread_url varchar, started_at timestamp, started_month date, opened_by varchar,
    first_response_at timestamp, first_responder varchar, hours_to_first_response double,
    is_answered boolean, replies bigint, participants bigint, last_activity_at timestamp
);
"""
THREAD_ROW = (
    "insert into marts.fct_forum_threads values ('f:1', 'forum', 'f', 'help', {title}, null, "
    "'2026-03-01 10:00', '2026-03-01', 'Ann', '2026-03-01 12:15', 'Bob', {hours}, true, 3, 3, "
    "'2026-03-01 13:00')"
)


def forum_warehouse(path, *statements: str) -> str:
    import duckdb

    with duckdb.connect(str(path)) as con:
        con.execute(FORUM_THREADS_DDL)
        for statement in statements:
            con.execute(statement)
    return str(path)


def only_forum_failures(warehouse: str) -> list[str]:
    """check_marts on a warehouse holding only the forum mart: the forum failures."""
    with pytest.raises(QualityGateError) as failed:
        check_marts(warehouse)
    message = str(failed.value).removeprefix("mart checks failed: ")
    return [f for f in message.split("; ") if f.startswith("fct_forum_threads")]


def test_an_empty_mart_passes_when_its_upstream_has_no_rows(tmp_path) -> None:
    # no forum source configured: staging is empty, so an empty forum mart is right
    warehouse = forum_warehouse(tmp_path / "w.duckdb")
    assert only_forum_failures(warehouse) == []  # only the (absent) blog marts fail


def test_an_empty_mart_fails_when_its_upstream_has_rows(tmp_path) -> None:
    warehouse = forum_warehouse(
        tmp_path / "w.duckdb", "insert into staging.stg_mail__messages values ('m:1')"
    )
    assert only_forum_failures(warehouse) == [
        "fct_forum_threads: expect_table_row_count_to_be_between  observed 0"
    ]


def test_forum_mart_suite_catches_negative_hours_and_emails(tmp_path) -> None:
    warehouse = forum_warehouse(
        tmp_path / "w.duckdb",
        "insert into staging.stg_mail__messages values ('m:1')",
        THREAD_ROW.format(title="'Ask ann@example.com'", hours=-1.5),
    )
    failures = only_forum_failures(warehouse)
    assert any("hours_to_first_response" in f for f in failures), failures
    assert any("expect_column_values_to_not_match_regex title" in f for f in failures), failures
    assert len(failures) == 2, failures


def test_forum_mart_suite_passes_a_good_row(tmp_path) -> None:
    warehouse = forum_warehouse(
        tmp_path / "w.duckdb",
        "insert into staging.stg_mail__messages values ('m:1')",
        THREAD_ROW.format(title="'Install on ARM'", hours=2.25),
    )
    assert only_forum_failures(warehouse) == []
