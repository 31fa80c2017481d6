"""GitHub REST connector: issues and pull requests, comments and reviews, stargazers,
and the profiles of the people seen in them.

``ctx.location`` is ``OWNER/REPO`` (``lumen-db/lumen``). The API is
``https://api.github.com`` unless the ``api_url`` option names another one (GitHub
Enterprise Server: ``https://ghe.example.com/api/v3``). Every request sends
``Accept: application/vnd.github+json`` and ``X-GitHub-Api-Version: 2022-11-28``.
Listings are read 100 records a page and followed through the ``Link`` header
(``rel="next"``) to the end; a response without a ``Link`` header is the last page.
A ``next`` link to another host is refused (the token is never sent elsewhere).

Rows
    ``repo_issues`` from ``/repos/{o}/{r}/issues?state=all&sort=updated&direction=asc``
    (issues and pull requests). ``is_pull_request`` is true only when the record's
    ``pull_request.url`` (or ``html_url``) is non-null: older servers put a
    ``pull_request`` object with null URLs on plain issues. ``merged_at`` comes from
    ``pull_request.merged_at`` (GitHub.com and recent Enterprise versions send it,
    so this costs nothing); for a closed pull request whose record lacks the key
    (older servers) it is looked up: ``/pulls/{n}`` one by one when at most
    ``PER_PR_LOOKUPS`` (3) are missing, else ``/pulls?state=closed&sort=updated
    &direction=desc`` paged until all are found or the listing is older than the
    oldest one missing (a page of 100 costs what one ``/pulls/{n}`` costs).
    ``is_draft`` is the pull request's ``draft`` (false for plain issues), ``labels``
    the label names, ``author_*`` from ``user.login``/``user.type`` and
    ``author_association``, ``url`` the ``html_url``, ``body_text`` the Markdown body.
    ``repo_comments``: ``issue_comment`` from ``/issues/comments`` (number from
    ``issue_url``), ``review_comment`` from ``/pulls/comments`` (number from
    ``pull_request_url``), both ``sort=updated&direction=asc``; ``review`` from
    ``/pulls/{n}/reviews`` for every pull request landed this run (``created_at`` is
    ``submitted_at``, ``updated_at`` null: reviews have none; ``review_state``).
    ``repo_stars`` from ``/stargazers`` with ``Accept: application/vnd.github.star+json``
    (``starred_at`` + ``user``). ``repo_users`` from ``/users/{login}`` once the
    listings are read, for every distinct login of this run's rows (issue, comment and
    review authors, stargazers) with no stored profile fetch or one older than
    ``profile_refresh_days``; bots (user type ``Bot`` or a login ending in ``[bot]``)
    are skipped. ``user_id`` is the ``id`` as text, ``user_type`` the ``type``,
    ``name``, ``company``, ``blog``, ``location`` and ``email`` as typed on the profile
    (``""``, GitHub's "not set", is null). A 404 (a deleted account) lands no row, logs
    a warning and counts as fetched, so it is not asked again every run. Records that
    are not objects, have no number or id, no ``created_at`` (``submitted_at``,
    ``starred_at``) or an unparseable date become ``Rejected`` rows with the reason.

Incremental loads and state
    ``repo_issues: {"since": T, "seen": ["41"], "etag": E, "etag_for": Q}``;
    ``repo_comments: {"issue_comment": {"since", "seen", "etag", "etag_for"},
    "review_comment": {...}, "review": {"pending": [12]}}``;
    ``repo_stars: {"page": "/repositories/1/stargazers?per_page=100&page=3",
    "logins": [...], "etag": E}``;
    ``repo_users: {"fetched": {"omar-wendt": "2026-10-01T08:00:00Z"}, "pending": [...]}``.
    ``since`` is the newest ``updated_at`` landed (never past the run's start) and
    ``seen`` the keys landed with exactly that ``updated_at``: GitHub's ``since`` is
    inclusive, so the next run reads those again and skips the unchanged ones, and
    a record changed later in the same second is still read. Duplicates within a run
    (the boundary, a record updated while paged) yield one row per key, the newest
    ``updated_at``; when a record comes back while a listing is paged (it was updated
    meanwhile, so the offset pages shifted) the watermark is held at its old
    ``updated_at`` so the stretch is read again next run. ``etag`` is the ``ETag`` of
    the listing's first page and ``etag_for`` the query it belongs to: a run asking
    the same first page sends ``If-None-Match`` and a ``304`` (free under the rate
    limit) means nothing changed. The ETag is kept only when the listing was one page
    with room (new or updated records sort to the end, so they would change it; a full
    page, a second page or a run cut short keeps none). A run that found nothing new
    keeps its watermark, so the run after it asks the same first page.
    ``review.pending`` lists pull requests whose reviews were not read yet (the run
    stopped first). Stargazers are listed oldest first: ``page`` is the last page read
    (relative to ``api_url``) with its ``logins`` and, when it had room, its ``ETag``;
    the next run starts from that page (a ``304`` there means no new star), skips
    those logins and follows ``next`` links. When that page no longer holds all its
    logins (stars were removed before it, so new stars may sit on earlier pages) the
    stargazers are read again from the first page. ``fetched`` holds when each
    profile was last fetched (or found deleted); ``pending`` the logins seen by a run
    that stopped before their profiles were fetched (their rows landed, so the next
    run would not see them again): the next run fetches those first. Only profiles
    actually fetched are recorded. ``ctx.since`` (``--since``) wins over the stored
    state: records updated (stars starred) at or after it are read. State advances
    only through ``new_state()`` after ``items()`` ran (the runner commits it after
    the data) and a watermark never moves back.

Rate limits
    Primary: a ``403``/``429`` with ``X-RateLimit-Remaining: 0``, or a success with
    ``Remaining: 0`` before the next request. When ``X-RateLimit-Reset`` is within
    ``max_rate_limit_wait`` seconds the connector sleeps until then and goes on;
    otherwise it STOPS CLEANLY: ``items()`` ends early with what was read (whole
    pages), ``new_state()`` records how far each listing got (as above: the watermark
    of the last page read, pending reviews, the last stargazers page, the profiles
    fetched and those still pending; listings not started keep their state) and a
    warning says when the limit resets. The next run resumes with nothing lost and
    nothing landed twice. Secondary: a ``403`` or ``429`` with ``Retry-After`` (or a
    "secondary rate limit" message: one minute) waits and retries, at most
    ``max_retries`` times and never longer than ``max_rate_limit_wait`` at once; past
    either bound the run stops cleanly too.

Errors
    A 401 (bad, expired or revoked token) and a 404 (no such repository, or no
    access: GitHub answers 404 for private repositories) name the repository and
    what to check. A pull request whose reviews (or ``/pulls/{n}``) answer 404/410
    is skipped with a warning; so is a profile that answers 404/410.

Credentials (optional)
    ``token`` (an Airflow connection's extra ``token`` or its password, or an
    environment variable through ``credentials.env``) is sent as
    ``Authorization: Bearer`` and never logged. Anonymous clients get 60 requests
    an hour and public repositories only.

Options (``ctx.options``): ``api_url`` (default ``https://api.github.com``),
``max_rate_limit_wait`` (seconds, default 300), ``per_page`` (1-100, default 100),
``reviews`` (default true: one request per pull request landed), ``fetch_profiles``
(default true: one request per new or stale profile), ``profile_refresh_days`` (default
30: a profile fetched longer ago is fetched again when its login shows up in a run),
``timeout`` and ``max_retries`` (HTTP client; also bounds secondary rate-limit retries).

Limits
    Reviews are found through their pull request's ``updated_at`` (a review updates
    it); a review edited later without touching its pull request is not re-read.
    Deleted issues and comments stay in the lake (GitHub lists no deletions).
    Stargazers lists stop at 400 pages (40,000 stars) on GitHub.com. A profile is
    refreshed only when its login shows up in a run again (dormant people keep the
    profile fetched last).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, NamedTuple
from urllib.parse import quote, urlencode, urlsplit

import requests

from townsquare.connectors.base import Connector, ConnectorContext
from townsquare.connectors.incremental import (
    Spool,
    Watermark,
    parse_gmt,
    stored_time,
    text_or_none,
    to_watermark,
)
from townsquare.http import HttpClient, HttpError, json_body, parse_retry_after, redact_url
from townsquare.records import Item, Rejected, Row, utcnow
from townsquare.text import parse_since

log = logging.getLogger("townsquare.connectors.github")

DEFAULT_API = "https://api.github.com"
MEDIA_TYPE = "application/vnd.github+json"
STAR_MEDIA_TYPE = "application/vnd.github.star+json"
API_VERSION = "2022-11-28"
MAX_PER_PAGE = 100
DEFAULT_MAX_WAIT = 300.0
SECONDARY_WAIT = 60.0  # GitHub: without Retry-After, wait at least a minute
RESET_MARGIN = 1.0  # X-RateLimit-Reset is whole seconds: wait one more
PER_PR_LOOKUPS = 3
DEFAULT_PROFILE_REFRESH_DAYS = 30
_GONE = (404, 410)
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_NUMBER_IN_URL = re.compile(r"/(?:issues|pulls)/(\d+)/?$")
_LISTINGS = ("issue_comment", "review_comment")
# The login and user type of the person behind a row, per entity: whose profile to fetch.
_PEOPLE = {
    "repo_issues": ("author_login", "author_type"),
    "repo_comments": ("author_login", "author_type"),
    "repo_stars": ("login", "user_type"),
}


class _RateLimited(Exception):
    """Raised from the response hook: GitHub refused the request for its rate limit."""

    def __init__(
        self,
        status: int,
        retry_after: float | None,
        remaining: int | None,
        reset: int | None,
        message: str,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.remaining = remaining
        self.reset = reset
        self.message = message


class _Page(NamedTuple):
    url: str  # relative to api_url when on it
    records: list[Any]
    etag: str | None


@dataclass
class _Listing:
    """How a paged listing went."""

    stopped: bool = False
    not_modified: bool = False
    etag: str | None = None
    last: _Page | None = None


class GitHubConnector(Connector):
    """Issues, pull requests, comments, reviews and stargazers of one GitHub repository,
    and the profiles of the people behind them."""

    type: ClassVar[str] = "github"
    entities: ClassVar[tuple[str, ...]] = (
        "repo_issues",
        "repo_comments",
        "repo_stars",
        "repo_users",
    )

    def __init__(
        self,
        ctx: ConnectorContext,
        *,
        http: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``http``: extra ``HttpClient`` keyword arguments (``sleep`` is used for the
        rate-limit waits too); ``clock``: epoch seconds (compared with X-RateLimit-Reset)."""
        super().__init__(ctx)
        location = ctx.location.strip().strip("/").removesuffix(".git")
        if not _REPO.match(location):
            raise ValueError(
                f"github source {ctx.name!r}: LOCATION must be OWNER/REPO "
                f"(e.g. lumen-db/lumen), got {ctx.location!r}"
            )
        self.repo = location
        opts = ctx.options
        self.api_url = str(opts.get("api_url") or DEFAULT_API).rstrip("/")
        api = urlsplit(self.api_url)
        if api.scheme not in ("http", "https") or not api.netloc:
            raise ValueError(
                f"github source {ctx.name!r}: option api_url must be an http(s) URL "
                f"(GitHub Enterprise: https://HOST/api/v3), got {self.api_url!r}"
            )
        self._origin = (api.scheme, api.netloc)
        self.per_page = _option_int(opts, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)
        try:
            self.max_wait = float(opts.get("max_rate_limit_wait", DEFAULT_MAX_WAIT))
        except (TypeError, ValueError):
            self.max_wait = -1.0
        if self.max_wait < 0:
            raise ValueError(
                "github option max_rate_limit_wait must be a number of seconds (0 or more), "
                f"got {opts.get('max_rate_limit_wait')!r}"
            )
        self.fetch_reviews = bool(opts.get("reviews", True))
        self.fetch_profiles = _option_bool(opts, "fetch_profiles", True)
        self.profile_refresh_days = _option_int(
            opts, "profile_refresh_days", DEFAULT_PROFILE_REFRESH_DAYS, 0, 36500
        )
        client_kwargs: dict[str, Any] = {
            k: opts[k] for k in ("timeout", "max_retries") if opts.get(k) is not None
        }
        client_kwargs.update(http or {})
        self._sleep: Callable[[float], Any] = client_kwargs.get("sleep", time.sleep)
        self._clock = clock
        creds = ctx.credentials or {}
        self.token = creds.get("token") or creds.get("password") or None
        headers = {"Accept": MEDIA_TYPE, "X-GitHub-Api-Version": API_VERSION}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.client = HttpClient(self.api_url, headers=headers, **client_kwargs)
        self.client.session.hooks["response"].append(self._on_response)
        self.max_retries = self.client.max_retries
        self.repo_path = f"/repos/{self.repo}"

        self.since = parse_since(ctx.since) if ctx.since else None
        # Read now so a bad state file fails before any request.
        _stored_since(self._state.get("repo_issues"), "repo_issues")
        for kind in _LISTINGS:
            _stored_since(_sub(self._state, "repo_comments", kind), f"repo_comments.{kind}")
        self._remaining: int | None = None
        self._reset: int | None = None
        self._stopped: str | None = None
        self._updates: dict[str, dict[str, Any]] = {}
        self._people: dict[str, None] = {}  # logins seen this run, in order (an ordered set)
        self._complete = False

    # -- the connector contract -------------------------------------------------

    def interval_key(self) -> str:
        state = json.dumps(self.ctx.state, sort_keys=True, default=str)
        return f"github {self.repo} since={self.ctx.since or '*'} state={state}"

    def items(self) -> Iterator[Item]:
        self._complete = False
        self._stopped = None
        self._updates = {}
        self._people = {}
        started = utcnow()  # a watermark never passes the time this run started
        pulls: list[int] = []
        yield from self._noting_people(self._issues(started, pulls))
        comments = Spool("repo_comments")
        for kind in _LISTINGS:
            self._comments(kind, started, comments)
        self._reviews(pulls, comments)
        yield from self._noting_people(comments.drain())
        yield from self._noting_people(self._stars())
        yield from self._profiles()
        if self._stopped is not None:
            log.warning(
                "github source %r (%s): stopped early: %s; what was read lands and the "
                "next run resumes where this one stopped",
                self.ctx.name,
                self.repo,
                self._stopped,
            )
        self._complete = True

    def new_state(self) -> dict[str, dict[str, Any]]:
        """The cursors to commit: changed only once ``items()`` has run (or stopped cleanly)."""
        if self._complete:
            for entity, update in self._updates.items():
                merged = {**self._state.get(entity, {})}
                for key, value in update.items():
                    # None removes a cursor field (an ETag gone stale)
                    if isinstance(value, dict):
                        old = merged.get(key) if isinstance(merged.get(key), dict) else {}
                        value = {k: v for k, v in {**old, **value}.items() if v is not None}
                    if value is None or value == {}:
                        merged.pop(key, None)
                    else:
                        merged[key] = value
                if merged or entity in self._state:
                    self._state[entity] = merged
            self._updates = {}
        return self._state

    @property
    def stopped(self) -> bool:
        """True when the run stopped early for a rate limit (after ``items()``)."""
        return self._stopped is not None

    # -- issues and pull requests -------------------------------------------------

    def _issues(self, started: datetime, pulls: list[int]) -> Iterator[Item]:
        stored = dict(self._state.get("repo_issues") or {})
        cursor = _Cursor("repo_issues", stored, self.since, started)
        params: dict[str, Any] = {
            "state": "all",
            "sort": "updated",
            "direction": "asc",
            "per_page": self.per_page,
        }
        if cursor.start is not None:
            params["since"] = to_watermark(cursor.start)
        spool = Spool("repo_issues")
        lacking: dict[int, datetime | None] = {}  # closed PRs without merged_at
        listing = _Listing()
        for page in self._paged(f"{self.repo_path}/issues", params, stored, listing):
            for record in page.records:
                item, key, updated = self._issue_item(record)
                if isinstance(item, Row) and key is not None:
                    if cursor.skip(key, updated):
                        continue
                    cursor.see(key, updated)
                    if item.values["is_pull_request"] and _lacks_merged_at(record):
                        lacking[item.values["number"]] = updated
                spool.add(key, _ts(updated), [item])
        merged = self._merged_at(lacking) if lacking else {}
        unresolved = [when for n, when in lacking.items() if n not in merged]
        cutoff: datetime | None = None
        if unresolved:
            known = [w for w in unresolved if w is not None]
            cutoff = min(known) if known else cursor.start
            cursor.cut(cutoff, "pull requests whose merged_at could not be looked up yet")
        for item in spool.drain():
            if isinstance(item, Row):
                values = item.values
                if cutoff is not None and (
                    values["updated_at"] is None or values["updated_at"] >= cutoff
                ):
                    continue  # read again next run, with merged_at
                if values["number"] in merged:
                    values["merged_at"], draft = merged[values["number"]]
                    if values["is_draft"] is None:
                        values["is_draft"] = draft
                if values["is_pull_request"]:
                    pulls.append(values["number"])
            yield item
        update = cursor.state()
        if listing.etag is not None:
            update.update(etag=listing.etag, etag_for=_query_key(params))
        else:  # an older ETag would belong to another query: drop it
            update.update(etag=None, etag_for=None)
        if update:
            self._updates["repo_issues"] = update

    def _issue_item(self, rec: Any) -> tuple[Item, str | None, datetime | None]:
        if not isinstance(rec, dict):
            return _reject("repo_issues", f"expected a JSON object, got {rec!r:.80}", rec)
        number = _number(rec.get("number"))
        if number is None:
            return _reject("repo_issues", "issue has no number", rec)
        key = str(number)
        pr = rec.get("pull_request")
        is_pr = isinstance(pr, dict) and bool(pr.get("url") or pr.get("html_url"))
        try:
            created = parse_gmt(rec.get("created_at"))
            updated = parse_gmt(rec.get("updated_at"))
            closed = parse_gmt(rec.get("closed_at"))
            merged = parse_gmt(pr.get("merged_at")) if is_pr and isinstance(pr, dict) else None
        except ValueError as exc:
            return _reject("repo_issues", f"issue {key}: unparseable date ({exc})", rec, key)
        if created is None:
            return _reject("repo_issues", f"issue {key}: no created_at", rec, key)
        user = _user(rec)
        draft = rec.get("draft")
        values = {
            "repo": self.repo,
            "number": number,
            "issue_id": text_or_none(rec.get("id")),
            "is_pull_request": is_pr,
            "title": text_or_none(rec.get("title")),
            "state": text_or_none(rec.get("state")),
            "state_reason": text_or_none(rec.get("state_reason")),
            "labels": _labels(rec.get("labels")),
            "author_login": text_or_none(user.get("login")),
            "author_association": text_or_none(rec.get("author_association")),
            "author_type": text_or_none(user.get("type")),
            "created_at": created,
            "updated_at": updated,
            "closed_at": closed,
            "merged_at": merged,
            "is_draft": draft if isinstance(draft, bool) else (None if is_pr else False),
            "comments": _number(rec.get("comments")),
            "url": text_or_none(rec.get("html_url")),
            "body_text": text_or_none(rec.get("body")),
        }
        return Row("repo_issues", values, rec), key, updated

    def _merged_at(
        self, lacking: dict[int, datetime | None]
    ) -> dict[int, tuple[datetime | None, bool | None]]:
        """``merged_at`` and ``draft`` of closed pull requests whose issue lacks them."""
        found: dict[int, tuple[datetime | None, bool | None]] = {}
        if len(lacking) <= PER_PR_LOOKUPS:
            for number in lacking:
                try:
                    response = self._get(f"{self.repo_path}/pulls/{number}")
                except HttpError as exc:
                    if exc.status not in _GONE:
                        raise
                    log.warning(
                        "github source %r: pull request %s#%d answered HTTP %s; "
                        "landing it without merged_at",
                        self.ctx.name,
                        self.repo,
                        number,
                        exc.status,
                    )
                    found[number] = (None, None)
                    continue
                if response is None:
                    return found
                body = _json(response)
                if isinstance(body, dict):
                    found[number] = _merge_fields(body)
            return found
        oldest = min((w for w in lacking.values() if w is not None), default=None)
        params = {
            "state": "closed",
            "sort": "updated",
            "direction": "desc",
            "per_page": self.per_page,
        }
        for page in self._paged(f"{self.repo_path}/pulls", params, {}, _Listing()):
            for record in page.records:
                if not isinstance(record, dict):
                    continue
                number = _number(record.get("number"))
                if number in lacking:
                    found[number] = _merge_fields(record)
            last = page.records[-1] if page.records else None
            try:
                last_updated = parse_gmt(last.get("updated_at")) if isinstance(last, dict) else None
            except ValueError:
                last_updated = None
            if len(found) == len(lacking) or (
                oldest is not None and last_updated is not None and last_updated < oldest
            ):
                break
        if self._stopped is None:
            # Listed to the end: a pull request not found there is gone; land it as read.
            for number in lacking:
                found.setdefault(number, (None, None))
        return found

    # -- comments and reviews -----------------------------------------------------

    def _comments(self, kind: str, started: datetime, spool: Spool) -> None:
        if self._stopped is not None:
            return
        stored = dict(_sub(self._state, "repo_comments", kind))
        cursor = _Cursor(f"repo_comments.{kind}", stored, self.since, started)
        path = "issues/comments" if kind == "issue_comment" else "pulls/comments"
        params: dict[str, Any] = {"sort": "updated", "direction": "asc", "per_page": self.per_page}
        if cursor.start is not None:
            params["since"] = to_watermark(cursor.start)
        listing = _Listing()
        for page in self._paged(f"{self.repo_path}/{path}", params, stored, listing):
            for record in page.records:
                item, key, updated = self._comment_item(record, kind)
                if isinstance(item, Row) and key is not None:
                    if cursor.skip(key, updated):
                        continue
                    cursor.see(key, updated)
                spool.add(f"{kind}:{key}" if key else None, _ts(updated), [item])
        update = cursor.state()
        if listing.etag is not None:
            update.update(etag=listing.etag, etag_for=_query_key(params))
        else:  # an older ETag would belong to another query: drop it
            update.update(etag=None, etag_for=None)
        if update:
            self._updates.setdefault("repo_comments", {})[kind] = update

    def _reviews(self, pulls: list[int], spool: Spool) -> None:
        stored = _sub(self._state, "repo_comments", "review")
        pending = [n for n in stored.get("pending") or [] if isinstance(n, int)]
        todo = list(dict.fromkeys([*pending, *pulls])) if self.fetch_reviews else []
        done: set[int] = set()
        for number in todo:
            if self._stopped is not None:
                break
            listing = _Listing()
            try:
                for page in self._paged(
                    f"{self.repo_path}/pulls/{number}/reviews",
                    {"per_page": self.per_page},
                    {},
                    listing,
                ):
                    for record in page.records:
                        item, key, _ = self._comment_item(record, "review", number)
                        version = item.values["created_at"] if isinstance(item, Row) else None
                        spool.add(f"review:{key}" if key else None, _ts(version), [item])
            except HttpError as exc:
                if exc.status not in _GONE:
                    raise
                log.warning(
                    "github source %r: reviews of pull request %s#%d answered HTTP %s; skipped",
                    self.ctx.name,
                    self.repo,
                    number,
                    exc.status,
                )
            if not listing.stopped:
                done.add(number)
        left = [n for n in todo if n not in done]
        if left or pending:
            self._updates.setdefault("repo_comments", {})["review"] = {"pending": left}

    def _comment_item(
        self, rec: Any, kind: str, number: int | None = None
    ) -> tuple[Item, str | None, datetime | None]:
        if not isinstance(rec, dict):
            return _reject("repo_comments", f"{kind}: expected a JSON object, got {rec!r:.80}", rec)
        cid = rec.get("id")
        if cid is None or cid == "" or isinstance(cid, bool):
            return _reject("repo_comments", f"{kind} has no id", rec)
        key = str(cid)
        link = "issue_url" if kind == "issue_comment" else "pull_request_url"
        found = _NUMBER_IN_URL.search(str(rec.get(link) or ""))
        number = int(found.group(1)) if found else number
        if number is None:
            reason = f"{kind} {key}: no {link} to take the issue or pull request number from"
            return _reject("repo_comments", reason, rec, key)
        try:
            if kind == "review":
                created, updated = parse_gmt(rec.get("submitted_at")), None
            else:
                created, updated = (
                    parse_gmt(rec.get("created_at")),
                    parse_gmt(rec.get("updated_at")),
                )
        except ValueError as exc:
            return _reject("repo_comments", f"{kind} {key}: unparseable date ({exc})", rec, key)
        if created is None:
            field_name = "submitted_at (a pending review)" if kind == "review" else "created_at"
            return _reject("repo_comments", f"{kind} {key}: no {field_name}", rec, key)
        user = _user(rec)
        values = {
            "repo": self.repo,
            "kind": kind,
            "comment_id": key,
            "number": number,
            "author_login": text_or_none(user.get("login")),
            "author_association": text_or_none(rec.get("author_association")),
            "author_type": text_or_none(user.get("type")),
            "review_state": text_or_none(rec.get("state")) if kind == "review" else None,
            "created_at": created,
            "updated_at": updated,
            "url": text_or_none(rec.get("html_url")),
            "body_text": text_or_none(rec.get("body")),
        }
        return Row("repo_comments", values, rec), key, updated or created

    # -- stargazers -----------------------------------------------------------------

    def _stars(self) -> Iterator[Item]:
        if self._stopped is not None:
            return
        stored = self._state.get("repo_stars") or {}
        resume = None if self.since else text_or_none(stored.get("page"))
        if resume and urlsplit(resume).scheme:
            parts = urlsplit(resume)
            if (parts.scheme, parts.netloc) != self._origin:
                log.warning(
                    "github source %r: the stored stargazers page %s is not on %s; "
                    "reading the stargazers from the first page",
                    self.ctx.name,
                    redact_url(resume),
                    self.api_url,
                )
                resume = None
        known = set(stored.get("logins") or []) if resume else set()
        spool = Spool("repo_stars")
        listing = _Listing()
        if resume:
            pages = self._paged(
                resume, None, {}, listing, accept=STAR_MEDIA_TYPE, etag=stored.get("etag")
            )
        else:
            params = {"per_page": self.per_page}
            pages = self._paged(
                f"{self.repo_path}/stargazers", params, {}, listing, accept=STAR_MEDIA_TYPE
            )
        restarted = False
        while True:
            for page in pages:
                if (
                    not restarted
                    and known
                    and page.url == resume
                    and not known <= set(_logins(page.records))
                ):
                    # Stars were removed before the stored page: it no longer holds what
                    # the last run landed there, and new stars may sit on earlier pages.
                    log.warning(
                        "github source %r: the stargazers list shrank since the last run; "
                        "reading it again from the first page",
                        self.ctx.name,
                    )
                    pages.close()
                    known, restarted = set(), True
                    pages = self._paged(
                        f"{self.repo_path}/stargazers",
                        {"per_page": self.per_page},
                        {},
                        listing,
                        accept=STAR_MEDIA_TYPE,
                    )
                    break
                for record in page.records:
                    item, login, starred = self._star_item(record)
                    if isinstance(item, Row) and login is not None:
                        if login in known:
                            continue  # landed by an earlier run (its last page is read again)
                        if self.since is not None and starred is not None and starred < self.since:
                            continue
                    spool.add(login, _ts(starred), [item])
            else:
                break
        yield from spool.drain()
        last = listing.last
        if last is not None:
            # an ETag only for a last page with room: new stars would change it
            etag = last.etag if len(last.records) < self.per_page else None
            self._updates["repo_stars"] = {
                "page": last.url,
                "logins": _logins(last.records),
                "etag": etag,
            }

    def _star_item(self, rec: Any) -> tuple[Item, str | None, datetime | None]:
        if not isinstance(rec, dict):
            return _reject("repo_stars", f"expected a JSON object, got {rec!r:.80}", rec)
        user = rec.get("user")
        if not isinstance(user, dict):
            if "login" in rec:
                reason = (
                    "stargazer without starred_at: the server ignored the "
                    f"{STAR_MEDIA_TYPE} media type"
                )
                return _reject("repo_stars", reason, rec, text_or_none(rec.get("login")))
            return _reject("repo_stars", "stargazer has no user", rec)
        login = text_or_none(user.get("login"))
        if login is None:
            return _reject("repo_stars", "stargazer has no user.login", rec)
        try:
            starred = parse_gmt(rec.get("starred_at"))
        except ValueError as exc:
            return _reject("repo_stars", f"star by {login}: unparseable date ({exc})", rec, login)
        if starred is None:
            return _reject("repo_stars", f"star by {login}: no starred_at", rec, login)
        values = {
            "repo": self.repo,
            "login": login,
            "user_id": text_or_none(user.get("id")),
            "user_type": text_or_none(user.get("type")),
            "starred_at": starred,
        }
        return Row("repo_stars", values, rec), login, starred

    # -- user profiles ----------------------------------------------------------------

    def _noting_people(self, items: Iterable[Item]) -> Iterator[Item]:
        """``items``, noting the login behind each row (bots left out)."""
        for item in items:
            if isinstance(item, Row) and item.entity in _PEOPLE:
                login_field, type_field = _PEOPLE[item.entity]
                login = item.values.get(login_field)
                if login and not _is_bot(login, item.values.get(type_field)):
                    self._people[login] = None
            yield item

    def _profiles(self) -> Iterator[Item]:
        """``/users/{login}`` for the logins of this run (and those left pending) whose
        profile was never fetched or is older than ``profile_refresh_days``."""
        if not self.fetch_profiles:
            return
        stored = self._state.get("repo_users")
        stored = stored if isinstance(stored, dict) else {}
        known = stored.get("fetched") if isinstance(stored.get("fetched"), dict) else {}
        pending = [
            login
            for login in stored.get("pending") or []
            if isinstance(login, str) and login and not _is_bot(login, None)
        ]
        horizon = self._clock() - self.profile_refresh_days * 86400.0
        todo = [
            login
            for login in dict.fromkeys([*pending, *self._people])
            if not _fetched_since(known.get(login), horizon)
        ]
        self._people = {}
        fetched: dict[str, str] = {}
        left: list[str] = []
        for login in todo:
            if self._stopped is not None:
                left.append(login)
                continue
            try:
                response = self._get(f"/users/{quote(login, safe='')}")
            except HttpError as exc:
                if exc.status not in _GONE:
                    raise
                log.warning(
                    "github source %r: profile of %r answered HTTP %s (a deleted account?); "
                    "no row, not asked again for %d days",
                    self.ctx.name,
                    login,
                    exc.status,
                    self.profile_refresh_days,
                )
                fetched[login] = _iso(self._clock())
                continue
            if response is None:  # stopped: fetched next run
                left.append(login)
                continue
            fetched[login] = _iso(self._clock())
            yield self._user_item(login, _json(response))
        if fetched:
            log.info("github source %r: %d profile(s) fetched", self.ctx.name, len(fetched))
        if fetched or left or pending:
            self._updates["repo_users"] = {"fetched": fetched, "pending": left or None}

    def _user_item(self, asked: str, rec: Any) -> Item:
        if not isinstance(rec, dict):
            return Rejected(
                "repo_users",
                f"profile of {asked}: expected a JSON object, got {rec!r:.80}",
                rec,
                asked,
            )
        login = text_or_none(rec.get("login")) or asked
        try:
            created = parse_gmt(rec.get("created_at"))
            updated = parse_gmt(rec.get("updated_at"))
        except ValueError as exc:
            return Rejected(
                "repo_users", f"profile of {login}: unparseable date ({exc})", rec, login
            )
        values = {
            "login": login,
            "user_id": text_or_none(rec.get("id")),
            "user_type": text_or_none(rec.get("type")),
            "name": text_or_none(rec.get("name")),
            "company": text_or_none(rec.get("company")),
            "blog": text_or_none(rec.get("blog")),
            "location": text_or_none(rec.get("location")),
            "email": text_or_none(rec.get("email")),
            "created_at": created,
            "updated_at": updated,
        }
        return Row("repo_users", values, rec)

    # -- requests -------------------------------------------------------------------

    def _paged(
        self,
        url: str,
        params: dict[str, Any] | None,
        stored: dict[str, Any],
        listing: _Listing,
        *,
        accept: str | None = None,
        etag: str | None = None,
    ) -> Iterator[_Page]:
        """The pages of a listing, following ``Link: rel="next"``; ``listing`` says how it went.

        The first page is asked with ``If-None-Match`` when ``stored`` holds an ETag for
        the same query (or ``etag`` is given); a 304 ends the listing with no page.
        ``listing.etag`` is kept only for a listing of one page that was not full.
        """
        if etag is None and params is not None and stored.get("etag_for") == _query_key(params):
            etag = text_or_none(stored.get("etag"))
        visited: set[str] = set()
        first = True
        target: str | None = url
        while target is not None:
            response = self._get(target, params if first else None, etag=etag, accept=accept)
            if response is None:
                listing.stopped = True
                listing.etag = None  # the listing did not end: a 304 next time proves nothing
                return
            if response.status_code == 304:
                listing.not_modified = True
                listing.etag = etag
                log.info("github source %r: %s not modified (304)", self.ctx.name, url)
                return
            page = _Page(
                self._relative(response.url),
                self._json_list(response),
                response.headers.get("ETag"),
            )
            # A 304 on this page next time proves nothing changed only when it was the
            # whole listing and had room: new or updated records sort to the end, so
            # they would change it. A full page, or a second one, keeps no ETag.
            listing.etag = page.etag if first and len(page.records) < self.per_page else None
            visited.add(response.url)
            listing.last = page
            yield page
            target = self._next_link(response, visited)
            first, etag = False, None

    def _next_link(self, response: requests.Response, visited: set[str]) -> str | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        parts = urlsplit(link)
        if (parts.scheme, parts.netloc) != self._origin:
            raise HttpError(
                f"{redact_url(response.url)} links its next page to another host "
                f"({redact_url(link)}); refusing to send the token there: check the api_url option",
                url=redact_url(response.url),
            )
        if link in visited:
            raise HttpError(
                f"{redact_url(response.url)} links back to a page already read "
                f"({redact_url(link)}): the server's pagination loops",
                url=redact_url(link),
            )
        return link

    def _get(
        self,
        url: str,
        params: Any = None,
        *,
        etag: str | None = None,
        accept: str | None = None,
    ) -> requests.Response | None:
        """GET with GitHub's rate-limit rules; None when the run must stop (rate limit)."""
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if accept:
            headers["Accept"] = accept
        tries = 0
        while True:
            if self._stopped is not None or not self._budget_left():
                return None
            try:
                return self.client.get(url, params=params, headers=headers or None)
            except _RateLimited as limit:
                tries += 1
                wait, when = self._limit_wait(limit)
                kind = (
                    "primary" if limit.retry_after is None and limit.remaining == 0 else "secondary"
                )
                if wait > self.max_wait:
                    self._stop(
                        f"GitHub's {kind} rate limit (HTTP {limit.status}: {limit.message}) "
                        f"lasts until {when} ({wait:.0f}s, over max_rate_limit_wait="
                        f"{self.max_wait:.0f}s)"
                    )
                    return None
                if tries > self.max_retries:
                    self._stop(
                        f"GitHub's {kind} rate limit (HTTP {limit.status}) persisted after "
                        f"{self.max_retries} retries"
                    )
                    return None
                log.warning(
                    "github source %r: %s rate limit (HTTP %s: %s); waiting %.0fs, until %s",
                    self.ctx.name,
                    kind,
                    limit.status,
                    limit.message,
                    wait,
                    when,
                )
                self._sleep(wait)
                self._remaining = None
            except HttpError as exc:
                raise self._explain(exc) from exc

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> Any:
        """Response hook: note the rate-limit budget; raise ``_RateLimited`` for a limit."""
        remaining = _number(response.headers.get("X-RateLimit-Remaining"))
        reset = _number(response.headers.get("X-RateLimit-Reset"))
        if remaining is not None:
            self._remaining, self._reset = remaining, reset
        status = response.status_code
        if status not in (403, 429):
            return response
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        message = _error_message(response)
        if (
            status == 429
            or retry_after is not None
            or remaining == 0
            or "rate limit" in message.lower()
        ):
            response.close()
            raise _RateLimited(status, retry_after, remaining, reset, message or "rate limited")
        return response

    def _limit_wait(self, limit: _RateLimited) -> tuple[float, str]:
        now = self._clock()
        if limit.retry_after is not None:
            wait = limit.retry_after
        elif limit.remaining == 0 and limit.reset is not None:
            wait = max(0.0, limit.reset - now) + RESET_MARGIN
        else:
            wait = SECONDARY_WAIT
        return wait, _iso(now + wait)

    def _budget_left(self) -> bool:
        """Before a request: with no requests left, wait for the reset or stop."""
        if self._remaining != 0 or self._reset is None:
            return True
        now = self._clock()
        if self._reset <= now:
            self._remaining = None
            return True
        wait = self._reset - now + RESET_MARGIN
        when = _iso(self._reset)
        if wait > self.max_wait:
            self._stop(
                f"GitHub's rate limit for this token is used up (X-RateLimit-Remaining: 0) "
                f"until {when} ({wait:.0f}s, over max_rate_limit_wait={self.max_wait:.0f}s)"
            )
            return False
        log.warning(
            "github source %r: rate limit used up; waiting %.0fs, until %s",
            self.ctx.name,
            wait,
            when,
        )
        self._sleep(wait)
        self._remaining = None
        return True

    def _stop(self, why: str) -> None:
        if self._stopped is None:
            self._stopped = why
            log.warning("github source %r (%s): %s; stopping early", self.ctx.name, self.repo, why)

    def _explain(self, exc: HttpError) -> HttpError:
        where = f"{self.repo} at {self.api_url}"
        if exc.status == 401:
            hint = (
                "GitHub rejected the token (401 Bad credentials): it is wrong, expired or "
                "revoked; check credentials.token (an Airflow connection's password or extra "
                "'token', or credentials.env)"
                if self.token
                else "GitHub asks for a token (401); set credentials.token"
            )
        elif exc.status == 404:
            hint = (
                "not found (404): no such repository, or it is private and the token cannot "
                "see it (GitHub answers 404, not 403); check LOCATION (OWNER/REPO), the "
                "api_url option and the token's access"
            )
        elif exc.status == 403:
            hint = "access denied (403): the token lacks permission for this repository"
        else:
            return exc
        return HttpError(
            f"github source {self.ctx.name!r}: {where}: {hint} ({exc})",
            status=exc.status,
            url=exc.url,
            response=exc.response,
        )

    def _json_list(self, response: requests.Response) -> list[Any]:
        hint = f"is {self.api_url!r} a GitHub API (GitHub Enterprise: https://HOST/api/v3)?"
        return json_body(response, list, hint)

    def _relative(self, url: str) -> str:
        return url[len(self.api_url) :] if url.startswith(self.api_url + "/") else url


