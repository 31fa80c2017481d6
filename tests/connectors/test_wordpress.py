"""WordPressConnector against a local HTTP server replaying recorded-shape WP 6.x responses.

Fixtures (tests/fixtures/wordpress/*.json) hold one response each: status, headers
(``X-WP-Total``/``X-WP-TotalPages``/``Link`` as WordPress sends them) and body. The
site is a Europe/Berlin blog (UTC+1), so ``date`` and ``date_gmt`` differ by an hour.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from townsquare.connectors.base import ConnectorContext
from townsquare.connectors.wordpress import WordPressConnector
from townsquare.http import HttpError
from townsquare.records import Rejected, Row, to_json_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "wordpress"
POSTS = "/wp-json/wp/v2/posts"
PAGES = "/wp-json/wp/v2/pages"
COMMENTS = "/wp-json/wp/v2/comments"
EMBED = "author,wp:term"
L101 = "https://blog.example.org/2024/03/04/townsquare-2-0-is-out/"
L102 = "https://blog.example.org/2024/02/01/meet-us-at-fosdem/"
APP_PASSWORD = {"username": "editor", "password": "abcd EFGH 1234 ijkl MNOP 6789"}


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def recorded(name: str) -> Response:
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return Response(json.dumps(data["body"]), status=data["status"], headers=data["headers"])


def serve(
    server: HTTPServer, path: str, query: dict[str, Any], fixture: str, *, once: bool = False
) -> None:
    """Answer exactly this path + query (every parameter must match) with a fixture."""
    expected = {k: str(v) for k, v in query.items()}
    expect = server.expect_oneshot_request if once else server.expect_request
    expect(path, query_string=expected).respond_with_response(recorded(fixture))


def posts_q(page: int, **extra: Any) -> dict[str, Any]:
    return {
        "orderby": "modified",
        "order": "asc",
        "_embed": EMBED,
        "per_page": 2,
        "page": page,
        **extra,
    }


def dated_q(after: str, page: int = 1) -> dict[str, Any]:
    return {
        "orderby": "date",
        "order": "asc",
        "after": after,
        "_embed": EMBED,
        "per_page": 2,
        "page": page,
    }


def comments_q(page: int, **extra: Any) -> dict[str, Any]:
    return {"orderby": "date_gmt", "order": "asc", "per_page": 2, "page": page, **extra}


def make(
    server: HTTPServer,
    *,
    credentials: dict[str, str] | None = None,
    state: dict[str, dict[str, Any]] | None = None,
    since: str | None = None,
    sleeps: Sleeps | None = None,
    **options: Any,
) -> WordPressConnector:
    ctx = ConnectorContext(
        name="blog",
        location=server.url_for("/"),
        state=state or {},
        since=since,
        options={"per_page": 2, **options},
        credentials=credentials or {},
    )
    return WordPressConnector(
        ctx, http={"sleep": sleeps if sleeps is not None else Sleeps(), "max_retries": 2}
    )


def serve_first_run(server: HTTPServer) -> None:
    serve(server, POSTS, posts_q(1), "posts_p1")
    serve(server, POSTS, posts_q(2), "posts_p2")
    serve(server, PAGES, posts_q(1), "pages_p1")
    edit = {"context": "edit"}
    serve(server, COMMENTS, comments_q(1, **edit, type="comment"), "comments_edit_p1")
    serve(server, COMMENTS, comments_q(2, **edit, type="comment"), "comments_edit_p2")
    serve(server, COMMENTS, comments_q(1, **edit, type="pings"), "pings_edit_p1")


def serve_second_run(server: HTTPServer) -> tuple[str, str]:
    """The incremental run after serve_first_run: returns the watermarks it expects."""
    posts_after, comments_after = "2024-03-07T16:05:00Z", "2024-03-06T20:00:00Z"
    serve(server, POSTS, posts_q(1, modified_after=posts_after), "posts_incremental_modified")
    serve(server, POSTS, dated_q(posts_after), "posts_incremental_date")
    serve(server, PAGES, posts_q(1, modified_after=posts_after), "empty")
    serve(server, PAGES, dated_q(posts_after), "empty")
    edit = {"context": "edit", "after": comments_after}
    serve(server, COMMENTS, comments_q(1, **edit, type="comment"), "comments_incremental_edit")
    serve(server, COMMENTS, comments_q(1, **edit, type="pings"), "empty")
    return posts_after, comments_after


def keys(items: list[Any]) -> list[tuple[str, str]]:
    out = []
    for item in items:
        if isinstance(item, Row):
            key = {
                "blog_posts": "post_id",
                "blog_comments": "comment_id",
                "trackbacks": "trackback_id",
            }
            out.append((item.entity, item.values[key[item.entity]]))
        else:
            out.append((f"rejected:{item.entity}", item.native_id))
    return out


def row(items: list[Any], entity: str, native_id: str) -> Row:
    key = {"blog_posts": "post_id", "blog_comments": "comment_id", "trackbacks": "trackback_id"}
    [found] = [
        i
        for i in items
        if isinstance(i, Row) and i.entity == entity and i.values[key[entity]] == native_id
    ]
    return found


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_first_run_reads_every_page_of_posts_pages_comments_and_pings(
    httpserver: HTTPServer,
) -> None:
    serve_first_run(httpserver)
    connector = make(httpserver, credentials=APP_PASSWORD)
    assert connector.interval_key() == "wordpress posts>* comments>*"

    items = list(connector.items())

    httpserver.check_assertions()
    assert keys(items) == [
        ("blog_posts", "101"),
        ("blog_posts", "102"),
        ("blog_posts", "103"),
        ("blog_posts", "7"),
        ("blog_comments", "501"),
        ("blog_comments", "502"),
        ("blog_comments", "503"),
        ("blog_comments", "601"),
        ("trackbacks", "601"),
        ("blog_comments", "602"),
        ("trackbacks", "602"),
    ]
    site = httpserver.url_for("/").rstrip("/")
    assert row(items, "blog_posts", "101").values == {
        "post_id": "101",
        "site_url": site,
        "post_type": "post",
        "status": "publish",
        "title": "Townsquare 2.0 is out – what’s new",
        "slug": "townsquare-2-0-is-out",
        "url": L101,
        "author_name": "Maya Lindqvist",
        "author_login": "maya",
        "published_at": utc(2024, 3, 4, 9, 15),
        "modified_at": utc(2024, 3, 5, 7, 0),
        "content_text": "We’re happy to announce Townsquare 2.0. Highlights: a DuckDB warehouse & Airflow 3 DAGs.",
        "categories": ["Releases"],
        "tags": ["duckdb", "airflow"],
        "comment_count": None,
        "comments_feed_url": None,
    }
    post103 = row(items, "blog_posts", "103").values
    # Author 9 was deleted: the embed is an error object, so the id stands in for the login.
    assert (post103["author_name"], post103["author_login"]) == (None, "9")
    assert (post103["categories"], post103["tags"]) == (["Community & Events"], ["airflow"])
    page = row(items, "blog_posts", "7").values
    assert (page["post_type"], page["url"], page["categories"], page["tags"]) == (
        "page",
        "https://blog.example.org/about/",
        None,
        None,
    )
    assert row(items, "blog_comments", "501").values == {
        "comment_id": "501",
        "post_id": "101",
        "post_url": L101,
        "parent_id": None,
        "comment_type": "comment",
        "status": "approved",
        "author_name": "Grace H.",
        "author_email": "grace@example.com",
        "author_url": "https://grace.example.net",
        "published_at": utc(2024, 3, 4, 11, 30),
        "content_text": "Great release! Does it support Atom feeds?",
    }
    reply = row(items, "blog_comments", "502").values
    assert (reply["parent_id"], reply["author_url"], reply["content_text"]) == (
        "501",
        None,
        "Yes – RSS 2.0 and Atom both work.",
    )


def test_pingbacks_and_trackbacks_become_trackback_rows(httpserver: HTTPServer) -> None:
    serve_first_run(httpserver)

    items = list(make(httpserver, credentials=APP_PASSWORD).items())

    assert row(items, "blog_comments", "601").values["comment_type"] == "pingback"
    assert row(items, "blog_comments", "602").values["comment_type"] == "trackback"
    assert row(items, "trackbacks", "601").values == {
        "trackback_id": "601",
        "kind": "pingback",
        "source_url": "https://www.ossdigest.example.com/issue-12/",
        "source_domain": "ossdigest.example.com",
        "target_post_id": "101",
        "target_url": L101,
        "blog_name": "Weekly OSS Digest",
        "title": None,
        "excerpt": "[…] Townsquare 2.0 shipped with a DuckDB warehouse […]",
        "received_at": utc(2024, 3, 5, 6, 10),
        "origin": "wordpress",
    }
    assert row(items, "trackbacks", "602").values == {
        "trackback_id": "602",
        "kind": "trackback",
        "source_url": "https://devnotes.example.com/2024/03/fosdem-plans/",
        "source_domain": "devnotes.example.com",
        "target_post_id": "102",
        "target_url": L102,
        "blog_name": "Dev Notes",
        "title": "FOSDEM plans",
        "excerpt": "We will be at the Townsquare booth…",
        "received_at": utc(2024, 3, 6, 20, 0),
        "origin": "wordpress",
    }
    assert sum(1 for i in items if i.entity == "trackbacks") == 2


def test_author_ip_and_user_agent_are_dropped_everywhere(httpserver: HTTPServer) -> None:
    serve_first_run(httpserver)

    items = list(make(httpserver, credentials=APP_PASSWORD).items())

    text = "\n".join(
        to_json_text(item.values if isinstance(item, Row) else item.reason) + to_json_text(item.raw)
        for item in items
    )
    assert "grace@example.com" in text  # the comment data is there (edit context)...
    for secret in ("author_ip", "203.0.113.7", "198.51.100.23", "2001:db8::5", "192.0.2.44"):
        assert secret not in text  # ...but no IP address, in rows or raw JSON
    assert "author_user_agent" not in text
    assert "Firefox/123.0" not in text


def test_watermarks_advance_only_after_items_are_exhausted(httpserver: HTTPServer) -> None:
    serve_first_run(httpserver)
    connector = make(httpserver, credentials=APP_PASSWORD)

    stream = connector.items()
    next(stream)
    next(stream)
    assert connector.new_state() == {}  # half-read: nothing to commit
    list(stream)

    assert connector.new_state() == {
        "blog_posts": {"modified_after": "2024-03-07T16:05:00Z"},
        "blog_comments": {"after": "2024-03-06T20:00:00Z"},
    }


def test_second_run_sends_the_watermarks_and_gets_only_new_rows(httpserver: HTTPServer) -> None:
    serve_first_run(httpserver)
    first = make(httpserver, credentials=APP_PASSWORD)
    list(first.items())
    state = first.new_state()
    httpserver.clear()

    posts_after, comments_after = serve_second_run(httpserver)
    second = make(httpserver, credentials=APP_PASSWORD, state=state)
    assert second.interval_key() == f"wordpress posts>{posts_after} comments>{comments_after}"

    items = list(second.items())

    httpserver.check_assertions()
    assert len(httpserver.log) == 6
    # 102 was edited; 104 is a scheduled post: published after the watermark but last
    # modified before it, so only the publish-date listing finds it.
    assert keys(items) == [("blog_posts", "102"), ("blog_posts", "104"), ("blog_comments", "504")]
    assert (
        row(items, "blog_posts", "102").values["title"] == "Meet us at FOSDEM (updated: booth K.1)"
    )
    assert row(items, "blog_posts", "104").values["published_at"] == utc(2024, 3, 8, 7, 0)
    assert second.new_state() == {
        "blog_posts": {"modified_after": "2024-03-08T09:00:00Z"},
        "blog_comments": {"after": "2024-03-08T08:30:00Z"},
    }


def test_since_overrides_state_and_never_moves_the_watermark_back(httpserver: HTTPServer) -> None:
    state = {
        "blog_posts": {"modified_after": "2024-03-07T16:05:00Z"},
        "blog_comments": {"after": "2024-03-06T20:00:00Z"},
    }
    since = "2024-03-01T00:00:00Z"
    serve(httpserver, POSTS, posts_q(1, modified_after=since), "empty")
    serve(httpserver, POSTS, dated_q(since), "empty")
    serve(httpserver, COMMENTS, comments_q(1, after=since), "empty")
    connector = make(httpserver, state=state, since="2024-03-01", include_pages=False)
    assert connector.interval_key() == f"wordpress posts>{since} comments>{since}"

    assert list(connector.items()) == []

    httpserver.check_assertions()
    assert len(httpserver.log) == 3
    assert connector.new_state() == state


def test_public_view_context_without_credentials(httpserver: HTTPServer) -> None:
    serve(httpserver, POSTS, posts_q(1), "empty")
    serve(httpserver, COMMENTS, comments_q(1), "comments_view_p1")

    items = list(make(httpserver, include_pages=False).items())

    httpserver.check_assertions()
    assert keys(items) == [("blog_comments", "501"), ("blog_comments", "502")]
    comment = row(items, "blog_comments", "501").values
    assert (comment["status"], comment["author_email"]) == ("approved", None)
    assert all("Authorization" not in request.headers for request, _ in httpserver.log)


@pytest.mark.parametrize(
    ("credentials", "header"),
    [
        (
            APP_PASSWORD,
            "Basic " + base64.b64encode(b"editor:abcd EFGH 1234 ijkl MNOP 6789").decode(),
        ),
        ({"token": "wp-jwt-token-xyz"}, "Bearer wp-jwt-token-xyz"),
    ],
)
def test_credentials_are_sent_on_every_request(
    httpserver: HTTPServer, credentials: dict[str, str], header: str
) -> None:
    serve_first_run(httpserver)

    list(make(httpserver, credentials=credentials).items())

    assert len(httpserver.log) == 6
    assert [request.headers.get("Authorization") for request, _ in httpserver.log] == [header] * 6


def test_duplicate_ids_across_pages_yield_one_row_and_hold_the_watermark(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    # 102 was edited between page 1 and page 2: it moved to the end of the listing
    # (page 2 returns it again) and 103 slid onto page 1, which was already read.
    serve(httpserver, POSTS, posts_q(1), "posts_p1")
    serve(httpserver, POSTS, posts_q(2), "posts_shifted_p2")
    serve(httpserver, COMMENTS, comments_q(1), "empty")
    connector = make(httpserver, include_pages=False)

    with caplog.at_level(logging.WARNING):
        items = list(connector.items())

    assert keys(items) == [("blog_posts", "101"), ("blog_posts", "102")]
    post = row(items, "blog_posts", "102").values
    assert post["title"] == "Meet us at FOSDEM (updated: booth K.1)"
    assert post["modified_at"] == utc(2024, 3, 8, 9, 0)
    # Not 2024-03-08T09:00:00Z: 103 (modified 2024-03-07T16:05) was skipped and must be
    # read next time, so the watermark stays just before 102's old modified time.
    assert connector.new_state() == {"blog_posts": {"modified_after": "2024-03-06T10:29:59Z"}}
    assert any("id 102 came back" in r.getMessage() for r in caplog.records)


def test_invalid_page_number_ends_the_listing(httpserver: HTTPServer) -> None:
    # X-WP-TotalPages said 2, but the listing shrank before page 2 was asked for.
    serve(httpserver, POSTS, posts_q(1), "posts_p1")
    serve(httpserver, POSTS, posts_q(2), "invalid_page_number")
    serve(httpserver, COMMENTS, comments_q(1), "empty")
    connector = make(httpserver, include_pages=False)

    items = list(connector.items())

    assert keys(items) == [("blog_posts", "101"), ("blog_posts", "102")]
    assert connector.new_state() == {"blog_posts": {"modified_after": "2024-03-06T10:29:59Z"}}


def test_bad_records_are_rejected_with_a_reason(httpserver: HTTPServer) -> None:
    serve(httpserver, POSTS, posts_q(1), "empty")
    edit = {"context": "edit"}
    serve(httpserver, COMMENTS, comments_q(1, **edit, type="comment"), "comments_edit_bad")
    serve(httpserver, COMMENTS, comments_q(1, **edit, type="pings"), "empty")

    items = list(make(httpserver, credentials=APP_PASSWORD, include_pages=False).items())

    assert keys(items) == [
        ("blog_comments", "503"),
        ("rejected:blog_comments", None),
        ("rejected:blog_comments", "506"),
    ]
    no_id, bad_date = items[1], items[2]
    assert isinstance(no_id, Rejected) and isinstance(bad_date, Rejected)
    assert no_id.reason == "comment has no id"
    assert (
        bad_date.reason
        == "comment 506: unparseable date_gmt (not an ISO 8601 date: '2024-13-45T99:00:00')"
    )
    assert "author_ip" not in no_id.raw and "author_ip" not in bad_date.raw
    assert no_id.raw["author_name"] == "Sam"


def test_429_from_wordpress_waits_for_retry_after(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(POSTS).respond_with_data(
        "", status=429, headers={"Retry-After": "3"}
    )
    serve(httpserver, POSTS, posts_q(1), "posts_p1")
    serve(httpserver, POSTS, posts_q(2), "posts_p2")
    serve(httpserver, COMMENTS, comments_q(1), "empty")
    sleeps = Sleeps()

    items = list(make(httpserver, include_pages=False, sleeps=sleeps).items())

    assert sleeps == [3.0]
    assert [k for k in keys(items)] == [
        ("blog_posts", "101"),
        ("blog_posts", "102"),
        ("blog_posts", "103"),
    ]


def test_rejected_credentials_fail_clearly_and_keep_the_state(httpserver: HTTPServer) -> None:
    state = {"blog_posts": {"modified_after": "2024-03-01T00:00:00Z"}}
    httpserver.expect_request(POSTS).respond_with_response(recorded("unauthorized"))
    connector = make(httpserver, credentials=APP_PASSWORD, state=state)

    with pytest.raises(HttpError) as info:
        list(connector.items())

    assert info.value.status == 401
    assert "check the credentials" in str(info.value)
    assert "incorrect_password" in str(info.value)
    assert APP_PASSWORD["password"] not in str(info.value)
    assert len(httpserver.log) == 1  # not retried
    assert connector.new_state() == state


def test_a_site_without_the_rest_api_is_a_clear_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request(POSTS).respond_with_data(
        "<!doctype html><title>Maintenance</title>", content_type="text/html; charset=UTF-8"
    )

    with pytest.raises(HttpError, match=r"did not return a JSON list \(text/html; charset=UTF-8\)"):
        list(make(httpserver).items())


def test_configuration_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="LOCATION must be the site's base URL"):
        WordPressConnector(ConnectorContext(name="blog", location="blog.example.org"))
    with pytest.raises(ValueError, match="need both username and password"):
        WordPressConnector(
            ConnectorContext(
                name="blog", location="https://blog.example.org", credentials={"username": "x"}
            )
        )
    with pytest.raises(ValueError, match="--since: not an ISO 8601 date or time: 'last week'"):
        WordPressConnector(
            ConnectorContext(name="blog", location="https://blog.example.org", since="last week")
        )


def test_malformed_posts_are_rejected_and_a_future_date_cannot_push_the_watermark(
    httpserver: HTTPServer,
) -> None:
    body = json.loads((FIXTURES / "posts_p1.json").read_text(encoding="utf-8"))["body"]
    no_id = {k: v for k, v in body[0].items() if k != "id"}
    from_the_future = body[1] | {"modified_gmt": "2099-01-01T00:00:00", "title": {"rendered": 42}}
    httpserver.expect_request(
        POSTS, query_string={k: str(v) for k, v in posts_q(1).items()}
    ).respond_with_json(
        ["not a post", no_id, from_the_future], headers={"X-WP-Total": "3", "X-WP-TotalPages": "1"}
    )
    serve(httpserver, COMMENTS, comments_q(1), "empty")
    connector = make(httpserver, include_pages=False)
    before = datetime.now(UTC)

    items = list(connector.items())

    assert keys(items) == [
        ("rejected:blog_posts", None),
        ("rejected:blog_posts", None),
        ("blog_posts", "102"),
    ]
    assert items[0].reason == "expected a JSON object, got 'not a post'"
    assert items[1].reason == "post has no id"
    assert items[2].values["title"] is None  # a non-text title is dropped, not a crash
    mark = datetime.fromisoformat(connector.new_state()["blog_posts"]["modified_after"])
    assert before - timedelta(seconds=1) <= mark <= datetime.now(UTC)


def test_pipeline_lands_then_catches_up_incrementally(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    """Through ingest_source: the lake holds both runs, the state advances only on commit."""
    import duckdb

    from townsquare.config import SourceConfig
    from townsquare.pipeline import ingest_source

    lake = tmp_path / "lake"
    source = SourceConfig(
        type="wordpress", name="blog", location=httpserver.url_for("/"), options={"per_page": 2}
    )
    serve_first_run(httpserver)
    first = ingest_source(source, lake=str(lake), credentials=APP_PASSWORD)
    assert first.to_json()["entities"] == {
        "blog_comments": {"rows": 5, "quarantined": 0},  # 501, 502, 503 + pings 601, 602
        "blog_posts": {"rows": 4, "quarantined": 0},  # 101, 102, 103 + page 7
        "trackbacks": {"rows": 2, "quarantined": 0},
    }
    state = json.loads((lake / "_state/blog/blog_posts.json").read_text())["state"]
    assert state == {"modified_after": "2024-03-07T16:05:00Z"}

    httpserver.clear()
    serve_second_run(httpserver)
    second = ingest_source(source, lake=str(lake), credentials=APP_PASSWORD)
    assert second.run_id != first.run_id
    assert second.to_json()["entities"]["blog_posts"] == {"rows": 2, "quarantined": 0}
    rows = duckdb.execute(
        f"select count(*), count(distinct post_id) "
        f"from read_parquet('{lake}/raw/blog_posts/*/*/*.parquet')"
    ).fetchall()
    assert rows == [(6, 5)]  # 102 twice (edited): staging keeps the newest
    state = json.loads((lake / "_state/blog/blog_comments.json").read_text())["state"]
    assert state == {"after": "2024-03-08T08:30:00Z"}
