"""GH Archive hourly files → ``repo_events``.

GH Archive (https://www.gharchive.org) publishes every public GitHub event, one
gzip-compressed file per hour named ``YYYY-MM-DD-H.json.gz`` (the hour is not
zero-padded: ``2024-01-01-5.json.gz``), one JSON event per line.

LOCATION (one value)
    - a file: ``2024-01-01-15.json.gz`` (an uncompressed ``.json`` file reads too:
      gzip is detected by its magic bytes, not the name);
    - a folder: its ``*.json.gz`` and ``*.json`` files (sub-folders are not
      searched), in hour order (the hour parsed from the GH Archive name; files
      named otherwise come last, by name);
    - a URL of one hourly file: ``https://data.gharchive.org/2024-01-01-15.json.gz``;
    - a range of hours (option ``start``, optionally ``end``) over a URL: LOCATION
      is either a URL template with ``{date}`` (``YYYY-MM-DD``) and ``{hour}``
      (``0``-``23``, no padding) placeholders, or a base URL
      (``https://data.gharchive.org/``) onto which the option ``url_template``
      (default ``{date}-{hour}.json.gz``) is joined.

    Several files at once: use a folder or a range, or list them in the option
    ``locations`` (what ``townsquare ingest gharchive A B C`` does; LOCATION is then
    the first; a file name met twice is read once). ``start``/``end`` also select
    the files of a folder by their hour.

Options (``ctx.options``)
    ``orgs``: organisations (or user accounts) whose repositories' events to keep;
    ``repos``: ``owner/name`` repositories to keep. Both case-insensitive, a list or
    one string separated by commas or spaces. An event is kept when its repository
    is listed, its repository's owner is listed in ``orgs``, or its ``org.login`` is
    listed in ``orgs``. Neither set: every event is kept.
    ``start`` / ``end``: first and last hour (inclusive), ISO 8601
    (``2024-01-01T15``, ``2024-01-01T15:00:00Z``), GH Archive style
    (``2024-01-01-15``) or a date (``start``: its first hour; ``end``: its last hour).
    Without ``end`` a URL range runs to the last complete hour (the hour before the
    current one, UTC).
    ``url_template``: see LOCATION. ``raw``: ``none`` (default) or ``event``. With
    ``none`` the lake's ``raw`` column is null: every field of the event is a typed
    column except the payload, which is the ``payload`` column already (JSON text),
    so keeping the line would store each event twice. With ``event`` ``raw`` holds
    the event without its payload (``"payload":null``; the actor's avatar URL,
    display login and the API URLs are kept that way, about 400 bytes a row).
    ``timeout``, ``max_retries``: the HTTP client (``townsquare.http.HttpClient``).

Reading and filtering
    Files are streamed line by line through gzip (HTTP bodies too, with
    ``stream=True``): memory does not grow with the file size. With a filter, a
    line is parsed only when its lower-cased bytes contain one of the wanted names
    (an org name or ``owner/name``); the parsed event is then checked exactly (so
    ``lumen-db/lumen-go`` does not pass for ``lumen-db/lumen``). This pre-check is
    the main speed lever: most lines are skipped at the cost of a substring search.
    It assumes names appear verbatim in the line (GH Archive does not escape ``/``).
    The payload text is sliced from the line (parsed once with ``raw_decode``, so it
    is valid JSON and byte-identical to the archive), not re-serialised.

Rows and rejected input
    Columns: see ``townsquare.schemas.REPO_EVENTS``. ``created_at`` is tz-aware UTC,
    ids are text, ``action`` is ``payload.action`` when present. Rejected (to
    quarantine, with the line as ``raw``): lines that are not UTF-8 or not a JSON
    object, events without ``id`` or ``created_at`` or with an unreadable
    ``created_at``, and events in the pre-2015 timeline format (``repository``
    object, ``actor`` a login string: "pre-2015 timeline event format not
    supported"; with a filter only those of the wanted repositories). Blank lines
    are ignored. An event id seen before in the same run (GH Archive files
    occasionally hold the same event twice) is dropped, first copy wins: the
    connector keeps the ids seen (``SeenIds``: about 8 bytes an event, as GH
    Archive's ids arrive nearly in order).

Damaged input
    A gzip stream that ends early (truncated download, file still being written) or
    is corrupt, or an HTTP body that breaks off: the events read before the damage
    land, a warning names the file, and the file is *not* recorded as landed, so
    the next run reads it again whole (the events landed twice are dropped by
    staging, which dedups on ``event_id``). A URL that fails for good (404 after
    the retries of ``HttpClient``: connection errors, 5xx and 429 are retried
    before the body starts) is skipped with a warning; a 404 for an hour less than
    three hours old is "not published yet" (logged at info). The run fails
    (``GhArchiveError``) only when it tried files and could read none of them.

Incremental loads and state
    The state of ``repo_events`` is ``{"files": {NAME: CURSOR}}`` keyed by file name
    (``2024-01-01-15.json.gz``), holding the files read to the end::

        local file: {"size": 1234567, "events": 120, "filter": "orgs=…;repos=…"}
        URL:        {"url": "https://…", "size": 1234567, "etag": "\\"…\\"", "events": 120,
                     "filter": "orgs=…;repos=…"}

    ``filter`` is what the ``orgs``/``repos`` options kept: a file landed under
    another filter is read again (a repository added to ``repos`` gets its
    history; staging dedups what was landed before).

    ``size`` is the compressed size (bytes on disk, or bytes received), ``events``
    the rows the file produced. Next run, a URL whose name is in the state is
    skipped without a request (GH Archive files do not change once published), a
    local file is skipped when its size is unchanged (a different size: it is read
    again whole). ``--since`` (``ctx.since``) skips files whose hour ends at or
    before it and events created before it. Unlike the watermark connectors,
    ``since`` does not override the state here (files already landed stay skipped:
    a scheduled source with a fixed ``since`` would otherwise re-read its whole
    range every run); to land files again, remove their names from the state file.
    A file whose hour ``since`` falls inside (its earlier events were skipped) is
    not recorded as landed, so a later run reads it whole.
    The state is exposed by ``new_state()`` only after ``items()`` ran to the end;
    the runner commits it after the data. It grows by one entry per hour read
    (about 9,000 a year).

Limits
    One LOCATION per source (several files: a folder or a range). Duplicate
    detection spans one run. The substring pre-check and the slicing of the payload
    rely on GH Archive's compact one-line JSON; other layouts fall back to a full
    parse and re-serialisation (slower, same result). A download that breaks off
    mid-body is not retried within the run (the file is read again next run); the
    events of its last 64 KiB read block before the break are not yielded.
    Privacy: ``payload`` is the archive's payload as is, so a PushEvent's payload
    holds its commits' author names and emails: treat the column like ``raw``.

``interval_key()`` hashes the stored cursors, the files this run will read (names
and, for local files, sizes), ``since`` and the options: a retry of the same slice
gets the same run id.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, ClassVar
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from townsquare.connectors.base import Connector, ConnectorContext
from townsquare.http import HttpClient, HttpError, redact_url
from townsquare.mail import open_stream
from townsquare.records import Item, Rejected, Row
from townsquare.text import local_files, parse_since

log = logging.getLogger(__name__)

ENTITY = "repo_events"
SUFFIXES = (".json.gz", ".json")
DEFAULT_URL_TEMPLATE = "{date}-{hour}.json.gz"
PRE_2015 = "pre-2015 timeline event format not supported"
NOT_PUBLISHED_HOURS = 3
"""A 404 for an hour younger than this is "not published yet", not a failure."""

_HOURLY_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})-(\d{1,2})\.json(?:\.gz)?$", re.IGNORECASE)
_GH_HOUR = re.compile(r"^(\d{4}-\d{2}-\d{2})-(\d{1,2})$")
_PAYLOAD_KEY = '"payload":'
_DECODER = json.JSONDecoder()
_READ_ERRORS = (
    OSError,
    EOFError,
    zlib.error,
    urllib3.exceptions.HTTPError,
    requests.RequestException,
)
_BLOCK = 1 << 20
_HTTP_BLOCK = 1 << 16
"""Read size over HTTP: a body that breaks off loses at most this much of what arrived."""


class GhArchiveError(RuntimeError):
    """The source cannot be read at all (every file tried failed)."""


class SeenIds:
    """The event ids seen in a run, compactly: GH Archive's ids (decimal, nearly always
    increasing) are appended to a sorted ``array`` (8 bytes an id); an id lower than
    the highest seen is looked up by bisection, and kept in a set if new."""

    def __init__(self) -> None:
        self._sorted = array("q")
        self._other: set[int] = set()

    def __len__(self) -> int:
        return len(self._sorted) + len(self._other)

    def add(self, event_id: str) -> bool:
        """Record ``event_id``; False if it was seen before."""
        key = int(event_id) if event_id.isdecimal() and len(event_id) < 19 else None
        if key is None:  # not a GH Archive id: a 64-bit hash, in the set
            key = hash(event_id)
            if key in self._other:
                return False
            self._other.add(key)
            return True
        ordered = self._sorted
        if not ordered or key > ordered[-1]:
            ordered.append(key)
            return True
        i = bisect_left(ordered, key)
        if (i < len(ordered) and ordered[i] == key) or key in self._other:
            return False
        self._other.add(key)
        return True


@dataclass(frozen=True)
class HourlyFile:
    """One input file: a local path or a URL. ``name`` keys the state."""

    name: str
    hour: datetime | None
    path: Path | None = None
    url: str | None = None


# -- options ---------------------------------------------------------------------------


def name_list(value: Any, option: str) -> list[str]:
    """An option holding names: a list, or one string split on commas and spaces."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v for v in re.split(r"[\s,]+", value) if v]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise ValueError(f"gharchive option {option} must be a list of names, got {value!r}")


