"""WordPress REST API connector: posts, pages and comments (with pingbacks and trackbacks).

``ctx.location`` is the site's base URL (``https://blog.example.org``). The connector
reads ``/wp-json/wp/v2/posts``, ``/pages`` (unless ``include_pages`` is false) and
``/comments``, 100 records a page, to the last page (``X-WP-TotalPages``; a 400
``*_invalid_page_number`` or an empty page also ends a listing).

Incremental loads
    Posts and pages are listed with ``modified_after=<watermark>`` ordered by
    ``modified`` ascending, plus a second listing with ``after=<watermark>`` (by
    publish date) that catches scheduled posts: WordPress publishes those without
    touching their modified date. Comments are listed with ``after=<watermark>``
    (publish date) ordered by ``date_gmt`` ascending. ``ctx.since`` wins over the
    stored state. The watermark to commit is the newest date seen, exposed by
    ``new_state()`` only after ``items()`` ran to the end. When a listing shifted
    while it was paged (an id came back twice, or ``X-WP-Total`` shrank) records
    may have been skipped, so the watermark is held back to just before the shift
    and the next run reads that stretch again (staging dedups on the natural key).
    WordPress compares these dates with second precision and strictly (``>``): a
    record changed within the same second as the watermark, after this run read
    it, is picked up only by a later change or a ``--since`` reload. Comments
    moderated later (a pending comment approved after it was read) keep their old
    date and are not read again; reload with ``--since`` to refresh moderation.

Credentials (optional)
    ``username`` + ``password`` (an application password; HTTP basic auth) or
    ``token`` (``Authorization: Bearer``). With credentials, comments are read in
    ``context=edit`` (status and author e-mail come back) and pingbacks/trackbacks
    are read too (``type=pings``): WordPress lists only ``type=comment`` to
    anonymous clients. Without credentials, comments are public approved ones.

Authors and terms
    Posts are requested with ``_embed=author,wp:term``: ``author_name`` is the
    author's display name and ``author_login`` the user slug (``user_nicename``,
    the login as WordPress exposes it publicly); categories and tags are term
    names. When the embedded data is missing, ``author_login`` falls back to the
    numeric author id as a string (``author_name`` null) and terms to id strings.

Options (``ctx.options``): ``include_pages`` (default true), ``per_page`` (1-100,
default 100), ``comment_status`` (passed as ``status`` to the comments endpoint,
needs credentials; WordPress' default is ``approve``), ``api_root`` (default
``/wp-json``), ``timeout`` and ``max_retries`` (HTTP client).

Privacy: comment ``author_ip`` and ``author_user_agent`` are dropped, from the raw
JSON too. Duplicates (the same id returned twice) yield one row, the newest by
modified date (the later one on a tie); records are spooled to a temporary file
while a listing is read, so memory holds only ids, not records.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

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
from townsquare.connectors.trackbacks import trackback_from_comment
from townsquare.http import HttpClient, HttpError, json_body, redact_url
from townsquare.records import Item, Rejected, Row, utcnow
from townsquare.text import html_to_text, parse_since

log = logging.getLogger("townsquare.connectors.wordpress")

MAX_PER_PAGE = 100
ONE_SECOND = timedelta(seconds=1)
_COMMENT_STATUS = {
    "approved": "approved",
    "approve": "approved",
    "1": "approved",
    "hold": "pending",
    "unapproved": "pending",
    "0": "pending",
    "spam": "spam",
    "trash": "trash",
}
_PRIVATE_COMMENT_FIELDS = ("author_ip", "author_user_agent")


class WordPressConnector(Connector):
    """Posts, pages and comments from the WordPress REST API (``/wp-json/wp/v2``)."""

    type: ClassVar[str] = "wordpress"
    entities: ClassVar[tuple[str, ...]] = ("blog_posts", "blog_comments", "trackbacks")

    def __init__(self, ctx: ConnectorContext, *, http: dict[str, Any] | None = None) -> None:
        """``http``: extra ``HttpClient`` keyword arguments (e.g. ``sleep``, ``timeout``)."""
        super().__init__(ctx)
        if urlsplit(ctx.location).scheme not in ("http", "https"):
            raise ValueError(
                f"wordpress source {ctx.name!r}: LOCATION must be the site's base URL "
                f"(https://...), got {ctx.location!r}"
            )
        self.site_url = ctx.location.rstrip("/")
        opts = ctx.options
        self.include_pages = bool(opts.get("include_pages", True))
        self.per_page = int(opts.get("per_page", MAX_PER_PAGE))
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise ValueError(f"wordpress option per_page must be 1-100, got {self.per_page}")
        self.comment_status: str | None = opts.get("comment_status")
        self.api = "/" + str(opts.get("api_root", "/wp-json")).strip("/") + "/wp/v2"
        auth, headers = _auth_from(ctx)
        self.authenticated = auth is not None or bool(headers)
        client_kwargs: dict[str, Any] = {
            k: opts[k] for k in ("timeout", "max_retries") if opts.get(k) is not None
        }
        client_kwargs.update(http or {})
        self.client = HttpClient(self.site_url, headers=headers, auth=auth, **client_kwargs)

        since = parse_since(ctx.since) if ctx.since else None
        self.start = {
            "blog_posts": since or stored_time(self._state, "blog_posts", "modified_after"),
            "blog_comments": since or stored_time(self._state, "blog_comments", "after"),
        }
        self._marks: dict[str, Watermark] = {}
        self._complete = False

    # -- the connector contract -------------------------------------------------

    def interval_key(self) -> str:
        posts, comments = self.start["blog_posts"], self.start["blog_comments"]
        return (
            f"wordpress posts>{to_watermark(posts) if posts else '*'}"
            f" comments>{to_watermark(comments) if comments else '*'}"
        )

    def items(self) -> Iterator[Item]:
        self._complete = False
        # A watermark never passes the time this run started (by our clock): a bogus
        # future date in one record must not hide every later change.
        started = utcnow()
        self._marks = {
            e: Watermark(self.start[e], ceiling=started) for e in ("blog_posts", "blog_comments")
        }
        yield from self._posts()
        yield from self._comments()
        self._complete = True

    def new_state(self) -> dict[str, dict[str, Any]]:
        """The watermarks to commit: advanced only once ``items()`` has run to the end."""
        if self._complete:
            for entity, key in (("blog_posts", "modified_after"), ("blog_comments", "after")):
                mark = self._marks[entity].value()
                stored = stored_time(self._state, entity, key)
                if mark is not None and (stored is None or mark > stored):
                    self._state.setdefault(entity, {})[key] = to_watermark(mark)
        return self._state

    # -- posts and pages --------------------------------------------------------

    def _posts(self) -> Iterator[Item]:
        start = self.start["blog_posts"]
        mark = self._marks["blog_posts"]
        spool = Spool("blog_posts")
        endpoints = [("posts", "post")] + ([("pages", "page")] if self.include_pages else [])
        embed = {"_embed": "author,wp:term"}
        listings: list[tuple[str, dict[str, Any]]] = [
            ("modified", {"orderby": "modified", "order": "asc", **embed})
        ]
        if start is not None:
            after = to_watermark(start)
            listings[0][1]["modified_after"] = after
            # Scheduled posts are published without a new modified date: list by date too.
            listings.append(("date", {"orderby": "date", "order": "asc", "after": after, **embed}))
        for endpoint, default_type in endpoints:
            for order_by, params in listings:
                for record, stream in self._records(f"{self.api}/{endpoint}", params, mark):
                    item, key, version = self._post_item(record, default_type)
                    if isinstance(item, Row):
                        published = item.values["published_at"]
                        modified = item.values["modified_at"]
                        mark.see(published)
                        mark.see(modified)
                        stream.sort_key(key, modified if order_by == "modified" else published)
                    spool.add(key, version, [item])
        yield from spool.drain()

    def _post_item(self, rec: Any, default_type: str) -> tuple[Item, str | None, Any]:
        if not isinstance(rec, dict):
            return (
                Rejected("blog_posts", f"expected a JSON object, got {rec!r:.80}", rec),
                None,
                None,
            )
        pid = rec.get("id")
        if pid is None or pid == "":
            return Rejected("blog_posts", "post has no id", rec), None, None
        post_id = str(pid)
        try:
            published = parse_gmt(rec.get("date_gmt"))
            modified = parse_gmt(rec.get("modified_gmt"))
        except ValueError as exc:
            reason = f"post {post_id}: unparseable date ({exc})"
            return Rejected("blog_posts", reason, rec, native_id=post_id), f"!{post_id}", None
        embedded = rec.get("_embedded") if isinstance(rec.get("_embedded"), dict) else {}
        author_name, author_login = _author(embedded, rec.get("author"))
        terms = _terms(embedded)
        values = {
            "post_id": post_id,
            "site_url": self.site_url,
            "post_type": text_or_none(rec.get("type")) or default_type,
            "status": text_or_none(rec.get("status")),
            "title": html_to_text(_rendered(rec.get("title"))),
            "slug": text_or_none(rec.get("slug")),
            "url": text_or_none(rec.get("link")),
            "author_name": author_name,
            "author_login": author_login,
            "published_at": published,
            "modified_at": modified,
            "content_text": html_to_text(_rendered(rec.get("content"))),
            "categories": _term_list(rec, terms, "categories", "category"),
            "tags": _term_list(rec, terms, "tags", "post_tag"),
            "comment_count": None,
            "comments_feed_url": None,
        }
        return Row("blog_posts", values, rec), post_id, modified

    # -- comments ---------------------------------------------------------------

    def _comments(self) -> Iterator[Item]:
        start = self.start["blog_comments"]
        mark = self._marks["blog_comments"]
        spool = Spool("blog_comments")
        base: dict[str, Any] = {"orderby": "date_gmt", "order": "asc"}
        if start is not None:
            base["after"] = to_watermark(start)
        if self.comment_status:
            base["status"] = self.comment_status
        if self.authenticated:
            base["context"] = "edit"
            listings = [{**base, "type": "comment"}, {**base, "type": "pings"}]
        else:
            log.info(
                "wordpress source %r: no credentials, so only public comments are read; "
                "WordPress lists pingbacks and trackbacks only to authenticated users",
                self.ctx.name,
            )
            listings = [base]
        for params in listings:
            for record, stream in self._records(f"{self.api}/comments", params, mark):
                items, key = self._comment_items(record)
                first = items[0]
                if isinstance(first, Row):
                    published = first.values["published_at"]
                    mark.see(published)
                    if stream.sort_key(key, published):
                        # An id seen twice in a date-ordered listing means a comment was
                        # inserted before the cursor (e.g. approved late): it may be missed.
                        mark.hold(mark.start, "a comment appeared twice while paging")
                spool.add(key, None, items)
        yield from spool.drain()

    def _comment_items(self, rec: Any) -> tuple[list[Item], str | None]:
        if not isinstance(rec, dict):
            return [
                Rejected("blog_comments", f"expected a JSON object, got {rec!r:.80}", rec)
            ], None
        raw = {k: v for k, v in rec.items() if k not in _PRIVATE_COMMENT_FIELDS}
        cid = rec.get("id")
        if cid is None or cid == "":
            return [Rejected("blog_comments", "comment has no id", raw)], None
        comment_id = str(cid)
        try:
            published = parse_gmt(rec.get("date_gmt"))
        except ValueError as exc:
            reason = f"comment {comment_id}: unparseable date_gmt ({exc})"
            return [Rejected("blog_comments", reason, raw, native_id=comment_id)], f"!{comment_id}"
        if published is None:
            reason = f"comment {comment_id}: no date_gmt"
            return [Rejected("blog_comments", reason, raw, native_id=comment_id)], f"!{comment_id}"
        status = rec.get("status")
        if status is None and not self.authenticated:
            status = "approved"  # anonymous clients only ever see approved comments
        content = rec.get("content") if isinstance(rec.get("content"), dict) else {}
        rendered = _rendered(content)
        stored_text = content.get("raw") if isinstance(content.get("raw"), str) else None
        values = {
            "comment_id": comment_id,
            "post_id": _id_or_none(rec.get("post")),
            "post_url": _strip_fragment(rec.get("link")),
            "parent_id": _id_or_none(rec.get("parent")),
            "comment_type": (text_or_none(rec.get("type")) or "comment").lower(),
            "status": _COMMENT_STATUS.get(str(status).lower(), str(status)) if status else None,
            "author_name": text_or_none(rec.get("author_name")),
            "author_email": text_or_none(rec.get("author_email")),
            "author_url": text_or_none(rec.get("author_url")),
            "published_at": published,
            "content_text": html_to_text(rendered),
        }
        items: list[Item] = [Row("blog_comments", values, raw)]
        # In edit context ``content.raw`` is the stored text: for trackbacks it starts
        # with ``<strong>title</strong>``, which the rendered (wpautop'ed) HTML hides.
        trackback = trackback_from_comment(
            values | {"content_html": stored_text or rendered}, origin="wordpress"
        )
        if trackback is not None:
            items.append(trackback)
        return items, comment_id

    # -- paging -----------------------------------------------------------------

    def _records(
        self, path: str, params: dict[str, Any], mark: Watermark
    ) -> Iterator[tuple[Any, _Stream]]:
        """Every record of a listing, page by page, with the listing's shift detector."""
        stream = _Stream(mark, path)
        page = 1
        last_total: int | None = None
        last_total_pages: int | None = None
        previous_ids: list[Any] | None = None
        while True:
            query = {**params, "per_page": self.per_page, "page": page}
            try:
                response = self.client.get(path, params=query)
            except HttpError as exc:
                if exc.status == 400 and _wp_error_code(exc.response).endswith(
                    "_invalid_page_number"
                ):
                    # Asked past the last page: the listing shrank while it was paged.
                    stream.hold_after_last_read(f"{path} page {page} no longer exists")
                    return
                raise
            records = json_body(
                response,
                list,
                f"is {self.ctx.location!r} a WordPress site with the REST API enabled? "
                "(set the api_root option if it is not at /wp-json)",
            )
            total = _int_header(response, "X-WP-Total")
            total_pages = _int_header(response, "X-WP-TotalPages")
            if last_total is not None and total is not None and total < last_total:
                stream.hold_after_last_read(f"{path} shrank from {last_total} to {total}")
            if not records:
                if last_total_pages is not None and page <= last_total_pages:
                    stream.hold_after_last_read(f"{path} page {page} came back empty")
                return
            last_total = total if total is not None else last_total
            last_total_pages = total_pages
            for record in records:
                yield record, stream
            if total_pages is not None:
                if page >= total_pages:
                    return
            elif len(records) < self.per_page:
                return
            ids = [r.get("id") if isinstance(r, dict) else r for r in records]
            if ids == previous_ids:
                url = redact_url(response.url)
                raise HttpError(
                    f"{url} returned the same records for page {page - 1} and page {page}: "
                    "the server or a cache ignores the page parameter; check caching settings",
                    status=response.status_code,
                    url=url,
                )
            previous_ids = ids
            page += 1


