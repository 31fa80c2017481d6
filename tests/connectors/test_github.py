"""GitHubConnector against a local HTTP server replaying GitHub-shaped REST answers.

Fixtures (tests/fixtures/github/*.json, see the README there) are response bodies;
the tests add the headers (``Link``, ``ETag``, ``X-RateLimit-*``, ``Retry-After``).
Expected values are written by hand from the fixtures, not computed from them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyarrow.parquet as pq
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from townsquare.config import SourceConfig
from townsquare.connectors.base import ConnectorContext
from townsquare.connectors.github import GitHubConnector
from townsquare.http import HttpError
from townsquare.pipeline import ingest_source
from townsquare.quality import suite_path, write_suites
from townsquare.records import Rejected, Row

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "github"
REPO = "lumen-db/lumen"
API = f"/repos/{REPO}"
NOW = 1_790_000_000.0  # the injected clock (epoch seconds)
LIST = {"sort": "updated", "direction": "asc", "per_page": "100"}
ISSUES_Q = {"state": "all", **LIST}
STARS_Q = {"per_page": "100"}
STAR_ACCEPT = "application/vnd.github.star+json"
TOKEN = "ghp_T0ps3cretT0ken"
KEYS = {
    "repo_issues": "number",
    "repo_comments": "comment_id",
    "repo_stars": "login",
    "repo_users": "login",
}
# The people of the first run, in the order their rows come (dependabot[bot] left out).
FIRST_RUN_PEOPLE = [
    "omarwendt",
    "mirakoval",
    "ines-duarte",
    "tobiaslq",
    "carolreyes",
    "davidokafor",
    "erinholt",
]
NOW_ISO = "2026-09-21T14:13:20Z"  # NOW
NOT_FOUND = {
    "message": "Not Found",
    "documentation_url": "https://docs.github.com/rest/users/users#get-a-user",
    "status": "404",
}
SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)

FIRST_STATE = {
    # two pages of issues: no ETag kept (a 304 on page 1 would not prove page 2 unchanged)
    "repo_issues": {"since": "2026-03-06T10:00:00Z", "seen": ["5"]},
    "repo_comments": {
        "issue_comment": {
            "since": "2026-03-03T11:00:00Z",
            "seen": ["9003"],
            "etag": 'W/"c1"',
            "etag_for": "direction=asc&per_page=100&sort=updated",
        },
        "review_comment": {
            "since": "2026-03-02T15:10:00Z",
            "seen": ["7001"],
            "etag": 'W/"rc1"',
            "etag_for": "direction=asc&per_page=100&sort=updated",
        },
    },
    "repo_stars": {
        "page": "/repositories/42/stargazers?per_page=100&page=2",
        "logins": ["erinholt"],
        "etag": 'W/"s2"',
    },
}

FIRST_RUN_KEYS = [
    ("repo_issues", 1),
    ("repo_issues", 2),
    ("repo_issues", 3),
    ("repo_issues", 4),
    ("repo_issues", 5),
    ("repo_comments", "9001"),
    ("repo_comments", "9002"),
    ("repo_comments", "9003"),
    ("repo_comments", "7001"),
    ("repo_comments", "8001"),
    ("repo_comments", "8002"),
    ("repo_comments", "8003"),
    ("repo_stars", "carolreyes"),
    ("repo_stars", "davidokafor"),
    ("repo_stars", "erinholt"),
]


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def raw_suites(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The landing gate needs the repo_* suites; generate them when not committed yet."""
    if all(suite_path(e).exists() for e in GitHubConnector.entities):
        return
    folder = tmp_path_factory.mktemp("expectations")
    write_suites(folder)
    monkeypatch.setenv("TOWNSQUARE_EXPECTATIONS_DIR", str(folder))


