"""Generate the bundled Discourse forum sample for ``townsquare demo`` (deterministic, offline).

The story: *Lumen*, the fictional embedded time-series database of the blog sample
(``samples/blog/generate.py``), runs a Discourse forum. Its users are the Lumen
staff (``STAFF`` there: admins/moderators who answer questions) and community
members: the first ``N_BLOG_PEOPLE`` blog commenters of ``Generator().people`` (same
display names) plus a few people who only use the forum. Dates fall between the
blog's ``START`` and ``END``.

Usernames: half of the blog people on the forum (``GITHUB_SIGN_IN``) signed in with
GitHub, so their username is exactly their GitHub login in the GitHub sample
(``generate_github.login``: ``Omar Wendt`` → ``omar-wendt``, hyphenated); the others
and the forum-only members picked a username from their name (``Felix Marchetti`` →
``felix_marchetti``, underscores). One forum-only member, ``COLLIDING_USER`` (Kes
Trelawney, username ``kestrel-dev``), has the same username as an unrelated GitHub
account: the stargazer ``kestrel-dev`` of the GitHub sample (``EXTRA_STARGAZERS``
there, no profile name). A rule that treats forum usernames as GitHub logins merges
the two wrongly: a name-collision trap. Kes writes ``COLLIDING_POSTS`` replies,
taken over from other members' posts with a random stream of their own, so every
other post, date and count stays as it was.

The output is a recorded site: one JSON file per URL the Discourse connector asks
for, named as ``recorded_server.recorded_name`` says (see ``discourse/README.md``),
served over HTTP by ``recorded_server.RecordedServer``.

Run ``python -m townsquare.samples.forum.generate_discourse`` to rewrite
``discourse/`` next to this file. Output depends only on the constants below and
``SEED``.

Facts the tests check (they follow from the constants):

- 30 topics in 4 categories (Announcements 4, Help & Support 15, Development 6,
  Show & Tell 5); 2 pinned (the welcome topic, pinned globally, and
  the "how to ask" topic), both created first and never bumped, so they sit on top
  of ``/latest.json`` out of date order.
- 150 posts: 30 first posts, 119 replies and 1 small action (topic closed), by 27
  users (3 staff with 43 posts; 18 of the others also comment on the blog, 10 of them
  with their GitHub login as username; ``kestrel-dev`` with 3 replies); 6 topics
  have no reply (the 2 pinned ones and 4 unanswered questions); the roadmap topic
  has 27 posts, so its detail inlines 20 and 7 come through ``post_ids[]``.
- ``/latest.json`` has 20 topics (with ``more_topics_url``), ``?page=1`` the other 10.
- ``/posts.json`` pages hold the 149 regular posts, 50 a page, newest first.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from townsquare.samples.blog.generate import END, STAFF, START, Generator
from townsquare.samples.forum.recorded_server import recorded_name, write_recording
from townsquare.samples.repo.generate_github import login as github_login

SEED = 20261102
HERE = Path(__file__).resolve().parent
OUT = HERE / "discourse"

PER_PAGE = 20  # topics per /latest.json page (a site setting; Discourse's default is 30)
CHUNK = 20  # posts inlined in a topic detail (Discourse's chunk_size)
LATEST_POSTS = 50  # posts per /posts.json page
N_BLOG_PEOPLE = 20
FIRST_TOPIC_ID = 8  # 1-7: Discourse's own system topics, not public here
FIRST_POST_ID = 11
STAFF_GROUP = (41, "lumen-team")
STAFF_TITLE = "Lumen core team"
FORUM_ONLY = (
    "Lior Ben-Ami",
    "Keiko Arai",
    "Tomasz Wrona",
    "Adaeze Nwosu",
    "Pablo Ibarra",
    "Freya Lund",
)
GITHUB_SIGN_IN = (  # blog people who signed in with GitHub: username = their GitHub login
    "Omar Wendt",
    "Fatima Eklund",
    "Cyrus Petrakis",
    "Vera Okonkwo",
    "Ingrid Quist",
    "Hana Fairweather",
    "Bastian Berglund",
    "Niko Coelho",
    "Emeka Dervish",
    "Leandro Fairweather",
)
COLLIDING_USER = ("Kes Trelawney", "kestrel-dev")  # forum-only; a GitHub login of someone else
COLLIDING_POSTS = 3
COLLISION_SEED = f"{SEED}:collision"

# id, name, slug, colour
CATEGORIES = (
    (5, "Announcements", "announcements", "0088CC"),
    (6, "Help & Support", "help", "25AAE2"),
    (7, "Development", "dev", "F1592A"),
    (8, "Show & Tell", "show-and-tell", "8C6238"),
)
CAT = {name: cid for cid, name, _, _ in CATEGORIES}

# title, category, tags, first post by staff login (or None: a community member),
# replies, first-response speed (quick | medium | slow; None: no reply)
TOPICS: tuple[tuple[str, str, tuple[str, ...], str | None, int, str | None], ...] = (
    (
        "Lumen 1.0 roadmap: what do you need?",
        "Announcements",
        ("roadmap", "release"),
        "priya",
        26,
        "quick",
    ),
    (
        "WAL checksum error after a power loss",
        "Help & Support",
        ("wal", "durability"),
        None,
        4,
        "quick",
    ),
    (
        "Cross-compiling Lumen for ARMv6 (Pi Zero)",
        "Help & Support",
        ("arm", "build"),
        None,
        5,
        "medium",
    ),
    ("Retention policy per series?", "Help & Support", ("retention",), None, 0, None),
    (
        "Lumen 0.5 released: retention policies and downsampling",
        "Announcements",
        ("release", "retention"),
        "priya",
        3,
        "medium",
    ),
    (
        "Float compression ratio lower than the blog post claims",
        "Help & Support",
        ("compression", "benchmarks"),
        None,
        6,
        "slow",
    ),
    ("ESP32 port: progress thread", "Development", ("esp32", "ports"), None, 12, "quick"),
    (
        "LQL: GROUP BY time buckets with gaps",
        "Help & Support",
        ("query-language",),
        None,
        3,
        "quick",
    ),
    ("Proposal: pluggable storage backends", "Development", ("design", "storage"), None, 8, "slow"),
    (
        "Greenhouse monitoring with Lumen on a Pi",
        "Show & Tell",
        ("raspberry-pi", "iot"),
        None,
        4,
        "medium",
    ),
    (
        "Memory usage grows during compaction",
        "Help & Support",
        ("compaction", "memory"),
        None,
        5,
        "quick",
    ),
    ("Is there a Python client?", "Help & Support", ("clients", "python"), None, 2, "quick"),
    (
        "A Grafana datasource for Lumen",
        "Show & Tell",
        ("grafana", "visualization"),
        None,
        3,
        "slow",
    ),
    (
        "Fuzzing found a crash in the WAL reader",
        "Development",
        ("fuzzing", "wal"),
        None,
        4,
        "quick",
    ),
    ("Can Lumen run on Windows?", "Help & Support", ("windows", "build"), None, 0, None),
    (
        "Lumen 0.6: continuous aggregates",
        "Announcements",
        ("release", "aggregates"),
        "priya",
        5,
        "medium",
    ),
    (
        "Continuous aggregates do not refresh after a backfill",
        "Help & Support",
        ("aggregates",),
        None,
        3,
        "slow",
    ),
    (
        "Benchmark: Lumen vs SQLite on a Pi 4",
        "Show & Tell",
        ("benchmarks", "sqlite"),
        None,
        8,
        "medium",
    ),
    (
        "Support contract and SLA options for production",
        "Help & Support",
        ("support",),
        None,
        2,
        "quick",
    ),
    ("Timestamps with nanosecond precision?", "Help & Support", ("timestamps",), None, 1, "slow"),
    ("RISC-V build instructions", "Development", ("risc-v", "ports"), None, 2, "medium"),
    (
        "Running Lumen on a fleet of 5,000 sensors",
        "Show & Tell",
        ("iot", "scale"),
        None,
        4,
        "medium",
    ),
    ("Training for our team?", "Help & Support", ("training",), None, 1, "quick"),
    ("Encryption at rest", "Development", ("security", "storage"), None, 0, None),
    (
        "Downsampling loses the max value",
        "Help & Support",
        ("retention", "downsampling"),
        None,
        3,
        "slow",
    ),
    ("Lumen on Zephyr RTOS", "Development", ("zephyr", "ports"), None, 2, "slow"),
    ("Beehive scales with ESP32 and Lumen", "Show & Tell", ("esp32", "iot"), None, 3, "quick"),
    ("How do I back up a live database?", "Help & Support", ("backup",), None, 0, None),
)
PINNED = (
    ("Welcome to the Lumen forum", "Announcements", ("meta",), "ines", True),
    ("How to ask a good question (read this first)", "Help & Support", ("meta",), "tobias", False),
)
CLOSED_TOPIC = "Memory usage grows during compaction"  # closed by staff: one small action

QUESTIONS = (
    "<p>I am trying to get {topic} working and I am stuck. What am I missing?</p>",
    "<p>Quick question about {topic}: is this expected?</p><pre><code>lumen --version\nlumen 0.6.1</code></pre>",
    "<p>We evaluate Lumen at work. Has anyone looked at {topic}? Any pointers welcome.</p>",
)
ANSWERS = (
    '<p>Thanks for the report! This is a known limitation, see <a href="https://github.com/lumen-db/lumen/issues">the tracker</a>.</p>',
    "<p>Can you share your <code>lumen.toml</code> and the exact error?</p>",
    "<p>Same here &mdash; it worked after upgrading to the latest release.</p>",
    "<p>I wrote up what worked for me:</p><ol><li>rebuild with <code>--release</code></li><li>run <code>lumen fsck</code></li></ol>",
    "<p>+1, we need this too for our deployment.</p>",
    "<p>Fixed in main, it will be in the next release. Thanks!</p>",
    "<blockquote><p>Is this expected?</p></blockquote><p>Yes, by design: see the docs on {topic}.</p>",
)
DELAYS = {"quick": (0.15, 1.5), "medium": (3, 12), "slow": (48, 144)}  # hours


@dataclass
class User:
    id: int
    username: str
    name: str
    trust_level: int
    staff: bool = False
    admin: bool = False
    moderator: bool = False

    @property
    def avatar(self) -> str:
        return f"/letter_avatar_proxy/v4/letter/{self.username[0]}/3be4ac/{{size}}.png"


@dataclass
class Post:
    topic: Topic
    number: int
    user: User
    created: datetime
    cooked: str
    reply_to: int | None = None
    post_type: int = 1
    likes: int = 0
    action_code: str | None = None
    id: int = 0


@dataclass
class Topic:
    title: str
    slug: str
    category: int
    tags: tuple[str, ...]
    created: datetime
    views: int
    pinned: bool = False
    pinned_globally: bool = False
    closed: bool = False
    id: int = 0
    posts: list[Post] = field(default_factory=list)

    @property
    def regular(self) -> list[Post]:
        return [p for p in self.posts if p.post_type == 1]

    @property
    def last_posted(self) -> datetime:
        return self.regular[-1].created


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _seconds(when: datetime) -> datetime:
    return when.replace(microsecond=0)


def username(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


def slugify(title: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in title.lower()).split()
    return "-".join(words)


class Forum:
    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.staff = [
            User(i, login, name, 4, staff=True, admin=i == 1, moderator=True)
            for i, (login, name, _email) in enumerate(STAFF, 1)
        ]
        blog = [p.name for p in Generator().people[:N_BLOG_PEOPLE]]
        assert set(GITHUB_SIGN_IN) <= set(blog)
        levels = (0, 1, 1, 1, 2, 2, 3)
        self.community = [
            User(
                len(self.staff) + 1 + i,
                github_login(name) if name in GITHUB_SIGN_IN else username(name),
                name,
                self.rng.choice(levels),
            )
            for i, name in enumerate(blog + list(FORUM_ONLY))
        ]
        self.users = {u.id: u for u in self.staff + self.community}
        self.topics = self._topics()
        self._plant_collision()
        self._number()

    def _plant_collision(self) -> None:
        """``COLLIDING_USER`` takes over a few replies in Development and Show & Tell."""
        name, handle = COLLIDING_USER
        user = User(len(self.users) + 1, handle, name, 1)
        self.users[user.id] = user
        counts: dict[int, int] = {}
        for topic in self.topics:
            for post in topic.posts:
                counts[post.user.id] = counts.get(post.user.id, 0) + 1
        candidates = [
            post
            for topic in self.topics
            if topic.category in (CAT["Development"], CAT["Show & Tell"])
            for post in topic.posts
            if post.number >= 3 and post.post_type == 1 and not post.user.staff
            if counts[post.user.id] >= 4
        ]
        for post in random.Random(COLLISION_SEED).sample(candidates, COLLIDING_POSTS):
            counts[post.user.id] -= 1
            post.user = user

    def _pick_member(self) -> User:
        # a few very active members, a long tail
        weights = [1 / (1 + i) ** 0.8 for i in range(len(self.community))]
        return self.rng.choices(self.community, weights)[0]

    def _staff(self, login: str) -> User:
        return next(u for u in self.staff if u.username == login)

    def _topics(self) -> list[Topic]:
        rng = self.rng
        topics: list[Topic] = []
        for k, (title, cat, tags, login, globally) in enumerate(PINNED):
            topic = Topic(
                title,
                slugify(title),
                CAT[cat],
                tags,
                START + timedelta(hours=9 + 24 * k),
                views=rng.randrange(800, 1500),
                pinned=True,
                pinned_globally=globally,
            )
            body = "<p>Welcome! Be kind, search before posting and share what you build with Lumen.</p>"
            topic.posts.append(
                Post(topic, 1, self._staff(login), topic.created, body, likes=rng.randrange(3, 9))
            )
            topics.append(topic)
        first = START + timedelta(days=3)
        span = (END - timedelta(days=40)) - first
        for i, (title, cat, tags, login, replies, speed) in enumerate(TOPICS):
            created = _seconds(first + span * i / len(TOPICS)) + timedelta(
                minutes=rng.randrange(0, 6 * 60)
            )
            topic = Topic(
                title, slugify(title), CAT[cat], tags, created, views=rng.randrange(20, 600)
            )
            author = self._staff(login) if login else self._pick_member()
            subject = title.rstrip("?").lower()
            opener = (
                f"<p>{title}. Read the full notes on the blog and tell us what you think.</p>"
                if login
                else rng.choice(QUESTIONS).format(topic=subject)
            )
            topic.posts.append(Post(topic, 1, author, created, opener, likes=rng.randrange(0, 4)))
            when = created
            for n in range(2, replies + 2):
                if n == 2:
                    low, high = DELAYS[speed or "quick"]
                    when = _seconds(when + timedelta(hours=rng.uniform(low, high)))
                    # questions are mostly answered by staff first
                    helper = (
                        self.staff[rng.randrange(3)] if not login and rng.random() < 0.7 else None
                    )
                else:
                    when = _seconds(when + timedelta(hours=rng.uniform(0.5, 30)))
                    helper = self.staff[rng.randrange(3)] if rng.random() < 0.3 else None
                user = helper or self._pick_member()
                if user is author and n == 2:
                    user = self.staff[rng.randrange(3)]
                reply_to = 1 if n == 2 else rng.choice((None, None, n - 1, 1))
                text = rng.choice(ANSWERS).format(topic=subject)
                likes = rng.choice((0, 0, 0, 1, 1, 2, 3))
                topic.posts.append(Post(topic, n, user, when, text, reply_to, likes=likes))
            if title == CLOSED_TOPIC:
                topic.closed = True
                closer = self.staff[1]
                topic.posts.append(
                    Post(
                        topic,
                        replies + 2,
                        closer,
                        when + timedelta(days=2),
                        "",
                        post_type=3,
                        action_code="closed.enabled",
                    )
                )
            topics.append(topic)
        return topics

    def _number(self) -> None:
        for k, topic in enumerate(sorted(self.topics, key=lambda t: t.created)):
            topic.id = FIRST_TOPIC_ID + k
        everything = sorted(
            (p for t in self.topics for p in t.posts), key=lambda p: (p.created, p.topic.id)
        )
        for k, post in enumerate(everything):
            post.id = FIRST_POST_ID + k

    # -- JSON, shaped like Discourse 3.x answers --------------------------------------

    def post_json(self, post: Post, *, latest: bool = False) -> dict[str, Any]:
        user, topic = post.user, post.topic
        rec: dict[str, Any] = {
            "id": post.id,
            "name": user.name,
            "username": user.username,
            "avatar_template": user.avatar,
            "created_at": iso(post.created),
            "cooked": post.cooked,
            "post_number": post.number,
            "post_type": post.post_type,
            "updated_at": iso(post.created),
            "reply_count": sum(p.reply_to == post.number for p in topic.posts),
            "reply_to_post_number": post.reply_to,
            "quote_count": 0,
            "incoming_link_count": 0,
            "reads": 5 + post.likes * 3,
            "readers_count": 4 + post.likes * 3,
            "score": round(0.2 + post.likes * 1.5, 1),
            "yours": False,
            "topic_id": topic.id,
            "topic_slug": topic.slug,
            "display_username": user.name,
            "primary_group_name": STAFF_GROUP[1] if user.staff else None,
            "flair_name": None,
            "flair_url": None,
            "flair_bg_color": None,
            "flair_color": None,
            "flair_group_id": None,
            "version": 1,
            "can_edit": False,
            "can_delete": False,
            "can_recover": False,
            "can_see_hidden_post": False,
            "can_wiki": False,
            "user_title": STAFF_TITLE if user.staff else None,
            "bookmarked": False,
            "actions_summary": [{"id": 2, "count": post.likes}] if post.likes else [],
            "moderator": user.moderator,
            "admin": user.admin,
            "staff": user.staff,
            "user_id": user.id,
            "hidden": False,
            "trust_level": user.trust_level,
            "deleted_at": None,
            "user_deleted": False,
            "edit_reason": None,
            "can_view_edit_history": True,
            "wiki": False,
        }
        if post.action_code:
            rec["action_code"] = post.action_code
        if latest:
            rec.update(
                topic_title=topic.title,
                topic_html_title=topic.title,
                category_id=topic.category,
                raw="(raw markdown omitted in the sample)",
            )
        return rec

    def topic_list_json(self, topic: Topic) -> dict[str, Any]:
        regular = topic.regular
        counts: dict[int, int] = {}
        for p in regular:
            counts[p.user.id] = counts.get(p.user.id, 0) + 1
        op, last = regular[0].user, regular[-1].user
        others = sorted((u for u in counts if u not in (op.id, last.id)), key=lambda u: -counts[u])
        posters = [self._poster(op.id, "Original Poster", op is last, len(counts) == 1)]
        posters += [self._poster(u, "Frequent Poster") for u in others[:3]]
        if last is not op:
            posters.append(self._poster(last.id, "Most Recent Poster"))
        return {
            "id": topic.id,
            "title": topic.title,
            "fancy_title": topic.title.replace("&", "&amp;"),
            "slug": topic.slug,
            "posts_count": len(topic.posts),
            "reply_count": len(regular) - 1,
            "highest_post_number": topic.posts[-1].number,
            "image_url": None,
            "created_at": iso(topic.created),
            "last_posted_at": iso(topic.last_posted),
            "bumped": True,
            "bumped_at": iso(topic.last_posted),
            "archetype": "regular",
            "unseen": False,
            "pinned": topic.pinned,
            "unpinned": None,
            "visible": True,
            "closed": topic.closed,
            "archived": False,
            "bookmarked": None,
            "liked": None,
            "tags": list(topic.tags),
            "tags_descriptions": {},
            "views": topic.views,
            "like_count": sum(p.likes for p in topic.posts),
            "has_summary": False,
            "last_poster_username": last.username,
            "category_id": topic.category,
            "pinned_globally": topic.pinned_globally,
            "featured_link": None,
            "posters": posters,
        }

    def _poster(
        self, uid: int, role: str, also_last: bool = False, single: bool = False
    ) -> dict[str, Any]:
        description = "Original Poster, Most Recent Poster" if also_last else role
        extras = (
            "latest single"
            if single
            else ("latest" if also_last or role == "Most Recent Poster" else None)
        )
        group = STAFF_GROUP[0] if self.users[uid].staff else None
        return {
            "extras": extras,
            "description": description,
            "user_id": uid,
            "primary_group_id": group,
        }

    def latest_pages(self) -> list[dict[str, Any]]:
        pinned = [t for t in self.topics if t.pinned]
        rest = sorted(
            (t for t in self.topics if not t.pinned), key=lambda t: t.last_posted, reverse=True
        )
        ordered = pinned + rest
        pages = []
        for start in range(0, len(ordered), PER_PAGE):
            chunk = ordered[start : start + PER_PAGE]
            topic_list: dict[str, Any] = {
                "can_create_topic": False,
                "per_page": PER_PAGE,
                "top_tags": ["esp32", "release", "wal", "iot", "ports"],
                "topics": [self.topic_list_json(t) for t in chunk],
            }
            if len(chunk) == PER_PAGE:
                topic_list["more_topics_url"] = f"/latest?page={len(pages) + 1}"
            users = sorted({p["user_id"] for t in topic_list["topics"] for p in t["posters"]})
            pages.append(
                {
                    "users": [self.user_json(self.users[u]) for u in users],
                    "primary_groups": [
                        {
                            "id": STAFF_GROUP[0],
                            "name": STAFF_GROUP[1],
                            "flair_url": None,
                            "flair_bg_color": "",
                            "flair_color": "",
                        }
                    ],
                    "flair_groups": [],
                    "topic_list": topic_list,
                }
            )
        return pages

    def user_json(self, user: User) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "avatar_template": user.avatar,
            "trust_level": user.trust_level,
        }
        if user.admin:
            rec["admin"] = True
        if user.moderator:
            rec["moderator"] = True
        return rec

    def detail_json(self, topic: Topic) -> dict[str, Any]:
        listed = self.topic_list_json(topic)
        rec = {
            k: v
            for k, v in listed.items()
            if k
            not in (
                "posters",
                "bumped",
                "bumped_at",
                "unseen",
                "liked",
                "last_poster_username",
                "has_summary",
            )
        }
        op, last = topic.posts[0].user, topic.regular[-1].user
        participants = sorted({p.user.id for p in topic.regular})
        rec.update(
            {
                "views": topic.views + 1,  # the detail counts this view
                "word_count": 40 * len(topic.posts),
                "deleted_at": None,
                "user_id": op.id,
                "pinned_at": iso(topic.created) if topic.pinned else None,
                "pinned_until": None,
                "slow_mode_seconds": 0,
                "draft": None,
                "draft_key": f"topic_{topic.id}",
                "draft_sequence": None,
                "current_post_number": 1,
                "deleted_by": None,
                "has_deleted": False,
                "actions_summary": [],
                "chunk_size": CHUNK,
                "message_bus_last_id": 0,
                "participant_count": len(participants),
                "show_read_indicator": False,
                "slow_mode_enabled_until": None,
                "details": {
                    "can_edit": False,
                    "notification_level": 1,
                    "participants": [
                        {
                            "id": u,
                            "username": self.users[u].username,
                            "name": self.users[u].name,
                            "post_count": sum(p.user.id == u for p in topic.regular),
                        }
                        for u in participants
                    ],
                    "created_by": {
                        "id": op.id,
                        "username": op.username,
                        "name": op.name,
                        "avatar_template": op.avatar,
                    },
                    "last_poster": {
                        "id": last.id,
                        "username": last.username,
                        "name": last.name,
                        "avatar_template": last.avatar,
                    },
                    "links": [],
                },
                "post_stream": {
                    "posts": [self.post_json(p) for p in topic.posts[:CHUNK]],
                    "stream": [p.id for p in topic.posts],
                },
            }
        )
        return rec

    def categories_json(self) -> dict[str, Any]:
        categories = []
        for position, (cid, name, slug, colour) in enumerate(CATEGORIES):
            topics = [t for t in self.topics if t.category == cid]
            categories.append(
                {
                    "id": cid,
                    "name": name,
                    "color": colour,
                    "text_color": "FFFFFF",
                    "slug": slug,
                    "topic_count": len(topics),
                    "post_count": sum(len(t.posts) for t in topics),
                    "position": position,
                    "description": f"{name} for the Lumen community.",
                    "read_restricted": False,
                    "subcategory_ids": [],
                    "subcategory_list": [],
                }
            )
        return {
            "category_list": {
                "can_create_category": False,
                "can_create_topic": False,
                "categories": categories,
            }
        }

    def files(self) -> dict[str, Any]:
        """Recorded file name → JSON body, for every URL the connector requests."""
        out: dict[str, Any] = {
            recorded_name("/categories.json", "include_subcategories=true"): self.categories_json()
        }
        for n, page in enumerate(self.latest_pages()):
            out[recorded_name("/latest.json", f"page={n}" if n else "")] = page
        for topic in self.topics:
            out[recorded_name(f"/t/{topic.id}.json")] = self.detail_json(topic)
            rest = topic.posts[CHUNK:]
            for start in range(0, len(rest), CHUNK):
                chunk = rest[start : start + CHUNK]
                query = "&".join(f"post_ids[]={p.id}" for p in chunk)
                out[recorded_name(f"/t/{topic.id}/posts.json", query)] = {
                    "post_stream": {"posts": [self.post_json(p) for p in chunk]},
                    "id": topic.id,
                }
        regular = sorted((p for t in self.topics for p in t.regular), key=lambda p: -p.id)
        before: int | None = None
        start = 0
        while True:  # pages of 50, then the empty page that ends the listing
            page = regular[start : start + LATEST_POSTS]
            out[recorded_name("/posts.json", f"before={before}" if before else "")] = {
                "latest_posts": [self.post_json(p, latest=True) for p in page]
            }
            if not page:
                return out
            before = page[-1].id - 1
            start += LATEST_POSTS


def generate(out: Path = OUT) -> list[Path]:
    return write_recording(out, Forum().files())


if __name__ == "__main__":
    paths = generate()
    print(f"{len(paths)} files, {sum(p.stat().st_size for p in paths):,} bytes in {OUT}")
