"""MboxConnector (and the shared parser in townsquare.mail) against real mbox files.

Every file is built here byte by byte (or read from tests/fixtures/mail), so each
ugly case is visible next to the values it must produce.
"""

from __future__ import annotations

import gzip
import logging
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from townsquare.config import SourceConfig
from townsquare.connectors.base import ConnectorContext
from townsquare.connectors.mbox import MboxConnector, list_name_from_file, mbox_files
from townsquare.mail import MboxFormatError
from townsquare.pipeline import ingest_source
from townsquare.records import Item, Rejected, Row

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail"


def message(
    mid: str | None = "<m1@example.org>",
    *,
    envelope: bytes = b"From jane@example.org Mon Mar  4 10:00:00 2024",
    sender: bytes | None = b"Jane Doe <jane@example.org>",
    subject: bytes | None = b"Hello",
    date: bytes | None = b"Mon, 4 Mar 2024 10:00:00 +0100",
    extra: bytes = b"",
    body: bytes = b"Hello list.",
    eol: bytes = b"\n",
) -> bytes:
    """One mbox message (envelope, headers, blank line, body, separating blank line)."""
    lines = [envelope]
    if sender is not None:
        lines.append(b"From: " + sender)
    if subject is not None:
        lines.append(b"Subject: " + subject)
    if date is not None:
        lines.append(b"Date: " + date)
    if mid is not None:
        lines.append(b"Message-ID: " + mid.encode())
    if extra:
        lines.extend(extra.rstrip(b"\n").split(b"\n"))
    lines.append(b"")
    lines.extend(body.split(b"\n"))
    lines.append(b"")
    return eol.join(lines) + eol


def write(path: Path, *messages: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(messages))
    return path


def connector(location: Path, **kwargs: Any) -> MboxConnector:
    since = kwargs.pop("since", None)
    state = kwargs.pop("state", None) or {}
    return MboxConnector(
        ConnectorContext(
            name="list", location=str(location), since=since, state=state, options=kwargs
        )
    )


def collect(location: Path, **kwargs: Any) -> list[Item]:
    return list(connector(location, **kwargs).items())


def rows(items: list[Item]) -> list[dict[str, Any]]:
    return [i.values for i in items if isinstance(i, Row)]


def rejected(items: list[Item]) -> list[Rejected]:
    return [i for i in items if isinstance(i, Rejected)]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --------------------------------------------------------------------------- values


def test_a_plain_message_fills_every_column(tmp_path: Path) -> None:
    path = write(
        tmp_path / "dev.mbox",
        message(
            extra=(
                b"In-Reply-To: <m0@example.org> (Bob's message of Sunday)\n"
                b"References: <root@example.org>\n <m0@example.org>\n"
                b"List-Id: Lumen developers <lumen-dev.lists.example.org>"
            ),
            subject=b"Re: [lumen-dev]   Compaction\n\tstalls",
            body=b"Hi all,\n\n  the WAL grows.  \n",
        ),
    )
    items = collect(path)
    assert rows(items) == [
        {
            "message_id": "m1@example.org",
            "message_id_generated": False,
            "list_name": "lumen-dev",
            "archive_url": str(path.resolve()),
            "from_name": "Jane Doe",
            "from_email": "jane@example.org",
            "subject": "Re: [lumen-dev] Compaction stalls",
            "sent_at": utc(2024, 3, 4, 9, 0),
            "sent_utc_offset_minutes": 60,
            "date_source": "header",
            "in_reply_to": "m0@example.org",
            "references": ["root@example.org", "m0@example.org"],
            "body_text": "Hi all,\n\n  the WAL grows.",
        }
    ]
    raw = items[0].raw
    assert raw["envelope"] == "From jane@example.org Mon Mar  4 10:00:00 2024"
    assert ["Message-ID", "<m1@example.org>"] in raw["headers"]
    assert raw["offset"] == 0


def test_list_name_from_list_id_then_option_then_file_name(tmp_path: Path) -> None:
    with_id = message("<a@x>", extra=b"List-Id: <lumen-dev.lists.example.org>")
    without = message("<b@x>")
    path = write(tmp_path / "Lumen-Archive.mbox.gz", with_id, without)
    assert [r["list_name"] for r in rows(collect(path))] == ["lumen-dev", "Lumen-Archive"]
    named = rows(collect(path, list_name="lumen"))
    assert [r["list_name"] for r in named] == ["lumen-dev", "lumen"]
    assert list_name_from_file(Path("2024-March.txt.gz")) == "2024-March"
    assert list_name_from_file(Path("Inbox")) == "Inbox"


def test_garbage_or_missing_from_lands_with_nulls(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x.mbox",
        message("<a@x>", sender=b"undisclosed recipients"),
        message("<b@x>", sender=None),
        message("<c@x>", sender=b"<>"),
        message("<d@x>", sender=b"bob@example.org"),
    )
    got = [(r["from_name"], r["from_email"]) for r in rows(collect(path))]
    assert got == [
        ("undisclosed recipients", None),
        (None, None),
        (None, None),
        (None, "bob@example.org"),
    ]