# -- the since cursor ------------------------------------------------------------


class _Cursor:
    """How far a listing sorted by ``updated_at`` ascending got.

    ``since`` is the newest ``updated_at`` landed, ``seen`` the keys landed with
    exactly that time: GitHub's ``since`` is inclusive, so the next run reads them
    again and skips them while unchanged. Memory holds one small tuple per key.
    """

    def __init__(
        self, label: str, stored: dict[str, Any], since: datetime | None, ceiling: datetime
    ) -> None:
        self.label = label
        self.stored = stored
        self.stored_since = _stored_since(stored, label)
        self.start = since or self.stored_since
        self.skip_keys = frozenset() if since else frozenset(stored.get("seen") or [])
        self.mark = Watermark(self.start, ceiling)
        self.landed: dict[str, datetime | None] = {}

    def skip(self, key: str, updated: datetime | None) -> bool:
        return updated is not None and updated == self.start and key in self.skip_keys

    def see(self, key: str, updated: datetime | None) -> None:
        if key in self.landed:
            old = self.landed[key]
            # Updated while paged: it moved behind the cursor and the pages after its old
            # place shifted by one, so a record may have slid onto a page already read.
            self.mark.hold(old, f"{self.label}: {key} came back while paging")
            if updated is None or (old is not None and old > updated):
                updated = old
        self.landed[key] = updated
        self.mark.see(updated)

    def cut(self, cutoff: datetime | None, why: str) -> None:
        """Records updated at or after ``cutoff`` do not land this run."""
        self.mark.hold(cutoff, f"{self.label}: {why}")
        self.landed = {
            k: v for k, v in self.landed.items() if v is not None and (cutoff is None or v < cutoff)
        }

    def state(self) -> dict[str, Any]:
        value = self.mark.value()
        if value is None or (self.stored_since is not None and value < self.stored_since):
            return {k: self.stored[k] for k in ("since", "seen") if k in self.stored}
        seen = {k for k, v in self.landed.items() if v == value}
        if value == self.stored_since:
            seen |= set(self.stored.get("seen") or [])
        return {"since": to_watermark(value), "seen": sorted(seen, key=_natural)}


