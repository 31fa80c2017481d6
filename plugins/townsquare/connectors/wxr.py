"""WordPress WXR export files → ``blog_posts``, ``blog_comments`` and ``trackbacks``.

``ctx.location`` is a WXR file (``.xml``, ``.xml.gz``, ``.wxr``) or a folder of them.
Files are streamed item by item (``townsquare.xmlsafe.iter_elements``), so memory
does not grow with the export. Every WXR version in use is read (1.0, 1.1, 1.2; the
``wp`` namespace over http or https).

Choices, documented here because downstream models depend on them:

- Post types: ``post`` and ``page`` land (``ctx.options["post_types"]`` overrides);
  attachments, menu items, revisions, blocks, ... are skipped with their comments,
  which is not an error (``WxrConnector.skipped`` counts them).
- Dates: the ``*_gmt`` field is read as UTC. When it is missing or
  ``0000-00-00 00:00:00`` (drafts, some imports), the local field is used, shifted by
  the site's UTC offset as last observed in the same file (local minus GMT of an
  earlier record; not exact across a DST change); with no offset observed yet the
  local time is taken as UTC. No usable date: ``published_at`` is null for a post
  (allowed) and the comment is ``Rejected`` (its ``published_at`` is required).
- Comments: an empty or missing ``wp:comment_type`` means ``comment``;
  ``wp:comment_approved`` 1/0/spam/trash → approved/pending/spam/trash;
  ``wp:comment_parent`` 0 → no parent. Comment ids are the native ids (per site).
  Every pingback/trackback also yields a ``trackbacks`` row (spam ones too: join on
  ``trackback_id = comment_id`` to filter by the comment's status).
- Privacy: the commenter IP (``wp:comment_author_IP``) is dropped, the same IP is
  redacted from every other field of the comment, the Akismet meta that copies the
  request (``akismet_as_submitted``) is dropped, and IPv4 addresses in other comment
  meta values are redacted. Emails stay (raw layer).
- Bad input: an item without ``wp:post_id`` or a comment without id or date is
  ``Rejected``. A truncated or malformed file raises ``MalformedXMLError`` after the
  items before the damage have been yielded, so the runner aborts the run instead
  of committing a silently partial export. Entity declarations (billion laughs,
  XXE) raise ``UnsafeXMLError`` before any row. Control characters that XML 1.0
  forbids (old WordPress exports contain them) are removed from the byte stream.
- ``interval_key()`` is the SHA-256 of the input files (streamed) plus ``since``,
  so re-landing the same export replaces the same files.
"""

from __future__ import annotations

import gzip
import html
import logging
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar
from xml.etree.ElementTree import Element

from townsquare.connectors.base import Connector, ConnectorContext
from townsquare.connectors.trackbacks import trackback_from_comment
from townsquare.records import Item, Rejected, Row
from townsquare.text import html_to_text, local_files, parse_since, sha256_files
from townsquare.xmlsafe import MalformedXMLError, iter_elements, namespace_of

log = logging.getLogger(__name__)

WP_NS = re.compile(r"^https?://(?:www\.)?wordpress\.org/export/(\d+(?:\.\d+)*)/?$")
EXCERPT_NS = re.compile(r"^https?://(?:www\.)?wordpress\.org/export/\d+(?:\.\d+)*/excerpt/?$")
KNOWN_NS = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://wellformedweb.org/CommentAPI/": "wfw",
    "http://www.w3.org/2005/Atom": "atom",
}
DEFAULT_POST_TYPES = ("post", "page")
COMMENT_STATUS = {
    "1": "approved",
    "approve": "approved",
    "approved": "approved",
    "0": "pending",
    "hold": "pending",
    "spam": "spam",
    "trash": "trash",
    "post-trashed": "trash",
}
WXR_SUFFIXES = (".xml", ".xml.gz", ".wxr", ".wxr.gz")
_IP_META_KEYS = frozenset({"akismet_as_submitted"})
_IPV4 = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])"
)
_XML_FORBIDDEN_CONTROLS = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_WS = re.compile(r"\s+")


class WxrFormatError(ValueError):
    """The file is XML but not a WordPress export."""


# --------------------------------------------------------------------------- text


# --------------------------------------------------------------------------- dates


def parse_wp_date(text: str | None) -> datetime | None:
    """``2025-09-01 10:00:00`` → datetime (naive); the zero date or garbage → None."""
    text = (text or "").strip()
    if not text or text.startswith("0000-00-00"):
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        return None