def body(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def next_link(server: HTTPServer, path: str, query: dict[str, str]) -> dict[str, str]:
    return {"Link": f'<{server.url_for(path)}?{urlencode(query)}>; rel="next", <x>; rel="last"'}


def serve(
    server: HTTPServer,
    path: str,
    payload: Any,
    query: Any = None,
    *,
    headers: dict[str, str] | None = None,
    status: int = 200,
    once: bool = False,
) -> None:
    expect = server.expect_oneshot_request if once else server.expect_request
    payload = body(payload) if isinstance(payload, str) else payload
    expect(path, query_string=query).respond_with_json(
        payload, status=status, headers=headers or {}
    )


def serve_first_run(server: HTTPServer, prefix: str = "") -> None:
    """Issues (2 pages), comments, review comments, reviews, stars (2 pages)."""
    p = prefix
    page2 = {**ISSUES_Q, "page": "2"}
    serve(
        server,
        f"{p}{API}/issues",
        "issues_p1",
        ISSUES_Q,
        headers={**next_link(server, f"{p}/repositories/42/issues", page2), "ETag": 'W/"i1"'},
    )
    serve(server, f"{p}/repositories/42/issues", "issues_p2", page2)
    serve(server, f"{p}{API}/pulls/5", "pull_5")
    serve(server, f"{p}{API}/issues/comments", "issue_comments", LIST, headers={"ETag": 'W/"c1"'})
    serve(server, f"{p}{API}/pulls/comments", "review_comments", LIST, headers={"ETag": 'W/"rc1"'})
    serve(server, f"{p}{API}/pulls/2/reviews", "reviews_2", STARS_Q)
    serve(server, f"{p}{API}/pulls/3/reviews", [], STARS_Q)
    serve(server, f"{p}{API}/pulls/5/reviews", "reviews_5", STARS_Q)
    serve_stars(server, p)


def serve_stars(server: HTTPServer, p: str = "") -> None:
    stars2 = {**STARS_Q, "page": "2"}
    serve(
        server,
        f"{p}{API}/stargazers",
        "stargazers_p1",
        STARS_Q,
        headers={**next_link(server, f"{p}/repositories/42/stargazers", stars2), "ETag": 'W/"s1"'},
    )
    serve(
        server,
        f"{p}/repositories/42/stargazers",
        "stargazers_p2",
        stars2,
        headers={"ETag": 'W/"s2"'},
    )


def serve_users(server: HTTPServer, p: str = "", **status: int) -> None:
    """``/users/{login}`` for the people of the first run; ``status``: login → error status."""
    for login, profile in body("users").items():
        code = status.get(login, 200)
        payload = profile if code == 200 else NOT_FOUND
        serve(server, f"{p}/users/{login}", payload, status=code)


def users_requested(server: HTTPServer) -> list[str]:
    return [r.path.removeprefix("/users/") for r, _ in server.log if r.path.startswith("/users/")]


def make(
    server: HTTPServer,
    *,
    state: dict[str, Any] | None = None,
    since: str | None = None,
    credentials: dict[str, str] | None = None,
    sleeps: Sleeps | None = None,
    api_path: str = "/",
    profiles: bool | None = False,
    **options: Any,
) -> GitHubConnector:
    """``profiles``: the ``fetch_profiles`` option (None: the connector's default). Off
    unless asked: the listing tests pin their requests; profiles have tests of their own."""
    if profiles is not None:
        options = {"fetch_profiles": profiles, **options}
    ctx = ConnectorContext(
        name="lumen-gh",
        location=REPO,
        state=json.loads(json.dumps(state or {})),
        since=since,
        options={"api_url": server.url_for(api_path), **options},
        credentials=credentials or {},
    )
    return GitHubConnector(
        ctx,
        http={"sleep": sleeps if sleeps is not None else Sleeps(), "max_retries": 2},
        clock=lambda: NOW,
    )


def keys(items: list[Any]) -> list[tuple[str, Any]]:
    return [
        (i.entity, i.values[KEYS[i.entity]])
        if isinstance(i, Row)
        else (f"rejected:{i.entity}", i.native_id)
        for i in items
    ]


def row(items: list[Any], entity: str, native_id: Any) -> dict[str, Any]:
    [found] = [
        i
        for i in items
        if isinstance(i, Row) and i.entity == entity and i.values[KEYS[entity]] == native_id
    ]
    return found.values


def requested(server: HTTPServer) -> list[str]:
    return [
        request.path + (f"?{request.query_string.decode()}" if request.query_string else "")
        for request, _ in server.log
    ]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def lake_rows(lake: Path, entity: str) -> list[dict[str, Any]]:
    files = sorted((lake / "raw" / entity).rglob("*.parquet"))
    return [r for f in files for r in pq.read_table(f).to_pylist()]


def state_file(lake: Path, source: str, entity: str) -> dict[str, Any]:
    return json.loads((lake / "_state" / source / f"{entity}.json").read_text())["state"]


# -- a first run -----------------------------------------------------------------------


def test_first_run_follows_link_headers_to_the_end_of_every_listing(
    httpserver: HTTPServer,
) -> None:
    serve_first_run(httpserver)
    connector = make(httpserver)

    items = list(connector.items())

    assert keys(items) == FIRST_RUN_KEYS
    assert requested(httpserver) == [
        f"{API}/issues?state=all&sort=updated&direction=asc&per_page=100",
        "/repositories/42/issues?state=all&sort=updated&direction=asc&per_page=100&page=2",
        f"{API}/pulls/5",  # closed, and its issue record has no pull_request.merged_at
        f"{API}/issues/comments?sort=updated&direction=asc&per_page=100",
        f"{API}/pulls/comments?sort=updated&direction=asc&per_page=100",
        f"{API}/pulls/2/reviews?per_page=100",
        f"{API}/pulls/3/reviews?per_page=100",
        f"{API}/pulls/5/reviews?per_page=100",
        f"{API}/stargazers?per_page=100",
        "/repositories/42/stargazers?per_page=100&page=2",  # no Link: the last page
    ]
    assert connector.new_state() == FIRST_STATE
    assert not connector.stopped
    for request, _ in httpserver.log:
        assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
        star = "stargazers" in request.path
        assert request.headers["Accept"] == (STAR_ACCEPT if star else "application/vnd.github+json")
        assert "Authorization" not in request.headers  # anonymous
        assert "If-None-Match" not in request.headers


def test_issue_rows_tell_issues_from_pull_requests_and_fill_every_column(
    httpserver: HTTPServer,
) -> None:
    serve_first_run(httpserver)

    items = list(make(httpserver).items())

    # The old API shape: a pull_request object with null URLs on a plain issue.
    assert row(items, "repo_issues", 1) == {
        "repo": "lumen-db/lumen",
        "number": 1,
        "issue_id": "2001",
        "is_pull_request": False,
        "title": "WAL replay fails after power loss on SD card",
        "state": "closed",
        "state_reason": "completed",
        "labels": ["bug", "wal"],
        "author_login": "omarwendt",
        "author_association": "NONE",
        "author_type": "User",
        "created_at": utc(2026, 3, 1, 9),
        "updated_at": utc(2026, 3, 2, 10),
        "closed_at": utc(2026, 3, 2, 10),
        "merged_at": None,
        "is_draft": False,
        "comments": 2,
        "url": "https://github.com/lumen-db/lumen/issues/1",
        "body_text": "After pulling the plug mid-write, `lumen open` fails with `bad segment header`.",
    }
    merged = row(items, "repo_issues", 2)
    assert (merged["is_pull_request"], merged["merged_at"], merged["is_draft"]) == (
        True,
        utc(2026, 3, 3, 12),
        False,
    )
    assert merged["author_association"] == "CONTRIBUTOR"
    assert merged["url"] == "https://github.com/lumen-db/lumen/pull/2"
    bot = row(items, "repo_issues", 3)
    assert (bot["author_login"], bot["author_type"], bot["is_draft"], bot["merged_at"]) == (
        "dependabot[bot]",
        "Bot",
        True,
        None,
    )
    assert bot["labels"] == ["dependencies"]
    question = row(items, "repo_issues", 4)
    assert (question["is_pull_request"], question["is_draft"], question["closed_at"]) == (
        False,
        False,
        None,
    )
    # merged_at looked up with /pulls/5: closed without merging; draft from there too
    old_shape = row(items, "repo_issues", 5)
    assert (old_shape["is_pull_request"], old_shape["merged_at"], old_shape["is_draft"]) == (
        True,
        None,
        False,
    )
    raw = next(i.raw for i in items if isinstance(i, Row) and i.values.get("number") == 1)
    assert raw["node_id"] == "I_kwDOA2001"  # the original record travels as raw


def test_comment_review_and_star_rows(httpserver: HTTPServer) -> None:
    serve_first_run(httpserver)

    items = list(make(httpserver).items())

    assert row(items, "repo_comments", "9002") == {
        "repo": "lumen-db/lumen",
        "kind": "issue_comment",
        "comment_id": "9002",
        "number": 1,  # from issue_url
        "author_login": "omarwendt",
        "author_association": "NONE",
        "author_type": "User",
        "review_state": None,
        "created_at": utc(2026, 3, 1, 10),
        "updated_at": utc(2026, 3, 1, 10, 5),
        "url": "https://github.com/lumen-db/lumen/issues/1#issuecomment-9002",
        "body_text": "SanDisk Industrial 8 GB, Lumen 0.9.2.",
    }
    assert row(items, "repo_comments", "7001") == {
        "repo": "lumen-db/lumen",
        "kind": "review_comment",
        "comment_id": "7001",
        "number": 2,  # from pull_request_url
        "author_login": "tobiaslq",
        "author_association": "MEMBER",
        "author_type": "User",
        "review_state": None,
        "created_at": utc(2026, 3, 2, 15),
        "updated_at": utc(2026, 3, 2, 15, 10),
        "url": "https://github.com/lumen-db/lumen/pull/2#discussion_r7001",
        "body_text": "Should this log the truncated length?",
    }
    assert row(items, "repo_comments", "8002") == {
        "repo": "lumen-db/lumen",
        "kind": "review",
        "comment_id": "8002",
        "number": 2,
        "author_login": "ines-duarte",
        "author_association": "MEMBER",
        "author_type": "User",
        "review_state": "APPROVED",
        "created_at": utc(2026, 3, 3, 10, 55),  # submitted_at
        "updated_at": None,
        "url": "https://github.com/lumen-db/lumen/pull/2#pullrequestreview-8002",
        "body_text": "Nice fix.",
    }
    assert row(items, "repo_comments", "8001")["body_text"] is None  # an empty review body
    assert row(items, "repo_comments", "8003")["review_state"] == "CHANGES_REQUESTED"
    assert row(items, "repo_stars", "davidokafor") == {
        "repo": "lumen-db/lumen",
        "login": "davidokafor",
        "user_id": "5202",
        "user_type": "User",
        "starred_at": utc(2026, 2, 11, 12, 30),
    }


# -- incremental runs and conditional requests ---------------------------------------


def test_incremental_run_asks_since_the_watermarks_and_lands_only_what_is_new(
    httpserver: HTTPServer,
) -> None:
    since_issues = {**ISSUES_Q, "since": "2026-03-06T10:00:00Z"}
    serve(httpserver, f"{API}/issues", "issues_since", since_issues, headers={"ETag": 'W/"i2"'})
    serve(
        httpserver,
        f"{API}/issues/comments",
        "issue_comments_since",
        {**LIST, "since": "2026-03-03T11:00:00Z"},
        headers={"ETag": 'W/"c2"'},
    )
    serve(
        httpserver,
        f"{API}/pulls/comments",
        "review_comments",  # only the boundary comment, unchanged
        {**LIST, "since": "2026-03-02T15:10:00Z"},
        headers={"ETag": 'W/"rc2"'},
    )
    serve(
        httpserver,
        "/repositories/42/stargazers",
        "stargazers_p2_more",
        {**STARS_Q, "page": "2"},
        headers={"ETag": 'W/"s2b"'},
    )
    connector = make(httpserver, state=FIRST_STATE)
    assert connector.interval_key() == make(httpserver, state=FIRST_STATE).interval_key()

    items = list(connector.items())

    # #5, 9003 and 7001 are the inclusive-since boundary, unchanged: skipped; #4 changed.
    assert keys(items) == [
        ("repo_issues", 4),
        ("repo_issues", 6),
        ("repo_comments", "9004"),
        ("repo_stars", "mirakoval"),  # erinholt landed last run
    ]
    assert requested(httpserver) == [
        f"{API}/issues?state=all&sort=updated&direction=asc&per_page=100"
        "&since=2026-03-06T10%3A00%3A00Z",
        f"{API}/issues/comments?sort=updated&direction=asc&per_page=100"
        "&since=2026-03-03T11%3A00%3A00Z",
        f"{API}/pulls/comments?sort=updated&direction=asc&per_page=100"
        "&since=2026-03-02T15%3A10%3A00Z",
        "/repositories/42/stargazers?per_page=100&page=2",  # from the last page read
    ]  # no reviews: no pull request changed; no /pulls/5: #5 was skipped
    # the stored ETags were for other queries (the first run had no since)
    assert all("If-None-Match" not in r.headers for r, _ in httpserver.log[:3])
    assert httpserver.log[3][0].headers["If-None-Match"] == 'W/"s2"'
    assert row(items, "repo_issues", 4)["state"] == "closed"
    assert connector.new_state() == {
        "repo_issues": {
            "since": "2026-03-08T10:00:00Z",
            "seen": ["6"],
            "etag": 'W/"i2"',
            "etag_for": "direction=asc&per_page=100&since=2026-03-06T10%3A00%3A00Z"
            "&sort=updated&state=all",
        },
        "repo_comments": {
            "issue_comment": {
                "since": "2026-03-08T08:00:00Z",
                "seen": ["9004"],
                "etag": 'W/"c2"',
                "etag_for": "direction=asc&per_page=100&since=2026-03-03T11%3A00%3A00Z"
                "&sort=updated",
            },
            "review_comment": {  # nothing new: same watermark, so next run asks conditionally
                "since": "2026-03-02T15:10:00Z",
                "seen": ["7001"],
                "etag": 'W/"rc2"',
                "etag_for": "direction=asc&per_page=100&since=2026-03-02T15%3A10%3A00Z"
                "&sort=updated",
            },
        },
        "repo_stars": {
            "page": "/repositories/42/stargazers?per_page=100&page=2",
            "logins": ["erinholt", "mirakoval"],
            "etag": 'W/"s2b"',
        },
    }


def test_etag_304_means_nothing_changed(httpserver: HTTPServer) -> None:
    state = {
        "repo_issues": {
            "since": "2026-03-06T10:00:00Z",
            "seen": ["5"],
            "etag": 'W/"i2"',
            "etag_for": "direction=asc&per_page=100&since=2026-03-06T10%3A00%3A00Z"
            "&sort=updated&state=all",
        },
        "repo_comments": {"review": {"pending": []}},
        "repo_stars": FIRST_STATE["repo_stars"],
    }
    for path, etag in ((f"{API}/issues", 'W/"i2"'), ("/repositories/42/stargazers", 'W/"s2"')):
        httpserver.expect_request(path, headers={"If-None-Match": etag}).respond_with_data(
            "", status=304, headers={"ETag": etag}
        )
    serve(httpserver, f"{API}/issues/comments", [], LIST)
    serve(httpserver, f"{API}/pulls/comments", [], LIST)
    connector = make(httpserver, state=state)

    assert list(connector.items()) == []

    assert [(r.path, s.status_code) for r, s in httpserver.log] == [
        (f"{API}/issues", 304),
        (f"{API}/issues/comments", 200),
        (f"{API}/pulls/comments", 200),
        ("/repositories/42/stargazers", 304),
    ]
    assert connector.new_state() == state  # nothing moved


def test_since_wins_over_the_stored_state(httpserver: HTTPServer) -> None:
    serve(httpserver, f"{API}/issues", "issues_p2", {**ISSUES_Q, "since": "2026-03-05T00:00:00Z"})
    serve(httpserver, f"{API}/pulls/5", "pull_5")
    serve(httpserver, f"{API}/pulls/5/reviews", [], STARS_Q)
    serve(httpserver, f"{API}/issues/comments", [], {**LIST, "since": "2026-03-05T00:00:00Z"})
    serve(httpserver, f"{API}/pulls/comments", [], {**LIST, "since": "2026-03-05T00:00:00Z"})
    serve_stars(httpserver)  # from the first page, keeping stars from --since on
    connector = make(httpserver, state=FIRST_STATE, since="2026-03-05")

    items = list(connector.items())

    # #5 is the stored boundary but --since ignores the stored "seen" keys
    assert keys(items) == [("repo_issues", 4), ("repo_issues", 5)]
    state = connector.new_state()
    assert state["repo_issues"]["since"] == "2026-03-06T10:00:00Z"  # never moves back
    assert state["repo_comments"]["issue_comment"]["since"] == "2026-03-03T11:00:00Z"
    assert state["repo_stars"]["logins"] == ["erinholt"]


# -- rate limits ---------------------------------------------------------------------


def test_primary_rate_limit_stops_cleanly_and_the_next_run_resumes_exactly(
    httpserver: HTTPServer, tmp_path: Path, raw_suites: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Page 2 of the issues hits X-RateLimit-Remaining: 0 with the reset an hour away."""
    import time

    lake = tmp_path / "lake"
    source = SourceConfig(
        type="github", name="lumen-gh", location=REPO, options={"api_url": httpserver.url_for("/")}
    )
    page2 = {**ISSUES_Q, "page": "2"}
    serve(
        httpserver,
        f"{API}/issues",
        "issues_p1",
        ISSUES_Q,
        headers={**next_link(httpserver, "/repositories/42/issues", page2), "ETag": 'W/"i1"'},
    )
    limit = {"message": "API rate limit exceeded for user ID 5001.", "status": "403"}
    serve(
        httpserver,
        "/repositories/42/issues",
        limit,
        page2,
        status=403,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 3600)},
    )

    with caplog.at_level(logging.WARNING, logger="townsquare.connectors.github"):
        first = ingest_source(source, lake=str(lake), credentials={})

    assert first.to_json()["entities"] == {
        "repo_comments": {"rows": 0, "quarantined": 0},
        "repo_issues": {"rows": 3, "quarantined": 0},
        "repo_stars": {"rows": 0, "quarantined": 0},
        "repo_users": {"rows": 0, "quarantined": 0},
    }
    assert len(httpserver.log) == 2  # nothing asked after the limit (no profiles either)
    assert "rate limit" in caplog.text and "over max_rate_limit_wait=300s" in caplog.text
    assert state_file(lake, "lumen-gh", "repo_issues") == {
        "since": "2026-03-04T08:00:00Z",  # #3, the last record of the last page read
        "seen": ["3"],  # and no ETag: the listing was cut short
    }
    assert state_file(lake, "lumen-gh", "repo_comments") == {"review": {"pending": [2, 3]}}
    assert not (lake / "_state/lumen-gh/repo_stars.json").exists()
    # the authors of #1-#3 landed: their profiles are fetched next run (not the bot)
    assert state_file(lake, "lumen-gh", "repo_users") == {"pending": ["omarwendt", "mirakoval"]}

    # After the reset: the issues from the watermark (#3 again: since is inclusive).
    httpserver.clear()
    serve(
        httpserver, f"{API}/issues", "issues_resume", {**ISSUES_Q, "since": "2026-03-04T08:00:00Z"}
    )
    serve(httpserver, f"{API}/pulls/5", "pull_5")
    serve(httpserver, f"{API}/issues/comments", "issue_comments", LIST)
    serve(httpserver, f"{API}/pulls/comments", "review_comments", LIST)
    serve(httpserver, f"{API}/pulls/2/reviews", "reviews_2", STARS_Q)
    serve(httpserver, f"{API}/pulls/3/reviews", [], STARS_Q)
    serve(httpserver, f"{API}/pulls/5/reviews", "reviews_5", STARS_Q)
    serve_stars(httpserver)
    serve_users(httpserver)

    second = ingest_source(source, lake=str(lake), credentials={})

    assert second.run_id != first.run_id
    assert second.to_json()["entities"] == {
        "repo_comments": {"rows": 7, "quarantined": 0},
        "repo_issues": {"rows": 2, "quarantined": 0},
        "repo_stars": {"rows": 3, "quarantined": 0},
        "repo_users": {"rows": 7, "quarantined": 0},
    }
    assert [r.path for r, _ in httpserver.log if "reviews" in r.path] == [
        f"{API}/pulls/2/reviews",  # pending from the stopped run
        f"{API}/pulls/3/reviews",
        f"{API}/pulls/5/reviews",
    ]
    # Every record landed exactly once over the two runs.
    issues = lake_rows(lake, "repo_issues")
    assert sorted(r["number"] for r in issues) == [1, 2, 3, 4, 5]
    comments = lake_rows(lake, "repo_comments")
    assert sorted((r["kind"], r["comment_id"]) for r in comments) == [
        ("issue_comment", "9001"),
        ("issue_comment", "9002"),
        ("issue_comment", "9003"),
        ("review", "8001"),
        ("review", "8002"),
        ("review", "8003"),
        ("review_comment", "7001"),
    ]
    stars = lake_rows(lake, "repo_stars")
    assert sorted(r["login"] for r in stars) == ["carolreyes", "davidokafor", "erinholt"]
    assert {r["source"] for r in issues + comments + stars} == {"lumen-gh"}
    assert state_file(lake, "lumen-gh", "repo_issues")["since"] == "2026-03-06T10:00:00Z"
    assert state_file(lake, "lumen-gh", "repo_comments")["review"] == {"pending": []}
    assert state_file(lake, "lumen-gh", "repo_stars") == FIRST_STATE["repo_stars"]
    users = lake_rows(lake, "repo_users")
    assert sorted(r["login"] for r in users) == sorted(FIRST_RUN_PEOPLE)
    assert users_requested(httpserver) == FIRST_RUN_PEOPLE  # the pending ones first
    assert sorted(state_file(lake, "lumen-gh", "repo_users")) == ["fetched"]  # none pending
    assert sorted(state_file(lake, "lumen-gh", "repo_users")["fetched"]) == sorted(FIRST_RUN_PEOPLE)


def test_primary_rate_limit_with_a_near_reset_waits_for_it(httpserver: HTTPServer) -> None:
    serve_first_run(httpserver)
    page2 = {**ISSUES_Q, "page": "2"}
    serve(
        httpserver,
        "/repositories/42/issues",
        {"message": "API rate limit exceeded for 203.0.113.7."},
        page2,
        status=429,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 30)},
        once=True,
    )
    sleeps = Sleeps()
    connector = make(httpserver, sleeps=sleeps)

    assert keys(connector.items()) == FIRST_RUN_KEYS

    assert sleeps == [31.0]  # until the reset, plus a second
    assert connector.new_state() == FIRST_STATE


def test_a_used_up_budget_stops_before_the_next_request(httpserver: HTTPServer) -> None:
    """A success with X-RateLimit-Remaining: 0: the next request would fail, so none is sent."""
    page2 = {**ISSUES_Q, "page": "2"}
    serve(
        httpserver,
        f"{API}/issues",
        "issues_p1",
        ISSUES_Q,
        headers={
            **next_link(httpserver, "/repositories/42/issues", page2),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(NOW) + 1800),
        },
    )
    sleeps = Sleeps()
    connector = make(httpserver, sleeps=sleeps)

    assert keys(connector.items()) == [("repo_issues", 1), ("repo_issues", 2), ("repo_issues", 3)]

    assert len(httpserver.log) == 1 and sleeps == []
    assert connector.stopped
    state = connector.new_state()
    assert state["repo_issues"]["since"] == "2026-03-04T08:00:00Z"
    assert state["repo_comments"] == {"review": {"pending": [2, 3]}}


def test_secondary_rate_limits_wait_retry_after_or_a_minute(httpserver: HTTPServer) -> None:
    serve(
        httpserver,
        f"{API}/issues",
        {"message": SECONDARY, "documentation_url": "https://docs.github.com/rest"},
        ISSUES_Q,
        status=403,
        headers={"Retry-After": "7", "X-RateLimit-Remaining": "4000"},
        once=True,
    )
    serve(
        httpserver,
        f"{API}/issues/comments",
        {"message": SECONDARY},
        LIST,
        status=403,
        once=True,
    )
    serve_first_run(httpserver)
    sleeps = Sleeps()
    connector = make(httpserver, sleeps=sleeps)

    assert keys(connector.items()) == FIRST_RUN_KEYS

    assert sleeps == [7.0, 60.0]
    assert [s.status_code for _, s in httpserver.log][:2] == [403, 200]


def test_a_persistent_secondary_limit_stops_cleanly_after_max_retries(
    httpserver: HTTPServer,
) -> None:
    serve(
        httpserver,
        f"{API}/issues",
        {"message": SECONDARY},
        ISSUES_Q,
        status=403,
        headers={"Retry-After": "5"},
    )
    sleeps = Sleeps()
    connector = make(httpserver, sleeps=sleeps)

    assert list(connector.items()) == []

    assert sleeps == [5.0, 5.0]  # max_retries=2
    assert len(httpserver.log) == 3
    assert connector.stopped
    assert connector.new_state() == {}


# -- the API, credentials, errors ----------------------------------------------------


def test_github_enterprise_api_url(httpserver: HTTPServer) -> None:
    serve_first_run(httpserver, prefix="/api/v3")
    connector = make(httpserver, api_path="/api/v3")

    assert keys(connector.items()) == FIRST_RUN_KEYS

    assert all(r.path.startswith("/api/v3/") for r, _ in httpserver.log)
    assert len(httpserver.log) == 10
    # stored relative to api_url, so the next run asks /api/v3/repositories/42/...
    assert connector.new_state()["repo_stars"]["page"] == (
        "/repositories/42/stargazers?per_page=100&page=2"
    )


def test_token_is_sent_as_bearer_and_never_logged(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    serve_first_run(httpserver)
    httpserver.expect_oneshot_request(f"{API}/pulls/comments").respond_with_json(
        {"message": "boom"}, status=502
    )

    with caplog.at_level(logging.DEBUG):
        list(make(httpserver, credentials={"token": TOKEN}).items())

    assert {r.headers["Authorization"] for r, _ in httpserver.log} == {f"Bearer {TOKEN}"}
    assert "GET http" in caplog.text  # the client logged its requests (and one retry)
    assert TOKEN not in caplog.text


def test_token_from_an_airflow_connection_password(httpserver: HTTPServer) -> None:
    serve(httpserver, f"{API}/issues", [], ISSUES_Q)
    serve(httpserver, f"{API}/issues/comments", [], LIST)
    serve(httpserver, f"{API}/pulls/comments", [], LIST)
    serve(httpserver, f"{API}/stargazers", [], STARS_Q)

    list(make(httpserver, credentials={"password": "gho_fr0mC0nn"}).items())

    assert {r.headers["Authorization"] for r, _ in httpserver.log} == {"Bearer gho_fr0mC0nn"}


def test_bad_token_and_unknown_repository_are_clear_errors(httpserver: HTTPServer) -> None:
    docs = "https://docs.github.com/rest"
    httpserver.expect_oneshot_request(f"{API}/issues").respond_with_json(
        {"message": "Bad credentials", "documentation_url": docs, "status": "401"}, status=401
    )
    with pytest.raises(HttpError) as bad:
        list(make(httpserver, credentials={"token": TOKEN}).items())
    assert bad.value.status == 401
    assert "lumen-db/lumen" in str(bad.value) and "wrong, expired or revoked" in str(bad.value)
    assert "Bad credentials" in str(bad.value) and TOKEN not in str(bad.value)

    httpserver.expect_oneshot_request(f"{API}/issues").respond_with_json(
        {"message": "Not Found", "documentation_url": docs, "status": "404"}, status=404
    )
    with pytest.raises(HttpError) as missing:
        list(make(httpserver).items())
    assert missing.value.status == 404
    assert "lumen-db/lumen at http://localhost" in str(missing.value)
    assert "no such repository, or it is private" in str(missing.value)


def test_bad_records_are_rejected_with_a_reason(httpserver: HTTPServer) -> None:
    good = body("issues_p2")[0]
    serve(
        httpserver,
        f"{API}/issues",
        [
            "not an issue",
            {"title": "no number"},
            {**good, "number": 7, "created_at": "yesterday"},
            {**good, "number": 8, "created_at": None},
            good,
        ],
        ISSUES_Q,
    )
    comment = body("issue_comments")[0]
    serve(
        httpserver,
        f"{API}/issues/comments",
        [{**comment, "id": None}, {**comment, "id": 9010, "issue_url": None}, comment],
        LIST,
    )
    serve(httpserver, f"{API}/pulls/comments", [], LIST)
    user = body("stargazers_p1")[0]["user"]
    serve(httpserver, f"{API}/stargazers", [user, {"starred_at": "2026-01-01T00:00:00Z"}], STARS_Q)

    items = list(make(httpserver).items())

    assert [(i.entity, i.native_id, i.reason) for i in items if isinstance(i, Rejected)] == [
        ("repo_issues", None, "expected a JSON object, got 'not an issue'"),
        ("repo_issues", None, "issue has no number"),
        (
            "repo_issues",
            "7",
            "issue 7: unparseable date (not an ISO 8601 date: 'yesterday')",
        ),
        ("repo_issues", "8", "issue 8: no created_at"),
        ("repo_comments", None, "issue_comment has no id"),
        (
            "repo_comments",
            "9010",
            "issue_comment 9010: no issue_url to take the issue or pull request number from",
        ),
        (
            "repo_stars",
            "carolreyes",
            "stargazer without starred_at: the server ignored the "
            "application/vnd.github.star+json media type",
        ),
        ("repo_stars", None, "stargazer has no user"),
    ]
    assert [k for k in keys(items) if not k[0].startswith("rejected")] == [
        ("repo_issues", 4),
        ("repo_comments", "9001"),
    ]


def test_a_next_link_to_another_host_is_refused(httpserver: HTTPServer) -> None:
    serve(
        httpserver,
        f"{API}/issues",
        "issues_p1",
        ISSUES_Q,
        headers={"Link": '<https://evil.example.com/issues?page=2>; rel="next"'},
    )
    with pytest.raises(HttpError, match="refusing to send the token there"):
        list(make(httpserver, credentials={"token": TOKEN}).items())
    assert len(httpserver.log) == 1


def test_many_pull_requests_lacking_merged_at_are_looked_up_in_one_listing(
    httpserver: HTTPServer,
) -> None:
    """Older servers: more than 3 closed PRs without merged_at → /pulls?state=closed, not /pulls/{n}."""
    old = body("issues_p2")[1]  # #5, closed, pull_request without merged_at
    issues = [
        {**old, "number": n, "updated_at": f"2026-03-0{n - 4}T10:00:00Z"} for n in (5, 6, 7, 8)
    ]
    serve(httpserver, f"{API}/issues", issues, ISSUES_Q)
    pull = body("pull_5")
    pulls = [  # newest updated first
        {**pull, "number": 8, "merged_at": "2026-03-04T09:59:00Z"},
        {**pull, "number": 7, "merged_at": None},
        {**pull, "number": 6, "merged_at": "2026-03-02T09:00:00Z", "draft": False},
        {**pull, "number": 5, "merged_at": None},
    ]
    closed = {"state": "closed", "sort": "updated", "direction": "desc", "per_page": "100"}
    serve(httpserver, f"{API}/pulls", pulls, closed)
    for n in (5, 6, 7, 8):
        serve(httpserver, f"{API}/pulls/{n}/reviews", [], STARS_Q)
    serve(httpserver, f"{API}/issues/comments", [], LIST)
    serve(httpserver, f"{API}/pulls/comments", [], LIST)
    serve(httpserver, f"{API}/stargazers", [], STARS_Q)

    items = list(make(httpserver).items())

    assert {n: row(items, "repo_issues", n)["merged_at"] for n in (5, 6, 7, 8)} == {
        5: None,
        6: utc(2026, 3, 2, 9),
        7: None,
        8: utc(2026, 3, 4, 9, 59),
    }
    assert sum(r.path == f"{API}/pulls" for r, _ in httpserver.log) == 1
    assert not any(r.path == f"{API}/pulls/5" for r, _ in httpserver.log)


def test_a_record_updated_while_paged_is_landed_once_and_holds_the_watermark(
    httpserver: HTTPServer,
) -> None:
    """#2 is updated between page 1 and page 2: it comes back at the end of the listing."""
    p1 = body("issues_p1")
    updated_2 = {**p1[1], "updated_at": "2026-03-07T00:00:00Z", "comments": 2}
    page2 = {**ISSUES_Q, "page": "2"}
    serve(
        httpserver,
        f"{API}/issues",
        p1,
        ISSUES_Q,
        headers=next_link(httpserver, "/repositories/42/issues", page2),
    )
    serve(httpserver, "/repositories/42/issues", [*body("issues_p2"), updated_2], page2)
    serve(httpserver, f"{API}/pulls/5", "pull_5")
    for n in (2, 3, 5):
        serve(httpserver, f"{API}/pulls/{n}/reviews", [], STARS_Q)
    serve(httpserver, f"{API}/issues/comments", [], LIST)
    serve(httpserver, f"{API}/pulls/comments", [], LIST)
    serve(httpserver, f"{API}/stargazers", [], STARS_Q)
    connector = make(httpserver)

    items = list(connector.items())

    assert [k for k in keys(items) if k[0] == "repo_issues"] == [
        ("repo_issues", 1),
        ("repo_issues", 3),
        ("repo_issues", 4),
        ("repo_issues", 5),
        ("repo_issues", 2),  # where its newest version came
    ]
    assert row(items, "repo_issues", 2)["comments"] == 2  # the newest version
    # Pages shifted while read: the next run reads again from #2's old updated_at.
    assert connector.new_state()["repo_issues"]["since"] == "2026-03-03T12:05:00Z"
    assert connector.new_state()["repo_issues"]["seen"] == []


def test_configuration_errors_are_clear() -> None:
    def ctx(location: str, **kwargs: Any) -> ConnectorContext:
        return ConnectorContext(name="gh", location=location, **kwargs)

    with pytest.raises(ValueError, match="LOCATION must be OWNER/REPO"):
        GitHubConnector(ctx("lumen"))
    with pytest.raises(ValueError, match="LOCATION must be OWNER/REPO"):
        GitHubConnector(ctx("https://github.com/lumen-db/lumen"))
    with pytest.raises(ValueError, match="api_url must be an http"):
        GitHubConnector(ctx(REPO, options={"api_url": "ghe.example.com"}))
    with pytest.raises(ValueError, match="per_page must be 1-100"):
        GitHubConnector(ctx(REPO, options={"per_page": 500}))
    with pytest.raises(ValueError, match="max_rate_limit_wait must be a number"):
        GitHubConnector(ctx(REPO, options={"max_rate_limit_wait": "soon"}))
    with pytest.raises(ValueError, match="profile_refresh_days must be 0-36500"):
        GitHubConnector(ctx(REPO, options={"profile_refresh_days": "monthly"}))
    with pytest.raises(ValueError, match="fetch_profiles must be true or false"):
        GitHubConnector(ctx(REPO, options={"fetch_profiles": "sometimes"}))
    with pytest.raises(ValueError, match=r"repo_comments\.issue_comment has an unreadable since"):
        GitHubConnector(ctx(REPO, state={"repo_comments": {"issue_comment": {"since": "x"}}}))
    ok = GitHubConnector(
        ctx("lumen-db/lumen.git", options={"api_url": "https://ghe.example.com/api/v3/"})
    )
    assert (ok.repo, ok.api_url) == ("lumen-db/lumen", "https://ghe.example.com/api/v3")


# -- user profiles ---------------------------------------------------------------------


def serve_nothing_new(server: HTTPServer) -> None:
    """A later run: no issue or comment changed; the stargazers resumed from page 2."""
    serve(server, f"{API}/issues", [])
    serve(server, f"{API}/issues/comments", [])
    serve(server, f"{API}/pulls/comments", [])
    serve(server, "/repositories/42/stargazers", "stargazers_p2", {**STARS_Q, "page": "2"})


def test_profiles_of_the_people_of_a_run_are_fetched_once_after_the_listings(
    httpserver: HTTPServer,
) -> None:
    serve_first_run(httpserver)
    serve_users(httpserver)
    connector = make(httpserver, profiles=None)  # on by default

    items = list(connector.items())

    # omarwendt wrote #1, #4 and 9002, starred nothing: one profile each, bot left out
    assert keys(items) == FIRST_RUN_KEYS + [("repo_users", login) for login in FIRST_RUN_PEOPLE]
    assert requested(httpserver)[9:] == [
        "/repositories/42/stargazers?per_page=100&page=2",  # the profiles come last
        *(f"/users/{login}" for login in FIRST_RUN_PEOPLE),
    ]
    assert not any("dependabot" in r.path for r, _ in httpserver.log)
    for request, _ in httpserver.log[10:]:
        assert request.headers["Accept"] == "application/vnd.github+json"
        assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert row(items, "repo_users", "omarwendt") == {
        "login": "omarwendt",
        "user_id": "5101",
        "user_type": "User",
        "name": "Omar Wendt",
        "company": "Northwind Robotics GmbH",
        "blog": "wendt.example.net",  # as typed: not always a URL
        "location": "Kiel, Germany",
        "email": "Omar.Wendt@Northwind-Robotics.example.com",  # as typed: letter case kept
        "created_at": utc(2014, 5, 2, 9, 12, 44),
        "updated_at": utc(2026, 8, 30, 17, 5, 11),
    }
    assert row(items, "repo_users", "carolreyes") == {
        "login": "carolreyes",
        "user_id": "5201",
        "user_type": "User",
        "name": None,
        "company": None,
        "blog": None,  # GitHub's "" for no website
        "location": None,
        "email": None,
        "created_at": utc(2021, 1, 5, 12),
        "updated_at": utc(2025, 12, 24, 18),
    }
    assert row(items, "repo_users", "tobiaslq")["company"] == "@lumen-db "  # as typed
    raw = next(
        i.raw for i in items if i.entity == "repo_users" and i.values["login"] == "mirakoval"
    )
    assert raw["twitter_username"] == "mirakoval"  # the whole record travels as raw
    assert connector.new_state() == {
        **FIRST_STATE,
        "repo_users": {"fetched": dict.fromkeys(FIRST_RUN_PEOPLE, NOW_ISO)},
    }


def test_profiles_are_fetched_again_only_after_profile_refresh_days(
    httpserver: HTTPServer,
) -> None:
    serve_first_run(httpserver)
    serve_users(httpserver)
    first = make(httpserver, profiles=True)
    list(first.items())
    fetched = first.new_state()["repo_users"]
    httpserver.clear_log()

    # The same rows again (no listing state): every profile is fresh, none is asked.
    again = make(httpserver, state={"repo_users": fetched}, profiles=True)
    assert [k for k in keys(list(again.items())) if k[0] == "repo_users"] == []
    assert users_requested(httpserver) == []
    assert again.new_state()["repo_users"] == fetched
    httpserver.clear_log()

    # profile_refresh_days=1: fetched two days ago is stale, twelve hours ago is not;
    # someone not seen this run is not asked, however old the fetch.
    old = {
        **dict.fromkeys(FIRST_RUN_PEOPLE, "2026-09-19T14:13:20Z"),
        "mirakoval": "2026-09-21T02:13:20Z",
        "gone-quiet": "2025-01-01T00:00:00Z",
    }
    later = make(
        httpserver,
        state={"repo_users": {"fetched": old}},
        profiles=True,
        profile_refresh_days=1,
    )
    items = list(later.items())

    stale = [login for login in FIRST_RUN_PEOPLE if login != "mirakoval"]
    assert users_requested(httpserver) == stale
    assert [k for k in keys(items) if k[0] == "repo_users"] == [("repo_users", s) for s in stale]
    assert later.new_state()["repo_users"] == {"fetched": {**old, **dict.fromkeys(stale, NOW_ISO)}}


def test_a_deleted_account_lands_no_row_warns_and_is_not_asked_again(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    serve_first_run(httpserver)
    serve_users(httpserver, davidokafor=404)
    connector = make(httpserver, profiles=True)

    with caplog.at_level(logging.WARNING, logger="townsquare.connectors.github"):
        items = list(connector.items())

    assert [k[1] for k in keys(items) if k[0] == "repo_users"] == [
        login for login in FIRST_RUN_PEOPLE if login != "davidokafor"
    ]
    assert not any(isinstance(i, Rejected) for i in items)
    assert "profile of 'davidokafor' answered HTTP 404" in caplog.text
    assert not connector.stopped
    state = connector.new_state()["repo_users"]
    assert state == {"fetched": dict.fromkeys(FIRST_RUN_PEOPLE, NOW_ISO)}  # asked: recorded

    httpserver.clear_log()
    again = make(httpserver, state={"repo_users": state}, profiles=True)
    list(again.items())
    assert users_requested(httpserver) == []


def test_a_secondary_rate_limit_on_a_profile_waits_and_retries(httpserver: HTTPServer) -> None:
    serve_first_run(httpserver)
    serve(
        httpserver,
        "/users/mirakoval",
        {"message": SECONDARY},
        status=429,
        headers={"Retry-After": "7"},
        once=True,
    )
    serve_users(httpserver)
    sleeps = Sleeps()
    connector = make(httpserver, sleeps=sleeps, profiles=True)

    items = list(connector.items())

    assert sleeps == [7.0]
    assert (
        users_requested(httpserver)
        == [
            "omarwendt",
            "mirakoval",  # 429
            "mirakoval",
            *FIRST_RUN_PEOPLE[2:],
        ]
    )
    assert [k for k in keys(items) if k[0] == "repo_users"] == [
        ("repo_users", login) for login in FIRST_RUN_PEOPLE
    ]
    assert not connector.stopped
    assert connector.new_state()["repo_users"] == {
        "fetched": dict.fromkeys(FIRST_RUN_PEOPLE, NOW_ISO)
    }


def test_a_stop_before_the_profiles_leaves_them_for_the_next_run(httpserver: HTTPServer) -> None:
    """Stargazers page 2 hits the primary limit: the people of the rows landed so far wait
    in ``pending`` (their rows will not come again), nothing is lost or fetched twice."""
    serve_first_run(httpserver)
    serve(
        httpserver,
        "/repositories/42/stargazers",
        {"message": "API rate limit exceeded for user ID 5001."},
        {**STARS_Q, "page": "2"},
        status=403,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 3600)},
        once=True,
    )
    serve_users(httpserver)
    first = make(httpserver, profiles=True)

    first_items = list(first.items())

    assert first.stopped
    assert users_requested(httpserver) == []
    state = first.new_state()
    assert state["repo_users"] == {"pending": FIRST_RUN_PEOPLE[:-1]}  # erinholt not read yet
    assert state["repo_stars"]["logins"] == ["carolreyes", "davidokafor"]

    httpserver.clear()
    serve_nothing_new(httpserver)
    serve_stars(httpserver)  # from the last page read: the first, then its next link
    serve_users(httpserver)
    second = make(httpserver, state=state, profiles=True)

    second_items = list(second.items())

    assert keys(second_items) == [
        ("repo_stars", "erinholt"),
        *(("repo_users", login) for login in FIRST_RUN_PEOPLE),  # the pending ones first
    ]
    assert second.new_state()["repo_users"] == {"fetched": dict.fromkeys(FIRST_RUN_PEOPLE, NOW_ISO)}
    landed = keys(first_items + second_items)
    assert len(landed) == len(set(landed))  # nothing twice
    assert sorted(k[1] for k in landed if k[0] == "repo_users") == sorted(FIRST_RUN_PEOPLE)


def test_a_stop_among_the_profiles_resumes_with_those_not_fetched(httpserver: HTTPServer) -> None:
    serve_first_run(httpserver)
    serve(
        httpserver,
        "/users/ines-duarte",
        {"message": "API rate limit exceeded for user ID 5001."},
        status=403,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 3600)},
        once=True,
    )
    serve_users(httpserver)
    first = make(httpserver, profiles=True)

    first_items = list(first.items())

    assert first.stopped
    assert users_requested(httpserver) == ["omarwendt", "mirakoval", "ines-duarte"]
    state = first.new_state()
    assert (
        state
        == {
            **FIRST_STATE,  # every listing was read to the end
            "repo_users": {
                "fetched": {"omarwendt": NOW_ISO, "mirakoval": NOW_ISO},
                "pending": FIRST_RUN_PEOPLE[2:],
            },
        }
    )

    httpserver.clear()
    serve_nothing_new(httpserver)
    serve_users(httpserver)
    second = make(httpserver, state=state, profiles=True)

    second_items = list(second.items())

    assert users_requested(httpserver) == FIRST_RUN_PEOPLE[2:]
    assert keys(second_items) == [("repo_users", login) for login in FIRST_RUN_PEOPLE[2:]]
    assert second.new_state()["repo_users"] == {"fetched": dict.fromkeys(FIRST_RUN_PEOPLE, NOW_ISO)}
    profiles = [k[1] for k in keys(first_items + second_items) if k[0] == "repo_users"]
    assert sorted(profiles) == sorted(FIRST_RUN_PEOPLE)  # each once