def parse_hour(value: Any, option: str, *, end: bool = False) -> datetime:
    """An hour option as an aware UTC datetime at the start of that hour.

    Accepts datetimes, dates (``end``: the day's last hour), ISO 8601 text and
    GH Archive style ``YYYY-MM-DD-H``.
    """
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        when = datetime(value.year, value.month, value.day, 23 if end else 0)
    elif isinstance(value, str):
        text = value.strip()
        gh = _GH_HOUR.match(text)
        try:
            if gh:
                when = datetime.fromisoformat(gh.group(1)).replace(hour=int(gh.group(2)))
            else:
                parsed = parse_since(text)
                assert parsed is not None
                when = parsed
                if end and len(text) == 10:  # a date: through its last hour
                    when = when.replace(hour=23)
        except ValueError:
            raise ValueError(
                f"gharchive option {option}: not an hour: {value!r} "
                "(e.g. 2024-01-01T15, 2024-01-01-15 or 2024-01-01)"
            ) from None
    else:
        raise ValueError(f"gharchive option {option}: not an hour: {value!r}")
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.replace(minute=0, second=0, microsecond=0)


def hour_of(name: str) -> datetime | None:
    """The hour a GH Archive file name stands for (``2024-01-01-5.json.gz``), else None."""
    match = _HOURLY_NAME.search(name)
    if not match:
        return None
    try:
        day = datetime.fromisoformat(match.group(1))
        hour = int(match.group(2))
        if hour > 23:
            return None
        return day.replace(hour=hour, tzinfo=UTC)
    except ValueError:
        return None