class _SiteClock:
    """Turns WordPress (local, GMT) date pairs into UTC, learning the site's offset."""

    def __init__(self) -> None:
        self.offset: timedelta | None = None

    def utc(self, gmt_text: str | None, local_text: str | None) -> datetime | None:
        gmt = parse_wp_date(gmt_text)
        local = parse_wp_date(local_text)
        if gmt is not None:
            if local is not None:
                minutes = round((local - gmt).total_seconds() / 900) * 15
                if abs(minutes) <= 14 * 60:
                    self.offset = timedelta(minutes=minutes)
            return gmt.replace(tzinfo=UTC)
        if local is not None:
            return (local - (self.offset or timedelta(0))).replace(tzinfo=UTC)
        return None


# --------------------------------------------------------------------------- files


def wxr_files(location: str) -> list[Path]:
    """The WXR files at ``location`` (a file or a folder), in name order."""
    if re.match(r"^[a-z][a-z0-9+.-]*://", location, re.I):
        raise ValueError(
            f"wxr: {location} is a URL; the wxr connector reads export files "
            "(download the export, or use the 'wordpress' source type for the REST API)"
        )
    return local_files(location, WXR_SUFFIXES, "wxr")


class _ControlCharFilter:
    """Binary reader that drops the control characters XML 1.0 forbids.

    Safe for ASCII-compatible encodings only (in UTF-8 these bytes never occur
    inside a multi-byte sequence); not used for UTF-16/32 input.
    """

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.name = getattr(raw, "name", "<stream>")
        self.removed = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        cleaned = data.translate(None, _XML_FORBIDDEN_CONTROLS)
        self.removed += len(data) - len(cleaned)
        return cleaned

    def close(self) -> None:
        self._raw.close()


def _open_export(path: Path) -> Any:
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic[:2] == b"\x1f\x8b":
        raw: Any = gzip.open(path, "rb")  # noqa: SIM115 (closed by the caller)
        magic = raw.peek(4)[:4]
    else:
        raw = path.open("rb")
    utf16_or_32 = magic[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(magic) >= 2 and 0 in magic[:2])
    return raw if utf16_or_32 else _ControlCharFilter(raw)


# --------------------------------------------------------------------------- elements


@lru_cache(maxsize=4096)
def short_tag(tag: str) -> str:
    """Clark tag → ``wp:post_id`` / ``content:encoded`` / ``title`` whatever the WXR version."""
    if tag[:1] != "{":
        return tag
    ns, local = tag[1:].split("}", 1)
    if WP_NS.match(ns):
        return f"wp:{local}"
    if EXCERPT_NS.match(ns):
        return f"excerpt:{local}"
    prefix = KNOWN_NS.get(ns)
    return f"{prefix}:{local}" if prefix else tag


def _value(elem: Element) -> Any:
    if len(elem):
        out: dict[str, Any] = {}
        for child in elem:
            _put(out, short_tag(child.tag), _value(child))
        return out
    return elem.text or ""


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if key not in out:
        out[key] = value
    elif isinstance(out[key], list):
        out[key].append(value)
    else:
        out[key] = [out[key], value]


def _meta(elem: Element) -> dict[str, str]:
    fields = {short_tag(c.tag): c.text or "" for c in elem}
    return {"key": fields.get("wp:meta_key", ""), "value": fields.get("wp:meta_value", "")}


def _text(fields: dict[str, Any], key: str) -> str:
    value = fields.get(key)
    if isinstance(value, list):
        value = value[0] if value else ""
    return value.strip() if isinstance(value, str) else ""


def _redact(obj: Any, ip: str) -> Any:
    if isinstance(obj, str):
        return obj.replace(ip, "[redacted-ip]") if ip and ip in obj else obj
    if isinstance(obj, dict):
        return {k: _redact(v, ip) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_redact(v, ip) for v in obj]
    return obj