@pytest.mark.parametrize("off", [False, "false"])
def test_fetch_profiles_false_fetches_none(httpserver: HTTPServer, off: Any) -> None:
    serve_first_run(httpserver)
    serve_users(httpserver)
    connector = make(httpserver, profiles=None, fetch_profiles=off)

    assert keys(list(connector.items())) == FIRST_RUN_KEYS

    assert users_requested(httpserver) == []
    assert connector.new_state() == FIRST_STATE


# -- the bundled sample --------------------------------------------------------------


def test_recorded_sample_repository_lands_over_http(tmp_path: Path, raw_suites: None) -> None:
    """The bundled lumen-db/lumen sample (samples/repo/github), served by RecordedServer."""
    from townsquare.samples.forum.recorded_server import RecordedServer
    from townsquare.samples.repo.generate_github import OUT

    lake = tmp_path / "lake"
    server = RecordedServer(OUT)
    with server as base_url:
        source = SourceConfig(
            type="github", name="lumen-gh", location=REPO, options={"api_url": base_url}
        )
        first = ingest_source(source, lake=str(lake), credentials={})
        assert first.to_json()["entities"] == {
            "repo_comments": {"rows": 152, "quarantined": 0},
            "repo_issues": {"rows": 70, "quarantined": 0},
            "repo_stars": {"rows": 80, "quarantined": 0},
            "repo_users": {"rows": 80, "quarantined": 0},
        }
        # single pages (no Link header): 4 listings + one reviews listing per PR, then
        # the profiles of everyone seen (all of them starred; not the bot)
        assert len(server.requests) == 4 + 30 + 80
        assert sum(r.startswith("/users/") for r in server.requests) == 80
        assert server.requests[0] == (
            f"{API}/issues?state=all&sort=updated&direction=asc&per_page=100"
        )

        server.requests.clear()
        again = ingest_source(source, lake=str(lake), credentials={})
        assert again.to_json()["entities"] == {
            "repo_comments": {"rows": 0, "quarantined": 0},
            "repo_issues": {"rows": 0, "quarantined": 0},
            "repo_stars": {"rows": 0, "quarantined": 0},
            "repo_users": {"rows": 0, "quarantined": 0},
        }
        # since the watermarks; the last star page again; no new rows: no profiles
        assert len(server.requests) == 4

    issues = lake_rows(lake, "repo_issues")
    prs = [r for r in issues if r["is_pull_request"]]
    assert (len(issues) - len(prs), len(prs)) == (40, 30)
    assert sum(r["merged_at"] is not None for r in prs) == 18
    assert sum(r["state"] == "open" for r in prs) == 6
    assert sum(r["author_type"] == "Bot" for r in issues) == 4
    comments = lake_rows(lake, "repo_comments")
    kinds = [r["kind"] for r in comments]
    assert (kinds.count("issue_comment"), kinds.count("review_comment"), kinds.count("review")) == (
        96,
        20,
        36,
    )
    stars = lake_rows(lake, "repo_stars")
    assert len({r["login"] for r in stars}) == 80
    users = {r["login"]: r for r in lake_rows(lake, "repo_users")}
    assert set(users) == {r["login"] for r in stars}
    assert "dependabot[bot]" not in users
    assert sum(r["email"] is not None for r in users.values()) == 27  # 24 people + 3 staff
    assert sum(r["company"] is not None for r in users.values()) == 30
    assert sum(r["name"] is None for r in users.values()) == 2
    staff = users["ines-duarte"]
    assert (staff["user_id"], staff["name"], staff["company"], staff["email"]) == (
        "4100",
        "Ines Duarte",
        "@lumen-db",
        "ines@lumen.example.org",
    )
    assert staff["blog"] is None  # GitHub's "" for no website


