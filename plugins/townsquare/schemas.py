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


def _b(name: str) -> pa.Field:
    return pa.field(name, pa.bool_())


MONEY = pa.decimal128(18, 2)


def _money(name: str) -> pa.Field:
    return pa.field(name, MONEY)


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

FORUM_TOPICS = EntitySpec(
    name="forum_topics",
    family="forum",
    key=("topic_id",),
    fields=(
        _s("topic_id", nullable=False),
        _s("site_url"),
        _s("title"),
        _s("slug"),
        _s("url"),
        _s("category_id"),
        _s("category_name"),
        _list("tags"),
        _s("author_user_id"),
        _s("author_username"),
        _ts("created_at"),
        _ts("last_posted_at"),
        _ts("bumped_at"),
        _i("posts_count"),
        _i("reply_count"),
        _i("views"),
        _i("like_count"),
        _b("pinned"),
        _b("closed"),
        _b("archived"),
        _b("visible"),
        _s("archetype"),  # regular, private_message
    ),
    required=("topic_id", "created_at"),
    timestamps=("created_at", "last_posted_at", "bumped_at"),
    urls=("url", "site_url"),
    description="Discourse topics: title, category, tags, counts and dates.",
)

FORUM_POSTS = EntitySpec(
    name="forum_posts",
    family="forum",
    key=("post_id",),
    fields=(
        _s("post_id", nullable=False),
        _s("topic_id"),
        _i("post_number"),
        _i("reply_to_post_number"),
        _s("post_type"),  # regular, moderator_action, small_action, whisper
        _s("site_url"),
        _s("url"),
        _s("author_user_id"),
        _s("author_username"),
        _s("author_name"),
        _i("author_trust_level"),
        _s("author_title"),
        _s("author_primary_group"),
        _b("author_is_staff"),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("deleted_at"),
        _s("content_text"),
        _i("like_count"),
        _i("reply_count"),
    ),
    required=("post_id", "topic_id", "created_at"),
    timestamps=("created_at", "updated_at"),
    urls=("url", "site_url"),
    description="Discourse posts with their author's attributes (users sideloaded by the API).",
)

MAIL_MESSAGES = EntitySpec(
    name="mail_messages",
    family="forum",
    key=("message_id",),
    fields=(
        _s("message_id", nullable=False),
        _b("message_id_generated"),  # true: the message had no usable Message-ID
        _s("list_name"),
        _s("archive_url"),  # the mbox file or archive month the message came from
        _s("from_name"),
        _s("from_email"),  # raw layer only: never selected into marts
        _s("subject"),
        _ts("sent_at"),
        _i("sent_utc_offset_minutes"),
        _s("date_source"),  # header, envelope (the mbox "From " line)
        _s("in_reply_to"),
        _list("references"),
        _s("body_text"),
    ),
    required=("message_id", "sent_at"),
    timestamps=("sent_at",),
    urls=(),
    description="Mailing-list messages from mbox files and Pipermail/Mailman 2 archives.",
)

REPO_COMMITS = EntitySpec(
    name="repo_commits",
    family="repo",
    key=("repo", "sha"),
    fields=(
        _s("repo", nullable=False),  # owner/name, or the configured name for a plain git URL
        _s("sha", nullable=False),
        _list("parents"),
        _s("author_name"),
        _s("author_email"),  # raw layer only: never selected into marts
        _ts("authored_at"),
        _i("author_utc_offset_minutes"),
        _s("committer_name"),
        _s("committer_email"),
        _ts("committed_at"),
        _i("committer_utc_offset_minutes"),
        _s("message"),
        _i("files_changed"),
        _i("insertions"),
        _i("deletions"),
        _b("is_merge"),
        _list("co_author_names"),  # Co-authored-by trailers, in order
        _list("co_author_emails"),
    ),
    required=("repo", "sha", "authored_at"),
    timestamps=("authored_at", "committed_at"),
    description="Commits of git repositories (every branch, deduplicated by sha).",
)

REPO_ISSUES = EntitySpec(
    name="repo_issues",
    family="repo",
    key=("repo", "number"),
    fields=(
        _s("repo", nullable=False),  # owner/name
        _i("number"),
        _s("issue_id"),  # GitHub's global id
        _b("is_pull_request"),
        _s("title"),
        _s("state"),  # open, closed
        _s("state_reason"),  # completed, not_planned, reopened
        _list("labels"),
        _s("author_login"),
        _s("author_association"),  # OWNER, MEMBER, CONTRIBUTOR, NONE, ...
        _s("author_type"),  # User, Bot, Organization
        _ts("created_at"),
        _ts("updated_at"),
        _ts("closed_at"),
        _ts("merged_at"),
        _b("is_draft"),
        _i("comments"),
        _s("url"),
        _s("body_text"),
    ),
    required=("repo", "number", "created_at"),
    timestamps=("created_at", "updated_at", "closed_at", "merged_at"),
    urls=("url",),
    description="GitHub issues and pull requests.",
)