def render(template: str, hour: datetime) -> str:
    return template.replace("{date}", f"{hour:%Y-%m-%d}").replace("{hour}", str(hour.hour))


# -- events ----------------------------------------------------------------------------


class EventFilter:
    """Which events to keep: a cheap substring pre-check, then an exact check."""

    def __init__(self, orgs: list[str], repos: list[str]) -> None:
        for repo in repos:
            if repo.count("/") != 1 or repo.startswith("/") or repo.endswith("/"):
                raise ValueError(f"gharchive option repos: expected owner/name, got {repo!r}")
        for org in orgs:
            if "/" in org:
                raise ValueError(
                    f"gharchive option orgs: expected an organisation name, got {org!r} "
                    "(put owner/name repositories under repos)"
                )
        self.orgs = frozenset(o.lower() for o in orgs)
        self.repos = frozenset(r.lower() for r in repos)
        # a repository whose owner is a wanted org needs no needle of its own
        needles = self.orgs | {r for r in self.repos if r.split("/")[0] not in self.orgs}
        self.needles = tuple(sorted(n.encode() for n in needles))

    @property
    def everything(self) -> bool:
        return not self.needles

    @property
    def key(self) -> str:
        """What the filter keeps, for the file cursors: a file read under another
        filter is read again (a repository added to ``repos`` gets its history)."""
        return f"orgs={','.join(sorted(self.orgs))};repos={','.join(sorted(self.repos))}"

    def candidate(self, line: bytes) -> bool:
        """Whether the raw line may hold a wanted event (no false negatives)."""
        if not self.needles:
            return True
        low = line.lower()
        return any(n in low for n in self.needles)

    def wants(self, repo_name: str | None, org_login: str | None) -> bool:
        if not self.needles:
            return True
        repo = (repo_name or "").lower()
        if repo in self.repos or repo.split("/")[0] in self.orgs:
            return True
        return bool(org_login) and str(org_login).lower() in self.orgs