def _dedup(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


# --------------------------------------------------------------------------- connector


class _FileState:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.version: str | None = None
        self.site_url: str | None = None
        self.channel_link: str | None = None
        self.authors: dict[str, str] = {}
        self.clock = _SiteClock()
        self.checked = False


class WxrConnector(Connector):
    """Reads WordPress WXR exports (see the module docstring for the rules)."""

    type: ClassVar[str] = "wxr"
    entities: ClassVar[tuple[str, ...]] = ("blog_posts", "blog_comments", "trackbacks")

    _ITEM_TAGS = (
        "item",
        "link",
        "{*}author",
        "{*}wxr_version",
        "{*}base_site_url",
        "{*}base_blog_url",
    )

    def __init__(self, ctx: ConnectorContext) -> None:
        super().__init__(ctx)
        self.files = wxr_files(ctx.location)
        self.since = parse_since(ctx.since)
        post_types = ctx.options.get("post_types") or DEFAULT_POST_TYPES
        if isinstance(post_types, str):
            post_types = [t.strip() for t in post_types.split(",")]
        self.post_types = frozenset(post_types)
        self.skipped: Counter[str] = Counter()
        self._digest: str | None = None

    def digest(self) -> str:
        if self._digest is None:
            self._digest = sha256_files(self.files)
        return self._digest

    def interval_key(self) -> str:
        return f"wxr-sha256:{self.digest()}|since:{self.ctx.since or ''}"

    def items(self) -> Iterator[Item]:
        for path in self.files:
            yield from self._file_items(path)
        self._state["blog_posts"] = {"last_file_sha256": self.digest()}
        if self.skipped:
            log.info("wxr: skipped items by post type: %s", dict(self.skipped))

    # -- one file

    def _file_items(self, path: Path) -> Iterator[Item]:
        fs = _FileState(path)
        source = _open_export(path)
        try:
            for elem in iter_elements(source, self._ITEM_TAGS, max_depth=2):
                key = short_tag(elem.tag)
                if key == "item":
                    self._check_wxr(fs, elem)
                    yield from self._item(fs, elem)
                elif namespace_of(elem.tag) and not WP_NS.match(namespace_of(elem.tag)):
                    continue  # e.g. an atom:link or another vocabulary's author
                elif key == "wp:wxr_version":
                    fs.version = (elem.text or "").strip()
                elif key == "wp:base_blog_url":
                    fs.site_url = (elem.text or "").strip() or fs.site_url
                elif key == "wp:base_site_url":
                    fs.site_url = fs.site_url or (elem.text or "").strip() or None
                elif key == "link":
                    fs.channel_link = (elem.text or "").strip() or None
                elif key == "wp:author":
                    fields = _value(elem)
                    if isinstance(fields, dict):
                        login = _text(fields, "wp:author_login")
                        name = _text(fields, "wp:author_display_name")
                        if login and name:
                            fs.authors[login] = html.unescape(name)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise MalformedXMLError(f"damaged gzip stream ({exc})", source=str(path)) from None
        finally:
            source.close()
        if not fs.checked:
            self._check_wxr(fs, None)
        if isinstance(source, _ControlCharFilter) and source.removed:
            log.warning("wxr: %s: removed %d forbidden control characters", path, source.removed)

    def _check_wxr(self, fs: _FileState, item: Element | None) -> None:
        if fs.checked:
            return
        has_wp = item is not None and any(WP_NS.match(namespace_of(c.tag)) for c in item)
        if fs.version is None and not has_wp:
            raise WxrFormatError(
                f"wxr: {fs.path} is not a WordPress export (no <wp:wxr_version> and no "
                "wordpress.org/export namespace); for RSS/Atom use the 'feed' source type"
            )
        fs.checked = True

    # -- one item (post or page) and its comments

    def _item(self, fs: _FileState, elem: Element) -> Iterator[Item]:
        fields: dict[str, Any] = {}
        categories: list[dict[str, str | None]] = []
        postmeta: list[dict[str, str]] = []
        comments: list[Element] = []
        for child in elem:
            key = short_tag(child.tag)
            if key == "wp:comment":
                comments.append(child)
            elif key == "category":
                categories.append(
                    {
                        "domain": child.get("domain"),
                        "nicename": child.get("nicename"),
                        "name": (child.text or "").strip(),
                    }
                )
            elif key == "wp:postmeta":
                postmeta.append(_meta(child))
            else:
                _put(fields, key, _value(child))
        raw: dict[str, Any] = dict(fields)
        if categories:
            raw["category"] = categories
        if postmeta:
            raw["wp:postmeta"] = postmeta

        post_type = _text(fields, "wp:post_type") or "post"
        if post_type not in self.post_types:
            self.skipped[post_type] += 1
            return
        post_id = _text(fields, "wp:post_id") or None
        link = _text(fields, "link") or None
        site_url = fs.site_url or fs.channel_link
        published = fs.clock.utc(_text(fields, "wp:post_date_gmt"), _text(fields, "wp:post_date"))
        modified = fs.clock.utc(
            _text(fields, "wp:post_modified_gmt"), _text(fields, "wp:post_modified")
        )

        parsed = [(c, self._comment_fields(c)) for c in comments]
        if post_id is None:
            yield Rejected(
                entity="blog_posts",
                reason="WXR item without <wp:post_id>",
                raw=raw,
                native_id=link,
            )
        elif self._keep(published, modified):
            cats: list[str] = []
            tags: list[str] = []
            for c in categories:
                domain = (c["domain"] or "category").lower()
                name = html.unescape(c["name"] or "")
                if domain == "category":
                    cats.append(name)
                elif domain in ("post_tag", "tag"):
                    tags.append(name)
            login = _text(fields, "dc:creator") or None
            content = fields.get("content:encoded")
            approved = sum(1 for _, (cf, _ip) in parsed if _text(cf, "wp:comment_approved") == "1")
            yield Row(
                entity="blog_posts",
                values={
                    "post_id": post_id,
                    "site_url": site_url,
                    "post_type": post_type,
                    "status": _text(fields, "wp:status") or None,
                    "title": html.unescape(_text(fields, "title")) or None,
                    "slug": _text(fields, "wp:post_name") or None,
                    "url": link,
                    "author_name": fs.authors.get(login, login) if login else None,
                    "author_login": login,
                    "published_at": published,
                    "modified_at": modified,
                    "content_text": html_to_text(content) if isinstance(content, str) else None,
                    "categories": _dedup(cats),
                    "tags": _dedup(tags),
                    "comment_count": approved,
                    "comments_feed_url": _text(fields, "wfw:commentRss") or None,
                },
                raw=raw,
            )
        for _, (cfields, ip) in parsed:
            yield from self._comment(fs, cfields, ip, post_id, link)

    def _keep(self, *dates: datetime | None) -> bool:
        if self.since is None:
            return True
        known = [d for d in dates if d is not None]
        return not known or max(known) >= self.since

    @staticmethod
    def _comment_fields(elem: Element) -> tuple[dict[str, Any], str]:
        """The comment's fields without its IP, and the IP (for redaction)."""
        fields: dict[str, Any] = {}
        meta: list[dict[str, str]] = []
        ip = ""
        for child in elem:
            key = short_tag(child.tag)
            if key.lower() == "wp:comment_author_ip":
                ip = (child.text or "").strip()
            elif key == "wp:commentmeta":
                m = _meta(child)
                if m["key"] not in _IP_META_KEYS:
                    m["value"] = _IPV4.sub("[redacted-ip]", m["value"])
                    meta.append(m)
            else:
                _put(fields, key, _value(child))
        if meta:
            fields["wp:commentmeta"] = meta
        return (_redact(fields, ip) if ip else fields), ip

    def _comment(
        self,
        fs: _FileState,
        fields: dict[str, Any],
        ip: str,
        post_id: str | None,
        post_url: str | None,
    ) -> Iterator[Item]:
        comment_id = _text(fields, "wp:comment_id") or None
        gmt_text = _text(fields, "wp:comment_date_gmt")
        local_text = _text(fields, "wp:comment_date")
        published = fs.clock.utc(gmt_text, local_text)
        if comment_id is None:
            yield Rejected(
                entity="blog_comments",
                reason=f"WXR comment without <wp:comment_id> on post {post_id}",
                raw=fields,
            )
            return
        if published is None:
            yield Rejected(
                entity="blog_comments",
                reason=(
                    f"comment {comment_id} has no usable date "
                    f"(comment_date_gmt={gmt_text!r}, comment_date={local_text!r})"
                ),
                raw=fields,
                native_id=comment_id,
            )
            return
        if not self._keep(published):
            return
        comment_type = _text(fields, "wp:comment_type").lower() or "comment"
        approved = _text(fields, "wp:comment_approved").lower()
        parent = _text(fields, "wp:comment_parent")
        content = fields.get("wp:comment_content")
        content_html = content if isinstance(content, str) else ""
        values: dict[str, Any] = {
            "comment_id": comment_id,
            "post_id": post_id,
            "post_url": post_url,
            "parent_id": None if parent in ("", "0") else parent,
            "comment_type": comment_type,
            "status": COMMENT_STATUS.get(approved, approved or None),
            "author_name": html.unescape(_text(fields, "wp:comment_author")) or None,
            "author_email": _text(fields, "wp:comment_author_email") or None,
            "author_url": _text(fields, "wp:comment_author_url") or None,
            "published_at": published,
            "content_text": html_to_text(content_html),
        }
        if ip:
            values = _redact(values, ip)
        yield Row(entity="blog_comments", values=values, raw=fields)
        if comment_type in ("pingback", "trackback"):
            tb = trackback_from_comment(values | {"content_html": content_html}, origin="wxr")
            if tb is None:
                return
            if not tb.values.get("source_url"):
                yield Rejected(
                    entity="trackbacks",
                    reason=f"{comment_type} {comment_id} has no source URL (wp:comment_author_url)",
                    raw=tb.raw,
                    native_id=comment_id,
                )
            else:
                yield tb