# --------------------------------------------------------------------------- bytes and encodings


def test_non_ascii_bytes_in_from_lines_still_split(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x.mbox",
        message("<a@x>", envelope=b"From j\xc3\xb6rg@example.org Mon Mar  4 10:00:00 2024"),
        message("<b@x>", envelope=b"From ren\xe9@example.org  Tue Mar  5 11:00:00 2024"),
        message("<c@x>", envelope=b"From \xff\xfe\x00garbage Wed Mar  6 12:00:00 2024"),
    )
    items = collect(path)
    assert [r["message_id"] for r in rows(items)] == ["a@x", "b@x", "c@x"]
    assert items[0].raw["envelope"] == "From jörg@example.org Mon Mar  4 10:00:00 2024"
    assert items[1].raw["envelope"] == "From rené@example.org  Tue Mar  5 11:00:00 2024"


def test_8bit_headers_without_charset_and_encoded_words(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x.mbox",
        # raw UTF-8 bytes, no charset anywhere
        message("<a@x>", sender="Jörg Müller <jm@example.de>".encode(), subject="Grüße".encode()),
        # raw cp1252 bytes (the curly quotes are not Latin-1)
        message("<b@x>", sender=b"Ren\xe9 Dub\xe9 <rd@example.fr>", subject=b"\x93caf\xe9\x94"),
        # RFC 2047: Q and B words, adjacent words joined, name with a comma quoted
        message(
            "<c@x>",
            sender=b'"=?UTF-8?Q?Jos=C3=A9_Garc=C3=ADa=2C_PhD?=" <jg@example.es>',
            subject=b"=?utf-8?b?5pel5pys6Kqe?= =?utf-8?q?_and_more?=",
        ),
        # a charset that does not exist, and one that lies (says ascii, is UTF-8)
        message(
            "<d@x>",
            sender=b"=?x-klingon?q?Bj=C3=B6rn?= <b@example.se>",
            subject=b"=?us-ascii?q?na=C3=AFve?=",
        ),
    )
    got = [(r["from_name"], r["from_email"], r["subject"]) for r in rows(collect(path))]
    assert got == [
        ("Jörg Müller", "jm@example.de", "Grüße"),
        ("René Dubé", "rd@example.fr", "“café”"),
        ("José García, PhD", "jg@example.es", "日本語 and more"),
        ("Björn", "b@example.se", "naïve"),
    ]


def test_bodies_multipart_html_charsets_and_attachments(tmp_path: Path) -> None:
    alternative = (
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/alternative; boundary="b1"\n'
        b"\n--b1\nContent-Type: text/plain; charset=iso-8859-1\n"
        b"Content-Transfer-Encoding: quoted-printable\n\nCaf=E9 ok=\n now\n"
        b"--b1\nContent-Type: text/html; charset=utf-8\n\n<p>HTML version</p>\n--b1--\n"
    )
    html_only = (
        b"Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        + b"PHA+SGVsbG8gPGI+d29ybGQ8L2I+ICZhbXA7IGFsbDwvcD4=\n"
    )
    with_attachment = (
        b'Content-Type: multipart/mixed; boundary="b2"\n'
        b"\n--b2\nContent-Type: text/plain; charset=bogus-charset\n\nd\xc3\xa9j\xc3\xa0 vu\n"
        b'--b2\nContent-Type: text/plain; name="notes.txt"\n'
        b"Content-Disposition: attachment; filename=notes.txt\n\nSECRET NOTES\n"
        b"--b2\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n"
        b"--b2--\n"
    )
    path = tmp_path / "x.mbox"
    parts = []
    for n, (headers_and_body) in enumerate((alternative, html_only, with_attachment)):
        head, _, body = headers_and_body.partition(b"\n\n")
        parts.append(message(f"<{n}@x>", extra=head, body=body))
    parts.append(message("<3@x>", extra=b"Content-Type: image/png", body=b"iVBORw0KGgo="))
    write(path, *parts)
    bodies = [r["body_text"] for r in rows(collect(path))]
    assert bodies == ["Café ok now", "Hello world & all", "déjà vu", None]


def test_crlf_and_lf_mixed_in_one_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x.mbox",
        message("<a@x>", body=b"line one\nline two", eol=b"\r\n"),
        message("<b@x>", body=b"lf body"),
        message("<c@x>", subject=b"crlf again", eol=b"\r\n"),
    )
    got = rows(collect(path))
    assert [(r["message_id"], r["body_text"]) for r in got] == [
        ("a@x", "line one\nline two"),
        ("b@x", "lf body"),
        ("c@x", "Hello list."),
    ]
    assert got[2]["subject"] == "crlf again"
    assert got[0]["sent_at"] == utc(2024, 3, 4, 9, 0)