def split_event(text: str) -> tuple[Any, Any, str | None, str]:
    """``text`` (one line) → (event without payload, payload, payload JSON text, event text).

    The event text is the line with the payload replaced by ``null``. The payload is
    parsed once with ``raw_decode`` and its text sliced from the line; a line laid
    out otherwise is parsed whole and the payload re-serialised. Raises
    ``ValueError`` for invalid JSON.
    """
    start = text.find(_PAYLOAD_KEY)
    if start > 0:
        begin = start + len(_PAYLOAD_KEY)
        while text[begin : begin + 1] in (" ", "\t"):
            begin += 1
        try:
            payload, end = _DECODER.raw_decode(text, begin)
            envelope_text = text[:begin] + "null" + text[end:]
            envelope = json.loads(envelope_text)
        except ValueError:
            pass
        else:
            if isinstance(envelope, dict) and envelope.get("payload", 0) is None:
                return envelope, payload, text[begin:end], envelope_text
    event = json.loads(text)
    if not isinstance(event, dict):
        return event, None, None, text
    payload = event.get("payload")
    payload_text = (
        None if payload is None else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    )
    envelope = {**event, "payload": None}
    return envelope, payload, payload_text, json.dumps(envelope, separators=(",", ":"))


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _field(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


def is_timeline_event(event: dict[str, Any]) -> bool:
    """The pre-2015 timeline format: ``repository`` object, ``actor`` a login string."""
    return "repo" not in event and ("repository" in event or isinstance(event.get("actor"), str))


def timeline_repo(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """(owner/name, organisation) of a pre-2015 timeline event, where known."""
    repo = event.get("repository")
    owner, name = _field(repo, "owner"), _field(repo, "name")
    full = f"{owner}/{name}" if owner and name else None
    return full, _text(_field(repo, "organization"))


def parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(value)
    when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


# -- HTTP ------------------------------------------------------------------------------


class _StreamingSession(requests.Session):
    """A session whose requests stream: the body is read by the caller, not requests."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("stream", True)
        return super().request(method, url, *args, **kwargs)


def streaming_client(**kwargs: Any) -> HttpClient:
    """An ``HttpClient`` (same retries, backoff, errors) whose responses stream.

    ``get`` returns once the status line and headers arrived (retrying connection
    errors, timeouts, 5xx and 429 until then); read ``response.raw`` for the body
    and close the response.
    """
    client = HttpClient(**kwargs)
    session = _StreamingSession()
    session.headers = client.session.headers
    session.auth = client.session.auth
    client.session.close()
    client.session = session
    return client


# -- the connector ---------------------------------------------------------------------


class GhArchiveConnector(Connector):
    """Reads GH Archive hourly files incrementally (see the module docstring)."""

    type: ClassVar[str] = "gharchive"
    entities: ClassVar[tuple[str, ...]] = (ENTITY,)

    def __init__(
        self,
        ctx: ConnectorContext,
        *,
        http: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> None:
        """``http``: extra ``HttpClient`` keyword arguments (e.g. ``sleep``); ``now``:
        the current time (tests), which bounds an open URL range."""
        super().__init__(ctx)
        opts = ctx.options
        self.now = (now or datetime.now(UTC)).astimezone(UTC)
        self.filter = EventFilter(
            name_list(opts.get("orgs"), "orgs"), name_list(opts.get("repos"), "repos")
        )
        raw_mode = str(opts.get("raw") or "none").lower()
        if raw_mode not in ("none", "event"):
            raise ValueError(f"gharchive option raw must be none or event, got {raw_mode!r}")
        self.keep_event = raw_mode == "event"
        self.start = parse_hour(opts["start"], "start") if opts.get("start") else None
        self.end = parse_hour(opts["end"], "end", end=True) if opts.get("end") else None
        if self.start and self.end and self.end < self.start:
            raise ValueError(
                f"gharchive: end {self.end:%Y-%m-%dT%H} is before start {self.start:%Y-%m-%dT%H}"
            )
        self.since = parse_since(ctx.since)
        self.http_kwargs: dict[str, Any] = {
            k: opts[k] for k in ("timeout", "max_retries") if opts.get(k) is not None
        }
        self.http_kwargs.update(http or {})
        self.files = self._locate_all(ctx.location, opts.get("locations"), opts.get("url_template"))
        stored = self._state.get(ENTITY, {}).get("files")
        self._cursors: dict[str, dict[str, Any]] = dict(stored) if isinstance(stored, dict) else {}
        self._seen = SeenIds()
        self._new: dict[str, dict[str, Any]] = {}
        self._complete = False
        self.stats: dict[str, int] = {}
        self.read: list[str] = []
        self.skipped: list[str] = []
        self.failed: list[str] = []
        self.unpublished: list[str] = []

    # -- where the files are -------------------------------------------------------

    def _locate_all(self, location: str, more: Any, template_option: Any) -> list[HourlyFile]:
        """The files of LOCATION, or of every entry of the ``locations`` option (several
        files, folders or URLs: ``townsquare ingest gharchive A B C``), each file once."""
        if more is None:
            return self._locate(location, template_option)
        if not isinstance(more, list) or not all(isinstance(m, str) for m in more) or not more:
            raise ValueError("gharchive option locations must be a list of files, folders or URLs")
        found: dict[str, HourlyFile] = {}
        for entry in more:
            for hourly in self._locate(entry, template_option):
                found.setdefault(hourly.name, hourly)
        return list(found.values())

    def _locate(self, location: str, template_option: Any) -> list[HourlyFile]:
        if urlsplit(location).scheme in ("http", "https"):
            return self._urls(location, template_option)
        if "://" in location:
            raise ValueError(f"gharchive: unsupported URL {location!r}; expected http(s)")
        files = []
        for path in local_files(location, SUFFIXES, "gharchive"):
            hour = hour_of(path.name)
            if hour is not None and not self._in_range(hour):
                continue
            files.append(HourlyFile(path.name, hour, path=path))
        files.sort(key=lambda f: (f.hour is None, f.hour or self.now, f.name))
        return files

    def _urls(self, location: str, template_option: Any) -> list[HourlyFile]:
        templated = "{date}" in location or "{hour}" in location
        if self.start is None:
            if templated:
                raise ValueError(
                    f"gharchive: LOCATION {location!r} is a URL template: set the option "
                    "start (and optionally end) to the hours to read"
                )
            name = urlsplit(location).path.rsplit("/", 1)[-1] or location
            return [HourlyFile(name, hour_of(name), url=location)]
        if templated:
            template = location
        else:
            base = location if location.endswith("/") else location + "/"
            if location.lower().endswith(SUFFIXES):
                raise ValueError(
                    f"gharchive: LOCATION {location!r} is one file; for a range of hours "
                    "(option start) give a base URL or a URL template"
                )
            template = urljoin(base, str(template_option or DEFAULT_URL_TEMPLATE))
        if "{date}" not in template or "{hour}" not in template:
            raise ValueError(
                f"gharchive: URL template {template!r} needs both {{date}} and {{hour}}"
            )
        last = self.end or (
            self.now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        )
        files = []
        hour = self.start
        while hour <= last:
            url = render(template, hour)
            name = urlsplit(url).path.rsplit("/", 1)[-1]
            if self._in_range(hour):
                files.append(HourlyFile(name, hour, url=url))
            hour += timedelta(hours=1)
        return files

    def _in_range(self, hour: datetime) -> bool:
        if self.start and hour < self.start:
            return False
        return not (self.end and hour > self.end)

    # -- the connector contract ----------------------------------------------------

    def plan(self) -> list[tuple[HourlyFile, int | None]]:
        """The files this run reads, with their local size (None for URLs)."""
        todo: list[tuple[HourlyFile, int | None]] = []
        self.skipped = []
        for f in self.files:
            if self.since and f.hour is not None and f.hour + timedelta(hours=1) <= self.since:
                continue
            size = f.path.stat().st_size if f.path is not None else None
            cursor = self._cursors.get(f.name)
            if (
                cursor is not None
                and (f.url is not None or cursor.get("size") == size)
                and cursor.get("filter", self.filter.key) == self.filter.key
            ):
                self.skipped.append(f.name)
                continue
            todo.append((f, size))
        return todo

    def interval_key(self) -> str:
        parts = [repr(sorted(self._cursors.items()))]
        parts += [f"{f.name}:{f.url or ''}:{size}" for f, size in self.plan()]
        parts.append(self.ctx.since or "")
        parts.append(json.dumps(self.ctx.options, sort_keys=True, default=str))
        return "gharchive:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    def items(self) -> Iterator[Item]:
        self._complete = False
        self._new, self.read, self.failed, self.unpublished = {}, [], [], []
        self._seen = SeenIds()
        self.stats = dict.fromkeys(
            ("lines", "candidates", "rows", "rejected", "duplicates", "before_since"), 0
        )
        todo = self.plan()
        if self.skipped:
            log.info("gharchive: %d file(s) landed before; skipped", len(self.skipped))
        client = streaming_client(**self.http_kwargs) if any(f.url for f, _ in todo) else None
        try:
            for f, size in todo:
                if f.url is not None:
                    assert client is not None
                    yield from self._url_items(client, f)
                else:
                    yield from self._path_items(f, size)
        finally:
            if client is not None:
                client.close()
        s = self.stats
        log.info(
            "gharchive: %d file(s) read, %d failed; %d lines, %d parsed, %d rows, "
            "%d rejected, %d duplicates dropped, %d before --since",
            len(self.read),
            len(self.failed),
            s["lines"],
            s["candidates"],
            s["rows"],
            s["rejected"],
            s["duplicates"],
            s["before_since"],
        )
        if self.failed and not self.read and not s["lines"]:
            raise GhArchiveError(
                f"gharchive: could not read any file ({'; '.join(self.failed[:3])}"
                + (f"; and {len(self.failed) - 3} more" if len(self.failed) > 3 else "")
                + ")"
            )
        self._complete = True

    def new_state(self) -> dict[str, dict[str, Any]]:
        """The landed files to commit: updated only once ``items()`` has run to the end."""
        if self._complete:
            self._state[ENTITY] = {"files": {**self._cursors, **self._new}}
        return self._state

    # -- one file --------------------------------------------------------------------

    def _whole(self, f: HourlyFile) -> bool:
        """False when ``since`` fell inside the file's hour: its earlier events were
        skipped, so it is not recorded as landed (a later run without that ``since``
        reads it whole)."""
        if self.since is None or f.hour is None:
            return True
        return not f.hour < self.since < f.hour + timedelta(hours=1)

    def _path_items(self, f: HourlyFile, size: int | None) -> Iterator[Item]:
        assert f.path is not None
        with f.path.open("rb", buffering=_BLOCK) as fh:
            rows = yield from self._stream_items(f, lambda: open_stream(fh))
        if rows is not None and self._whole(f):
            self._new[f.name] = {"size": size, "events": rows, "filter": self.filter.key}

    def _url_items(self, client: HttpClient, f: HourlyFile) -> Iterator[Item]:
        assert f.url is not None
        shown = redact_url(f.url)
        try:
            response = client.get(f.url)
        except HttpError as exc:
            recent = f.hour is not None and self.now - f.hour < timedelta(hours=NOT_PUBLISHED_HOURS)
            if exc.status == 404 and recent:
                log.info("gharchive: %s not published yet; it is read next run", shown)
                self.unpublished.append(f.name)
            else:
                log.warning("gharchive: skipping %s: %s; it is tried again next run", shown, exc)
                self.failed.append(f"{f.name}: {exc}")
            return
        with response:
            body = response.raw
            body.decode_content = True  # only matters if the server gzips the transfer
            body.auto_close = False  # let io.BufferedReader see the end, not a closed file
            rows = yield from self._stream_items(
                f, lambda: open_stream(io.BufferedReader(body, _HTTP_BLOCK))
            )
            received = body.tell()
        if rows is not None and self._whole(f):
            length = response.headers.get("Content-Length")
            self._new[f.name] = {
                "url": shown,
                "size": int(length) if length and length.isdigit() else received,
                "etag": response.headers.get("ETag"),
                "filter": self.filter.key,
                "events": rows,
            }

    def _stream_items(self, f: HourlyFile, opener: Callable[[], IO[bytes]]) -> Iterator[Item]:
        """Yield the file's items; returns its row count, or None when it broke off.

        ``opener`` returns the (decompressed) stream; it may already read (peek) and fail.
        """
        where = redact_url(f.url) if f.url is not None else str(f.path)
        rows = lines = 0
        try:
            for line in opener():
                lines += 1
                item = self._line_item(line, where, lines)
                if item is not None:
                    if isinstance(item, Row):
                        rows += 1
                    yield item
        except _READ_ERRORS as exc:
            self.stats["lines"] += lines
            self.stats["rows"] += rows
            log.warning(
                "gharchive: %s is damaged or cut short after %d lines (%s: %s): the %d "
                "events read land, the file is not marked landed and is read again next run",
                where,
                lines,
                type(exc).__name__,
                exc,
                rows,
            )
            self.failed.append(f"{f.name}: {type(exc).__name__} after {lines} lines")
            return None
        self.stats["lines"] += lines
        self.stats["rows"] += rows
        self.read.append(f.name)
        return rows

    def _line_item(self, line: bytes, where: str, lineno: int) -> Item | None:
        if not self.filter.candidate(line):
            return None
        line = line.strip()
        if not line:
            return None
        self.stats["candidates"] += 1
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            return self._reject(f"line is not UTF-8: {where} line {lineno}", line)
        try:
            event, payload, payload_text, event_text = split_event(text)
        except ValueError as exc:
            return self._reject(f"invalid JSON: {where} line {lineno}: {exc}", text)
        if not isinstance(event, dict):
            return self._reject(f"not a JSON object: {where} line {lineno}", text)
        if is_timeline_event(event):
            repo_name, org = timeline_repo(event)
            if not self.filter.wants(repo_name, org):
                return None
            return self._reject(f"{PRE_2015}: {where} line {lineno}", text)
        actor, repo, org = event.get("actor"), event.get("repo"), event.get("org")
        repo_name = _text(_field(repo, "name"))
        org_login = _text(_field(org, "login"))
        if not self.filter.wants(repo_name, org_login):
            return None
        event_id = _text(event.get("id"))
        if event_id is None:
            return self._reject(f"missing id: {where} line {lineno}", text)
        created = event.get("created_at")
        if created in (None, ""):
            return self._reject(f"missing created_at: {where} line {lineno}", text, event_id)
        try:
            created_at = parse_time(created)
        except ValueError:
            return self._reject(
                f"created_at is not an ISO 8601 time: {created!r}, {where} line {lineno}",
                text,
                event_id,
            )
        if self.since and created_at < self.since:
            self.stats["before_since"] += 1
            return None
        if not self._seen.add(event_id):
            self.stats["duplicates"] += 1
            return None
        public = event.get("public")
        values = {
            "event_id": event_id,
            "event_type": _text(event.get("type")),
            "action": _text(_field(payload, "action")),
            "actor_login": _text(_field(actor, "login")),
            "actor_id": _text(_field(actor, "id")),
            "repo_name": repo_name,
            "repo_id": _text(_field(repo, "id")),
            "org_login": org_login,
            "created_at": created_at,
            "is_public": public if isinstance(public, bool) else None,
            "payload": payload_text,
        }
        return Row(ENTITY, values, event_text if self.keep_event else None)

    def _reject(self, reason: str, raw: str | bytes, native_id: str | None = None) -> Rejected:
        self.stats["rejected"] += 1
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        return Rejected(ENTITY, reason, text, native_id)
