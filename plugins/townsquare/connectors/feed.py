"""RSS 2.0 / Atom feeds → ``blog_posts`` and ``blog_comments``.

``ctx.location`` is a feed URL, a feed file, or a folder of feed files (``*.xml``,
``*.rss``, ``*.atom``, ``*.rdf``). Feeds are parsed with feedparser after two steps
of our own:

1. Decoding (``townsquare.xmlsafe.decode_xml``): BOM, UTF-16/32 without BOM from
   the NUL-byte pattern, then the HTTP charset and the XML declaration, each only
   if the bytes really decode with it (declarations lie); the text is handed to
   feedparser re-encoded as UTF-8.
2. Screening (``townsquare.xmlsafe.screen_xml``): a feed that declares entities is
   refused with ``UnsafeXMLError``. feedparser alone is not safe: it keeps entity
   declarations it deems "safe" (plain text), which is enough for a quadratic
   blow-up (a 50 kB entity referenced 20,000 times made it build a 1 GB string).

A feed is a *comment feed* when its title reads "Comments on: <post>" /
"Comments for <site>" (WordPress) or every item links to ``...#comment-N``
(``ctx.options["feed_kind"]`` = ``posts``/``comments`` overrides). Its items
become ``blog_comments`` (``post_url`` = the link without fragment, ``comment_id``
= the guid, ``post_id`` = the guid without its ``#comment-N`` fragment, which is
the post's guid in WordPress feeds); otherwise items become ``blog_posts`` with
``post_type`` ``feed_item``. With ``follow_comments`` (default on) and a feed read
from a URL, each item's ``wfw:commentRss`` feed on the same host is fetched too
(a failing one lands in quarantine; it does not stop the run).

Dates: ``published`` (RSS ``pubDate``, Atom ``published``), else ``updated``
(``dc:date``, Atom ``updated``). A post without any date has a null
``published_at``; a comment without one is ``Rejected``. feedparser's "bozo"
problems are logged and kept in ``FeedConnector.warnings``; a bozo feed with no
entries raises ``FeedError``.

``interval_key()`` is the SHA-256 of the feed bytes read or fetched (not of the
followed comment feeds) plus ``since``.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urldefrag, urlsplit

import feedparser

from townsquare.connectors.base import Connector, ConnectorContext
from townsquare.records import Item, Rejected, Row
from townsquare.text import html_to_text, local_files, parse_since, sha256_files
from townsquare.xmlsafe import UnsafeXMLError, decode_xml, screen_xml, to_utf8_document

log = logging.getLogger(__name__)

FEED_SUFFIXES = (".xml", ".rss", ".atom", ".rdf")
_COMMENT_FEED_TITLE = re.compile(r"^\s*comments\s+(?:on|for)\b", re.I)
_BY_TITLE = re.compile(r"^\s*by:\s*(?P<author>.+?)\s*$", re.I)
_ON_BY_TITLE = re.compile(r"^\s*comment on .+ by (?P<author>.+?)\s*$", re.I | re.S)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^;\s\"']+)", re.I)


class FeedError(ValueError):
    """The input is not a readable RSS/Atom feed."""


@dataclass
class FeedDocument:
    """One feed's bytes and where they came from."""

    label: str
    data: bytes
    http_charset: str | None = None
    base_url: str | None = None
    from_url: bool = False


def is_url(location: str) -> bool:
    return bool(re.match(r"^https?://", location, re.I))


def feed_files(location: str) -> list[Path]:
    return local_files(location, FEED_SUFFIXES, "feed")


def parse_feed(doc: FeedDocument) -> Any:
    """Decode, screen and parse one feed; returns feedparser's result.

    Raises ``UnsafeXMLError`` for entity declarations and ``FeedError`` when the
    bytes are not a feed (bozo with no entries, or no RSS/Atom root at all).
    """
    text, _encoding = decode_xml(doc.data, doc.http_charset)
    utf8 = to_utf8_document(text)
    screen_xml(utf8, doc.label)
    headers = {"content-type": "application/xml; charset=utf-8"}
    if doc.base_url:
        headers["content-location"] = doc.base_url
    parsed = feedparser.parse(io.BytesIO(utf8), response_headers=headers)
    if parsed.get("bozo") and not parsed.entries:
        raise FeedError(f"{doc.label}: not a readable feed: {parsed.get('bozo_exception')}")
    if not parsed.get("version") and not parsed.entries:
        raise FeedError(f"{doc.label}: not an RSS or Atom feed (no <rss>, <feed> or <rdf:RDF>)")
    return parsed