def test_a_stop_before_merged_at_is_known_leaves_that_pull_request_for_the_next_run(
    httpserver: HTTPServer,
) -> None:
    """#5 lacks merged_at and /pulls/5 hits the primary limit: #5 must not land without it."""
    serve(httpserver, f"{API}/issues", "issues_p2", ISSUES_Q)
    serve(
        httpserver,
        f"{API}/pulls/5",
        {"message": "API rate limit exceeded for user ID 5001."},
        status=403,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 3600)},
    )
    connector = make(httpserver)

    assert keys(connector.items()) == [("repo_issues", 4)]

    assert connector.stopped and len(httpserver.log) == 2
    # the next run reads from #5's updated_at (inclusive), #4 is not read again
    assert connector.new_state() == {"repo_issues": {"since": "2026-03-06T10:00:00Z", "seen": []}}


# -- conditional requests against a GitHub that computes pages and ETags live ----------


class LiveGitHub:
    """Pages, Link headers and ETags (a hash of the page body) computed from the current
    issues and stars, the way GitHub serves them; If-None-Match on an unchanged page: 304."""

    def __init__(self, server: HTTPServer) -> None:
        self.issues: dict[int, str] = {}  # number -> updated_at
        self.stars: list[str] = []  # logins, oldest first
        self.base = server.url_for("/").rstrip("/")
        server.expect_request(re.compile(r"/repos/.*")).respond_with_handler(self.answer)

    def answer(self, request: Request) -> Response:
        per_page, page = int(request.args.get("per_page", 30)), int(request.args.get("page", 1))
        if request.path.endswith("/stargazers"):
            records = [
                {"starred_at": "2024-01-01T00:00:00Z", "user": {"login": login, "id": n}}
                for n, login in enumerate(self.stars)
            ]
        elif request.path.endswith("/issues"):
            since = request.args.get("since", "")
            records = [
                _issue(number, updated)
                for number, updated in sorted(self.issues.items(), key=lambda i: (i[1], i[0]))
                if updated >= since
            ]
        else:
            records = []  # comments, review comments
        body = json.dumps(records[(page - 1) * per_page : page * per_page])
        etag = f'W/"{hashlib.sha1(body.encode()).hexdigest()}"'
        headers = {"ETag": etag}
        if page * per_page < len(records):
            query = {**request.args.to_dict(), "page": str(page + 1)}
            headers["Link"] = f'<{self.base}{request.path}?{urlencode(query)}>; rel="next"'
        if request.headers.get("If-None-Match") == etag:
            return Response("", status=304, headers=headers)
        return Response(body, headers={**headers, "Content-Type": "application/json"})