# -- helpers ---------------------------------------------------------------------


def _stored_since(stored: Any, label: str) -> datetime | None:
    return stored_time({label: stored if isinstance(stored, dict) else {}}, label, "since")


def _sub(state: dict[str, dict[str, Any]], entity: str, key: str) -> dict[str, Any]:
    value = (state.get(entity) or {}).get(key)
    return value if isinstance(value, dict) else {}


def _query_key(params: dict[str, Any]) -> str:
    return urlencode(sorted((k, str(v)) for k, v in params.items()))


def _option_int(opts: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(opts.get(name, default))
    except (TypeError, ValueError):
        value = low - 1
    if not low <= value <= high:
        raise ValueError(f"github option {name} must be {low}-{high}, got {opts.get(name)!r}")
    return value


def _option_bool(opts: dict[str, Any], name: str, default: bool) -> bool:
    value = opts.get(name, default)
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "off", "0"):
        return False
    if value is None or isinstance(value, bool) or value in (0, 1):
        return default if value is None else bool(value)
    raise ValueError(f"github option {name} must be true or false, got {value!r}")


def _is_bot(login: str, user_type: Any) -> bool:
    return user_type == "Bot" or login.endswith("[bot]")


def _fetched_since(stored: Any, horizon: float) -> bool:
    """True when a stored fetch time is at or after ``horizon`` (epoch seconds)."""
    try:
        when = parse_since(stored) if isinstance(stored, str) else None
    except ValueError:
        when = None  # unreadable: fetch it again
    return when is not None and when.timestamp() >= horizon


