"""Trackbacks and pingbacks found among blog comments become ``trackbacks`` rows."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from townsquare.records import Row
from townsquare.text import html_to_text

_STRONG = re.compile(r"^\s*(?:<p>\s*)?<strong>(?P<title>.*?)</strong>\s*(?P<rest>.*)$", re.S)


def domain_of(url: str | None) -> str | None:
    """Host of ``url`` lower-cased, without ``www.`` and port; None if not a URL."""
    if not url:
        return None
    host = urlsplit(url.strip()).hostname
    if not host:
        return None
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def trackback_from_comment(comment: dict[str, Any], origin: str) -> Row | None:
    """Derive a ``trackbacks`` row from a normalised ``blog_comments`` row.

    Returns None unless the comment is a pingback or trackback. WordPress stores
    the linking site's name as the comment author and the excerpt as the content,
    for trackbacks usually as ``<strong>title</strong> excerpt``.
    """
    kind = (comment.get("comment_type") or "").lower()
    if kind not in ("pingback", "trackback"):
        return None
    content = comment.get("content_html") or comment.get("content_text") or ""
    title = None
    excerpt = content
    m = _STRONG.match(content)
    if m:
        title, excerpt = html_to_text(m.group("title")), m.group("rest")
    source_url = comment.get("author_url")
    return Row(
        entity="trackbacks",
        values={
            "trackback_id": comment["comment_id"],
            "kind": kind,
            "source_url": source_url,
            "source_domain": domain_of(source_url),
            "target_post_id": comment.get("post_id"),
            "target_url": comment.get("post_url"),
            "blog_name": comment.get("author_name"),
            "title": title,
            "excerpt": html_to_text(excerpt),
            "received_at": comment.get("published_at"),
            "origin": origin,
        },
        raw={"comment_id": comment["comment_id"], "derived_from": "blog_comments"},
    )
