"""GhArchiveConnector against GH Archive-shaped hourly files built here line by line.

Each event is written out in GH Archive's compact one-line form (keys in its order:
id, type, actor, repo, payload, public, created_at, org), so the expected values
next to each test can be read off the input.
"""

from __future__ import annotations

import gzip
import json
import logging
import random
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pytest_httpserver import HTTPServer

from townsquare.config import SourceConfig
from townsquare.connectors.base import ConnectorContext
from townsquare.connectors.gharchive import (
    PRE_2015,
    GhArchiveConnector,
    GhArchiveError,
    SeenIds,
    hour_of,
    parse_hour,
    split_event,
)
from townsquare.paths import samples_dir
from townsquare.pipeline import ingest_source
from townsquare.quality import suite_path, write_suites
from townsquare.records import Item, Rejected, Row


def actor(login: str, uid: int) -> dict[str, Any]:
    return {
        "id": uid,
        "login": login,
        "display_login": login,
        "gravatar_id": "",
        "url": f"https://api.github.com/users/{login}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?",
    }


def repo(name: str, rid: int) -> dict[str, Any]:
    return {"id": rid, "name": name, "url": f"https://api.github.com/repos/{name}"}


LUMEN_ORG = {
    "id": 151234567,
    "login": "lumen-db",
    "gravatar_id": "",
    "url": "https://api.github.com/orgs/lumen-db",
    "avatar_url": "https://avatars.githubusercontent.com/u/151234567?",
}
LUMEN = repo("lumen-db/lumen", 781234567)


def line(
    event_id: str,
    kind: str,
    who: dict[str, Any],
    where: dict[str, Any],
    payload: dict[str, Any],
    created_at: str,
    org: dict[str, Any] | None = None,
) -> str:
    event: dict[str, Any] = {
        "id": event_id,
        "type": kind,
        "actor": who,
        "repo": where,
        "payload": payload,
        "public": True,
        "created_at": created_at,
    }
    if org is not None:
        event["org"] = org
    return json.dumps(event, separators=(",", ":"))


PUSH = line(
    "35000000001",
    "PushEvent",
    actor("inesdua", 5001),
    LUMEN,
    {
        "push_id": 16000000001,
        "size": 1,
        "distinct_size": 1,
        "ref": "refs/heads/main",
        "head": "a" * 40,
        "before": "b" * 40,
        "commits": [
            {
                "sha": "a" * 40,
                "author": {"email": "ines@lumen.example.org", "name": "Ines Duarte"},
                "message": "Release 1.0.0",
                "distinct": True,
                "url": "https://api.github.com/repos/lumen-db/lumen/commits/" + "a" * 40,
            }
        ],
    },
    "2024-01-01T15:00:05Z",
    LUMEN_ORG,
)
ISSUE = line(
    "35000000002",
    "IssuesEvent",
    actor("omarwen", 5002),
    LUMEN,
    {
        "action": "opened",
        "issue": {
            "number": 401,
            "title": "Compaction stalls on ARMv7",
            "user": {"login": "omarwen", "id": 5002},
            "body": "Seen on a Raspberry Pi 2 \u2014 ÿ with \"quotes\", 'payload': and a \\ slash",
        },
    },
    "2024-01-01T15:10:00Z",
    LUMEN_ORG,
)
PULL = line(
    "35000000003",
    "PullRequestEvent",
    actor("veraoko", 5003),
    LUMEN,
    {
        "action": "closed",
        "number": 402,
        "pull_request": {"number": 402, "title": "Fix WAL open on tmpfs", "merged": True},
    },
    "2024-01-01T15:20:00Z",
    LUMEN_ORG,
)
WATCH_USER_REPO = line(
    "35000000004",
    "WatchEvent",
    actor("meidah", 5004),
    repo("omarwen/lumen-notes", 990001),
    {"action": "started"},
    "2024-01-01T15:30:00Z",
)
COMMENT = line(
    "35000000005",
    "IssueCommentEvent",
    actor("meidah", 5004),
    LUMEN,
    {
        "action": "created",
        "issue": {"number": 401, "title": "Compaction stalls on ARMv7"},
        "comment": {"id": 77, "body": "Same here on 1.0.0."},
    },
    "2024-01-01T15:40:00Z",
    LUMEN_ORG,
)
FORK = line(
    "35000000006",
    "ForkEvent",
    actor("fatimaekl", 5006),
    repo("lumen-db/lumen-go", 781234990),
    {"forkee": {"id": 880001, "full_name": "fatimaekl/lumen-go", "public": True}},
    "2024-01-01T15:50:00Z",
    LUMEN_ORG,
)
OTHER = line(
    "35000000007",
    "WatchEvent",
    actor("someone", 6001),
    repo("nimbus-io/nimbus", 612045118),
    {"action": "started"},
    "2024-01-01T15:55:00Z",
    {
        "id": 150045118,
        "login": "nimbus-io",
        "gravatar_id": "",
        "url": "https://api.github.com/orgs/nimbus-io",
        "avatar_url": "https://avatars.githubusercontent.com/u/150045118?",
    },
)
NEAR_MISS = line(  # contains "lumen-db" but is neither the org nor one of its repos
    "35000000008",
    "WatchEvent",
    actor("lumen-db-fan", 6002),
    repo("acme/lumen-db-tools", 612045119),
    {"action": "started"},
    "2024-01-01T15:56:00Z",
)