def _reject(
    entity: str, reason: str, rec: Any, native_id: str | None = None
) -> tuple[Item, str | None, None]:
    return Rejected(entity, reason, rec, native_id), (f"!{native_id}" if native_id else None), None


def _lacks_merged_at(rec: dict[str, Any]) -> bool:
    pr = rec.get("pull_request")
    return rec.get("state") == "closed" and isinstance(pr, dict) and "merged_at" not in pr


def _merge_fields(pull: dict[str, Any]) -> tuple[datetime | None, bool | None]:
    try:
        merged = parse_gmt(pull.get("merged_at"))
    except ValueError:
        merged = None
    draft = pull.get("draft")
    return merged, draft if isinstance(draft, bool) else None


def _user(rec: dict[str, Any]) -> dict[str, Any]:
    user = rec.get("user")
    return user if isinstance(user, dict) else {}


def _labels(value: Any) -> list[str] | None:
    if not isinstance(value, list):
        return None
    names = []
    for label in value:
        name = label.get("name") if isinstance(label, dict) else label
        if isinstance(name, str) and name:
            names.append(name)
    return names


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _natural(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (-1, key)


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return " ".join(str(message).split())[:200] if message else ""


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ts(when: datetime | None) -> float:
    return when.timestamp() if when is not None else float("-inf")


def _logins(records: list[Any]) -> list[str]:
    """The stargazer logins of a page of star records, in order."""
    return [
        r["user"]["login"]
        for r in records
        if isinstance(r, dict)
        and isinstance(r.get("user"), dict)
        and isinstance(r["user"].get("login"), str)
    ]