REPO_COMMENTS = EntitySpec(
    name="repo_comments",
    family="repo",
    key=("repo", "kind", "comment_id"),
    fields=(
        _s("repo", nullable=False),
        _s("kind", nullable=False),  # issue_comment, review_comment, review
        _s("comment_id", nullable=False),
        _i("number"),  # the issue or pull request
        _s("author_login"),
        _s("author_association"),
        _s("author_type"),
        _s("review_state"),  # reviews: APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
        _ts("created_at"),
        _ts("updated_at"),
        _s("url"),
        _s("body_text"),
    ),
    required=("repo", "kind", "comment_id", "created_at"),
    timestamps=("created_at", "updated_at"),
    urls=("url",),
    description="Comments on GitHub issues and pull requests, review comments and reviews.",
)

REPO_STARS = EntitySpec(
    name="repo_stars",
    family="repo",
    key=("repo", "login"),
    fields=(
        _s("repo", nullable=False),
        _s("login", nullable=False),
        _s("user_id"),
        _s("user_type"),
        _ts("starred_at"),
    ),
    required=("repo", "login", "starred_at"),
    timestamps=("starred_at",),
    description="Stargazers of GitHub repositories with the time they starred.",
)

REPO_EVENTS = EntitySpec(
    name="repo_events",
    family="repo",
    key=("event_id",),
    fields=(
        _s("event_id", nullable=False),
        _s("event_type"),  # PushEvent, IssuesEvent, WatchEvent, ...
        _s("action"),  # payload.action when present
        _s("actor_login"),
        _s("actor_id"),
        _s("repo_name"),  # owner/name
        _s("repo_id"),
        _s("org_login"),
        _ts("created_at"),
        _b("is_public"),
        _s("payload"),  # the event payload as JSON text
    ),
    required=("event_id", "created_at"),
    timestamps=("created_at",),
    description="Public GitHub events from GH Archive hourly files, filtered to configured repos.",
)

REPO_USERS = EntitySpec(
    name="repo_users",
    family="repo",
    key=("login",),
    fields=(
        _s("login", nullable=False),
        _s("user_id"),
        _s("user_type"),  # User, Bot, Organization
        _s("name"),  # display name on the profile
        _s("company"),  # free text: "@acme", "Acme Corp."
        _s("blog"),  # website, as typed (not always an absolute URL)
        _s("location"),
        _s("email"),  # public profile email (raw only: marts never select it)
        _ts("created_at"),
        _ts("updated_at"),
    ),
    required=("login",),
    timestamps=("created_at", "updated_at"),
    description=(
        "GitHub user profiles (GET /users/{login}) of the people seen in a repository's "
        "issues, comments, reviews and stars: display name, company, website, public email."
    ),
)

ACCOUNTS = EntitySpec(
    name="accounts",
    family="commercial",
    key=("account_id",),
    fields=(
        _s("account_id", nullable=False),
        _s("name"),
        _list("domains"),  # web and email domains, lower-cased, no scheme or www.
        _s("website"),
        _s("industry"),
        _s("country"),  # ISO 3166-1 alpha-2 when known
        _s("segment"),  # e.g. enterprise, mid-market, smb (free text from the CRM)
        _ts("created_at"),
        _ts("updated_at"),
    ),
    required=("account_id", "name"),
    timestamps=("created_at", "updated_at"),
    description="Customer accounts from a CRM/billing export (CSV or Parquet).",
)

SUBSCRIPTIONS = EntitySpec(
    name="subscriptions",
    family="commercial",
    key=("subscription_id",),
    fields=(
        _s("subscription_id", nullable=False),
        _s("account_id"),
        _s("product_kind"),  # support, training, other
        _s("product"),  # the product or plan name, e.g. "24/7 Enterprise Support"
        _s("plan"),  # e.g. annual, monthly, one-off
        _ts("started_at"),
        _ts("ended_at"),  # null: open-ended
        _money("amount"),  # per billing period (plan), in currency
        _s("currency"),  # ISO 4217, upper-case
        _s("status"),  # active, cancelled, expired, trial, pending
        _ts("updated_at"),
    ),
    required=("subscription_id", "account_id", "product_kind", "started_at"),
    # not started_at: a pending subscription or a booked training starts in the future (the
    # crm connector quarantines starts and ends before 1990 itself)
    timestamps=("updated_at",),
    description="Subscriptions and orders (support plans, training) from a CRM/billing export.",
)

ENTITIES: dict[str, EntitySpec] = {
    e.name: e
    for e in (
        BLOG_POSTS,
        BLOG_COMMENTS,
        TRACKBACKS,
        FORUM_TOPICS,
        FORUM_POSTS,
        MAIL_MESSAGES,
        REPO_COMMITS,
        REPO_ISSUES,
        REPO_COMMENTS,
        REPO_STARS,
        REPO_EVENTS,
        REPO_USERS,
        ACCOUNTS,
        SUBSCRIPTIONS,
    )
}


def get_entity(name: str) -> EntitySpec:
    try:
        return ENTITIES[name]
    except KeyError:
        known = ", ".join(sorted(ENTITIES))
        raise KeyError(f"unknown raw entity {name!r}; known entities: {known}") from None
