"""PipermailConnector against a local HTTP server serving a Mailman 2.1 archive."""

from __future__ import annotations

import gzip
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pytest_httpserver import HTTPServer

from townsquare.config import SourceConfig
from townsquare.connectors.base import ConnectorContext
from townsquare.connectors.pipermail import (
    PipermailConnector,
    PipermailError,
    archive_period,
    parse_index,
)
from townsquare.records import Item, Rejected, Row

LIST = "/pipermail/lumen-users/"


def post(
    mid: str,
    user: str,
    name: str,
    when: str,
    subject: str,
    body: str = "Body.",
    reply_to: str | None = None,
) -> bytes:
    """One message as Mailman 2.1 writes it into ``YYYY-Month.txt`` (obfuscated addresses)."""
    day, rest = when.split(" ", 1)
    envelope_date = datetime.strptime(when[:-6], "%a, %d %b %Y %H:%M:%S").strftime(
        "%a %b %e %H:%M:%S %Y"
    )
    lines = [
        f"From {user} at example.org  {envelope_date}",
        f"From: {user} at example.org ({name})",
        f"Date: {day} {rest}",
        f"Subject: [lumen-users] {subject}",
    ]
    if reply_to:
        lines += [f"In-Reply-To: <{reply_to}>", f"References: <{reply_to}>"]
    lines += [f"Message-ID: <{mid}>", "", body, "", ""]
    return "\n".join(lines).encode("utf-8")


JAN = post("j1@x", "ana", "Ana Lima", "Tue, 09 Jan 2024 10:00:00 +0100", "Hello")
FEB = post("f1@x", "bo", "Bo Chen", "Thu, 01 Feb 2024 08:00:00 +0000", "ARM builds?")
MAR = post("m1@x", "ana", "Ana Lima", "Mon, 04 Mar 2024 12:00:00 -0500", "Retention")
MAR_LATE = post(
    "m2@x", "bo", "Bo Chen", "Tue, 26 Mar 2024 09:00:00 +0000", "Re: Retention", reply_to="m1@x"
)
APR = post("a1@x", "cy", "Cy Öz", "Mon, 01 Apr 2024 07:00:00 +0000", "New here")


def index_page(months: list[tuple[str, str]]) -> str:
    """A Mailman 2.1 ``index.html`` (archtoc.html) listing (month stem, text file) newest first."""
    rows = []
    for stem, text_file in months:
        year, month = stem.split("-")
        rows.append(
            f"""
            <tr>
            <td>{month} {year}:</td>
            <td>
              <A href="{stem}/thread.html">[ Thread ]</a>
              <A href="{stem}/subject.html">[ Subject ]</a>
              <A href="{stem}/author.html">[ Author ]</a>
              <A href="{stem}/date.html">[ Date ]</a>
            </td>
            <td><A href="{text_file}">[ Gzip'd Text 1 KB ]</a></td>
            </tr>"""
        )
    return f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2//EN">
<HTML>
  <HEAD>
     <title>The Lumen-users Archives</title>
     <META NAME="robots" CONTENT="noindex,follow">
  </HEAD>
  <BODY BGCOLOR="#ffffff">
     <h1>The Lumen-users Archives </h1>
     <p>You can get <a href="http://lists.example.org/mailman/listinfo/lumen-users">more
      information about this list</a> or you can
      <a href="/pipermail/lumen-users.mbox/lumen-users.mbox">download the full raw archive</a>.</p>
     <table border=3>
          <tr><td>Archive</td><td>View by:</td><td>Downloadable version</td></tr>
          {"".join(rows)}
     </table>
  </BODY>