def test_from_quoting_is_undone_and_body_from_lines_do_not_split(tmp_path: Path) -> None:
    body = (
        b">From the changelog: fixed.\n"
        b">>From here it was quoted twice.\n"
        b"\n"
        b"From the docs, I see no option.\n"  # unquoted mboxo body line after a blank line
        b"It is not a header, so this is not a new message."
    )
    path = write(tmp_path / "x.mbox", message("<a@x>", body=body), message("<b@x>"))
    got = rows(collect(path))
    assert [r["message_id"] for r in got] == ["a@x", "b@x"]
    assert got[0]["body_text"] == (
        "From the changelog: fixed.\n"
        ">From here it was quoted twice.\n"
        "\n"
        "From the docs, I see no option.\n"
        "It is not a header, so this is not a new message."
    )


# --------------------------------------------------------------------------- dates


def test_dates_offsets_and_envelope_fallback(tmp_path: Path) -> None:
    envelope = b"From x@example.org Sat Mar  9 08:07:06 2024"
    path = write(
        tmp_path / "x.mbox",
        message("<tz@x>", date=b"Tue, 5 Mar 2024 10:30:00 -0530"),
        message("<utc@x>", date=b"Tue, 5 Mar 2024 10:30:00 +0000"),
        message("<unknown-zone@x>", date=b"Tue, 5 Mar 2024 10:30:00 -0000"),
        message("<missing@x>", envelope=envelope, date=None),
        message("<blank@x>", envelope=envelope, date=b"   "),
        message("<garbage@x>", envelope=envelope, date=b"sometime last week"),
        message("<bad-offset@x>", envelope=envelope, date=b"Tue, 5 Mar 2024 10:30:00 +9999"),
    )
    got = {
        r["message_id"]: (r["sent_at"], r["sent_utc_offset_minutes"], r["date_source"])
        for r in rows(collect(path))
    }
    assert got == {
        "tz@x": (utc(2024, 3, 5, 16, 0), -330, "header"),
        "utc@x": (utc(2024, 3, 5, 10, 30), 0, "header"),
        "unknown-zone@x": (utc(2024, 3, 5, 10, 30), None, "header"),
        "missing@x": (utc(2024, 3, 9, 8, 7, 6), None, "envelope"),
        "blank@x": (utc(2024, 3, 9, 8, 7, 6), None, "envelope"),
        "garbage@x": (utc(2024, 3, 9, 8, 7, 6), None, "envelope"),
        "bad-offset@x": (utc(2024, 3, 9, 8, 7, 6), None, "envelope"),
    }


def test_no_date_anywhere_is_quarantined(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x.mbox",
        message("<ok@x>"),
        message("<nodate@x>", envelope=b"From MAILER-DAEMON", date=b"never"),
    )
    items = collect(path)
    assert [r["message_id"] for r in rows(items)] == ["ok@x"]
    [bad] = rejected(items)
    assert bad.native_id == "nodate@x"
    assert bad.reason == "no usable date: Date header 'never' and envelope 'From MAILER-DAEMON'"
    assert bad.raw["body_excerpt"] == "Hello list."


def test_since_skips_older_messages(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x.mbox",
        message("<old@x>", date=b"Thu, 29 Feb 2024 23:00:00 +0000"),
        message("<new@x>", date=b"Fri, 1 Mar 2024 00:30:00 +0100"),  # 2024-02-29T23:30Z
        message("<newer@x>", date=b"Sat, 2 Mar 2024 00:00:00 +0000"),
    )
    c = connector(path, since="2024-02-29T23:15:00Z")
    got = [r["message_id"] for r in rows(list(c.items()))]
    assert got == ["new@x", "newer@x"]
    assert c.builder.skipped_since == 1


# --------------------------------------------------------------------------- message ids


def test_missing_and_empty_message_ids_get_a_deterministic_generated_id(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x.mbox",
        message(None, subject=b"no id at all"),
        message("<>", subject=b"empty id"),
        message("   ", subject=b"blank id"),
        message("<real@x>"),
    )
    first = rows(collect(path))
    second = rows(collect(path))
    assert [r["message_id"] for r in first] == [r["message_id"] for r in second]
    assert [r["message_id_generated"] for r in first] == [True, True, True, False]
    generated = [r["message_id"] for r in first[:3]]
    assert len(set(generated)) == 3
    assert all(g.endswith("@generated.invalid") and len(g) == 32 + 18 for g in generated)