# -- watermarks and duplicate detection ----------------------------------------


class _Stream:
    """One paged listing: notices ids that come back (the listing shifted while paged)."""

    def __init__(self, mark: Watermark, path: str) -> None:
        self.mark = mark
        self.path = path
        self._sort: dict[str, datetime | None] = {}
        self._last: datetime | None = None

    def sort_key(self, key: str | None, value: datetime | None) -> bool:
        """Note ``key``'s sort date; True (and hold the watermark) if it was seen before."""
        if value is not None:
            self._last = value
        if key is None:
            return False
        seen_before = key in self._sort
        old = self._sort.get(key)
        self._sort[key] = value
        if seen_before:
            # The record moved behind the cursor: what followed its old place may have
            # slid onto a page already read, and it sorts no earlier than the old place.
            self.mark.hold(old - ONE_SECOND if old else None, f"id {key} came back in {self.path}")
        return seen_before

    def hold_after_last_read(self, why: str) -> None:
        """Records were removed behind the cursor: the one that slid back sorts no
        earlier than the last record read."""
        self.mark.hold(self._last - ONE_SECOND if self._last else None, why)


# -- parsing helpers -------------------------------------------------------------


def _auth_from(ctx: ConnectorContext) -> tuple[requests.auth.AuthBase | None, dict[str, str]]:
    creds = ctx.credentials or {}
    if creds.get("token"):
        return None, {"Authorization": f"Bearer {creds['token']}"}
    username, password = creds.get("username"), creds.get("password")
    if username and password:
        return requests.auth.HTTPBasicAuth(username, password), {}
    if username or password:
        raise ValueError(
            f"wordpress source {ctx.name!r}: credentials need both username and password "
            "(an application password), or a token"
        )
    return None, {}


