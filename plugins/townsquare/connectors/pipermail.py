"""Pipermail (Mailman 2) list archives over HTTP → ``mail_messages``.

``ctx.location`` is the archive URL of a Mailman 2 list
(``https://host/pipermail/<list>/``, or its ``index.html``). The connector reads the
index page (parsed with ``html.parser``: every link to a text archive,
``2024-March.txt.gz`` or ``2024-March.txt``, next to the index), downloads each
archive and streams it through the shared mbox parser (``townsquare.mail``: dates,
ids, duplicates, bodies and bad input are handled there). Archives are
recognised as gzip by their magic bytes, not their name: Mailman sites serve
plain text under ``.txt.gz`` (or the HTTP layer already decoded a
``Content-Encoding: gzip``) and the other way round. Pipermail obfuscates
addresses (``From: jane at example.org (Jane Doe)``); they are restored, and the
name Pipermail repeats for a sender without one (``jane at example.org (jane at
example.org)``) becomes a null ``from_name``.
``archive_url`` is the archive file's URL. Monthly archives are the Mailman
default; quarterly (``2024q1``), weekly (``Week-of-Mon-20240304``), daily
(``20240304``) and yearly (``2024``) names are understood too (for ordering, the
recheck window and ``--since``); other names are ordered after the dated ones (in
index order) and never skipped by ``--since``.

Options (``ctx.options``)
    ``list_name`` (default: the URL's last path segment, ``lumen-users``; the
    archives carry no ``List-Id``), ``recheck`` (the minimum number of the newest
    landed archives to request again on each run, default 1; see below),
    ``timeout`` and ``max_retries`` (HTTP client). ``http=`` (a constructor
    keyword, for tests): extra ``HttpClient`` keyword arguments such as ``sleep``.

Incremental loads and state
    The state of ``mail_messages`` is ``{"archives": {NAME: CURSOR}}`` keyed by the
    archive file name without ``.gz`` (``2024-March.txt``): Mailman links a month's
    ``.txt`` until its nightly job gzips it and the index then links the
    ``.txt.gz``, the same archive. (States written with ``.txt.gz`` keys are read
    too and rewritten without.) CURSOR is::

        {"etag": "\\"5e1-…\\"", "last_modified": "Tue, 05 Mar 2024 …",
         "content_length": 2817, "offset": 10244, "prefix_sha256": "…",
         "messages": 12}

    ``offset`` is the byte offset, in the decompressed text, after the last
    message known to be complete and ``prefix_sha256`` the hash of the text before
    it. The last message of an archive counts as complete only when a blank line
    (the mbox message terminator) follows it: an archive fetched while Mailman is
    appending may end mid-message; that message still lands as a row, but the
    offset stays before it, so the next run reads it again whole (staging dedups on
    ``message_id``, keeping the latest ingestion).

    A later run skips landed archives without a request, except (the current
    period is still growing, and Mailman files a message by its ``Date``, so held
    or moderated mail, or mail sent on the 31st, lands in the previous month's
    archive days later):

    - the newest ``recheck`` landed archives;
    - every landed archive whose period ended within 31 days before the newest
      archive's period end, or at or after its start (monthly: the previous month;
      weekly: about four weeks; daily: about 31 days; quarterly and yearly: the
      previous period). The newest archive is the dated one with the latest period
      that has already started (a future-dated spam's archive does not count).

    Those are requested with ``If-None-Match``/``If-Modified-Since`` (304: skipped
    at the cost of one request); when they changed and the text before ``offset``
    is unchanged (Mailman appends), only the messages after ``offset`` are read,
    otherwise the whole archive is read again with a warning (also when the text
    at ``offset`` does not start a message). Archives not landed yet are
    downloaded. An archive that fails (a 404 link, retries exhausted, damaged
    gzip, not an mbox) is logged as a warning (``PipermailConnector.warnings``),
    not marked landed, and retried next run; its messages read before the failure
    may land (staging dedups on ``message_id``). The run fails only when the index
    cannot be read, or when every archive it requested failed and no archive of
    the source has ever landed (an empty state: the location is probably wrong);
    with landed archives, a broken link only warns. ``ctx.since`` (``--since``)
    wins over the state: archives whose period ends before it are not requested,
    the others are read from the start, and messages sent before it are skipped.
    The state is exposed by ``new_state()`` only after ``items()`` ran to the end.

Limits: an archive is downloaded whole into memory (compressed size; a month of
a busy list is a few MB) and decompressed while it is parsed. Duplicate
detection spans one run. Mailman 3 (HyperKitty) archives are not Pipermail.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import unquote, urljoin, urlsplit

from townsquare.connectors.base import Connector, ConnectorContext
from townsquare.http import HttpClient, HttpError, redact_url
from townsquare.mail import (
    ENTITY,
    MboxFormatError,
    MboxSplitter,
    MessageBuilder,
    hash_prefix,
    open_stream,
)
from townsquare.records import Item
from townsquare.text import parse_since

log = logging.getLogger(__name__)

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
RECHECK_WINDOW = timedelta(days=31)
"""Landed archives whose period ended this long before the newest one's end are
requested again (conditionally) on every run."""
_TEXT_ARCHIVE = re.compile(r"^[^/]+\.txt(?:\.gz)?$", re.I)
_MONTHLY = re.compile(r"^(\d{4})-([A-Za-z]+)\.txt", re.I)
_QUARTERLY = re.compile(r"^(\d{4})q([1-4])\.txt", re.I)
_WEEKLY = re.compile(r"^Week-of-Mon-(\d{8})\.txt", re.I)
_DAILY = re.compile(r"^(\d{8})\.txt", re.I)
_YEARLY = re.compile(r"^(\d{4})\.txt", re.I)


class PipermailError(RuntimeError):
    """The archive index could not be read, or every archive failed on a first load."""


@dataclass(frozen=True)
class Archive:
    """One downloadable text archive listed on the index page."""

    name: str
    url: str
    start: datetime | None
    """Start of the period it covers (None: a name we do not understand)."""
    end: datetime | None
    position: int
    """Position on the index page (for archives without a known period)."""

    @property
    def key(self) -> str:
        """The name the saved progress is keyed by: without ``.gz`` (see ``archive_key``)."""
        return archive_key(self.name)

    @property
    def order(self) -> tuple[int, datetime, int]:
        if self.start is None:
            return (1, datetime.min.replace(tzinfo=UTC), self.position)
        return (0, self.start, 0)


def archive_key(name: str) -> str:
    """``2024-March.txt.gz`` → ``2024-March.txt``: Mailman links the ``.txt`` of a month
    until its nightly job gzips it, then the ``.txt.gz``; both are the same archive."""
    return name[:-3] if name.lower().endswith(".gz") else name


def _add_months(when: datetime, months: int) -> datetime:
    total = when.year * 12 + when.month - 1 + months
    return when.replace(year=total // 12, month=total % 12 + 1)


def archive_period(name: str) -> tuple[datetime, datetime] | None:
    """The [start, end) period an archive file covers, from Mailman's naming schemes."""
    try:
        if m := _MONTHLY.match(name):
            month = [n.lower() for n in MONTHS].index(m.group(2).lower()) + 1
            start = datetime(int(m.group(1)), month, 1, tzinfo=UTC)
            return start, _add_months(start, 1)
        if m := _QUARTERLY.match(name):
            start = datetime(int(m.group(1)), 3 * int(m.group(2)) - 2, 1, tzinfo=UTC)
            return start, _add_months(start, 3)
        if m := _WEEKLY.match(name):
            start = datetime.strptime(m.group(1), "%Y%m%d").replace(tzinfo=UTC)
            return start, start + timedelta(days=7)
        if m := _DAILY.match(name):
            start = datetime.strptime(m.group(1), "%Y%m%d").replace(tzinfo=UTC)
            return start, start + timedelta(days=1)
        if m := _YEARLY.match(name):
            start = datetime(int(m.group(1)), 1, 1, tzinfo=UTC)
            return start, _add_months(start, 12)
    except ValueError:
        return None
    return None


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href.strip())