def test_duplicate_message_ids_identical_copy_dropped_conflict_quarantined(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    original = message("<dup@x>", body=b"the original")
    # the same message as delivered to a second list: other envelope and List-Id, CRLF
    copy = message(
        "<dup@x>",
        envelope=b"From other@example.org Mon Mar  4 10:05:00 2024",
        extra=b"List-Id: <other.example.org>\nReceived: from relay",
        body=b"the original",
        eol=b"\r\n",
    )
    conflict = message("<dup@x>", body=b"a different message reusing the id")
    path = write(tmp_path / "x.mbox", original, copy, conflict, message("<z@x>"))
    c = connector(path)
    with caplog.at_level(logging.INFO, logger="townsquare.connectors.mbox"):
        items = list(c.items())
    assert [(r["message_id"], r["body_text"]) for r in rows(items)] == [
        ("dup@x", "the original"),
        ("z@x", "Hello list."),
    ]
    [bad] = rejected(items)
    assert bad.native_id == "dup@x"
    assert bad.reason == (
        "duplicate Message-ID dup@x with different content (the first message with this id was kept)"
    )
    assert c.builder.duplicates_dropped == 1
    assert "dropped 1 identical duplicate messages" in caplog.text


# --------------------------------------------------------------------------- files


def test_gzip_detected_by_magic_bytes_not_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "lists"
    folder.mkdir()
    (folder / "a.mbox.gz").write_bytes(gzip.compress(message("<gz@x>")))
    (folder / "b.txt.gz").write_bytes(message("<plain-named-gz@x>"))  # not compressed
    (folder / "c.mbox").write_bytes(gzip.compress(message("<gz-named-mbox@x>")))
    got = [(r["message_id"], r["list_name"]) for r in rows(collect(folder))]
    assert got == [("gz@x", "a"), ("plain-named-gz@x", "b"), ("gz-named-mbox@x", "c")]


def test_folder_reads_mbox_files_in_name_order_and_ignores_others(tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    write(folder / "2024-02.txt", message("<feb@x>"))
    write(folder / "2024-01.mbox", message("<jan@x>"))
    write(folder / "Inbox", message("<inbox@x>"))
    write(folder / "old.mbx", message("<mbx@x>"))
    write(folder / "notes.json", b'{"not": "mail"}')
    write(folder / ".hidden.mbox", b"garbage")
    (folder / "sub").mkdir()
    write(folder / "sub" / "deep.mbox", message("<deep@x>"))
    assert [p.name for p in mbox_files(str(folder))] == [
        "2024-01.mbox",
        "2024-02.txt",
        "Inbox",
        "old.mbx",
    ]
    got = [r["message_id"] for r in rows(collect(folder))]
    assert got == ["jan@x", "feb@x", "inbox@x", "mbx@x"]


def test_fixture_file_with_every_ugly_case(tmp_path: Path) -> None:
    """tests/fixtures/mail/ugly.mbox.gz: a gzip'd mbox from an old archive (hand-written)."""
    items = collect(FIXTURES / "ugly.mbox.gz")
    got = [(r["message_id"], r["from_name"], r["subject"], r["date_source"]) for r in rows(items)]
    assert got == [
        ("1990s@old.example.net", "Jürgen Wöhler", "Ärger mit dem Build", "header"),
        ("crlf@win.example.com", "Łukasz Żak", "Re: Ärger mit dem Build", "envelope"),
    ]
    by_id = {r["message_id"]: r for r in rows(items)}
    assert by_id["1990s@old.example.net"]["body_text"] == (
        "Der Build bricht ab.\nFrom make: *** Fehler 1"
    )
    assert by_id["1990s@old.example.net"]["sent_at"] == utc(1998, 3, 12, 9, 15)
    assert by_id["crlf@win.example.com"]["sent_at"] == utc(1998, 3, 13, 8, 0)
    assert by_id["crlf@win.example.com"]["in_reply_to"] == "1990s@old.example.net"
    assert by_id["crlf@win.example.com"]["body_text"] == "Bei mir geht es."
    [bad] = rejected(items)
    assert bad.reason.startswith("truncated message at the end of ")
    assert bad.reason.endswith("ugly.mbox.gz (byte 508): the input ends inside its headers")


def test_truncated_last_message_is_quarantined_and_retried(tmp_path: Path) -> None:
    complete = message("<a@x>")
    cut = b"From bob@example.org Mon Mar  4 11:00:00 2024\nFrom: Bob <bob@example.org>\nSubj"
    path = write(tmp_path / "x.mbox", complete, cut)
    c = connector(path)
    items = list(c.items())
    assert [r["message_id"] for r in rows(items)] == ["a@x"]
    [bad] = rejected(items)
    assert bad.reason == (
        f"truncated message at the end of {path.resolve()} (byte {len(complete)}): "
        "the input ends inside its headers"
    )
    cursor = c.new_state()["mail_messages"]["files"]["x.mbox"]
    assert cursor["offset"] == len(complete)
    assert cursor["messages"] == 1
    # the writer finishes the message: the next run lands it (and nothing twice)
    write(path, complete, message("<b@x>", sender=b"Bob <bob@example.org>"))
    again = list(connector(path, state=c.new_state()).items())
    assert [r["message_id"] for r in rows(again)] == ["b@x"]
    assert rejected(again) == []


def test_not_an_mbox_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path / "notes.txt", b"Subject: hi\n\nthis is not an mbox\n")
    with pytest.raises(
        MboxFormatError, match=r"notes\.txt is not an mbox file: expected a 'From ' line"
    ):
        collect(path)
    with pytest.raises(FileNotFoundError, match="mbox: file or folder not found"):
        connector(tmp_path / "missing.mbox")
    with pytest.raises(ValueError, match="use the 'pipermail' source type"):
        MboxConnector(ConnectorContext(name="x", location="https://lists.example.org/x/"))


def test_damaged_gzip_is_a_clear_error(tmp_path: Path) -> None:
    data = gzip.compress(message("<a@x>") * 50)
    path = write(tmp_path / "x.mbox.gz", data[: len(data) // 2])
    with pytest.raises(MboxFormatError, match="damaged gzip stream"):
        collect(path)


# --------------------------------------------------------------------------- incremental


def test_state_is_exposed_only_after_items_ran_to_the_end(tmp_path: Path) -> None:
    path = write(tmp_path / "x.mbox", message("<a@x>"), message("<b@x>"))
    c = connector(path)
    it = c.items()
    next(it)
    assert c.new_state() == {}
    list(it)
    cursor = c.new_state()["mail_messages"]["files"]["x.mbox"]
    assert cursor["offset"] == path.stat().st_size
    assert cursor["size"] == path.stat().st_size
    assert cursor["messages"] == 2


def test_rewritten_file_is_read_again_from_the_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path / "x.mbox", message("<a@x>"), message("<b@x>"))
    first = connector(path)
    list(first.items())
    write(path, message("<a@x>", subject=b"edited"), message("<b@x>"), message("<c@x>"))
    with caplog.at_level(logging.WARNING):
        again = rows(collect(path, state=first.new_state()))
    assert [r["message_id"] for r in again] == ["a@x", "b@x", "c@x"]
    assert "rewritten, not appended" in caplog.text


def test_since_wins_over_the_stored_cursors(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x.mbox",
        message("<a@x>"),
        message("<b@x>", date=b"Tue, 5 Mar 2024 10:00:00 +0000"),
    )
    first = connector(path)
    list(first.items())
    assert rows(collect(path, state=first.new_state())) == []
    got = rows(collect(path, state=first.new_state(), since="2024-03-05"))
    assert [r["message_id"] for r in got] == ["b@x"]


def _lake_ids(lake: Path) -> list[str]:
    files = sorted(lake.glob("raw/mail_messages/source=lumen/*/*.parquet"))
    return sorted(i for f in files for i in pq.read_table(f).column("message_id").to_pylist())


def test_pipeline_skips_unchanged_files_and_resumes_appended_ones(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    dev = write(folder / "dev.mbox", message("<d1@x>"), message("<d2@x>"))
    users = write(folder / "users.mbox.gz", b"")
    users.write_bytes(gzip.compress(message("<u1@x>")))
    lake = tmp_path / "lake"
    source = SourceConfig(type="mbox", name="lumen", location=str(folder))

    first = ingest_source(source, lake=str(lake), credentials={})
    assert first.to_json()["entities"] == {"mail_messages": {"rows": 3, "quarantined": 0}}
    assert _lake_ids(lake) == ["d1@x", "d2@x", "u1@x"]

    # nothing changed: nothing read, nothing landed twice
    second = ingest_source(source, lake=str(lake), credentials={})
    assert second.to_json()["entities"] == {"mail_messages": {"rows": 0, "quarantined": 0}}
    assert _lake_ids(lake) == ["d1@x", "d2@x", "u1@x"]

    # dev.mbox grows: only its new messages land; users.mbox.gz is not opened
    with dev.open("ab") as fh:
        fh.write(message("<d3@x>", date=b"Wed, 6 Mar 2024 10:00:00 +0000"))
    third = ingest_source(source, lake=str(lake), credentials={})
    assert third.to_json()["entities"] == {"mail_messages": {"rows": 1, "quarantined": 0}}
    assert third.run_id not in (first.run_id, second.run_id)
    assert _lake_ids(lake) == ["d1@x", "d2@x", "d3@x", "u1@x"]
    table = pq.read_table(next(lake.glob(f"raw/mail_messages/*/*/{third.run_id}-*.parquet")))
    assert table.column("sent_at").to_pylist() == [utc(2024, 3, 6, 10, 0)]

    # re-running the same ingest: the same rows, no duplicates
    fourth = ingest_source(source, lake=str(lake), credentials={})
    assert fourth.rows == 0
    assert _lake_ids(lake) == ["d1@x", "d2@x", "d3@x", "u1@x"]
    state = (lake / "_state/lumen/mail_messages.json").read_text()
    assert '"dev.mbox"' in state and '"users.mbox.gz"' in state


def test_interval_key_is_deterministic_and_follows_the_files(tmp_path: Path) -> None:
    path = write(tmp_path / "x.mbox", message("<a@x>"))
    assert connector(path).interval_key() == connector(path).interval_key()
    before = connector(path).interval_key()
    with path.open("ab") as fh:
        fh.write(message("<b@x>"))
    assert connector(path).interval_key() != before


# --------------------------------------------------------------------------- bundled sample


def test_bundled_lumen_dev_sample() -> None:
    from townsquare.samples.blog.generate import Generator

    sample = (
        Path(__file__).resolve().parents[2] / "plugins/townsquare/samples/forum/mail/lumen-dev.mbox"
    )
    items = collect(sample)
    got = rows(items)
    assert rejected(items) == []
    assert len(got) == 120
    assert {r["list_name"] for r in got} == {"lumen-dev"}
    assert {r["date_source"] for r in got} == {"header"}
    roots = [r for r in got if not r["subject"].startswith("Re: ")]
    assert len(roots) == 35
    # replies threaded only by References, and bare "Re: subject" replies
    assert sum(1 for r in got if r["references"] and r["in_reply_to"] is None) == 6
    bare = [r for r in got if r["subject"].startswith("Re: ") and not r["references"]]
    assert len(bare) == 2 and all(r["in_reply_to"] is None for r in bare)
    replied = {r["in_reply_to"] or (r["references"] or [None])[-1] for r in got}
    answered_subjects = {r["subject"][4:] for r in got if r["subject"].startswith("Re: ")}
    unanswered = [
        r for r in roots if r["message_id"] not in replied and r["subject"] not in answered_subjects
    ]
    assert len(unanswered) == 8
    names = {r["from_name"] for r in got}
    assert {"Zoë Håkansson", "Łukasz Wróbel"} <= names
    blog_emails = {p.email for p in Generator().people}
    assert len({r["from_email"] for r in got} & blog_emails) >= 10
    # identity variants (samples/forum/generate_mail.py): plus-tags, letter case, second
    # addresses and a shared team mailbox, each landed as sent
    senders = Counter((r["from_name"], r["from_email"]) for r in got)
    assert senders[("Fatima Eklund", "fatima.eklund+lumen@gmail.com")] == 4
    assert senders[("Amara Eklund", "amara_eklund+lumen-dev@gmail.com")] == 3
    assert senders[("Dagny Yilmaz", "DagnyYilmaz@Gmail.com")] == 4
    assert senders[("Omar Wendt", "owendt@proton.me")] == 1
    assert senders[("Omar Wendt", "omar@wendt.example.net")] == 3
    assert senders[("Søren Ørsted", "team@tessera-labs.example.net")] == 2
    assert senders[("Søren Ørsted", "soren.orsted@tessera-labs.example.net")] == 2
    assert "dagnyyilmaz@gmail.com" not in {r["from_email"] for r in got}
    quoted = [r for r in got if r["body_text"] and "\nFrom what I can tell" in r["body_text"]]
    assert quoted  # mboxrd-quoted body lines come back unquoted


# --------------------------------------------------------------------------- review regressions


def test_a_message_cut_mid_body_lands_but_is_read_again_whole(tmp_path: Path) -> None:
    """A delivery agent is mid-write: the last message has no terminating blank line."""
    first = message("<a@x>")
    head = message("<b@x>", body=b"first half of body ")[: -len(b"first half of body \n\n")]
    cut = head + b"first half of body "
    path = write(tmp_path / "dev.mbox", first, cut)
    c = connector(path)
    got = rows(list(c.items()))
    assert [(r["message_id"], r["body_text"]) for r in got] == [
        ("a@x", "Hello list."),
        ("b@x", "first half of body"),
    ]
    cursor = c.new_state()["mail_messages"]["files"]["dev.mbox"]
    assert cursor["offset"] == len(first)  # not past the half-written message
    assert cursor["messages"] == 1

    # the writer finishes b and appends c: b is read again whole, then c; no error
    write(path, first, cut + b"second half\n\n", message("<c@x>"))
    again = connector(path, state=c.new_state())
    got = rows(list(again.items()))
    assert [(r["message_id"], r["body_text"]) for r in got] == [
        ("b@x", "first half of body second half"),
        ("c@x", "Hello list."),
    ]
    cursor = again.new_state()["mail_messages"]["files"]["dev.mbox"]
    assert cursor["offset"] == path.stat().st_size
    assert cursor["messages"] == 3


def test_a_file_without_a_final_blank_line_keeps_its_last_message_unlanded(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "x.mbox", message("<a@x>"), message("<b@x>")[:-1])  # ends "list.\n"
    c = connector(path)
    assert [r["message_id"] for r in rows(list(c.items()))] == ["a@x", "b@x"]
    assert c.new_state()["mail_messages"]["files"]["x.mbox"]["offset"] == len(message("<a@x>"))


def test_a_resume_offset_inside_a_message_warns_and_reads_from_the_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The writer paused after a blank line inside a body: the offset went past it."""
    first = message("<a@x>")
    paused = message("<b@x>", body=b"para one")  # ends with the blank line
    path = write(tmp_path / "x.mbox", first, paused)
    c = connector(path)
    assert [r["message_id"] for r in rows(list(c.items()))] == ["a@x", "b@x"]
    assert c.new_state()["mail_messages"]["files"]["x.mbox"]["offset"] == len(first + paused)

    write(path, first, paused, b"para two\n\n", message("<c@x>"))
    again = connector(path, state=c.new_state())
    with caplog.at_level(logging.WARNING):
        got = rows(list(again.items()))
    assert [(r["message_id"], r["body_text"]) for r in got] == [
        ("a@x", "Hello list."),
        ("b@x", "para one\n\npara two"),
        ("c@x", "Hello list."),
    ]
    assert f"the resume offset (byte {len(first + paused)}) is not at a 'From ' line" in (
        caplog.text
    )
    assert "reading it again from the start" in caplog.text
    cursor = again.new_state()["mail_messages"]["files"]["x.mbox"]
    assert cursor["offset"] == path.stat().st_size
    assert cursor["messages"] == 3


def test_absurd_dates_fall_back_to_the_envelope_or_are_quarantined(tmp_path: Path) -> None:
    envelope = b"From x@example.org Sat Mar  9 08:07:06 2024"
    path = write(
        tmp_path / "x.mbox",
        message("<y9999@x>", envelope=envelope, date=b"Fri, 31 Dec 9999 23:00:00 -0500"),
        message("<y0001@x>", envelope=envelope, date=b"Mon, 1 Jan 0001 00:30:00 +0100"),
        message("<y1969@x>", envelope=envelope, date=b"Wed, 31 Dec 1969 23:00:00 +0000"),
        message("<y2100@x>", envelope=envelope, date=b"Fri, 1 Jan 2100 00:00:00 +0000"),
        message(
            "<both@x>",
            envelope=b"From x@example.org Fri Dec 31 23:00:00 9999",
            date=b"Fri, 31 Dec 9999 23:00:00 -0500",
        ),
        message("<ok@x>"),
    )
    items = collect(path)
    got = {r["message_id"]: (r["sent_at"], r["date_source"]) for r in rows(items)}
    assert got == {
        "y9999@x": (utc(2024, 3, 9, 8, 7, 6), "envelope"),
        "y0001@x": (utc(2024, 3, 9, 8, 7, 6), "envelope"),
        "y1969@x": (utc(2024, 3, 9, 8, 7, 6), "envelope"),
        "y2100@x": (utc(2024, 3, 9, 8, 7, 6), "envelope"),
        "ok@x": (utc(2024, 3, 4, 9, 0), "header"),
    }
    [bad] = rejected(items)
    assert bad.native_id == "both@x"
    assert bad.reason == (
        "no usable date: Date header 'Fri, 31 Dec 9999 23:00:00 -0500' and envelope "
        "'From x@example.org Fri Dec 31 23:00:00 9999'"
    )


def test_body_from_lines_followed_by_word_colon_lines_do_not_split(tmp_path: Path) -> None:
    body = (
        b"Hi all,\n"
        b"\n"
        b"From the release notes\n"
        b"https://example.org/notes\n"
        b"\n"
        b"From my side\n"
        b"Note: the API changed.\n"
        b"\n"
        b"From x@example.org\n"  # looks like an envelope without a date, but a body line
        b"Subject: not a header"
    )
    # a separator without an asctime date still splits before a well-known header
    no_date = message("<c@x>", envelope=b"From MAILER-DAEMON\nReturn-Path: <c@example.org>")
    path = write(tmp_path / "x.mbox", message("<a@x>", body=body), message("<b@x>"), no_date)
    got = rows(collect(path))
    assert [r["message_id"] for r in got] == ["a@x", "b@x", "c@x"]
    assert got[0]["body_text"] == body.decode()


def test_name_that_is_an_address_is_dropped(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x.mbox",
        message("<a@x>", sender=b"jane@example.org <jane@example.org>"),
        message("<b@x>", sender=b'"jane@example.org" <jane@example.org>'),
        message("<c@x>", sender=b"jane at example.org <jane@example.org>"),
        message("<d@x>", sender=b"jane@example.org (jane@example.org)"),
        message("<e@x>", sender=b"Jane Doe <jane@example.org>"),
    )
    got = [(r["from_name"], r["from_email"]) for r in rows(collect(path))]
    assert got == [
        (None, "jane@example.org"),
        (None, "jane@example.org"),
        (None, "jane@example.org"),
        (None, "jane@example.org"),
        ("Jane Doe", "jane@example.org"),
    ]


def test_folder_skips_stray_non_mbox_files_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "archive"
    write(folder / "2024-01.mbox", message("<jan@x>"))
    write(folder / "README.txt", b"These are the lumen-dev archives.\nFrom 2019 on.\n")
    write(folder / "notes", b"\n\nSubject: todo\n\nnot mail\n")
    write(folder / "empty.mbox", b"")
    write(folder / "z.mbox.gz", gzip.compress(b"\n" + message("<gz@x>")))
    with caplog.at_level(logging.WARNING):
        got = [r["message_id"] for r in rows(collect(folder))]
    assert got == ["jan@x", "gz@x"]
    assert f"skipping {folder / 'README.txt'}: not an mbox file" in caplog.text
    assert f"skipping {folder / 'notes'}: not an mbox file" in caplog.text
    assert "empty.mbox" not in caplog.text

    only_stray = tmp_path / "stray"
    write(only_stray / "README.txt", b"nothing here\n")
    with pytest.raises(
        MboxFormatError, match=r"no mbox file in folder .*stray: none of README\.txt"
    ):
        collect(only_stray)


def test_odd_mime_headers_that_crashed_the_email_package_still_land(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x.mbox",
        # a raw UTF-8 file name: compat32 hands back a Header object for it
        message(
            "<disposition@x>",
            extra=b'Content-Disposition: inline; filename="Pr\xc3\xbcfung.txt"',
            body=b"see the notes",
        ),
        # an 8-bit line that is not a header ends the headers early, and the
        # RFC 2231 charset made compat32 decode that leftover with a tuple
        message(
            "<rfc2231@x>",
            extra=b"Content-Type: text/plain; charset*=utf-8''latin1\nX-\xff: y",
            body=b"caf\xe9",
        ),
    )
    got = rows(collect(path))
    assert [(r["message_id"], r["body_text"]) for r in got] == [
        ("disposition@x", "see the notes"),
        ("rfc2231@x", "X-\xff: y\n\ncaf\xe9"),
    ]


# --------------------------------------------------------------------------- workers


def _outcome(c: MboxConnector) -> tuple[Any, ...]:
    """Everything a run yields and keeps, raw records as the JSON text the lake stores."""
    from townsquare.records import to_json_text

    items = list(c.items())
    landed = [
        (type(i).__name__, i.values if isinstance(i, Row) else (i.reason, i.native_id))
        for i in items
    ]
    raws = [to_json_text(i.raw) for i in items]
    builder = (c.builder.duplicates_dropped, c.builder.skipped_since)
    return landed, raws, builder, c.new_state()


def test_worker_processes_give_the_same_rows_order_quarantine_and_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Parsing in 2 worker processes, 3 messages a batch, equals parsing in-process."""
    import townsquare.connectors.mbox as mbox_module

    monkeypatch.setattr(mbox_module, "BATCH_MESSAGES", 3)
    multipart = (
        b'Content-Type: multipart/alternative; boundary="b1"\n\n--b1\n'
        b"Content-Type: text/plain\n\nplain part\n--b1\nContent-Type: text/html\n\n"
        b"<p>html</p>\n--b1--"
    )
    head, _, mbody = multipart.partition(b"\n\n")
    messages = [message(f"<m{n}@x>", body=f"message {n}".encode()) for n in range(10)]
    messages[2] = message("<m1@x>", body=b"message 1")  # an identical copy: dropped
    messages[5] = message("<m3@x>", body=b"another text reusing the id")  # quarantined
    messages[6] = message("<m6@x>", date=None, envelope=b"From x")  # no date: quarantined
    messages[7] = message("<m7@x>", extra=head, body=mbody)
    messages[8] = message("<m8@x>", date=b"Mon, 4 Mar 2019 10:00:00 +0100")  # before since
    write(tmp_path / "a.mbox", *messages[:6])
    write(tmp_path / "b.mbox", *messages[6:], b"From x Mon Mar  4 10:00:00 2024\nSubject: cut")
    kinds = {}
    for workers in ("0", "2"):
        c = connector(tmp_path, since="2020-01-01", workers=workers, parallel_min_bytes="0")
        with caplog.at_level(logging.INFO, logger="townsquare.connectors.mbox"):
            kinds[workers] = _outcome(c)
        assert c._pool is None  # closed at the end of the run
    assert caplog.text.count("parsing in 2 worker processes") == 1
    assert kinds["2"] == kinds["0"]
    landed, _, builder, _ = kinds["2"]
    assert [kind for kind, _ in landed] == ["Row"] * 4 + ["Rejected"] * 2 + ["Row"] * 2 + [
        "Rejected"
    ]
    assert builder == (1, 1)
    assert landed[6][1]["body_text"] == "plain part"


def test_the_ugly_fixture_reads_alike_in_workers() -> None:
    got = {
        workers: _outcome(
            connector(FIXTURES / "ugly.mbox.gz", workers=workers, parallel_min_bytes=0)
        )
        for workers in (0, 1)
    }
    assert got[0] == got[1]


def test_small_files_are_parsed_in_process_and_bad_worker_options_are_clear(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "x.mbox", message())
    c = connector(path, workers=2)  # default threshold: 32 MiB
    assert len(rows(list(c.items()))) == 1 and c._pool is None
    with pytest.raises(ValueError, match="option workers: expected 'auto' or a number"):
        connector(path, workers="many")
    with pytest.raises(ValueError, match="option parallel_min_bytes: expected a number"):
        connector(path, parallel_min_bytes="big")


def test_pipeline_lands_the_same_files_with_workers(tmp_path: Path) -> None:
    messages = [message(f"<p{n}@x>", body=f"body {n}".encode()) for n in range(30)]
    mbox = write(tmp_path / "in" / "list.mbox", *messages)
    landed = {}
    for workers in ("0", "1"):
        lake = tmp_path / f"lake{workers}"
        source = SourceConfig(
            type="mbox",
            name="list",
            location=str(mbox),
            options={"workers": workers, "parallel_min_bytes": 0},
        )
        result = ingest_source(source, lake=str(lake), credentials={})
        assert result.rows == 30
        [part] = sorted(lake.glob("raw/mail_messages/**/*.parquet"))
        table = pq.read_table(part).drop_columns(["ingested_at", "run_id"])
        landed[workers] = table.to_pylist()
    assert landed["0"] == landed["1"]