</HTML>"""


def serve_index(server: HTTPServer, months: list[tuple[str, str]]) -> None:
    server.expect_request(LIST).respond_with_data(index_page(months), content_type="text/html")


def serve_archive(server: HTTPServer, name: str, body: bytes, etag: str) -> None:
    server.expect_request(LIST + name).respond_with_data(
        body,
        content_type="application/x-gzip" if name.endswith(".gz") else "text/plain",
        headers={"ETag": etag, "Last-Modified": "Tue, 26 Mar 2024 10:00:00 GMT"},
    )


def serve_q1(server: HTTPServer) -> None:
    serve_index(
        server,
        [
            ("2024-March", "2024-March.txt"),
            ("2024-February", "2024-February.txt.gz"),
            ("2024-January", "2024-January.txt.gz"),
        ],
    )
    serve_archive(server, "2024-January.txt.gz", gzip.compress(JAN), '"jan"')
    serve_archive(server, "2024-February.txt.gz", FEB, '"feb"')  # plain text under .gz
    serve_archive(server, "2024-March.txt", MAR, '"mar"')


def make(server: HTTPServer, **kwargs: Any) -> PipermailConnector:
    state = kwargs.pop("state", None) or {}
    since = kwargs.pop("since", None)
    return PipermailConnector(
        ConnectorContext(
            name="users", location=server.url_for(LIST), state=state, since=since, options=kwargs
        ),
        http={"sleep": lambda _s: None, "max_retries": 2},
    )


def rows(items: list[Item]) -> list[dict[str, Any]]:
    return [i.values for i in items if isinstance(i, Row)]


def requested(server: HTTPServer) -> list[str]:
    return [request.path for request, _ in server.log]


# --------------------------------------------------------------------------- first run


def test_first_run_reads_every_month_gzip_or_not(httpserver: HTTPServer) -> None:
    serve_q1(httpserver)
    connector = make(httpserver)
    items = list(connector.items())
    got = rows(items)
    assert [r["message_id"] for r in got] == ["j1@x", "f1@x", "m1@x"]
    assert got[0] == {
        "message_id": "j1@x",
        "message_id_generated": False,
        "list_name": "lumen-users",
        "archive_url": httpserver.url_for(LIST + "2024-January.txt.gz"),
        "from_name": "Ana Lima",
        "from_email": "ana@example.org",
        "subject": "[lumen-users] Hello",
        "sent_at": datetime(2024, 1, 9, 9, 0, tzinfo=UTC),
        "sent_utc_offset_minutes": 60,
        "date_source": "header",
        "in_reply_to": None,
        "references": [],
        "body_text": "Body.",
    }
    assert got[2]["sent_utc_offset_minutes"] == -300
    assert requested(httpserver) == [
        LIST,
        LIST + "2024-January.txt.gz",
        LIST + "2024-February.txt.gz",
        LIST + "2024-March.txt",
    ]
    archives = connector.new_state()["mail_messages"]["archives"]
    # keyed without .gz: Mailman gzips a month later and then links the .txt.gz
    assert sorted(archives) == ["2024-February.txt", "2024-January.txt", "2024-March.txt"]
    assert archives["2024-March.txt"] | {"prefix_sha256": "…"} == {
        "etag": '"mar"',
        "last_modified": "Tue, 26 Mar 2024 10:00:00 GMT",
        "content_length": len(MAR),
        "offset": len(MAR),
        "prefix_sha256": "…",
        "messages": 1,
    }
    assert archives["2024-January.txt"]["offset"] == len(JAN)  # decompressed bytes


def test_list_name_option_wins_over_the_url(httpserver: HTTPServer) -> None:
    serve_q1(httpserver)
    got = rows(list(make(httpserver, list_name="users").items()))
    assert {r["list_name"] for r in got} == {"users"}


def test_state_is_exposed_only_after_items_ran_to_the_end(httpserver: HTTPServer) -> None:
    serve_q1(httpserver)
    connector = make(httpserver)
    it = connector.items()
    next(it)
    assert connector.new_state() == {}
    list(it)
    assert "mail_messages" in connector.new_state()


# --------------------------------------------------------------------------- failures


def test_a_broken_month_link_warns_others_land_and_it_is_retried(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    serve_index(
        httpserver,
        [("2024-March", "2024-March.txt"), ("2024-February", "2024-February.txt.gz")],
    )
    httpserver.expect_request(LIST + "2024-February.txt.gz").respond_with_data(
        "Not Found", status=404
    )
    serve_archive(httpserver, "2024-March.txt", MAR, '"mar"')
    connector = make(httpserver)
    with caplog.at_level(logging.WARNING, logger="townsquare.connectors.pipermail"):
        got = rows(list(connector.items()))
    assert [r["message_id"] for r in got] == ["m1@x"]
    assert connector.failed == ["2024-February.txt.gz"]
    assert "archive 2024-February.txt.gz could not be read: HTTP 404" in caplog.text
    assert "will be retried on the next run" in caplog.text
    state = connector.new_state()
    assert sorted(state["mail_messages"]["archives"]) == ["2024-March.txt"]

    # the link is fixed: the next run fetches February (and rechecks March, unchanged)
    httpserver.clear()
    serve_index(
        httpserver,
        [("2024-March", "2024-March.txt"), ("2024-February", "2024-February.txt.gz")],
    )
    serve_archive(httpserver, "2024-February.txt.gz", gzip.compress(FEB), '"feb"')
    httpserver.expect_request(
        LIST + "2024-March.txt", headers={"If-None-Match": '"mar"'}
    ).respond_with_data("", status=304)
    again = make(httpserver, state=state)
    assert [r["message_id"] for r in rows(list(again.items()))] == ["f1@x"]
    assert requested(httpserver) == [LIST, LIST + "2024-February.txt.gz", LIST + "2024-March.txt"]
    assert sorted(again.new_state()["mail_messages"]["archives"]) == [
        "2024-February.txt",
        "2024-March.txt",
    ]


def test_every_month_failing_fails_the_run(httpserver: HTTPServer) -> None:
    serve_index(httpserver, [("2024-March", "2024-March.txt")])
    httpserver.expect_request(LIST + "2024-March.txt").respond_with_data(
        "<html>oops</html>", content_type="text/html"
    )
    connector = make(httpserver)
    with pytest.raises(PipermailError, match=r"every archive .* failed \(2024-March.txt\)"):
        list(connector.items())
    assert connector.new_state() == {}
    assert "not an mbox file" in connector.warnings[0]


def test_a_503_is_retried_then_succeeds(httpserver: HTTPServer) -> None:
    serve_index(httpserver, [("2024-March", "2024-March.txt")])
    httpserver.expect_oneshot_request(LIST + "2024-March.txt").respond_with_data(
        "busy", status=503, headers={"Retry-After": "7"}
    )
    serve_archive(httpserver, "2024-March.txt", MAR, '"mar"')
    waits: list[float] = []
    connector = PipermailConnector(
        ConnectorContext(name="users", location=httpserver.url_for(LIST)),
        http={"sleep": waits.append},
    )
    assert [r["message_id"] for r in rows(list(connector.items()))] == ["m1@x"]
    assert waits == [7.0]
    assert requested(httpserver) == [LIST, LIST + "2024-March.txt", LIST + "2024-March.txt"]


def test_index_errors_are_clear(httpserver: HTTPServer) -> None:
    httpserver.expect_request(LIST).respond_with_data("Not Found", status=404)
    with pytest.raises(PipermailError, match="cannot read the archive index: HTTP 404"):
        list(make(httpserver).items())
    httpserver.clear()
    httpserver.expect_request(LIST).respond_with_data("<html><a href='x.html'>x</a></html>")
    with pytest.raises(PipermailError, match="links to no text archives"):
        list(make(httpserver).items())
    with pytest.raises(ValueError, match="LOCATION must be the list's archive URL"):
        PipermailConnector(ConnectorContext(name="x", location="/srv/pipermail/x"))


# --------------------------------------------------------------------------- incremental


def test_next_run_refetches_only_recent_months_and_new_months(httpserver: HTTPServer) -> None:
    serve_q1(httpserver)
    first = make(httpserver)
    list(first.items())
    state = first.new_state()

    # March grew (Mailman appends), April is new; January and February are not requested
    httpserver.clear()
    serve_index(
        httpserver,
        [
            ("2024-April", "2024-April.txt.gz"),
            ("2024-March", "2024-March.txt"),
            ("2024-February", "2024-February.txt.gz"),
            ("2024-January", "2024-January.txt.gz"),
        ],
    )
    serve_archive(httpserver, "2024-March.txt", MAR + MAR_LATE, '"mar-2"')
    serve_archive(httpserver, "2024-April.txt.gz", gzip.compress(APR), '"apr"')
    second = make(httpserver, state=state)
    got = rows(list(second.items()))
    assert [r["message_id"] for r in got] == ["m2@x", "a1@x"]  # m1@x is not landed again
    assert got[0]["in_reply_to"] == "m1@x"
    assert got[1]["from_name"] == "Cy Öz"
    assert requested(httpserver) == [LIST, LIST + "2024-March.txt", LIST + "2024-April.txt.gz"]
    march_request = httpserver.log[1][0]
    assert march_request.headers["If-None-Match"] == '"mar"'
    assert march_request.headers["If-Modified-Since"] == "Tue, 26 Mar 2024 10:00:00 GMT"
    archives = second.new_state()["mail_messages"]["archives"]
    assert archives["2024-March.txt"]["messages"] == 2
    assert archives["2024-March.txt"]["offset"] == len(MAR + MAR_LATE)

    # third run: April (the newest) and March (ended within 31 days of April's end: late
    # mail may still be filed there) are asked again, conditionally; both are unchanged
    httpserver.clear()
    serve_index(httpserver, [("2024-April", "2024-April.txt.gz"), ("2024-March", "2024-March.txt")])
    httpserver.expect_request(
        LIST + "2024-March.txt", headers={"If-None-Match": '"mar-2"'}
    ).respond_with_data("", status=304)
    httpserver.expect_request(
        LIST + "2024-April.txt.gz", headers={"If-None-Match": '"apr"'}
    ).respond_with_data("", status=304)
    third = make(httpserver, state=second.new_state())
    assert rows(list(third.items())) == []
    assert requested(httpserver) == [LIST, LIST + "2024-March.txt", LIST + "2024-April.txt.gz"]
    assert third.new_state() == second.new_state()


def test_a_rewritten_month_is_read_again(httpserver: HTTPServer) -> None:
    serve_index(httpserver, [("2024-March", "2024-March.txt")])
    serve_archive(httpserver, "2024-March.txt", MAR, '"mar"')
    first = make(httpserver)
    list(first.items())
    httpserver.clear()
    serve_index(httpserver, [("2024-March", "2024-March.txt")])
    serve_archive(httpserver, "2024-March.txt", MAR_LATE + MAR, '"mar-regenerated"')
    second = make(httpserver, state=first.new_state())
    assert [r["message_id"] for r in rows(list(second.items()))] == ["m2@x", "m1@x"]
    assert "changed before byte" in second.warnings[0]


def test_since_skips_months_entirely_before_it(httpserver: HTTPServer) -> None:
    serve_q1(httpserver)
    got = rows(list(make(httpserver, since="2024-02-15").items()))
    assert [r["message_id"] for r in got] == ["m1@x"]  # f1@x (Feb 1) is before since
    assert requested(httpserver) == [LIST, LIST + "2024-February.txt.gz", LIST + "2024-March.txt"]


def test_pipeline_lands_then_catches_up(httpserver: HTTPServer, tmp_path: Path) -> None:
    from townsquare.pipeline import ingest_source

    lake = tmp_path / "lake"
    source = SourceConfig(type="pipermail", name="users", location=httpserver.url_for(LIST))
    serve_q1(httpserver)
    first = ingest_source(source, lake=str(lake), credentials={})
    assert first.to_json()["entities"] == {"mail_messages": {"rows": 3, "quarantined": 0}}
    httpserver.clear()
    serve_index(httpserver, [("2024-March", "2024-March.txt")])
    serve_archive(httpserver, "2024-March.txt", MAR + MAR_LATE, '"mar-2"')
    second = ingest_source(source, lake=str(lake), credentials={})
    assert second.rows == 1
    ids = sorted(
        i
        for f in lake.glob("raw/mail_messages/source=users/*/*.parquet")
        for i in pq.read_table(f).column("message_id").to_pylist()
    )
    assert ids == ["f1@x", "j1@x", "m1@x", "m2@x"]


# --------------------------------------------------------------------------- index parsing


def test_parse_index_keeps_text_archives_next_to_it_oldest_first() -> None:
    page = """<table>
      <tr><td><a href="2024q1.txt">q1</a></td></tr>
      <tr><td><a href="2023-December/thread.html">[ Thread ]</a>
              <a href="2023-December.txt.gz">[ Gzip'd Text ]</a>
              <a href="2023-December.txt">[ Text ]</a></td></tr>
      <tr><td><a href="Week-of-Mon-20231127.txt.gz">w</a>
              <a href="/pipermail/other-list/2024-May.txt.gz">other list</a>
              <a href="https://elsewhere.example.org/pipermail/lumen-users/2024-May.txt">other host</a>
              <a href="attachments/20231201/abc/notes.txt">attachment</a>
              <a href="odd-name.txt">odd</a></td></tr>
    </table>"""
    found = parse_index(page, "http://lists.example.org/pipermail/lumen-users/index.html")
    assert [a.name for a in found] == [
        "Week-of-Mon-20231127.txt.gz",
        "2023-December.txt.gz",
        "2024q1.txt",
        "odd-name.txt",
    ]
    assert found[1].url == "http://lists.example.org/pipermail/lumen-users/2023-December.txt.gz"
    assert archive_period("2024-December.txt.gz") == (
        datetime(2024, 12, 1, tzinfo=UTC),
        datetime(2025, 1, 1, tzinfo=UTC),
    )
    assert archive_period("20240304.txt") == (
        datetime(2024, 3, 4, tzinfo=UTC),
        datetime(2024, 3, 5, tzinfo=UTC),
    )
    assert archive_period("2024-Smarch.txt") is None


def test_obfuscated_addresses_in_a_quarantined_record_are_kept_raw(httpserver: HTTPServer) -> None:
    nodate = b"From someone at example.org\nFrom: someone at example.org\nSubject: x\n\nno date\n"
    serve_index(httpserver, [("2024-March", "2024-March.txt")])
    serve_archive(httpserver, "2024-March.txt", MAR + nodate, '"m"')
    items = list(make(httpserver).items())
    [bad] = [i for i in items if isinstance(i, Rejected)]
    assert bad.reason.startswith("no usable date")
    assert ["From", "someone at example.org"] in bad.raw["headers"]


def test_bundled_lumen_users_archive(httpserver: HTTPServer) -> None:
    folder = (
        Path(__file__).resolve().parents[2]
        / "plugins/townsquare/samples/forum/pipermail/lumen-users"
    )
    for path in folder.iterdir():
        target = LIST if path.name == "index.html" else LIST + path.name
        httpserver.expect_request(target).respond_with_data(path.read_bytes())
    connector = make(httpserver)
    items = list(connector.items())
    got = rows(items)
    assert [i for i in items if isinstance(i, Rejected)] == []
    assert len(got) == 60
    assert {r["list_name"] for r in got} == {"lumen-users"}
    assert all("@" in r["from_email"] and " at " not in r["from_email"] for r in got)
    assert any(not r["from_name"].isascii() for r in got)  # RFC 2047 names decoded
    assert len(connector.new_state()["mail_messages"]["archives"]) == 14
    assert sum(1 for r in got if r["in_reply_to"] is None) == 20
    # identity variants (samples/forum/generate_mail.py), de-obfuscated as sent
    senders = {(r["from_name"], r["from_email"]) for r in got}
    assert ("Teodor Wendt", "teodor_wendt+lists@gmail.com") in senders
    assert ("Mei Dahl", "Mei.Dahl@Northwind-Robotics.example.com") in senders
    assert ("Søren Ørsted", "team@tessera-labs.example.net") in senders
    assert ("Callum Sandoval", "callum@sandoval.example.net") in senders


# --------------------------------------------------------------------------- review regressions


def test_a_month_fetched_mid_append_is_read_again_whole(httpserver: HTTPServer) -> None:
    """Mailman was appending a message when the archive was downloaded."""
    cut = MAR_LATE[: MAR_LATE.index(b"Body.")] + b"Bo"
    serve_index(httpserver, [("2024-March", "2024-March.txt")])
    serve_archive(httpserver, "2024-March.txt", MAR + cut, '"mar-1"')
    first = make(httpserver)
    got = rows(list(first.items()))
    assert [(r["message_id"], r["body_text"]) for r in got] == [("m1@x", "Body."), ("m2@x", "Bo")]
    cursor = first.new_state()["mail_messages"]["archives"]["2024-March.txt"]
    assert cursor["offset"] == len(MAR)  # not past the half-written message
    assert cursor["messages"] == 1

    httpserver.clear()
    serve_index(httpserver, [("2024-March", "2024-March.txt")])
    serve_archive(httpserver, "2024-March.txt", MAR + MAR_LATE + APR, '"mar-2"')
    second = make(httpserver, state=first.new_state())
    got = rows(list(second.items()))
    assert [(r["message_id"], r["body_text"]) for r in got] == [
        ("m2@x", "Body."),
        ("a1@x", "Body."),
    ]
    assert second.warnings == []
    cursor = second.new_state()["mail_messages"]["archives"]["2024-March.txt"]
    assert cursor["offset"] == len(MAR + MAR_LATE + APR)
    assert cursor["messages"] == 3


def test_a_resume_offset_inside_a_message_reads_the_month_again(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    paused = MAR_LATE  # Mailman paused after a blank line inside the body
    serve_index(httpserver, [("2024-March", "2024-March.txt")])
    serve_archive(httpserver, "2024-March.txt", MAR + paused, '"mar-1"')
    first = make(httpserver)
    list(first.items())
    assert first.new_state()["mail_messages"]["archives"]["2024-March.txt"]["offset"] == len(
        MAR + paused
    )
    httpserver.clear()
    serve_index(httpserver, [("2024-March", "2024-March.txt")])
    serve_archive(httpserver, "2024-March.txt", MAR + paused + b"More.\n\n", '"mar-2"')
    second = make(httpserver, state=first.new_state())
    with caplog.at_level(logging.WARNING):
        got = rows(list(second.items()))
    assert [(r["message_id"], r["body_text"]) for r in got] == [
        ("m1@x", "Body."),
        ("m2@x", "Body.\n\nMore."),
    ]
    assert "is not at a 'From ' line" in caplog.text
    assert second.new_state()["mail_messages"]["archives"]["2024-March.txt"]["messages"] == 2


def test_late_mail_filed_into_the_previous_month_is_picked_up(httpserver: HTTPServer) -> None:
    months = [("2024-April", "2024-April.txt"), ("2024-March", "2024-March.txt")]
    serve_index(httpserver, months)
    serve_archive(httpserver, "2024-March.txt", MAR, '"mar-1"')
    serve_archive(httpserver, "2024-April.txt", APR, '"apr-1"')
    first = make(httpserver, recheck=1)
    list(first.items())

    # a moderated message dated March 26 is released in April: Mailman appends it to March
    httpserver.clear()
    serve_index(httpserver, months)
    serve_archive(httpserver, "2024-March.txt", MAR + MAR_LATE, '"mar-2"')
    httpserver.expect_request(
        LIST + "2024-April.txt", headers={"If-None-Match": '"apr-1"'}
    ).respond_with_data("", status=304)
    second = make(httpserver, state=first.new_state(), recheck=1)
    assert [r["message_id"] for r in rows(list(second.items()))] == ["m2@x"]
    assert requested(httpserver) == [LIST, LIST + "2024-March.txt", LIST + "2024-April.txt"]
    assert httpserver.log[1][0].headers["If-None-Match"] == '"mar-1"'


def test_recheck_window_covers_recent_periods_and_recheck_is_a_minimum() -> None:
    base = "http://h/pipermail/l/"
    state = {"mail_messages": {"archives": {}}}

    def plan(page: str, landed: list[str], recheck: int = 1) -> list[str]:
        state["mail_messages"]["archives"] = {name: {"offset": 1} for name in landed}
        c = PipermailConnector(
            ConnectorContext(name="l", location=base, state=state, options={"recheck": recheck})
        )
        return [a.name for a, _ in c.plan(parse_index(page, base))]

    days = [f"202403{d:02d}.txt" for d in range(1, 32)] + ["20240401.txt", "20240402.txt"]
    daily = "".join(f'<a href="{n}">d</a>' for n in days)
    # newest ends April 3; window from March 3 (ends >= March 3: March 2 and later)
    assert plan(daily, days) == days[1:]
    quarters = ["2023q4.txt.gz", "2024q1.txt.gz", "2024q2.txt"]
    page = "".join(f'<a href="{n}">q</a>' for n in quarters)
    # Q1 ended when Q2 started: kept although that is 91 days before Q2's end
    assert plan(page, ["2023q4.txt", "2024q1.txt", "2024q2.txt"]) == quarters[1:]
    monthly = ["2024-January.txt.gz", "2024-February.txt.gz", "2024-March.txt"]
    page = "".join(f'<a href="{n}">m</a>' for n in monthly)
    landed = ["2024-January.txt", "2024-February.txt", "2024-March.txt"]
    assert plan(page, landed, recheck=0) == monthly[1:]
    assert plan(page, landed, recheck=3) == monthly  # recheck is a minimum count
    # a future-dated spam's archive does not move the window (it is asked again too)
    spam = page + '<a href="2999-January.txt">spam</a>'
    assert plan(spam, [*landed, "2999-January.txt"], recheck=0) == [
        *monthly[1:],
        "2999-January.txt",
    ]


def test_a_nameless_sender_has_a_null_name_not_an_address(httpserver: HTTPServer) -> None:
    nameless = post("n1@x", "jane", "jane at example.org", "Mon, 04 Mar 2024 12:00:00 +0000", "Q")
    assert b"From: jane at example.org (jane at example.org)" in nameless
    serve_index(httpserver, [("2024-March", "2024-March.txt")])
    serve_archive(httpserver, "2024-March.txt", nameless + MAR, '"m"')
    got = rows(list(make(httpserver).items()))
    assert [(r["from_name"], r["from_email"]) for r in got] == [
        (None, "jane@example.org"),
        ("Ana Lima", "ana@example.org"),
    ]


def test_a_broken_link_with_landed_months_only_warns(httpserver: HTTPServer) -> None:
    months = [("2024-March", "2024-March.txt"), ("2024-February", "2024-February.txt.gz")]
    serve_index(httpserver, months)
    httpserver.expect_request(LIST + "2024-February.txt.gz").respond_with_data(
        "Not Found", status=404
    )
    serve_archive(httpserver, "2024-March.txt", MAR, '"mar"')
    first = make(httpserver, recheck=0)
    assert [r["message_id"] for r in rows(list(first.items()))] == ["m1@x"]
    state = first.new_state()
    for _ in range(2):  # later runs: February still 404, March unchanged (304)
        httpserver.clear()
        serve_index(httpserver, months)
        httpserver.expect_request(LIST + "2024-February.txt.gz").respond_with_data(
            "Not Found", status=404
        )
        httpserver.expect_request(
            LIST + "2024-March.txt", headers={"If-None-Match": '"mar"'}
        ).respond_with_data("", status=304)
        again = make(httpserver, state=state, recheck=0)
        assert rows(list(again.items())) == []
        assert again.failed == ["2024-February.txt.gz"]
        assert "archive 2024-February.txt.gz could not be read: HTTP 404" in again.warnings[0]
        assert again.new_state() == state
        state = again.new_state()


def test_a_month_gzipped_overnight_is_not_landed_twice(httpserver: HTTPServer) -> None:
    serve_index(httpserver, [("2024-March", "2024-March.txt")])
    serve_archive(httpserver, "2024-March.txt", MAR, '"mar-txt"')
    first = make(httpserver)
    list(first.items())
    assert list(first.new_state()["mail_messages"]["archives"]) == ["2024-March.txt"]

    # Mailman's nightly job gzipped March; the index now links the .txt.gz
    httpserver.clear()
    serve_index(httpserver, [("2024-March", "2024-March.txt.gz")])
    serve_archive(httpserver, "2024-March.txt.gz", gzip.compress(MAR), '"mar-gz"')
    second = make(httpserver, state=first.new_state())
    assert rows(list(second.items())) == []
    assert requested(httpserver) == [LIST, LIST + "2024-March.txt.gz"]
    assert httpserver.log[1][0].headers["If-None-Match"] == '"mar-txt"'
    archives = second.new_state()["mail_messages"]["archives"]
    assert list(archives) == ["2024-March.txt"]
    assert archives["2024-March.txt"]["etag"] == '"mar-gz"'
    assert archives["2024-March.txt"]["messages"] == 1


def test_a_state_keyed_by_gz_names_is_migrated(httpserver: HTTPServer) -> None:
    serve_q1(httpserver)
    first = make(httpserver)
    list(first.items())
    archives = first.new_state()["mail_messages"]["archives"]
    old = {  # as written before the keys dropped .gz
        "2024-January.txt.gz": archives["2024-January.txt"],
        "2024-February.txt.gz": archives["2024-February.txt"],
        "2024-March.txt": archives["2024-March.txt"],
    }
    httpserver.clear()
    serve_index(
        httpserver,
        [
            ("2024-March", "2024-March.txt.gz"),
            ("2024-February", "2024-February.txt.gz"),
            ("2024-January", "2024-January.txt"),
        ],
    )
    # January is not asked again; February (the month before the newest) and March are,
    # with the validators of the cursors stored under the old names
    httpserver.expect_request(
        LIST + "2024-February.txt.gz", headers={"If-None-Match": '"feb"'}
    ).respond_with_data("", status=304)
    httpserver.expect_request(
        LIST + "2024-March.txt.gz", headers={"If-None-Match": '"mar"'}
    ).respond_with_data("", status=304)
    again = make(httpserver, state={"mail_messages": {"archives": old}})
    assert rows(list(again.items())) == []
    assert requested(httpserver) == [
        LIST,
        LIST + "2024-February.txt.gz",
        LIST + "2024-March.txt.gz",
    ]
    assert sorted(again.new_state()["mail_messages"]["archives"]) == [
        "2024-February.txt",
        "2024-January.txt",
        "2024-March.txt",
    ]
