"""Discourse connector: forum topics and posts from a Discourse site's JSON API.

``ctx.location`` is the forum's base URL (``https://forum.example.org``, or a
subfolder install such as ``https://example.org/forum``). The connector reads:

- ``/categories.json?include_subcategories=true`` once, to name categories
  (a 401/403/404 there is tolerated: ``category_name`` stays null, with a log line);
- ``/latest.json`` then ``/latest.json?page=N`` (topics, newest bumped first) until a
  page comes back empty or without ``topic_list.more_topics_url``;
- ``/t/{id}.json`` for every new or changed topic. Discourse inlines about 20 posts
  in ``post_stream.posts``; the others listed in ``post_stream.stream`` are fetched
  with ``/t/{id}/posts.json?post_ids[]=..`` in chunks of ``post_ids_chunk`` (20);
- on incremental runs, ``/posts.json`` then ``/posts.json?before=N`` (the latest
  posts across the forum, newest first).

Rows
    ``forum_topics``: the topic list entry overlaid by the topic detail (detail wins:
    it is newer); ``bumped_at`` comes from the list (the detail has none). The topic
    author is ``details.created_by`` from the detail, else the poster described as
    "Original Poster" in the list joined to the list's ``users`` sideload. Tags may
    be strings or ``{id, name, slug}`` objects (newer Discourse); both give names.
    ``forum_posts``: ``content_text`` is the ``cooked`` HTML as text, ``post_type``
    1-4 as ``regular``/``moderator_action``/``small_action``/``whisper``, the author
    attributes come from the post itself (``user_id``, ``username``, ``name``,
    ``trust_level``, ``staff``/``admin``/``moderator``, ``user_title``,
    ``primary_group_name``); ``like_count`` is the post's ``like_count`` when the
    server sends one, else the like entry (id 2) of ``actions_summary``.
    Records that are not objects, have no id, or have no or an unparseable
    ``created_at`` (any unparseable date, in fact) become ``Rejected`` rows.

Incremental loads
    State: ``forum_topics: {"bumped_after": ISO time}`` (the newest ``bumped_at``
    landed, never past the time the run started) and ``forum_posts:
    {"max_post_id": N}`` (the highest post id landed among posts created before the
    run started). With state, the topic list is read newest-bumped first and
    stops at the first topic that is not pinned and has ``bumped_at <= bumped_after``;
    pinned topics come first, out of date order, so they are skipped (and fetched
    only when they changed), never a reason to stop. Then ``/posts.json`` is paged
    back (``before`` = the lowest id seen minus one: Discourse's ``before`` is
    inclusive) until a post id ``<= max_post_id`` or an empty page: this catches
    posts that did not bump their topic. ``ctx.since`` (``--since``) wins over the
    state: topics bumped after it, and latest posts created after it, are read. The
    state advances only through ``new_state()`` after ``items()`` ran to the end
    (the runner commits it after the data), and never moves back.

Limits
    ``/posts.json`` lists only public, visible, regular posts (no whispers, small
    actions or private messages), and edits do not bump a topic: an edited post is
    refreshed when its topic is next bumped, or by a ``--since`` reload. A topic
    whose posts arrive only through ``/posts.json`` keeps its old topic row (counts)
    until it is bumped. A topic deleted or unlisted while the list is paged shifts
    the list up by one, so one topic may slide onto a page already read; it is
    picked up when next bumped or by a ``--since`` reload. A topic gone between the
    list and its detail (404/403/410) lands from its list entry, without posts; one
    gone between its detail and a ``post_ids[]`` chunk lands the posts read so far.

Credentials (optional)
    ``api_key`` and ``api_username`` (an Airflow connection extra or environment
    variables) are sent as the ``Api-Key``/``Api-Username`` headers (masked in logs);
    a single-user key may come without ``api_username``. Without them the connector
    sees what an anonymous visitor sees; a login-required forum needs them.

Options (``ctx.options``): ``public_url`` (the forum's public base URL for the
``site_url``/``url`` columns when the API is reached at another address, e.g. an
internal host name; default LOCATION), ``post_ids_chunk`` (1-1000, default 20, what
Discourse itself uses), ``timeout`` and ``max_retries`` (HTTP client: 429 honours Retry-After,
5xx back off, both up to ``max_retries``).

Duplicates (a topic bumped while paging appears on two pages; a post comes in a
topic detail and in ``/posts.json``) yield one row per id: the topic detail wins
over a list, then the newest ``bumped_at``/``updated_at`` (the later one on a tie).
Records are spooled to a temporary file, so memory holds ids, not records.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from townsquare.connectors.base import Connector, ConnectorContext
from townsquare.connectors.incremental import (
    Spool,
    Watermark,
    parse_gmt,
    stored_time,
    text_or_none,
)
from townsquare.http import HttpClient, HttpError, json_body
from townsquare.records import Item, Rejected, Row, utcnow
from townsquare.text import html_to_text, parse_since

log = logging.getLogger("townsquare.connectors.discourse")

DEFAULT_CHUNK = 20
MAX_CHUNK = 1000
POST_TYPES = {1: "regular", 2: "moderator_action", 3: "small_action", 4: "whisper"}
LIKE_ACTION = 2
_GONE = (403, 404, 410)
# Ranks in a duplicate's version: a topic detail beats a list (``/posts.json``).
_LIST, _DETAIL = 0, 1


class DiscourseConnector(Connector):
    """Topics and posts from a Discourse forum (``/latest.json``, ``/t/{id}.json``, ``/posts.json``)."""

    type: ClassVar[str] = "discourse"
    entities: ClassVar[tuple[str, ...]] = ("forum_topics", "forum_posts")

    def __init__(self, ctx: ConnectorContext, *, http: dict[str, Any] | None = None) -> None:
        """``http``: extra ``HttpClient`` keyword arguments (e.g. ``sleep``, ``timeout``)."""
        super().__init__(ctx)
        parts = urlsplit(ctx.location)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"discourse source {ctx.name!r}: LOCATION must be the forum's base URL "
                f"(https://...), got {ctx.location!r}"
            )
        self.site_url = ctx.location.rstrip("/")
        # The forum's public address for the url columns, when the API is reached at another
        # one (an internal host name, a proxy, a recorded copy served locally).
        self.public_url = str(ctx.options.get("public_url") or self.site_url).rstrip("/")
        if urlsplit(self.public_url).scheme not in ("http", "https"):
            raise ValueError(
                f"discourse source {ctx.name!r}: option public_url must be an http(s) URL, "
                f"got {self.public_url!r}"
            )
        opts = ctx.options
        try:
            self.chunk = int(opts.get("post_ids_chunk", DEFAULT_CHUNK))
        except (TypeError, ValueError):
            self.chunk = 0
        if not 1 <= self.chunk <= MAX_CHUNK:
            raise ValueError(
                f"discourse option post_ids_chunk must be 1-{MAX_CHUNK}, "
                f"got {opts.get('post_ids_chunk')!r}"
            )
        client_kwargs: dict[str, Any] = {
            k: opts[k] for k in ("timeout", "max_retries") if opts.get(k) is not None
        }
        client_kwargs.update(http or {})
        self.authenticated, headers = _auth_headers(ctx)
        self.client = HttpClient(self.site_url, headers=headers, **client_kwargs)

        self.since = parse_since(ctx.since) if ctx.since else None
        self.bumped_after = self.since or stored_time(self._state, "forum_topics", "bumped_after")
        stored_id = _stored_post_id(self._state)
        # --since wins: the posts catch-up then goes back by date, not by id.
        self.after_post_id = None if self.since else stored_id
        self._started = utcnow()
        self._topic_mark = Watermark(self.bumped_after, ceiling=self._started)
        self._max_post_id: int | None = None
        self._complete = False

    # -- the connector contract -------------------------------------------------

    def interval_key(self) -> str:
        topics = to_watermark(self.bumped_after) if self.bumped_after else "*"
        posts = self.after_post_id if self.after_post_id is not None else "*"
        return f"discourse topics>{topics} posts>{posts}"

    def items(self) -> Iterator[Item]:
        self._complete = False
        # A watermark never passes the time this run started (by our clock).
        self._started = utcnow()
        self._topic_mark = Watermark(self.bumped_after, ceiling=self._started)
        self._max_post_id = None
        categories = self._categories()
        listed = Spool("forum_topics")
        for record, users in self._changed_topics():
            item, key, version = self._topic_item(record, users, categories)
            if isinstance(item, Row):
                self._topic_mark.see(item.values["bumped_at"])
            listed.add(key, version, [item])
        posts = Spool("forum_posts")
        details = 0
        for item in listed.drain():
            if isinstance(item, Row):
                details += 1
                item = self._with_detail(item, categories, posts)
            yield item
        if self.bumped_after is not None:
            for record in self._latest_posts():
                post, key, version = self._post_item(record, _LIST)
                posts.add(key, version, [post])
        log.info("discourse source %r: %d topic(s) read in detail", self.ctx.name, details)
        yield from posts.drain()
        self._complete = True

    def new_state(self) -> dict[str, dict[str, Any]]:
        """The cursors to commit: advanced only once ``items()`` has run to the end."""
        if self._complete:
            mark = self._topic_mark.value()
            stored = stored_time(self._state, "forum_topics", "bumped_after")
            if mark is not None and (stored is None or mark > stored):
                self._state.setdefault("forum_topics", {})["bumped_after"] = to_watermark(mark)
            stored_id = _stored_post_id(self._state)
            if self._max_post_id is not None and (
                stored_id is None or self._max_post_id > stored_id
            ):
                self._state.setdefault("forum_posts", {})["max_post_id"] = self._max_post_id
        return self._state

    # -- requests ----------------------------------------------------------------

    def _get_json(self, path: str, params: Any = None) -> dict[str, Any]:
        try:
            response = self.client.get(path, params=params)
        except HttpError as exc:
            if exc.status in (401, 403) and not self.authenticated:
                raise HttpError(
                    f"{exc}; a Discourse forum that requires login needs the api_key and "
                    "api_username credentials",
                    status=exc.status,
                    url=exc.url,
                    response=exc.response,
                ) from exc
            raise
        return json_body(
            response,
            dict,
            f"is {self.ctx.location!r} a Discourse forum? A forum that requires login answers "
            "with its HTML login page: set the api_key and api_username credentials",
        )

    def _categories(self) -> dict[str, str]:
        """Category id → name, subcategories included; empty when the forum hides them."""
        try:
            body = self._get_json("/categories.json", {"include_subcategories": "true"})
        except HttpError as exc:
            if exc.status in (401, *_GONE):
                log.warning(
                    "discourse source %r: categories are not readable (HTTP %s); "
                    "category_name will be null",
                    self.ctx.name,
                    exc.status,
                )
                return {}
            raise
        names: dict[str, str] = {}
        category_list = body.get("category_list")
        if isinstance(category_list, dict):
            _collect_categories(category_list.get("categories"), names)
        return names

    # -- topics ------------------------------------------------------------------

    def _changed_topics(self) -> Iterator[tuple[Any, dict[Any, dict[str, Any]]]]:
        """List entries of new or changed topics with their page's ``users`` sideload."""
        start = self.bumped_after
        page = 0
        previous: list[Any] | None = None
        while True:
            body = self._get_json("/latest.json", {"page": page} if page else None)
            topic_list = body.get("topic_list")
            topics = topic_list.get("topics") if isinstance(topic_list, dict) else None
            if not isinstance(topic_list, dict) or not isinstance(topics, list):
                raise HttpError(
                    f"{self.site_url}/latest.json has no topic_list.topics: is "
                    f"{self.ctx.location!r} a Discourse forum?",
                    url=f"{self.site_url}/latest.json",
                )
            if not topics:
                return
            ids = [t.get("id") if isinstance(t, dict) else t for t in topics]
            if ids == previous:
                raise HttpError(
                    f"{self.site_url}/latest.json returned the same topics for page "
                    f"{page - 1} and page {page}: the server or a cache ignores the page "
                    "parameter; check caching settings",
                    url=f"{self.site_url}/latest.json?page={page}",
                )
            previous = ids
            users = {
                u.get("id"): u
                for u in body.get("users") or []
                if isinstance(u, dict) and u.get("id") is not None
            }
            for record in topics:
                if start is None or not isinstance(record, dict):
                    yield record, users
                    continue
                try:
                    bumped = parse_gmt(record.get("bumped_at"))
                except ValueError:
                    bumped = None  # rejected by _topic_item
                if bumped is None or bumped > start:
                    yield record, users
                elif not _pinned(record):
                    return  # the first unchanged topic: everything after it is older
            if not topic_list.get("more_topics_url"):
                return
            page += 1

    def _topic_item(
        self, rec: Any, users: dict[Any, dict[str, Any]], categories: dict[str, str]
    ) -> tuple[Item, str | None, Any]:
        if not isinstance(rec, dict):
            reason = f"expected a JSON object, got {rec!r:.80}"
            return Rejected("forum_topics", reason, rec), None, None
        tid = rec.get("id")
        if tid is None or tid == "":
            return Rejected("forum_topics", "topic has no id", rec), None, None
        topic_id = str(tid)
        try:
            created = parse_gmt(rec.get("created_at"))
            last_posted = parse_gmt(rec.get("last_posted_at"))
            bumped = parse_gmt(rec.get("bumped_at"))
        except ValueError as exc:
            reason = f"topic {topic_id}: unparseable date ({exc})"
            return Rejected("forum_topics", reason, rec, topic_id), f"!{topic_id}", None
        if created is None:
            reason = f"topic {topic_id}: no created_at"
            return Rejected("forum_topics", reason, rec, topic_id), f"!{topic_id}", None
        slug = text_or_none(rec.get("slug"))
        category_id = text_or_none(rec.get("category_id"))
        author_id, author_username = _topic_author(rec, users)
        title = text_or_none(rec.get("title")) or html_to_text(text_or_none(rec.get("fancy_title")))
        values = {
            "topic_id": topic_id,
            "site_url": self.public_url,
            "title": title,
            "slug": slug,
            "url": f"{self.public_url}/t/{slug}/{topic_id}" if slug else None,
            "category_id": category_id,
            "category_name": categories.get(category_id) if category_id else None,
            "tags": _tags(rec.get("tags")),
            "author_user_id": author_id,
            "author_username": author_username,
            "created_at": created,
            "last_posted_at": last_posted,
            "bumped_at": bumped,
            "posts_count": _int(rec.get("posts_count")),
            "reply_count": _int(rec.get("reply_count")),
            "views": _int(rec.get("views")),
            "like_count": _int(rec.get("like_count")),
            "pinned": _bool(rec.get("pinned")),
            "closed": _bool(rec.get("closed")),
            "archived": _bool(rec.get("archived")),
            "visible": _bool(rec.get("visible")),
            "archetype": text_or_none(rec.get("archetype")),
        }
        return Row("forum_topics", values, rec), topic_id, (_LIST, _ts(bumped))

    def _with_detail(self, listed: Row, categories: dict[str, str], posts: Spool) -> Item:
        """The topic row from its detail (overlaying the list entry); its posts go to ``posts``."""
        topic_id = listed.values["topic_id"]
        try:
            detail = self._get_json(f"/t/{topic_id}.json")
        except HttpError as exc:
            if exc.status in _GONE:
                log.warning(
                    "discourse source %r: topic %s is listed but its detail answered HTTP %s "
                    "(deleted or made private meanwhile); landing the list entry without posts",
                    self.ctx.name,
                    topic_id,
                    exc.status,
                )
                return listed
            raise
        merged = {**listed.raw, **{k: v for k, v in detail.items() if k != "post_stream"}}
        item, _, _ = self._topic_item(merged, {}, categories)
        if isinstance(item, Row):
            for column in ("author_user_id", "author_username", "bumped_at"):
                if item.values[column] is None:
                    item.values[column] = listed.values[column]
        slug = item.values["slug"] if isinstance(item, Row) else listed.values["slug"]
        stream = detail.get("post_stream") if isinstance(detail.get("post_stream"), dict) else {}
        seen: set[Any] = set()
        for record in self._topic_posts(topic_id, stream, seen):
            post, key, version = self._post_item(record, _DETAIL, topic_id, slug)
            posts.add(key, version, [post])
        return item

    def _topic_posts(self, topic_id: str, stream: dict[str, Any], seen: set[Any]) -> Iterator[Any]:
        """The inline posts, then those only listed in ``stream``, fetched in chunks."""
        for record in stream.get("posts") or []:
            if isinstance(record, dict):
                seen.add(record.get("id"))
            yield record
        ids = stream.get("stream")
        missing = [i for i in ids if i not in seen] if isinstance(ids, list) else []
        for start in range(0, len(missing), self.chunk):
            chunk = missing[start : start + self.chunk]
            try:
                body = self._get_json(
                    f"/t/{topic_id}/posts.json", [("post_ids[]", str(i)) for i in chunk]
                )
            except HttpError as exc:
                if exc.status not in _GONE:
                    raise
                log.warning(
                    "discourse source %r: topic %s: posts %s answered HTTP %s (deleted or made "
                    "private since its detail was read); landing the posts read so far",
                    self.ctx.name,
                    topic_id,
                    ", ".join(str(i) for i in missing[start:]),
                    exc.status,
                )
                return
            more = body.get("post_stream")
            for record in (more.get("posts") if isinstance(more, dict) else None) or []:
                if isinstance(record, dict):
                    if record.get("id") in seen:
                        continue
                    seen.add(record.get("id"))
                yield record

    # -- posts -------------------------------------------------------------------

    def _latest_posts(self) -> Iterator[Any]:
        """``/posts.json`` newest first, back to the stored post id (or the start date)."""
        before: int | None = None
        while True:
            body = self._get_json("/posts.json", {"before": before} if before else None)
            records = body.get("latest_posts")
            if not isinstance(records, list):
                raise HttpError(
                    f"{self.site_url}/posts.json has no latest_posts list: is "
                    f"{self.ctx.location!r} a Discourse forum?",
                    url=f"{self.site_url}/posts.json",
                )
            if not records:
                return
            lowest: int | None = None
            reached = False
            for record in records:
                pid = _int(record.get("id")) if isinstance(record, dict) else None
                if pid is not None:
                    if before is not None and pid > before:
                        continue  # the server ignored ``before``: already read
                    lowest = pid if lowest is None else min(lowest, pid)
                if self._caught_up(record, pid):
                    reached = True
                    continue
                yield record
            if reached or lowest is None or lowest <= 1:
                return
            before = lowest - 1

    def _caught_up(self, record: Any, pid: int | None) -> bool:
        if self.after_post_id is not None:
            return pid is not None and pid <= self.after_post_id
        floor = self.bumped_after
        if floor is None or not isinstance(record, dict):
            return False
        try:
            created = parse_gmt(record.get("created_at"))
        except ValueError:
            return False
        return created is not None and created <= floor

    def _post_item(
        self, rec: Any, rank: int, topic_id: str | None = None, slug: str | None = None
    ) -> tuple[Item, str | None, Any]:
        if not isinstance(rec, dict):
            reason = f"expected a JSON object, got {rec!r:.80}"
            return Rejected("forum_posts", reason, rec), None, None
        pid = rec.get("id")
        if pid is None or pid == "":
            return Rejected("forum_posts", "post has no id", rec), None, None
        post_id = str(pid)
        try:
            created = parse_gmt(rec.get("created_at"))
            updated = parse_gmt(rec.get("updated_at"))
            deleted = parse_gmt(rec.get("deleted_at"))
        except ValueError as exc:
            reason = f"post {post_id}: unparseable date ({exc})"
            return Rejected("forum_posts", reason, rec, post_id), f"!{post_id}", None
        if created is None:
            reason = f"post {post_id}: no created_at"
            return Rejected("forum_posts", reason, rec, post_id), f"!{post_id}", None
        topic = text_or_none(rec.get("topic_id")) or topic_id
        slug = text_or_none(rec.get("topic_slug")) or slug
        number = _int(rec.get("post_number"))
        url = None
        if topic and number is not None:
            url = f"{self.public_url}/t/{slug}/{topic}/{number}" if slug else None
            url = url or f"{self.public_url}/t/{topic}/{number}"
        post_type = _int(rec.get("post_type"))
        values = {
            "post_id": post_id,
            "topic_id": topic,
            "post_number": number,
            "reply_to_post_number": _int(rec.get("reply_to_post_number")),
            "post_type": None if post_type is None else POST_TYPES.get(post_type, str(post_type)),
            "site_url": self.public_url,
            "url": url,
            "author_user_id": text_or_none(rec.get("user_id")),
            "author_username": text_or_none(rec.get("username")),
            "author_name": text_or_none(rec.get("name")),
            "author_trust_level": _int(rec.get("trust_level")),
            "author_title": text_or_none(rec.get("user_title")),
            "author_primary_group": text_or_none(rec.get("primary_group_name")),
            "author_is_staff": _staff(rec),
            "created_at": created,
            "updated_at": updated,
            "deleted_at": deleted,
            "content_text": html_to_text(text_or_none(rec.get("cooked"))),
            "like_count": _likes(rec),
            "reply_count": _int(rec.get("reply_count")),
        }
        number_id = _int(pid)
        if number_id is not None and created <= self._started:
            self._max_post_id = max(number_id, self._max_post_id or 0)
        return Row("forum_posts", values, rec), post_id, (rank, _ts(updated or created))