def _issue(number: int, updated: str) -> dict[str, Any]:
    return {
        "id": 1000 + number,
        "number": number,
        "title": f"issue {number}",
        "state": "open",
        "user": {"login": "ann", "type": "User"},
        "author_association": "NONE",
        "labels": [],
        "comments": 0,
        "created_at": "2024-03-01T00:00:00Z",
        "updated_at": updated,
        "closed_at": None,
        "html_url": f"https://github.com/{REPO}/issues/{number}",
    }


def _run(server: HTTPServer, state: dict[str, Any], **options: Any) -> tuple[list[Any], dict]:
    connector = make(server, state=state, per_page=2, reviews=False, **options)
    items = list(connector.items())
    return items, connector.new_state()


def test_a_full_page_keeps_no_etag_so_later_updates_are_not_hidden_by_a_304(
    httpserver: HTTPServer,
) -> None:
    live = LiveGitHub(httpserver)
    live.issues = {1: "2024-03-01T00:00:00Z"}
    _, state = _run(httpserver, {})
    # three issues updated in the same second (a bulk relabel): two pages of 2
    live.issues |= {2: "2024-03-02T00:00:00Z", 3: "2024-03-02T00:00:00Z", 4: "2024-03-02T00:00:00Z"}
    items, state = _run(httpserver, state)
    assert [k for k in keys(items) if k[0] == "repo_issues"] == [
        ("repo_issues", n) for n in (2, 3, 4)
    ]
    _, state = _run(httpserver, state)  # nothing new: the first page is full, so no ETag
    assert "etag" not in state["repo_issues"]
    live.issues[5] = "2024-03-05T00:00:00Z"
    items, state = _run(httpserver, state)
    assert [k for k in keys(items) if k[0] == "repo_issues"] == [("repo_issues", 5)]