ALL = [PUSH, ISSUE, PULL, WATCH_USER_REPO, COMMENT, FORK, OTHER, NEAR_MISS]


def gz(path: Path, *lines: str, newline: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines) + ("\n" if newline else "")
    path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    return path


def connector(location: Path | str, **kwargs: Any) -> GhArchiveConnector:
    since = kwargs.pop("since", None)
    state = kwargs.pop("state", None) or {}
    http = kwargs.pop("http", None)
    now = kwargs.pop("now", None)
    return GhArchiveConnector(
        ConnectorContext(
            name="gh", location=str(location), since=since, state=state, options=kwargs
        ),
        http=http,
        now=now,
    )


def collect(location: Path | str, **kwargs: Any) -> list[Item]:
    return list(connector(location, **kwargs).items())


def rows(items: list[Item]) -> list[dict[str, Any]]:
    return [i.values for i in items if isinstance(i, Row)]


def rejected(items: list[Item]) -> list[Rejected]:
    return [i for i in items if isinstance(i, Rejected)]


def read(files: list[str]) -> pa.Table:
    return pa.concat_tables([pq.read_table(f) for f in files])


def ids(items: list[Item]) -> list[str]:
    return [r["event_id"] for r in rows(items)]


@pytest.fixture
def suites(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The landing gate needs raw_repo_events.json; generate the suites where it is missing."""
    if not suite_path("repo_events").exists():
        folder = tmp_path_factory.mktemp("expectations")
        write_suites(folder)
        monkeypatch.setenv("TOWNSQUARE_EXPECTATIONS_DIR", str(folder))


# -- rows -----------------------------------------------------------------------------


def test_every_event_type_becomes_a_typed_row(tmp_path: Path) -> None:
    items = collect(gz(tmp_path / "2024-01-01-15.json.gz", *ALL))
    got = rows(items)
    assert [
        (r["event_id"], r["event_type"], r["action"], r["actor_login"], r["repo_name"]) for r in got
    ] == [
        ("35000000001", "PushEvent", None, "inesdua", "lumen-db/lumen"),
        ("35000000002", "IssuesEvent", "opened", "omarwen", "lumen-db/lumen"),
        ("35000000003", "PullRequestEvent", "closed", "veraoko", "lumen-db/lumen"),
        ("35000000004", "WatchEvent", "started", "meidah", "omarwen/lumen-notes"),
        ("35000000005", "IssueCommentEvent", "created", "meidah", "lumen-db/lumen"),
        ("35000000006", "ForkEvent", None, "fatimaekl", "lumen-db/lumen-go"),
        ("35000000007", "WatchEvent", "started", "someone", "nimbus-io/nimbus"),
        ("35000000008", "WatchEvent", "started", "lumen-db-fan", "acme/lumen-db-tools"),
    ]
    assert got[0] == {
        "event_id": "35000000001",
        "event_type": "PushEvent",
        "action": None,
        "actor_login": "inesdua",
        "actor_id": "5001",
        "repo_name": "lumen-db/lumen",
        "repo_id": "781234567",
        "org_login": "lumen-db",
        "created_at": datetime(2024, 1, 1, 15, 0, 5, tzinfo=UTC),
        "is_public": True,
        "payload": json.dumps(json.loads(PUSH)["payload"], separators=(",", ":")),
    }
    assert got[3]["org_login"] is None  # a user's repository has no org
    # the payload text is the archive's own bytes, escapes and all
    assert got[1]["payload"].startswith('{"action":"opened","issue":{"number":401,')
    assert json.loads(got[1]["payload"])["issue"]["body"] == (
        "Seen on a Raspberry Pi 2 \u2014 ÿ with \"quotes\", 'payload': and a \\ slash"
    )
    assert all(isinstance(i, Row) and i.raw is None for i in items)


def test_raw_event_option_keeps_the_event_without_its_payload(tmp_path: Path) -> None:
    items = collect(gz(tmp_path / "2024-01-01-15.json.gz", PULL), raw="event")
    assert isinstance(items[0], Row)
    raw = json.loads(items[0].raw)
    assert raw["payload"] is None
    assert raw["actor"]["avatar_url"] == "https://avatars.githubusercontent.com/u/5003?"
    assert raw["org"]["login"] == "lumen-db"


def test_a_line_laid_out_differently_is_parsed_whole() -> None:
    pretty = json.dumps(json.loads(ISSUE), indent=1)  # spaces after ':' and newlines
    envelope, payload, payload_text, _ = split_event(pretty.replace("\n", ""))
    assert envelope["id"] == "35000000002" and envelope["payload"] is None
    assert payload["action"] == "opened"
    assert json.loads(payload_text or "") == json.loads(ISSUE)["payload"]
    # a nested "payload" key before the top-level one does not fool the slicing
    tricky = '{"id":"1","actor":{"payload":{"x":1}},"payload":{"action":"a"},"created_at":"Z"}'
    envelope, payload, payload_text, _ = split_event(tricky)
    assert payload == {"action": "a"} and payload_text == '{"action":"a"}'
    assert envelope["actor"] == {"payload": {"x": 1}}


# -- filters --------------------------------------------------------------------------


def test_org_filter_keeps_the_orgs_repositories_case_insensitively(tmp_path: Path) -> None:
    path = gz(tmp_path / "2024-01-01-15.json.gz", *ALL)
    conn = connector(path, orgs=["Lumen-DB"])
    items = list(conn.items())
    assert ids(items) == ["35000000001", "35000000002", "35000000003", "35000000005", "35000000006"]
    # the pre-check skipped the lines not mentioning lumen-db without parsing them
    assert conn.stats["lines"] == 8
    assert conn.stats["candidates"] == 6  # the five kept and acme/lumen-db-tools


def test_org_filter_matches_the_owner_of_a_repository_without_org(tmp_path: Path) -> None:
    path = gz(tmp_path / "2024-01-01-15.json.gz", *ALL)
    assert ids(collect(path, orgs="omarwen")) == ["35000000004"]


def test_repo_filter_is_exact_owner_slash_name(tmp_path: Path) -> None:
    path = gz(tmp_path / "2024-01-01-15.json.gz", *ALL)
    assert ids(collect(path, repos=["LUMEN-DB/Lumen"])) == [
        "35000000001",
        "35000000002",
        "35000000003",
        "35000000005",
    ]  # not lumen-db/lumen-go
    both = collect(path, repos="lumen-db/lumen-go, nimbus-io/nimbus", orgs=["omarwen"])
    assert ids(both) == ["35000000004", "35000000006", "35000000007"]


def test_bad_filter_options_are_reported() -> None:
    with pytest.raises(ValueError, match="expected owner/name, got 'lumen'"):
        connector("x", repos=["lumen"])
    with pytest.raises(ValueError, match="put owner/name repositories under repos"):
        connector("x", orgs=["lumen-db/lumen"])


# -- bad input ------------------------------------------------------------------------


def test_bad_lines_are_rejected_with_a_reason(tmp_path: Path) -> None:
    no_id = json.loads(WATCH_USER_REPO)
    del no_id["id"]
    no_date = {**json.loads(COMMENT), "id": "35000000010"}
    del no_date["created_at"]
    bad_date = {**json.loads(COMMENT), "id": "35000000011", "created_at": "yesterday"}
    path = gz(
        tmp_path / "2024-01-01-15.json.gz",
        PUSH,
        '{"id":"35000000009","type":"WatchEvent","actor":{"login":"x"',  # cut mid-line
        "",
        "[1, 2]",
        json.dumps(no_id),
        json.dumps(no_date),
        json.dumps(bad_date),
        ISSUE,
    )
    items = collect(path)
    assert ids(items) == ["35000000001", "35000000002"]
    where = f"{path} line"
    got = [(r.reason.split(":")[0], r.native_id) for r in rejected(items)]
    assert got == [
        ("invalid JSON", None),
        ("not a JSON object", None),
        ("missing id", None),
        ("missing created_at", "35000000010"),
        ("created_at is not an ISO 8601 time", "35000000011"),
    ]
    reasons = [r.reason for r in rejected(items)]
    assert reasons[0].startswith(f"invalid JSON: {where} 2: ")
    assert reasons[2] == f"missing id: {where} 5"
    assert reasons[4] == f"created_at is not an ISO 8601 time: 'yesterday', {where} 7"
    assert rejected(items)[0].raw == '{"id":"35000000009","type":"WatchEvent","actor":{"login":"x"'


def test_pre_2015_timeline_events_are_rejected_not_crashed_on(tmp_path: Path) -> None:
    old = {
        "created_at": "2014-06-01T10:00:00-07:00",
        "payload": {"action": "started"},
        "public": True,
        "type": "WatchEvent",
        "url": "https://github.com/lumen-db/lumen",
        "actor": "omarwen",
        "actor_attributes": {"login": "omarwen", "type": "User"},
        "repository": {"owner": "lumen-db", "name": "lumen", "organization": "lumen-db"},
    }
    other = {**old, "repository": {"owner": "acme", "name": "lumen-db-tools"}}
    path = gz(tmp_path / "2014-06-01-17.json.gz", json.dumps(old), json.dumps(other), PUSH)
    items = collect(path, orgs=["lumen-db"])
    assert ids(items) == ["35000000001"]
    [reject] = rejected(items)  # acme/lumen-db-tools is filtered out, not rejected
    assert reject.reason == f"{PRE_2015}: {path} line 1"
    assert len(rejected(collect(path))) == 2


def test_duplicate_events_are_dropped_first_copy_wins(tmp_path: Path) -> None:
    first = gz(tmp_path / "2024-01-01-15.json.gz", PUSH, ISSUE, PUSH)
    gz(tmp_path / "2024-01-01-16.json.gz", ISSUE, PULL)
    conn = connector(tmp_path)
    items = list(conn.items())
    assert ids(items) == ["35000000001", "35000000002", "35000000003"]
    assert rejected(items) == []
    assert conn.stats["duplicates"] == 2
    assert first.exists()


def test_a_truncated_gzip_lands_what_it_read_and_stays_unlanded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = gz(tmp_path / "2024-01-01-15.json.gz", PUSH, ISSUE)
    stars = [
        line(
            f"360{n:08d}",
            "WatchEvent",
            actor("meidah", 5004),
            LUMEN,
            {"action": "started"},
            "2024-01-01T16:30:00Z",
            LUMEN_ORG,
        )
        for n in range(400)
    ]
    whole = gzip.compress(("\n".join([PULL, COMMENT, *stars]) + "\n").encode(), mtime=0)
    cut = tmp_path / "2024-01-01-16.json.gz"
    cut.write_bytes(whole[: len(whole) - 40])  # the trailer and the last bytes are gone
    conn = connector(tmp_path)
    with caplog.at_level(logging.WARNING, "townsquare.connectors.gharchive"):
        items = list(conn.items())
    assert ids(items)[:4] == ["35000000001", "35000000002", "35000000003", "35000000005"]
    assert rejected(items) == []
    [failure] = conn.failed
    match = re.fullmatch(r"2024-01-01-16.json.gz: EOFError after (\d+) lines", failure)
    assert match and 300 < int(match.group(1)) < 402  # the lines before the damage
    assert len(ids(items)) == 2 + int(match.group(1))  # ... every one of them a row
    assert "is damaged or cut short" in caplog.text and "read again next run" in caplog.text
    # only the whole file is recorded: the next run reads the cut one again
    assert conn.new_state() == {
        "repo_events": {
            "files": {
                "2024-01-01-15.json.gz": {
                    "size": good.stat().st_size,
                    "events": 2,
                    "filter": "orgs=;repos=",  # no filter: everything
                }
            }
        }
    }
    again = connector(tmp_path, state=conn.new_state())
    assert again.plan()[0][0].name == "2024-01-01-16.json.gz" and len(again.plan()) == 1


def test_a_file_that_is_not_gzip_at_all_fails_the_run_when_nothing_is_readable(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "2024-01-01-15.json.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage that is not deflate data")
    conn = connector(bad)
    with pytest.raises(
        GhArchiveError, match=r"could not read any file \(2024-01-01-15\.json\.gz: "
    ):
        list(conn.items())
    assert conn.new_state() == {}


def test_an_uncompressed_json_file_reads_too(tmp_path: Path) -> None:
    path = tmp_path / "2024-01-01-15.json"
    path.write_text(PUSH + "\n" + ISSUE)  # no newline at the end
    assert ids(collect(path)) == ["35000000001", "35000000002"]


# -- files, hours, since ------------------------------------------------------------------


def test_folder_files_are_read_in_hour_order(tmp_path: Path) -> None:
    gz(tmp_path / "2024-01-01-10.json.gz", PULL)
    gz(tmp_path / "2024-01-01-9.json.gz", ISSUE)
    gz(tmp_path / "2023-12-31-23.json.gz", PUSH)
    gz(tmp_path / "extra.json.gz", COMMENT)
    (tmp_path / "notes.txt").write_text("not read")
    conn = connector(tmp_path)
    assert [f.name for f, _ in conn.plan()] == [
        "2023-12-31-23.json.gz",
        "2024-01-01-9.json.gz",
        "2024-01-01-10.json.gz",
        "extra.json.gz",
    ]
    assert ids(list(conn.items())) == ["35000000001", "35000000002", "35000000003", "35000000005"]
    # start/end select a folder's files by hour
    ranged = connector(tmp_path, start="2024-01-01-9", end="2024-01-01T09:00:00Z")
    assert [f.name for f, _ in ranged.plan()] == ["2024-01-01-9.json.gz", "extra.json.gz"]


def test_since_skips_earlier_files_and_events(tmp_path: Path) -> None:
    gz(tmp_path / "2024-01-01-14.json.gz", PUSH)
    gz(tmp_path / "2024-01-01-15.json.gz", PUSH, ISSUE, PULL)
    conn = connector(tmp_path, since="2024-01-01T15:10:00Z")
    assert [f.name for f, _ in conn.plan()] == ["2024-01-01-15.json.gz"]
    assert ids(list(conn.items())) == ["35000000002", "35000000003"]
    assert conn.stats["before_since"] == 1


def test_hours_and_names() -> None:
    assert hour_of("2024-01-01-5.json.gz") == datetime(2024, 1, 1, 5, tzinfo=UTC)
    assert hour_of("/x/2024-01-01-23.json") == datetime(2024, 1, 1, 23, tzinfo=UTC)
    assert hour_of("2024-01-01-24.json.gz") is None
    assert hour_of("events.json.gz") is None
    assert parse_hour("2024-01-01T15:42:00+02:00", "start") == datetime(2024, 1, 1, 13, tzinfo=UTC)
    assert parse_hour("2024-01-01", "end", end=True) == datetime(2024, 1, 1, 23, tzinfo=UTC)
    with pytest.raises(ValueError, match="not an hour: 'soon'"):
        parse_hour("soon", "start")


# -- HTTP ---------------------------------------------------------------------------------


def served(server: HTTPServer, name: str, *lines: str, etag: str = '"e1"') -> bytes:
    body = gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)
    server.expect_request(f"/{name}").respond_with_data(
        body, content_type="application/gzip", headers={"ETag": etag}
    )
    return body


def requested(server: HTTPServer) -> list[str]:
    return [req.path for req, _ in server.log]


def test_an_hourly_file_over_http(httpserver: HTTPServer) -> None:
    body = served(httpserver, "2024-01-01-15.json.gz", PUSH, OTHER, ISSUE)
    conn = connector(httpserver.url_for("/2024-01-01-15.json.gz"), orgs=["lumen-db"])
    assert ids(list(conn.items())) == ["35000000001", "35000000002"]
    assert conn.new_state() == {
        "repo_events": {
            "files": {
                "2024-01-01-15.json.gz": {
                    "url": httpserver.url_for("/2024-01-01-15.json.gz"),
                    "size": len(body),
                    "etag": '"e1"',
                    "filter": "orgs=lumen-db;repos=",
                    "events": 2,
                }
            }
        }
    }
    # landed: the next run does not even ask
    again = connector(
        httpserver.url_for("/2024-01-01-15.json.gz"), state=conn.new_state(), orgs=["lumen-db"]
    )
    assert list(again.items()) == []
    assert requested(httpserver) == ["/2024-01-01-15.json.gz"]


def test_a_503_is_retried_then_succeeds(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/2024-01-01-15.json.gz").respond_with_data(
        "busy", status=503, headers={"Retry-After": "3"}
    )
    served(httpserver, "2024-01-01-15.json.gz", PUSH)
    waits: list[float] = []
    conn = connector(httpserver.url_for("/2024-01-01-15.json.gz"), http={"sleep": waits.append})
    assert ids(list(conn.items())) == ["35000000001"]
    assert waits == [3.0]
    assert requested(httpserver) == ["/2024-01-01-15.json.gz"] * 2


def test_a_url_range_reads_each_hour_and_keeps_missing_ones_for_later(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    served(httpserver, "gh/2024-01-01-22.json.gz", PUSH)
    served(httpserver, "gh/2024-01-01-23.json.gz", ISSUE)
    # 2024-01-02-0 is missing for good (404); hours 1 and 2 are not published yet
    for name in ("2024-01-02-0.json.gz", "2024-01-02-1.json.gz", "2024-01-02-2.json.gz"):
        httpserver.expect_request(f"/gh/{name}").respond_with_data("Not Found", status=404)
    now = datetime(2024, 1, 2, 3, 30, tzinfo=UTC)  # the range ends at hour 2
    base = httpserver.url_for("/gh/")
    conn = connector(base, start="2024-01-01T22", http={"max_retries": 0}, now=now)
    assert [f.name for f, _ in conn.plan()] == [
        "2024-01-01-22.json.gz",
        "2024-01-01-23.json.gz",
        "2024-01-02-0.json.gz",
        "2024-01-02-1.json.gz",
        "2024-01-02-2.json.gz",
    ]
    with caplog.at_level(logging.INFO, "townsquare.connectors.gharchive"):
        assert ids(list(conn.items())) == ["35000000001", "35000000002"]
    assert conn.unpublished == ["2024-01-02-1.json.gz", "2024-01-02-2.json.gz"]
    assert [f.split(":")[0] for f in conn.failed] == ["2024-01-02-0.json.gz"]
    assert "not published yet" in caplog.text
    assert sorted(conn.new_state()["repo_events"]["files"]) == [
        "2024-01-01-22.json.gz",
        "2024-01-01-23.json.gz",
    ]
    # a template in LOCATION works the same; a landed hour is not requested again
    template = httpserver.url_for("/gh/") + "{date}-{hour}.json.gz"
    again = connector(
        template, start="2024-01-01T22", end="2024-01-01T23", state=conn.new_state(), now=now
    )
    assert again.plan() == []
    with pytest.raises(ValueError, match="URL template: set the option start"):
        connector(template)


# -- through the pipeline ---------------------------------------------------------------------


def test_incremental_runs_through_ingest_source(tmp_path: Path, suites: None) -> None:
    folder = tmp_path / "archive"
    gz(folder / "2024-01-01-15.json.gz", PUSH, OTHER, ISSUE, PUSH)
    gz(folder / "2024-01-01-16.json.gz", PULL, WATCH_USER_REPO)
    lake = tmp_path / "lake"
    source = SourceConfig(
        type="gharchive", name="gh", location=str(folder), options={"orgs": ["lumen-db"]}
    )
    first = ingest_source(source, lake=str(lake), credentials={})
    assert first.entities["repo_events"].rows == 3
    assert first.entities["repo_events"].quarantined == 0
    table = read(first.files)
    assert table.column("event_id").to_pylist() == ["35000000001", "35000000002", "35000000003"]
    assert table.column("org_login").to_pylist() == ["lumen-db"] * 3
    assert table.column("created_at").to_pylist()[0] == datetime(2024, 1, 1, 15, 0, 5, tzinfo=UTC)
    assert table.column("raw").to_pylist() == [None] * 3
    state = json.loads((lake / "_state" / "gh" / "repo_events.json").read_text())["state"]
    assert state == {
        "files": {
            "2024-01-01-15.json.gz": {
                "size": (folder / "2024-01-01-15.json.gz").stat().st_size,
                "events": 2,
                "filter": "orgs=lumen-db;repos=",
            },
            "2024-01-01-16.json.gz": {
                "size": (folder / "2024-01-01-16.json.gz").stat().st_size,
                "events": 1,
                "filter": "orgs=lumen-db;repos=",
            },
        }
    }

    gz(folder / "2024-01-01-17.json.gz", COMMENT, FORK)
    second = ingest_source(source, lake=str(lake), credentials={})
    assert second.run_id != first.run_id
    assert read(second.files).column("event_id").to_pylist() == [
        "35000000005",
        "35000000006",
    ]
    everything = read([*first.files, *second.files])
    assert everything.num_rows == 5
    third = ingest_source(source, lake=str(lake), credentials={})
    assert third.entities["repo_events"].rows == 0


def test_the_bundled_sample(tmp_path: Path) -> None:
    folder = samples_dir() / "repo" / "gharchive"
    sizes = [p.stat().st_size for p in folder.glob("*.json.gz")]
    assert len(sizes) == 3 and sum(sizes) < 100_000
    lumen = rows(collect(folder, repos=["lumen-db/lumen"]))
    assert len(lumen) == 112
    assert {r["repo_name"] for r in lumen} == {"lumen-db/lumen"}
    release = [r for r in lumen if r["event_type"] == "ReleaseEvent"]
    assert [(r["actor_login"], r["created_at"], r["action"]) for r in release] == [
        ("tobiaslin", datetime(2026, 9, 14, 5, 19, 4, tzinfo=UTC), "published")
    ]
    assert len(rows(collect(folder, orgs=["lumen-db"]))) == 124
    assert len(rows(collect(folder))) == 166


def test_seen_ids_are_exact_in_or_out_of_order() -> None:
    seen = SeenIds()
    assert [seen.add(i) for i in ("5", "7", "6", "6", "7", "5", "8")] == [
        True,
        True,
        True,  # lower than the highest: bisect, then the set
        False,
        False,
        False,
        True,
    ]
    assert [seen.add(i) for i in ("evt-1", "evt-1", "99999999999999999999")] == [True, False, True]
    assert len(seen) == 6


def test_a_download_that_breaks_off_lands_what_arrived(httpserver: HTTPServer) -> None:
    from werkzeug import Request, Response

    noise = random.Random(1)  # incompressible payloads: the body is several read blocks
    stars = [
        line(
            f"370{n:08d}",
            "WatchEvent",
            actor("meidah", 5004),
            LUMEN,
            {"action": "started", "noise": f"{noise.getrandbits(800):0200x}"},
            "2024-01-01T15:00:00Z",
        )
        for n in range(2000)
    ]
    body = gzip.compress(("\n".join(stars) + "\n").encode(), mtime=0)

    def cut(_request: Request) -> Response:
        # promises the whole file, sends half of it, then the connection closes
        response = Response(body[: len(body) // 2], content_type="application/gzip")
        response.headers["Content-Length"] = str(len(body))
        return response

    httpserver.expect_request("/2024-01-01-15.json.gz").respond_with_handler(cut)
    conn = connector(httpserver.url_for("/2024-01-01-15.json.gz"), timeout=5)
    got = ids(list(conn.items()))
    assert 0 < len(got) < 2000 and got[0] == "37000000000"
    assert conn.failed and conn.failed[0].startswith("2024-01-01-15.json.gz: ")
    assert conn.new_state() == {"repo_events": {"files": {}}}


def test_a_wider_filter_or_a_since_inside_an_hour_reads_the_file_again(tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    gz(folder / "2024-01-01-15.json.gz", PUSH, OTHER, ISSUE)
    lumen = connector(folder, repos=["lumen-db/lumen"])
    first = ids(list(lumen.items()))
    assert first and all(i in ("35000000001", "35000000002") for i in first)
    wider = connector(folder, state=lumen.new_state(), orgs=["lumen-db", "other-org"])
    assert [f.name for f, _ in wider.plan()] == ["2024-01-01-15.json.gz"]  # read again
    same = connector(folder, state=lumen.new_state(), repos=["lumen-db/lumen"])
    assert same.plan() == []

    # --since 15:30 skipped the events before it: the file is not recorded as landed
    partial = connector(folder, since="2024-01-01T15:30:00Z")
    list(partial.items())
    assert partial.new_state() == {"repo_events": {"files": {}}}
