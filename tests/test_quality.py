"""The Great Expectations landing gate (real GX, real suites from expectations/)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from townsquare.quality import (
    QualityGateError,
    RawGate,
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