def is_comment_feed(parsed: Any) -> bool:
    title = parsed.feed.get("title") or ""
    if _COMMENT_FEED_TITLE.match(title):
        return True
    links = [e.get("link") or "" for e in parsed.entries]
    return bool(links) and all("#comment-" in link for link in links)


def _utc(value: time.struct_time | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _dates(entry: Any) -> tuple[datetime | None, datetime | None]:
    """(published, modified): published falls back to updated (Atom, dc:date).

    ``dict.get`` bypasses feedparser's deprecated ``updated`` → ``published`` alias.
    """
    updated = _utc(dict.get(entry, "updated_parsed"))
    return _utc(dict.get(entry, "published_parsed")) or updated, updated


def _content_html(entry: Any) -> str | None:
    for content in entry.get("content") or []:
        if content.get("value"):
            return str(content["value"])
    summary = entry.get("summary")
    return str(summary) if summary is not None else None


def _raw(entry: Any) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if not k.endswith("_parsed")}


def _comment_author(entry: Any) -> str | None:
    if entry.get("author"):
        return str(entry["author"]).strip() or None
    title = entry.get("title") or ""
    m = _BY_TITLE.match(title) or _ON_BY_TITLE.match(title)
    return m.group("author") if m else None


def _title(entry: Any) -> str | None:
    title = entry.get("title")
    if title is None:
        return None
    if (entry.get("title_detail") or {}).get("type") in ("text/html", "application/xhtml+xml"):
        return html_to_text(title) or None
    return " ".join(str(title).split()) or None


def _charset(content_type: str | None) -> str | None:
    m = _CHARSET.search(content_type or "")
    return m.group(1) if m else None


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