def _wp_error_code(response: requests.Response | None) -> str:
    if response is None:
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("code") or "") if isinstance(body, dict) else ""


def _int_header(response: requests.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _rendered(field: Any) -> str | None:
    if isinstance(field, dict):
        value = field.get("rendered")
        return value if isinstance(value, str) else None
    return field if isinstance(field, str) else None


def _author(embedded: dict[str, Any], author_id: Any) -> tuple[str | None, str | None]:
    authors = embedded.get("author")
    if isinstance(authors, list) and authors and isinstance(authors[0], dict):
        user = authors[0]
        name, slug = text_or_none(user.get("name")), text_or_none(user.get("slug"))
        if name or slug:
            return (html_to_text(name) or None), slug
    return None, (str(author_id) if author_id not in (None, "", 0) else None)


def _terms(embedded: dict[str, Any]) -> dict[str, list[str]]:
    """Term names by taxonomy from ``_embedded["wp:term"]`` (a list of lists of terms)."""
    names: dict[str, list[str]] = {}
    for group in embedded.get("wp:term") or []:
        if not isinstance(group, list):
            continue
        for term in group:
            if isinstance(term, dict) and term.get("taxonomy") and text_or_none(term.get("name")):
                names.setdefault(str(term["taxonomy"]), []).append(
                    html_to_text(str(term["name"])) or ""
                )
    return names


def _term_list(
    rec: dict[str, Any], names: dict[str, list[str]], field: str, taxonomy: str
) -> list[str] | None:
    ids = rec.get(field)
    if not isinstance(ids, list):
        return None
    if taxonomy in names:
        return names[taxonomy]
    return [str(i) for i in ids]


def _id_or_none(value: Any) -> str | None:
    if value in (None, "", 0, "0"):
        return None
    return str(value)


def _strip_fragment(url: Any) -> str | None:
    if not url or not isinstance(url, str):
        return None
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