# -- helpers ---------------------------------------------------------------------


def to_watermark(when: datetime) -> str:
    """The form stored in state: ``2026-03-05T07:00:00.123Z`` (Discourse keeps milliseconds)."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _stored_post_id(state: dict[str, dict[str, Any]]) -> int | None:
    value = state.get("forum_posts", {}).get("max_post_id")
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"stored state for forum_posts has an unreadable max_post_id {value!r}; "
            "fix or delete the state file for this source, or pass --since"
        ) from None


def _auth_headers(ctx: ConnectorContext) -> tuple[bool, dict[str, str]]:
    creds = ctx.credentials or {}
    key, username = creds.get("api_key"), creds.get("api_username")
    if username and not key:
        raise ValueError(
            f"discourse source {ctx.name!r}: credentials have api_username but no api_key"
        )
    if not key:
        return False, {}
    headers = {"Api-Key": key}
    if username:
        headers["Api-Username"] = username
    return True, headers


def _collect_categories(categories: Any, names: dict[str, str]) -> None:
    if not isinstance(categories, list):
        return
    for category in categories:
        if not isinstance(category, dict):
            continue
        cid, name = category.get("id"), text_or_none(category.get("name"))
        if cid is not None and name:
            names[str(cid)] = name
        _collect_categories(category.get("subcategory_list"), names)


def _pinned(rec: dict[str, Any]) -> bool:
    return rec.get("pinned") is True or rec.get("pinned_globally") is True


def _topic_author(rec: dict[str, Any], users: dict[Any, dict[str, Any]]) -> tuple[Any, Any]:
    details = rec.get("details")
    created_by = details.get("created_by") if isinstance(details, dict) else None
    if isinstance(created_by, dict) and (
        created_by.get("id") is not None or created_by.get("username")
    ):
        return text_or_none(created_by.get("id")), text_or_none(created_by.get("username"))
    for poster in rec.get("posters") or []:
        if not isinstance(poster, dict):
            continue
        if "original poster" in str(poster.get("description") or "").lower():
            user = users.get(poster.get("user_id")) or {}
            return text_or_none(poster.get("user_id")), text_or_none(user.get("username"))
    return text_or_none(rec.get("user_id")), None


def _tags(value: Any) -> list[str] | None:
    """Tag names from a list of strings or of ``{id, name, slug}`` objects."""
    if not isinstance(value, list):
        return None
    names = []
    for tag in value:
        name = tag.get("name") or tag.get("slug") if isinstance(tag, dict) else tag
        if isinstance(name, str) and name:
            names.append(name)
    return names


def _staff(rec: dict[str, Any]) -> bool | None:
    if isinstance(rec.get("staff"), bool):
        return rec["staff"]
    flags = [rec.get(k) for k in ("admin", "moderator") if isinstance(rec.get(k), bool)]
    return any(flags) if flags else None


def _likes(rec: dict[str, Any]) -> int | None:
    count = _int(rec.get("like_count"))
    if count is not None:
        return count
    actions = rec.get("actions_summary")
    if not isinstance(actions, list):
        return None
    for action in actions:
        if isinstance(action, dict) and action.get("id") == LIKE_ACTION:
            return _int(action.get("count")) or 0
    return 0


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    return None


def _ts(when: datetime | None) -> float:
    return when.timestamp() if when is not None else float("-inf")