class FeedConnector(Connector):
    """Reads RSS 2.0 / Atom post feeds and WordPress comment feeds."""

    type: ClassVar[str] = "feed"
    entities: ClassVar[tuple[str, ...]] = ("blog_posts", "blog_comments")

    def __init__(self, ctx: ConnectorContext) -> None:
        super().__init__(ctx)
        self.since = parse_since(ctx.since)
        self.url = ctx.location if is_url(ctx.location) else None
        self.files = [] if self.url else feed_files(ctx.location)
        self.follow_comments = bool(ctx.options.get("follow_comments", True))
        kind = ctx.options.get("feed_kind", "auto")
        if kind not in ("auto", "posts", "comments"):
            raise ValueError(
                f"feed: option feed_kind must be auto, posts or comments (got {kind!r})"
            )
        self.kind: str = kind
        self.warnings: list[str] = []
        self._client: Any = None
        self._main: FeedDocument | None = None
        self._digest: str | None = None

    # -- input

    def _http(self) -> Any:
        if self._client is None:
            from townsquare.http import HttpClient

            opts = self.ctx.options
            self._client = HttpClient(
                timeout=float(opts.get("timeout", 30)),
                max_retries=int(opts.get("max_retries", 5)),
                backoff=float(opts.get("backoff", 1.0)),
                headers={
                    "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
                },
            )
        return self._client

    def fetch(self, url: str) -> FeedDocument:
        response = self._http().get(url)
        return FeedDocument(
            label=url,
            data=response.content,
            http_charset=_charset(response.headers.get("Content-Type")),
            base_url=response.url or url,
            from_url=True,
        )

    def _documents(self) -> Iterator[FeedDocument]:
        if self.url:
            if self._main is None:
                self._main = self.fetch(self.url)
            yield self._main
            return
        for path in self.files:
            yield FeedDocument(label=str(path), data=path.read_bytes())

    def digest(self) -> str:
        if self._digest is None:
            if self.url:
                self._digest = hashlib.sha256(next(self._documents()).data).hexdigest()
            else:
                self._digest = sha256_files(self.files)
        return self._digest

    def interval_key(self) -> str:
        return f"feed-sha256:{self.digest()}|since:{self.ctx.since or ''}"

    # -- items

    def items(self) -> Iterator[Item]:
        try:
            for doc in self._documents():
                yield from self._document_items(doc, self.kind, parent=None)
        finally:
            if self._client is not None:
                self._client.close()
                self._client = None
        self._state["blog_posts"] = {"last_sha256": self.digest()}

    def _parse(self, doc: FeedDocument) -> Any:
        parsed = parse_feed(doc)
        if parsed.get("bozo"):
            message = f"{doc.label}: feed is not well-formed, read leniently: {parsed.get('bozo_exception')}"
            self.warnings.append(message)
            log.warning("feed: %s", message)
        return parsed

    def _document_items(
        self, doc: FeedDocument, kind: str, parent: dict[str, Any] | None
    ) -> Iterator[Item]:
        parsed = self._parse(doc)
        comments = kind == "comments" or (kind == "auto" and is_comment_feed(parsed))
        site_url = parsed.feed.get("link") or None
        for entry in parsed.entries:
            if comments:
                yield from self._comment(entry, parent)
                continue
            post = self._post(entry, site_url)
            if post is None:
                continue
            yield post
            if isinstance(post, Row) and doc.from_url and self.follow_comments:
                yield from self._follow(doc, post.values)

    def _post(self, entry: Any, site_url: str | None) -> Item | None:
        link = entry.get("link") or None
        post_id = entry.get("id") or link
        if not post_id:
            return Rejected(
                entity="blog_posts",
                reason="feed item without guid/id or link: no post id",
                raw=_raw(entry),
            )
        published, modified = _dates(entry)
        if (
            self.since
            and (published or modified)
            and max(d for d in (published, modified) if d) < self.since
        ):
            return None
        content = _content_html(entry)
        return Row(
            entity="blog_posts",
            values={
                "post_id": post_id,
                "site_url": site_url,
                "post_type": "feed_item",
                "status": "publish",
                "title": _title(entry),
                "slug": None,
                "url": link,
                "author_name": entry.get("author") or None,
                "author_login": None,
                "published_at": published,
                "modified_at": modified,
                "content_text": html_to_text(content),
                "categories": [t["term"] for t in entry.get("tags") or [] if t.get("term")],
                "tags": None,
                "comment_count": _int(entry.get("slash_comments")),
                "comments_feed_url": entry.get("wfw_commentrss") or None,
            },
            raw=_raw(entry),
        )

    def _comment(self, entry: Any, parent: dict[str, Any] | None) -> Iterator[Item]:
        link = entry.get("link") or None
        guid = entry.get("id") or link
        if not guid:
            yield Rejected(
                entity="blog_comments",
                reason="comment feed item without guid/id or link: no comment id",
                raw=_raw(entry),
            )
            return
        published, _ = _dates(entry)
        if published is None:
            yield Rejected(
                entity="blog_comments",
                reason=f"comment {guid} has no date (pubDate/published/updated)",
                raw=_raw(entry),
                native_id=guid,
            )
            return
        if self.since and published < self.since:
            return
        if parent is not None:
            post_id = parent["post_id"]
        elif "#comment-" in guid:
            post_id = urldefrag(guid).url
        else:
            post_id = None
        post_url = urldefrag(link).url if link else (parent or {}).get("url")
        detail = entry.get("author_detail") or {}
        yield Row(
            entity="blog_comments",
            values={
                "comment_id": guid,
                "post_id": post_id,
                "post_url": post_url,
                "parent_id": None,
                "comment_type": "comment",
                "status": "approved",
                "author_name": _comment_author(entry),
                "author_email": detail.get("email") or None,
                "author_url": detail.get("href") or None,
                "published_at": published,
                "content_text": html_to_text(_content_html(entry)),
            },
            raw=_raw(entry),
        )

    def _follow(self, doc: FeedDocument, post: dict[str, Any]) -> Iterator[Item]:
        url = post.get("comments_feed_url")
        if not url or post.get("comment_count") == 0:
            return
        here, there = urlsplit(doc.base_url or doc.label), urlsplit(url)
        if there.scheme not in ("http", "https") or there.netloc != here.netloc:
            message = f"{doc.label}: comment feed {url} is on another host; not followed"
            self.warnings.append(message)
            log.warning("feed: %s", message)
            return
        from townsquare.http import HttpError

        try:
            comment_doc = self.fetch(url)
            yield from self._document_items(comment_doc, "comments", parent=post)
        except (HttpError, FeedError, UnsafeXMLError) as exc:
            yield Rejected(
                entity="blog_comments",
                reason=f"comment feed of post {post['post_id']} could not be read: {exc}",
                raw={"comments_feed_url": url, "post_id": post["post_id"]},
                native_id=url,
            )