def parse_index(html: str, index_url: str) -> list[Archive]:
    """The text archives an index page links to (next to it), oldest first."""
    parser = _Links()
    parser.feed(html)
    parser.close()
    base = urlsplit(index_url)
    folder = base.path.rsplit("/", 1)[0] + "/"
    found: dict[str, Archive] = {}
    for href in parser.hrefs:
        url = urljoin(index_url, href)
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
            continue
        directory, _, name = parts.path.rpartition("/")
        name = unquote(name)
        if directory + "/" != folder or not _TEXT_ARCHIVE.match(name):
            continue
        stem = name.lower().removesuffix(".gz")
        if any(a.name.lower().removesuffix(".gz") == stem for a in found.values()):
            continue  # both .txt and .txt.gz linked: read one
        period = archive_period(name)
        found[name] = Archive(
            name=name,
            url=url.split("#", 1)[0],
            start=period[0] if period else None,
            end=period[1] if period else None,
            position=len(found),
        )
    return sorted(found.values(), key=lambda a: a.order)


class PipermailConnector(Connector):
    """Reads a Mailman 2 Pipermail archive incrementally (see the module docstring)."""

    type: ClassVar[str] = "pipermail"
    entities: ClassVar[tuple[str, ...]] = (ENTITY,)

    def __init__(self, ctx: ConnectorContext, *, http: dict[str, Any] | None = None) -> None:
        """``http``: extra ``HttpClient`` keyword arguments (e.g. ``sleep``, ``timeout``)."""
        super().__init__(ctx)
        parts = urlsplit(ctx.location)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"pipermail source {ctx.name!r}: LOCATION must be the list's archive URL "
                f"(https://host/pipermail/<list>/), got {ctx.location!r}"
            )
        path = parts.path
        if not path.endswith("/") and not path.lower().endswith((".html", ".htm")):
            path += "/"
        self.index_url = parts._replace(path=path, fragment="").geturl()
        segments = [s for s in path.split("/") if s and not s.lower().endswith((".html", ".htm"))]
        opts = ctx.options
        self.list_name: str | None = opts.get("list_name") or (
            unquote(segments[-1]) if segments else None
        )
        self.recheck = int(opts.get("recheck", 1))
        if self.recheck < 0:
            raise ValueError(f"pipermail option recheck must be 0 or more, got {self.recheck}")
        self.since = parse_since(ctx.since)
        client_kwargs: dict[str, Any] = {
            k: opts[k] for k in ("timeout", "max_retries") if opts.get(k) is not None
        }
        client_kwargs.update(http or {})
        self.client = HttpClient(**client_kwargs)
        stored = self._state.get(ENTITY, {}).get("archives")
        # keyed without .gz; states written before that may hold "X.txt.gz" keys
        self._cursors: dict[str, dict[str, Any]] = {}
        for name, cursor in sorted((stored if isinstance(stored, dict) else {}).items()):
            self._cursors.setdefault(archive_key(name), cursor)
        self.builder = MessageBuilder(since=self.since)
        self.warnings: list[str] = []
        self.fetched: list[str] = []
        self.failed: list[str] = []
        self._new: dict[str, dict[str, Any]] = {}
        self._complete = False

    # -- the connector contract -------------------------------------------------

    def interval_key(self) -> str:
        text = repr(sorted(self._cursors.items())) + "|" + (self.ctx.since or "")
        return "pipermail:" + hashlib.sha256(text.encode()).hexdigest()[:32]

    def items(self) -> Iterator[Item]:
        self._complete = False
        self._new, self.fetched, self.failed = {}, [], []
        try:
            for archive, cursor in self.plan(self.archives()):
                yield from self._archive_items(archive, cursor)
        finally:
            self.client.close()
        if self.failed and len(self.failed) == len(self.fetched) and not self._cursors:
            # nothing ever landed: the source is misconfigured, not one broken link
            raise PipermailError(
                f"pipermail: every archive of {redact_url(self.index_url)} failed "
                f"({', '.join(self.failed)}): " + "; ".join(self.warnings[-3:])
            )
        if self.builder.duplicates_dropped:
            log.info(
                "pipermail: dropped %d identical duplicate messages",
                self.builder.duplicates_dropped,
            )
        self._complete = True

    def new_state(self) -> dict[str, dict[str, Any]]:
        """The archive cursors to commit: updated only once ``items()`` has run to the end."""
        if self._complete:
            self._state[ENTITY] = {"archives": {**self._cursors, **self._new}}
        return self._state

    # -- what to read -------------------------------------------------------------

    def archives(self) -> list[Archive]:
        """The text archives listed on the index page, oldest first."""
        try:
            response = self.client.get(self.index_url)
        except HttpError as exc:
            raise PipermailError(f"pipermail: cannot read the archive index: {exc}") from exc
        found = parse_index(response.text, response.url or self.index_url)
        if not found:
            raise PipermailError(
                f"pipermail: {redact_url(self.index_url)} links to no text archives "
                "(2024-March.txt.gz, ...): is it a Mailman 2 Pipermail archive index?"
            )
        return found

    def plan(self, archives: list[Archive]) -> list[tuple[Archive, dict[str, Any] | None]]:
        """(archive, stored cursor to resume from or None) for each archive to request.

        Not landed yet: requested. Landed: requested again (conditionally) when it is
        one of the newest ``recheck`` landed archives, or when its period ended
        within ``RECHECK_WINDOW`` before the newest archive's period end, or at or
        after that archive's start (late mail is filed into recent past periods). The
        newest archive is the dated one with the latest period that has started.
        """
        if self.since is not None:
            return [(a, None) for a in archives if a.end is None or a.end > self.since]
        landed = [a for a in archives if a.key in self._cursors]
        recheck = (
            {a.key for a in landed[max(0, len(landed) - self.recheck) :]} if self.recheck else set()
        )
        # a spam message dated in the future makes Mailman create a future archive:
        # it must not move the window away from the present
        now = datetime.now(UTC)
        dated = [
            a for a in archives if a.start is not None and a.end is not None and a.start <= now
        ]
        if dated:
            newest = max(dated, key=lambda a: (a.end, a.start))
            assert newest.start is not None and newest.end is not None
            since = min(newest.end - RECHECK_WINDOW, newest.start)
            recheck.update(a.key for a in landed if a.end is not None and a.end >= since)
        return [
            (a, self._cursors.get(a.key))
            for a in archives
            if a.key not in self._cursors or a.key in recheck
        ]

    # -- one archive --------------------------------------------------------------

    def _archive_items(self, archive: Archive, cursor: dict[str, Any] | None) -> Iterator[Item]:
        self.fetched.append(archive.name)
        headers: dict[str, str] = {}
        if cursor:
            if cursor.get("etag"):
                headers["If-None-Match"] = cursor["etag"]
            if cursor.get("last_modified"):
                headers["If-Modified-Since"] = cursor["last_modified"]
        try:
            response = self.client.get(archive.url, headers=headers or None)
        except HttpError as exc:
            self._fail(archive, str(exc))
            return
        if response.status_code == 304:
            log.info("pipermail: %s not modified since the last run", archive.name)
            return
        data = response.content
        try:
            splitter = self._splitter(archive, data, cursor)
            landed = 0
            for raw in splitter:
                landed += raw.landed
                item = self.builder.build(raw, archive.url, fixed_list=self.list_name)
                if item is not None:
                    yield item
        except (EOFError, zlib.error, gzip.BadGzipFile, MboxFormatError) as exc:
            self._fail(archive, f"unreadable archive ({exc})")
            return
        # splitter.start is 0 again when the resume offset was wrong and it re-read the text
        count = landed + (int(cursor.get("messages", 0)) if cursor and splitter.start else 0)
        length = response.headers.get("Content-Length")
        self._new[archive.key] = {
            "etag": response.headers.get("ETag"),
            "last_modified": response.headers.get("Last-Modified"),
            "content_length": int(length) if length and length.isdigit() else len(data),
            "offset": splitter.landed,
            "prefix_sha256": splitter.prefix_sha256(),
            "messages": count,
        }

    def _splitter(
        self, archive: Archive, data: bytes, cursor: dict[str, Any] | None
    ) -> MboxSplitter:
        label = redact_url(archive.url)
        offset = int((cursor or {}).get("offset") or 0)
        if offset > 0 and cursor and cursor.get("prefix_sha256"):
            stream = open_stream(io.BytesIO(data))
            digest = hash_prefix(stream, offset)
            if digest is not None and digest.hexdigest() == cursor["prefix_sha256"]:
                log.info("pipermail: %s: reading the messages after byte %d", archive.name, offset)
                return MboxSplitter(
                    stream,
                    label,
                    start=offset,
                    digest=digest,
                    reopen=lambda: open_stream(io.BytesIO(data)),
                )
            message = (
                f"{archive.name} changed before byte {offset} (not only appended): "
                "reading it again from the start"
            )
            self.warnings.append(message)
            log.warning("pipermail: %s", message)
        return MboxSplitter(open_stream(io.BytesIO(data)), label)

    def _fail(self, archive: Archive, why: str) -> None:
        self.failed.append(archive.name)
        message = (
            f"archive {archive.name} could not be read: {why}; it is not marked landed "
            "and will be retried on the next run"
        )
        self.warnings.append(message)
        log.warning("pipermail: %s", message)