def test_a_fixed_since_still_sees_new_issues(httpserver: HTTPServer) -> None:
    live = LiveGitHub(httpserver)
    live.issues = {n: f"2024-03-0{n}T00:00:00Z" for n in (1, 2, 3)}
    _, state = _run(httpserver, {})
    live.issues[4] = "2024-03-04T00:00:00Z"
    connector = make(httpserver, state=state, since="2024-01-01", per_page=2, reviews=False)
    numbers = [k[1] for k in keys(list(connector.items())) if k[0] == "repo_issues"]
    assert 4 in numbers


def test_stars_on_a_full_last_page_and_after_unstars_are_not_missed(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    live = LiveGitHub(httpserver)
    live.stars = ["a", "b"]  # one full page
    _, state = _run(httpserver, {})
    assert "etag" not in state["repo_stars"]  # full: a 304 would hide the next page
    live.stars.append("c")
    items, state = _run(httpserver, state)
    assert [k for k in keys(items) if k[0] == "repo_stars"] == [("repo_stars", "c")]

    live.stars = ["u0", "u1", "u2", "u3", "u4"]
    _, state = _run(httpserver, {})  # last page 3 holds u4
    live.stars = ["u0", "u4", "new1"]  # three unstars, one new star: page 3 is gone
    with caplog.at_level(logging.WARNING, logger="townsquare.connectors.github"):
        items, state = _run(httpserver, state)
    assert "stargazers list shrank" in caplog.text
    assert ("repo_stars", "new1") in keys(items)
