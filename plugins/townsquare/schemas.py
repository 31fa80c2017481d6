"""Registry of raw entity schemas: the contract between ingestion and dbt.

Every raw row carries the lineage columns (``source``, ``ingested_at``, ``run_id``),
the entity's native id, typed columns and ``raw`` (the original record as JSON text).
Raw IP addresses are never kept; emails are kept in raw only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

LINEAGE_FIELDS = [
    pa.field("source", pa.string(), nullable=False),
    pa.field("ingested_at", TS, nullable=False),
    pa.field("run_id", pa.string(), nullable=False),
]
RAW_FIELD = pa.field("raw", pa.string())

QUARANTINE_SCHEMA = pa.schema(
    [
        *LINEAGE_FIELDS,
        pa.field("native_id", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        RAW_FIELD,
    ]
)


@dataclass(frozen=True)
class EntitySpec:
    """One raw entity: its columns and the row-level rules that gate landing."""

    name: str
    family: str
    key: tuple[str, ...]
    """Natural key within a source (the native id columns)."""
    fields: tuple[pa.Field, ...]
    """Typed columns (lineage columns and ``raw`` are added around them)."""
    required: tuple[str, ...] = ()
    """Columns that must not be null (the key is always required)."""
    timestamps: tuple[str, ...] = ()
    """Timestamp columns that must be sane (after 1990, not in the future)."""
    urls: tuple[str, ...] = ()
    """Columns that, when present, must be absolute http(s) URLs."""
    description: str = ""
    doc: dict[str, str] = field(default_factory=dict)

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([*LINEAGE_FIELDS, *self.fields, RAW_FIELD])

    @property
    def data_columns(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def schema_hash(self) -> str:
        text = ",".join(f"{f.name}:{f.type}" for f in self.schema)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _s(name: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, pa.string(), nullable=nullable)


def _ts(name: str) -> pa.Field:
    return pa.field(name, TS)


def _i(name: str) -> pa.Field:
    return pa.field(name, pa.int64())


def _list(name: str) -> pa.Field:
    return pa.field(name, pa.list_(pa.string()))


BLOG_POSTS = EntitySpec(
    name="blog_posts",
    family="blog",
    key=("post_id",),
    fields=(
        _s("post_id", nullable=False),
        _s("site_url"),
        _s("post_type"),  # post, page, feed_item
        _s("status"),  # publish, draft, private, ...
        _s("title"),
        _s("slug"),
        _s("url"),
        _s("author_name"),
        _s("author_login"),
        _ts("published_at"),
        _ts("modified_at"),
        _s("content_text"),
        _list("categories"),
        _list("tags"),
        _i("comment_count"),
        _s("comments_feed_url"),
    ),
    required=("post_id",),
    timestamps=("published_at", "modified_at"),
    urls=("url", "site_url", "comments_feed_url"),
    description="Blog posts and pages from WXR exports, the WordPress REST API and feeds.",
)

BLOG_COMMENTS = EntitySpec(
    name="blog_comments",
    family="blog",
    key=("comment_id",),
    fields=(
        _s("comment_id", nullable=False),
        _s("post_id"),
        _s("post_url"),
        _s("parent_id"),
        _s("comment_type"),  # comment, pingback, trackback
        _s("status"),  # approved, pending, spam, trash
        _s("author_name"),
        _s("author_email"),  # raw layer only: never selected into marts
        _s("author_url"),
        _ts("published_at"),
        _s("content_text"),
    ),
    required=("comment_id", "published_at"),
    timestamps=("published_at",),
    urls=("post_url",),
    description="Comments (including pingbacks and trackbacks) on blog posts.",
)

TRACKBACKS = EntitySpec(
    name="trackbacks",
    family="trackback",
    key=("trackback_id",),
    fields=(
        _s("trackback_id", nullable=False),
        _s("kind"),  # pingback, trackback
        _s("source_url"),
        _s("source_domain"),
        _s("target_post_id"),
        _s("target_url"),
        _s("blog_name"),
        _s("title"),
        _s("excerpt"),
        _ts("received_at"),
        _s("origin"),  # wxr, wordpress, receiver
    ),
    required=("trackback_id", "source_url", "received_at"),
    timestamps=("received_at",),
    urls=("source_url", "target_url"),
    description="Inbound links: pingbacks and trackbacks received by a blog.",
)

ENTITIES: dict[str, EntitySpec] = {e.name: e for e in (BLOG_POSTS, BLOG_COMMENTS, TRACKBACKS)}


def get_entity(name: str) -> EntitySpec:
    try:
        return ENTITIES[name]
    except KeyError:
        known = ", ".join(sorted(ENTITIES))
        raise KeyError(f"unknown raw entity {name!r}; known entities: {known}") from None
