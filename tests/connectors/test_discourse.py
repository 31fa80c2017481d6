"""DiscourseConnector against a local HTTP server replaying recorded-shape Discourse JSON.

Fixtures (tests/fixtures/discourse/*.json, see the README there) are response bodies
shaped like Discourse 3.x answers. Requests use ``post_ids_chunk=2`` so short topics
still need post_ids[] chunks. Expected values below are counted by hand from the
fixtures, not computed from them.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pytest_httpserver import HTTPServer

from townsquare.config import SourceConfig
from townsquare.connectors.base import ConnectorContext
from townsquare.connectors.discourse import DiscourseConnector
from townsquare.http import HttpError
from townsquare.pipeline import ingest_source
from townsquare.records import Rejected, Row

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "discourse"
CATEGORIES_Q = {"include_subcategories": "true"}
CHUNK_133_134 = "post_ids%5B%5D=133&post_ids%5B%5D=134"
CHUNK_135 = "post_ids%5B%5D=135"
FIRST_STATE = {
    "forum_topics": {"bumped_after": "2026-03-10T18:45:00.250Z"},
    "forum_posts": {"max_post_id": 142},
}
KEYS = {"forum_topics": "topic_id", "forum_posts": "post_id"}
API_CREDENTIALS = {"api_key": "d1sc0urse-k3y", "api_username": "system"}


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def body(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def serve(
    server: HTTPServer, path: str, fixture: str, query: Any = "", *, once: bool = False
) -> None:
    """Answer exactly this path + query ("" means no query at all) with a fixture."""
    expect = server.expect_oneshot_request if once else server.expect_request
    expect(path, query_string=query).respond_with_json(body(fixture))


def serve_first_run(server: HTTPServer) -> None:
    serve(server, "/categories.json", "categories", CATEGORIES_Q)
    serve(server, "/latest.json", "latest_p0")
    serve(server, "/latest.json", "latest_p1", {"page": "1"})
    serve(server, "/latest.json", "latest_p2", {"page": "2"})
    for topic in (10, 12, 13, 14):
        serve(server, f"/t/{topic}.json", f"t_{topic}")
    serve(server, "/t/13/posts.json", "t_13_posts_133_134", CHUNK_133_134)
    serve(server, "/t/13/posts.json", "t_13_posts_135", CHUNK_135)


def serve_second_run(server: HTTPServer) -> None:
    serve(server, "/categories.json", "categories", CATEGORIES_Q)
    serve(server, "/latest.json", "latest_incremental")
    serve(server, "/t/15.json", "t_15")
    serve(server, "/t/14.json", "t_14_v2")
    serve(server, "/posts.json", "posts_incremental")


def make(
    server: HTTPServer,
    *,
    state: dict[str, dict[str, Any]] | None = None,
    since: str | None = None,
    credentials: dict[str, str] | None = None,
    sleeps: Sleeps | None = None,
    **options: Any,
) -> DiscourseConnector:
    ctx = ConnectorContext(
        name="forum",
        location=server.url_for("/"),
        state=json.loads(json.dumps(state or {})),
        since=since,
        options={"post_ids_chunk": 2, **options},
        credentials=credentials or {},
    )
    return DiscourseConnector(
        ctx, http={"sleep": sleeps if sleeps is not None else Sleeps(), "max_retries": 2}
    )


def keys(items: list[Any]) -> list[tuple[str, str | None]]:
    return [
        (i.entity, i.values[KEYS[i.entity]])
        if isinstance(i, Row)
        else (f"rejected:{i.entity}", i.native_id)
        for i in items
    ]


def row(items: list[Any], entity: str, native_id: str) -> dict[str, Any]:
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


FIRST_RUN_KEYS = [
    ("forum_topics", "10"),
    ("forum_topics", "14"),
    ("forum_topics", "13"),
    ("forum_topics", "12"),
    ("forum_posts", "100"),
    ("forum_posts", "140"),
    ("forum_posts", "141"),
    ("forum_posts", "142"),
    ("forum_posts", "130"),
    ("forum_posts", "131"),
    ("forum_posts", "133"),
    ("forum_posts", "134"),
    ("forum_posts", "135"),
    ("forum_posts", "120"),
]


def test_first_run_pages_until_an_empty_page_and_reads_every_topic(
    httpserver: HTTPServer,
) -> None:
    serve_first_run(httpserver)
    connector = make(httpserver)
    assert connector.interval_key() == "discourse topics>* posts>*"

    items = list(connector.items())

    assert keys(items) == FIRST_RUN_KEYS
    assert requested(httpserver) == [
        "/categories.json?include_subcategories=true",
        "/latest.json",
        "/latest.json?page=1",
        "/latest.json?page=2",  # the empty page ends the listing
        "/t/10.json",
        "/t/14.json",
        "/t/13.json",
        f"/t/13/posts.json?{CHUNK_133_134}",
        f"/t/13/posts.json?{CHUNK_135}",
        "/t/12.json",
    ]  # no /posts.json: a first run reads every topic in full
    assert connector.new_state() == FIRST_STATE
    site = httpserver.url_for("/").rstrip("/")
    assert row(items, "forum_topics", "14") == {
        "topic_id": "14",
        "site_url": site,
        "title": "WAL corruption after power loss?",
        "slug": "wal-corruption-after-power-loss",
        "url": f"{site}/t/wal-corruption-after-power-loss/14",
        "category_id": "5",
        "category_name": "Help & Support",
        "tags": ["wal", "durability"],
        "author_user_id": "7",
        "author_username": "omar_wendt",
        "created_at": utc(2026, 3, 10, 8),
        "last_posted_at": datetime(2026, 3, 10, 12, 0, 0, 500000, tzinfo=UTC),
        "bumped_at": datetime(2026, 3, 10, 12, 0, 0, 500000, tzinfo=UTC),
        "posts_count": 3,
        "reply_count": 2,
        "views": 120,  # the detail (120) wins over the list (100)
        "like_count": 2,
        "pinned": False,
        "closed": False,
        "archived": False,
        "visible": True,
        "archetype": "regular",
    }
    welcome = row(items, "forum_topics", "10")
    assert (welcome["pinned"], welcome["category_name"], welcome["tags"]) == (
        True,
        "Announcements",
        ["meta"],
    )
    assert row(items, "forum_posts", "141") == {
        "post_id": "141",
        "topic_id": "14",
        "post_number": 2,
        "reply_to_post_number": 1,
        "post_type": "regular",
        "site_url": site,
        "url": f"{site}/t/wal-corruption-after-power-loss/14/2",
        "author_user_id": "1",
        "author_username": "ines",
        "author_name": "Ines Duarte",
        "author_trust_level": 4,
        "author_title": "Lumen core team",
        "author_primary_group": "team",
        "author_is_staff": True,
        "created_at": utc(2026, 3, 10, 9, 30),
        "updated_at": utc(2026, 3, 10, 9, 30),
        "deleted_at": None,
        "content_text": "No: Lumen replays up to the last valid frame. Run lumen fsck --repair.",
        "like_count": 2,
        "reply_count": 0,
    }
    p142 = row(items, "forum_posts", "142")
    assert (p142["content_text"], p142["author_name"], p142["author_is_staff"]) == (
        "Same here, fsck fixed it & nothing was lost.",
        "Mei Dahl",
        False,
    )


def test_a_topic_with_null_last_posted_at_still_lands(httpserver: HTTPServer) -> None:
    serve_first_run(httpserver)

    items = list(make(httpserver).items())

    topic = row(items, "forum_topics", "12")
    assert topic["last_posted_at"] is None
    assert (topic["created_at"], topic["bumped_at"]) == (utc(2026, 3, 1, 10), utc(2026, 3, 1, 10))
    assert (topic["author_user_id"], topic["author_username"], topic["tags"]) == ("9", "vera", [])
    assert row(items, "forum_posts", "120")["author_name"] is None  # Discourse sends name ""


def test_posts_missing_from_the_inline_stream_are_fetched_in_post_ids_chunks(
    httpserver: HTTPServer,
) -> None:
    serve_first_run(httpserver)

    items = list(make(httpserver).items())

    chunks = [
        request.args.getlist("post_ids[]")
        for request, _ in httpserver.log
        if request.path == "/t/13/posts.json"
    ]
    assert chunks == [["133", "134"], ["135"]]  # stream minus the 2 inline posts, by 2
    topic13 = [k for k in keys(items) if k[0] == "forum_posts" and k[1].startswith("13")]
    assert topic13 == [("forum_posts", n) for n in ("130", "131", "133", "134", "135")]
    site = httpserver.url_for("/").rstrip("/")
    action = row(items, "forum_posts", "134")
    assert (action["post_type"], action["content_text"], action["post_number"]) == (
        "small_action",
        None,  # small actions have no cooked text
        5,
    )
    last = row(items, "forum_posts", "135")
    assert (last["url"], last["content_text"], last["like_count"]) == (
        f"{site}/t/arm-build-fails-on-raspberry-pi-zero/13/6",
        "Fixed with -march=armv6, thanks!",
        1,
    )
    assert last["created_at"] == datetime(2026, 3, 10, 18, 45, 0, 250000, tzinfo=UTC)


def test_a_topic_gone_before_its_post_chunks_lands_the_posts_read_so_far(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    serve(httpserver, "/categories.json", "categories", CATEGORIES_Q)
    serve(httpserver, "/latest.json", "latest_p0")
    serve(httpserver, "/latest.json", "latest_p1", {"page": "1"})
    serve(httpserver, "/latest.json", "latest_p2", {"page": "2"})
    for topic in (10, 12, 13, 14):
        serve(httpserver, f"/t/{topic}.json", f"t_{topic}")
    # topic 13 was deleted after its detail was read: the chunks answer 404
    httpserver.expect_request("/t/13/posts.json").respond_with_json(
        {"errors": ["The requested URL or resource could not be found."]}, status=404
    )

    with caplog.at_level(logging.WARNING, logger="townsquare.connectors.discourse"):
        items = list(make(httpserver).items())

    topic13 = [k for k in keys(items) if k[0] == "forum_posts" and k[1].startswith("13")]
    assert topic13 == [("forum_posts", "130"), ("forum_posts", "131")]  # the inline posts
    assert ("forum_topics", "13") in keys(items)
    assert "topic 13: posts 133, 134, 135 answered HTTP 404" in caplog.text
    chunk_requests = [r for r in requested(httpserver) if r.startswith("/t/13/posts.json")]
    assert len(chunk_requests) == 1  # no point asking for the next chunk


def test_duplicate_topic_across_pages_gives_one_row_detail_then_newest_wins(
    httpserver: HTTPServer,
) -> None:
    """Topic 13 is on page 0 (bumped 03-09, 4 posts) and page 1 (bumped 03-10, 5 posts):
    the newer list entry wins, then its detail overrides it (views 45)."""
    serve_first_run(httpserver)

    items = list(make(httpserver).items())

    assert [k for k in keys(items) if k == ("forum_topics", "13")] == [("forum_topics", "13")]
    assert [r.path for r, _ in httpserver.log].count("/t/13.json") == 1
    site = httpserver.url_for("/").rstrip("/")
    assert row(items, "forum_topics", "13") == {
        "topic_id": "13",
        "site_url": site,
        "title": "ARM build fails on Raspberry Pi Zero",
        "slug": "arm-build-fails-on-raspberry-pi-zero",
        "url": f"{site}/t/arm-build-fails-on-raspberry-pi-zero/13",
        "category_id": "9",
        "category_name": "Ports",  # a subcategory of Development
        "tags": ["arm", "build"],  # tag objects {id, name, slug}
        "author_user_id": "8",  # no details.created_by: the "Original Poster" …
        "author_username": "mei_dahl",  # … joined to the list's users sideload
        "created_at": utc(2026, 3, 8, 7),
        "last_posted_at": datetime(2026, 3, 10, 18, 45, 0, 250000, tzinfo=UTC),
        "bumped_at": datetime(2026, 3, 10, 18, 45, 0, 250000, tzinfo=UTC),
        "posts_count": 5,
        "reply_count": 4,
        "views": 45,
        "like_count": 0,
        "pinned": False,
        "closed": False,
        "archived": False,
        "visible": True,
        "archetype": "regular",
    }


def test_a_post_in_posts_json_and_in_a_topic_detail_keeps_the_detail(
    httpserver: HTTPServer,
) -> None:
    """--since 2026-03-05: topics bumped after it, then /posts.json back to that date.
    /posts.json has 142 edited later than the detail: the detail still wins."""
    serve(httpserver, "/categories.json", "categories", CATEGORIES_Q)
    serve(httpserver, "/latest.json", "latest_p0")
    serve(httpserver, "/latest.json", "latest_p1", {"page": "1"})
    serve(httpserver, "/t/14.json", "t_14")
    serve(httpserver, "/t/13.json", "t_13")
    serve(httpserver, "/t/13/posts.json", "t_13_posts_133_134", CHUNK_133_134)
    serve(httpserver, "/t/13/posts.json", "t_13_posts_135", CHUNK_135)
    serve(httpserver, "/posts.json", "posts_latest")
    connector = make(httpserver, since="2026-03-05", state=FIRST_STATE)
    assert connector.interval_key() == "discourse topics>2026-03-05T00:00:00.000Z posts>*"

    items = list(connector.items())

    assert keys(items) == [
        ("forum_topics", "14"),
        ("forum_topics", "13"),
        ("forum_posts", "140"),
        ("forum_posts", "141"),
        ("forum_posts", "142"),
        ("forum_posts", "130"),
        ("forum_posts", "131"),
        ("forum_posts", "133"),
        ("forum_posts", "134"),
        ("forum_posts", "135"),
    ]
    assert "/t/10.json" not in [r.path for r, _ in httpserver.log]  # pinned, older than since
    p142 = row(items, "forum_posts", "142")
    assert (p142["content_text"], p142["updated_at"]) == (
        "Same here, fsck fixed it & nothing was lost.",
        utc(2026, 3, 10, 12, 5),
    )
    # --since never moves the stored state back
    assert connector.new_state() == FIRST_STATE


def test_incremental_run_skips_pinned_topics_and_fetches_only_what_changed(
    httpserver: HTTPServer,
) -> None:
    """The list starts with pinned topic 10 (bumped 2026-01-05, long before the
    watermark): it is skipped, not a reason to stop. 15 and 14 are newer; 13 equals the
    watermark, so the listing stops there (12 and page 1 are never read)."""
    serve_second_run(httpserver)
    connector = make(httpserver, state=FIRST_STATE)
    assert connector.interval_key() == "discourse topics>2026-03-10T18:45:00.250Z posts>142"

    items = list(connector.items())

    assert requested(httpserver) == [
        "/categories.json?include_subcategories=true",
        "/latest.json",
        "/t/15.json",
        "/t/14.json",
        "/posts.json",  # one page: it reaches post 142, the stored highest id
    ]
    assert keys(items) == [
        ("forum_topics", "15"),
        ("forum_topics", "14"),
        ("forum_posts", "150"),
        ("forum_posts", "151"),
        ("forum_posts", "140"),
        ("forum_posts", "141"),
        ("forum_posts", "142"),
        ("forum_posts", "143"),
        ("forum_posts", "144"),  # only in /posts.json: a reply that did not bump topic 12
    ]
    topic14 = row(items, "forum_topics", "14")
    assert (topic14["posts_count"], topic14["views"], topic14["bumped_at"]) == (
        4,
        131,
        utc(2026, 3, 11, 9, 15),
    )
    # 143 is in the detail and (edited later) in /posts.json: the detail wins
    assert row(items, "forum_posts", "143")["content_text"] == (
        "Could fsck run automatically at startup?"
    )
    site = httpserver.url_for("/").rstrip("/")
    p144 = row(items, "forum_posts", "144")
    assert (p144["topic_id"], p144["url"], p144["author_is_staff"]) == (
        "12",
        f"{site}/t/how-do-i-set-a-retention-policy-per-series/12/2",
        True,
    )
    assert connector.new_state() == {
        "forum_topics": {"bumped_after": "2026-03-12T07:30:00.000Z"},
        "forum_posts": {"max_post_id": 151},
    }


def test_state_advances_only_after_items_are_exhausted(httpserver: HTTPServer) -> None:
    serve_second_run(httpserver)
    connector = make(httpserver, state=FIRST_STATE)

    stream = connector.items()
    next(stream)
    assert connector.new_state() == FIRST_STATE
    list(stream)
    assert connector.new_state()["forum_posts"] == {"max_post_id": 151}


def test_429_waits_for_retry_after_then_succeeds(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/latest.json", query_string="").respond_with_data(
        "", status=429, headers={"Retry-After": "7"}
    )
    serve_first_run(httpserver)
    sleeps = Sleeps()

    items = list(make(httpserver, sleeps=sleeps).items())

    assert sleeps == [7.0]
    assert keys(items) == FIRST_RUN_KEYS
    assert [r.path for r, _ in httpserver.log].count("/latest.json") == 4  # 429 + 3 pages


def test_5xx_is_retried_with_backoff_then_succeeds(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/t/14.json").respond_with_data("Bad gateway", status=502)
    serve_first_run(httpserver)
    sleeps = Sleeps()

    items = list(make(httpserver, sleeps=sleeps).items())

    assert len(sleeps) == 1 and 0.5 <= sleeps[0] <= 1.0  # backoff 1s with jitter
    assert keys(items) == FIRST_RUN_KEYS


def test_persistent_5xx_is_a_clear_error_and_keeps_the_state(httpserver: HTTPServer) -> None:
    serve_second_run(httpserver)
    httpserver.clear_all_handlers()
    serve(httpserver, "/categories.json", "categories", CATEGORIES_Q)
    serve(httpserver, "/latest.json", "latest_incremental")
    httpserver.expect_request("/t/15.json").respond_with_data("oops", status=503)
    sleeps = Sleeps()
    connector = make(httpserver, state=FIRST_STATE, sleeps=sleeps)

    with pytest.raises(HttpError) as info:
        list(connector.items())

    assert info.value.status == 503
    assert "gave up after 3 attempts: last status 503" in str(info.value)
    assert "/t/15.json" in str(info.value)
    assert len(sleeps) == 2
    assert connector.new_state() == FIRST_STATE


def test_persistent_5xx_through_the_pipeline_lands_nothing(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    serve(httpserver, "/categories.json", "categories", CATEGORIES_Q)
    serve(httpserver, "/latest.json", "latest_p0")
    serve(httpserver, "/latest.json", "latest_p1", {"page": "1"})
    serve(httpserver, "/latest.json", "latest_p2", {"page": "2"})
    httpserver.expect_request("/t/10.json").respond_with_data("down", status=500)
    lake = tmp_path / "lake"
    source = SourceConfig(
        type="discourse",
        name="forum",
        location=httpserver.url_for("/"),
        options={"max_retries": 0},  # passed through to the HTTP client: no retry, no sleep
    )

    with pytest.raises(HttpError, match="gave up after 1 attempts: last status 500"):
        ingest_source(source, lake=str(lake), credentials={})

    assert not (lake / "_state").exists()
    assert list(lake.rglob("*.parquet")) == []


def test_api_key_headers_are_sent_on_every_request(httpserver: HTTPServer) -> None:
    serve_first_run(httpserver)

    list(make(httpserver, credentials=API_CREDENTIALS).items())

    assert len(httpserver.log) == 10
    sent = {
        (request.headers.get("Api-Key"), request.headers.get("Api-Username"))
        for request, _ in httpserver.log
    }
    assert sent == {("d1sc0urse-k3y", "system")}


def test_anonymous_requests_send_no_api_headers(httpserver: HTTPServer) -> None:
    serve_first_run(httpserver)

    list(make(httpserver).items())

    assert all("Api-Key" not in request.headers for request, _ in httpserver.log)


def test_hidden_categories_leave_names_null(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_request("/categories.json").respond_with_json(
        {"errors": ["You are not permitted to view the requested resource."]}, status=403
    )
    serve_first_run(httpserver)

    with caplog.at_level(logging.WARNING, logger="townsquare.connectors.discourse"):
        items = list(make(httpserver).items())

    assert keys(items) == FIRST_RUN_KEYS
    assert {row(items, "forum_topics", t)["category_name"] for t in ("10", "12", "13", "14")} == {
        None
    }
    assert row(items, "forum_topics", "13")["category_id"] == "9"
    assert "categories are not readable (HTTP 403)" in caplog.text


def test_bad_records_are_rejected_with_a_reason(httpserver: HTTPServer) -> None:
    serve(httpserver, "/categories.json", "categories", CATEGORIES_Q)
    serve(httpserver, "/latest.json", "latest_bad")
    serve(httpserver, "/t/97.json", "t_97_bad_posts")

    items = list(make(httpserver).items())

    assert keys(items) == [
        ("rejected:forum_topics", None),
        ("rejected:forum_topics", None),
        ("rejected:forum_topics", "98"),
        ("forum_topics", "97"),
        ("forum_posts", "970"),
        ("rejected:forum_posts", "971"),
        ("rejected:forum_posts", None),
        ("rejected:forum_posts", None),
    ]
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert [r.reason for r in rejected] == [
        "expected a JSON object, got 'not a topic'",
        "topic has no id",
        "topic 98: unparseable date (not an ISO 8601 date: 'last tuesday')",
        "post 971: unparseable date (not an ISO 8601 date: '2026-02-30T10:30:00Z')",
        "post has no id",
        "expected a JSON object, got 42",
    ]
    assert rejected[1].raw == {"title": "no id here", "created_at": "2026-02-01T10:00:00.000Z"}
    assert row(items, "forum_topics", "97")["tags"] is None  # tagging disabled: null


def test_html_instead_of_json_is_a_clear_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/categories.json").respond_with_data(
        "<!DOCTYPE html><html><body>Welcome to my blog</body></html>",
        content_type="text/html; charset=utf-8",
    )

    with pytest.raises(HttpError) as info:
        list(make(httpserver).items())

    message = str(info.value)
    assert "did not return a JSON object (text/html; charset=utf-8)" in message
    assert "a Discourse forum?" in message


def test_login_required_forum_asks_for_api_credentials(httpserver: HTTPServer) -> None:
    forbidden = {"errors": ["You are not permitted to view the requested resource."]}
    httpserver.expect_request("/categories.json").respond_with_json(forbidden, status=403)
    httpserver.expect_request("/latest.json").respond_with_json(forbidden, status=403)
    connector = make(httpserver, state=FIRST_STATE)

    with pytest.raises(HttpError) as info:
        list(connector.items())

    assert info.value.status == 403
    assert "needs the api_key and api_username credentials" in str(info.value)
    assert connector.new_state() == FIRST_STATE


def test_configuration_errors_are_clear() -> None:
    def ctx(location: str, **kwargs: Any) -> ConnectorContext:
        return ConnectorContext(name="forum", location=location, **kwargs)

    with pytest.raises(ValueError, match="LOCATION must be the forum's base URL"):
        DiscourseConnector(ctx("forum.example.org"))
    with pytest.raises(ValueError, match="LOCATION must be the forum's base URL"):
        DiscourseConnector(ctx("ftp://forum.example.org"))
    with pytest.raises(ValueError, match="post_ids_chunk must be 1-1000"):
        DiscourseConnector(ctx("https://forum.example.org", options={"post_ids_chunk": 0}))
    with pytest.raises(ValueError, match="api_username but no api_key"):
        DiscourseConnector(ctx("https://f.example.org", credentials={"api_username": "system"}))
    bad_state = {"forum_posts": {"max_post_id": "lots"}}
    with pytest.raises(ValueError, match="unreadable max_post_id"):
        DiscourseConnector(ctx("https://forum.example.org", state=bad_state))


def _lake_table(lake: Path, entity: str) -> list[dict[str, Any]]:
    files = sorted((lake / "raw" / entity).rglob("*.parquet"))
    rows = [r for f in files for r in pq.read_table(f).to_pylist()]
    key = KEYS[entity]
    return sorted(
        ({k: v for k, v in r.items() if k != "ingested_at"} for r in rows),
        key=lambda r: int(r[key]),
    )


def test_pipeline_lands_then_catches_up_incrementally(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    source = SourceConfig(
        type="discourse",
        name="forum",
        location=httpserver.url_for("/"),
        options={"post_ids_chunk": 2},
    )
    serve_first_run(httpserver)
    first = ingest_source(source, lake=str(lake), credentials={})
    assert first.to_json()["entities"] == {
        "forum_posts": {"rows": 10, "quarantined": 0},
        "forum_topics": {"rows": 4, "quarantined": 0},
    }
    state = json.loads((lake / "_state/forum/forum_topics.json").read_text())["state"]
    assert state == {"bumped_after": "2026-03-10T18:45:00.250Z"}

    httpserver.clear()
    serve_second_run(httpserver)
    second = ingest_source(source, lake=str(lake), credentials={})

    assert second.run_id != first.run_id
    assert second.to_json()["entities"] == {
        "forum_posts": {"rows": 7, "quarantined": 0},
        "forum_topics": {"rows": 2, "quarantined": 0},
    }
    assert [r.path for r, _ in httpserver.log] == [
        "/categories.json",
        "/latest.json",
        "/t/15.json",
        "/t/14.json",
        "/posts.json",
    ]
    topics = _lake_table(lake, "forum_topics")
    assert [r["topic_id"] for r in topics] == ["10", "12", "13", "14", "14", "15"]
    posts = _lake_table(lake, "forum_posts")
    assert len(posts) == 17 and len({r["post_id"] for r in posts}) == 14
    state = json.loads((lake / "_state/forum/forum_posts.json").read_text())["state"]
    assert state == {"max_post_id": 151}


def test_pipeline_rerun_of_the_same_interval_replaces_its_files(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    serve(httpserver, "/categories.json", "categories", CATEGORIES_Q)
    serve(httpserver, "/latest.json", "latest_p0")
    serve(httpserver, "/latest.json", "latest_p1", {"page": "1"})
    serve(httpserver, "/t/14.json", "t_14")
    serve(httpserver, "/t/13.json", "t_13")
    serve(httpserver, "/t/13/posts.json", "t_13_posts_133_134", CHUNK_133_134)
    serve(httpserver, "/t/13/posts.json", "t_13_posts_135", CHUNK_135)
    serve(httpserver, "/posts.json", "posts_latest")
    lake = tmp_path / "lake"
    source = SourceConfig(
        type="discourse",
        name="forum",
        location=httpserver.url_for("/"),
        options={"post_ids_chunk": 2},
    )

    first = ingest_source(source, lake=str(lake), since="2026-03-05", credentials={})
    topics, posts = _lake_table(lake, "forum_topics"), _lake_table(lake, "forum_posts")
    second = ingest_source(source, lake=str(lake), since="2026-03-05", credentials={})

    assert second.run_id == first.run_id
    assert second.to_json()["entities"] == {
        "forum_posts": {"rows": 8, "quarantined": 0},
        "forum_topics": {"rows": 2, "quarantined": 0},
    }
    assert len(list((lake / "raw").rglob("*.parquet"))) == 2  # one file per entity, replaced
    assert _lake_table(lake, "forum_topics") == topics
    assert _lake_table(lake, "forum_posts") == posts
    assert [r["post_id"] for r in posts] == ["130", "131", "133", "134", "135", "140", "141", "142"]


def test_recorded_sample_forum_lands_over_http(tmp_path: Path) -> None:
    """The bundled Lumen forum (samples/forum/discourse), served by RecordedServer."""
    from townsquare.samples.forum.recorded_server import RecordedServer

    lake = tmp_path / "lake"
    server = RecordedServer()
    with server as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        source = SourceConfig(type="discourse", name="lumen-forum", location=base_url)
        first = ingest_source(source, lake=str(lake), credentials={})
        assert first.to_json()["entities"] == {
            "forum_posts": {"rows": 150, "quarantined": 0},
            "forum_topics": {"rows": 30, "quarantined": 0},
        }
        assert server.requests[:3] == [
            "/categories.json?include_subcategories=true",
            "/latest.json",
            "/latest.json?page=1",  # 20 + 10 topics; page 1 has no more_topics_url
        ]
        assert len(server.requests) == 3 + 30 + 1  # + details + one post_ids[] chunk
        [chunk] = [r for r in server.requests if "post_ids" in r]
        assert chunk.startswith("/t/10/posts.json?post_ids%5B%5D=33&")
        assert chunk.count("post_ids") == 7  # 27 posts, 20 inline

        server.requests.clear()
        again = ingest_source(source, lake=str(lake), credentials={})
        assert again.to_json()["entities"] == {
            "forum_posts": {"rows": 0, "quarantined": 0},
            "forum_topics": {"rows": 0, "quarantined": 0},
        }
        # pinned 8 and 9 skipped, the next topic equals the watermark: nothing to fetch
        assert server.requests == [
            "/categories.json?include_subcategories=true",
            "/latest.json",
            "/posts.json",
        ]
    state = json.loads((lake / "_state/lumen-forum/forum_posts.json").read_text())["state"]
    assert state == {"max_post_id": 160}
    posts = _lake_table(lake, "forum_posts")
    assert [r["post_type"] for r in posts].count("small_action") == 1
    assert sum(bool(r["author_is_staff"]) for r in posts) == 43
    # usernames (samples/forum/generate_discourse.py): GitHub sign-ins carry the GitHub
    # login, the others their own; kestrel-dev collides with an unrelated GitHub login
    users = {(r["author_username"], r["author_name"]) for r in posts}
    assert {("omar-wendt", "Omar Wendt"), ("felix_marchetti", "Felix Marchetti")} <= users
    assert ("kestrel-dev", "Kes Trelawney") in users
    assert len({u for u, _ in users}) == 27
    assert sum("-" in u for u, _ in users) == 11  # 10 GitHub sign-ins + kestrel-dev
    topics = _lake_table(lake, "forum_topics")
    assert sum(bool(r["pinned"]) for r in topics) == 2
    assert sum(r["posts_count"] == 1 for r in topics) == 6  # no reply
    names = {r["category_name"] for r in topics}
    assert names == {"Announcements", "Help & Support", "Development", "Show & Tell"}
    assert all(r["url"].startswith(f"{base_url}/t/") for r in topics)


def test_a_configured_since_starts_the_first_landing_only(tmp_path: Path) -> None:
    """townsquare.yml `since:` bounds the first run; later scheduled runs are incremental
    (a `--since` would re-read everything after it every time)."""
    from townsquare.samples.forum.recorded_server import RecordedServer

    server = RecordedServer()
    with server as base_url:
        source = SourceConfig(
            type="discourse", name="lumen-forum", location=base_url, since="2000-01-01"
        )
        first = ingest_source(source, lake=str(tmp_path / "lake"), credentials={})
        assert first.to_json()["entities"]["forum_topics"]["rows"] == 30
        server.requests.clear()
        again = ingest_source(source, lake=str(tmp_path / "lake"), credentials={})
    assert again.rows == 0
    assert server.requests == [
        "/categories.json?include_subcategories=true",
        "/latest.json",
        "/posts.json",
    ]


def test_public_url_names_the_forum_in_url_columns_and_the_demo_site_serves_pipermail(
    tmp_path: Path,
) -> None:
    """Reached at a local address, the rows still carry the forum's public URLs."""
    import urllib.request

    from townsquare.samples.forum.recorded_server import demo_site

    with demo_site() as base_url:
        source = SourceConfig(
            type="discourse",
            name="lumen-forum",
            location=base_url,
            options={"public_url": "https://forum.lumen.example.org/"},
        )
        ingest_source(source, lake=str(tmp_path / "lake"), credentials={})
        with urllib.request.urlopen(f"{base_url}/pipermail/lumen-users/") as index:
            assert b"Lumen-users Archives" in index.read()
            assert index.headers["Content-Type"].startswith("text/html")
        with urllib.request.urlopen(f"{base_url}/pipermail/lumen-users/2026-May.txt.gz") as gz:
            assert gz.read(2) == b"\x1f\x8b"
        with pytest.raises(urllib.error.HTTPError) as escaped:
            urllib.request.urlopen(f"{base_url}/pipermail/../discourse/latest.json")
        assert escaped.value.code == 404
    topics = _lake_table(tmp_path / "lake", "forum_topics")
    posts = _lake_table(tmp_path / "lake", "forum_posts")
    assert {r["site_url"] for r in topics + posts} == {"https://forum.lumen.example.org"}
    assert all(r["url"].startswith("https://forum.lumen.example.org/t/") for r in topics + posts)
    with pytest.raises(ValueError, match="public_url must be an http"):
        make_ctx = ConnectorContext(name="f", location=base_url, options={"public_url": "ftp://x"})
        DiscourseConnector(make_ctx)
