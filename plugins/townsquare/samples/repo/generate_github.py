"""Generate the bundled GitHub REST sample for ``townsquare demo`` (deterministic, offline).

The story: *Lumen*, the fictional embedded time-series database of the blog sample
(``samples/blog/generate.py``), lives at ``github.com/lumen-db/lumen``. The
maintainers are the blog's ``STAFF`` (members of the org); the community are the
first ``N_PEOPLE`` blog commenters of ``Generator().people`` (GitHub logins derived
from their names: ``Omar Wendt`` → ``omar-wendt``), plus ``dependabot[bot]`` (a Bot)
opening dependency bumps. Dates fall between the blog's ``START`` and ``END``.

The output is a recorded API: one JSON file per URL the GitHub connector asks for,
named as ``recorded_server.recorded_name`` says, served over HTTP by
``recorded_server.RecordedServer`` (which serves bodies only, no headers: every
listing is a single page of at most 100 records, so no ``Link`` header is needed).
It also holds the answers of an incremental second run (the listings ``since`` the
newest ``updated_at``, holding only the boundary records), so the demo can land
twice.

Run ``python -m townsquare.samples.repo.generate_github`` to rewrite ``github/`` next
to this file. Output depends only on the constants below and ``SEED``.

Facts the tests check (they follow from the constants):

- 70 issues (numbers 1-70): 40 plain issues (12 open, 22 closed as completed, 6 as
  not planned) and 30 pull requests (18 merged, 6 closed unmerged, 6 open of which 2
  drafts); 4 pull requests are by ``dependabot[bot]`` (user type Bot).
- 152 comments: 96 issue comments (6 open issues have none: unanswered), 20 review
  comments and 36 reviews (18 APPROVED, one per merged pull request; 18 COMMENTED
  or CHANGES_REQUESTED, which the review comments belong to).
- 80 stargazers (60 blog commenters, the 3 maintainers, 17 others), oldest first.
- 80 ``/users/{login}`` profiles: every login of the recording but the bot (all of
  them star the repository). A blog commenter's profile matches the blog: the name,
  the website (``blog``, ``""`` without one), a company derived from a company email
  domain in the forms people type (``@northwind-robotics``, ``Northwind Robotics``,
  ``Northwind Robotics GmbH``; ``Uni Nord`` for the university; freemail and personal
  domains mostly none), and for 24 of the 60 a public email: the blog email, for 3
  of them in other letter case. The maintainers: ``@lumen-db`` and their blog email.
  Profiles come from their own random stream (``PROFILE_SEED``), so they leave the
  other files unchanged.
- First run: 4 listings + 30 ``/pulls/{n}/reviews`` + 80 profiles = 114 requests; a
  second run asks the 3 listings since their watermarks and the stargazers page
  again (no new rows: no profiles).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from townsquare.samples.blog.generate import COMPANIES, END, STAFF, START, UNIVERSITY, Generator
from townsquare.samples.forum.recorded_server import recorded_name, write_recording

SEED = 20261123
PROFILE_SEED = f"{SEED}:profiles"  # a stream of its own: the other files stay unchanged
HERE = Path(__file__).resolve().parent
OUT = HERE / "github"

REPO = "lumen-db/lumen"
API = "https://api.github.com"
WEB = "https://github.com"
N_PEOPLE = 40
N_ISSUES, N_PULLS = 40, 30
OPEN_ISSUES, NOT_PLANNED = 12, 6
UNANSWERED = 6  # open issues nobody answered
MERGED, CLOSED_UNMERGED, OPEN_PULLS, DRAFTS = 18, 6, 6, 2
BOT = "dependabot[bot]"
N_BOT_PULLS = 4
ISSUE_COMMENTS, REVIEW_COMMENTS, OTHER_REVIEWS = 96, 20, 18
N_STARS = 80
PER_PAGE = 100
LIST = {"sort": "updated", "direction": "asc", "per_page": str(PER_PAGE)}
EXTRA_STARGAZERS = (
    "kestrel-dev",
    "tsdb-watcher",
    "mqtt-maria",
    "edgeops-lab",
    "hkrause",
    "jpl-sensors",
    "rustacean-ray",
    "gridlog",
    "sol-ana",
    "datafarmer",
    "pi-cluster-pete",
    "lorawan-lu",
    "quietbyte",
    "ohmmeter",
    "teleme-tree",
    "sparse-sam",
    "vindkraft-ola",
)

ISSUE_TITLES = (
    ("WAL replay fails after power loss on SD card", ("bug", "wal")),
    ("Crash when opening a database created by 0.8", ("bug",)),
    ("How do I downsample on read?", ("question",)),
    ("Document the retention policy syntax", ("documentation",)),
    ("ARMv6 build fails: unsupported atomic ops", ("bug", "arm")),
    ("Support Gorilla compression for f32 columns", ("enhancement", "compression")),
    ("Query planner ignores time bounds in subqueries", ("bug", "query-language")),
    ("Python bindings: wheel for aarch64 musl", ("enhancement", "python")),
    ("Memory grows during long compactions", ("bug", "compaction")),
    ("Add an example for ESP32", ("documentation", "good first issue")),
    ("LQL: support GROUP BY with fill(previous)", ("enhancement", "query-language")),
    ("Segment files not fsynced on macOS", ("bug", "wal")),
    ("Benchmark numbers in the README are outdated", ("documentation",)),
    ("OpenTelemetry ingest drops exemplars", ("bug", "opentelemetry")),
    ("Feature request: continuous aggregates over tags", ("enhancement",)),
    ("Is Lumen safe with multiple processes?", ("question",)),
    ("Timestamps before 1970 are rejected", ("bug",)),
    ("C API: expose the compaction callback", ("enhancement", "c-api")),
    ("Docs: migrating from InfluxDB line protocol", ("documentation",)),
    ("Panic on empty series in delta-of-delta decoder", ("bug", "compression")),
    ("Allow configuring the WAL segment size", ("enhancement", "wal")),
    ("Windows: file locking error on reopen", ("bug",)),
    ("How to back up a running database?", ("question",)),
    ("Retention deletes one chunk too many", ("bug", "retention")),
    ("Expose metrics for the write path", ("enhancement",)),
    ("Typo in the getting started guide", ("documentation", "good first issue")),
    ("Slow startup with 10k series", ("bug", "performance")),
    ("Support for Zephyr RTOS", ("enhancement",)),
    ("Question about license for commercial use", ("question",)),
    ("mmap reader returns stale data after truncate", ("bug",)),
    ("Add a CLI command to verify a database", ("enhancement",)),
    ("Float compression worse than expected on sensor data", ("question", "compression")),
    ("Python bindings leak file handles", ("bug", "python")),
    ("Roadmap: 1.0 blockers", ("meta",)),
    ("LQL: string functions", ("enhancement", "query-language")),
    ("Write stalls when the disk is full", ("bug", "wal")),
    ("Provide Debian packages", ("enhancement", "packaging")),
    ("Downsampling loses the last bucket", ("bug", "retention")),
    ("Support for 24/7 support contracts?", ("question",)),
    ("Crash-safe compaction: test on industrial SD cards", ("testing",)),
)
PULL_TITLES = (
    "Fix WAL replay of torn segment headers",
    "Add f32 Gorilla compression",
    "Docs: retention policy syntax",
    "Fix ARMv6 build with a lock-based fallback",
    "Planner: push time bounds into subqueries",
    "CI: build aarch64 musl wheels",
    "Compaction: stream chunks instead of buffering",
    "Add ESP32 example",
    "LQL: fill(previous) for GROUP BY",
    "fsync segment files with F_FULLFSYNC on macOS",
    "Refresh benchmark numbers",
    "OTel ingest: keep exemplars",
    "Accept timestamps before 1970",
    "C API: compaction callback",
    "Fix panic on empty series in the decoder",
    "Configurable WAL segment size",
    "Windows: release the file lock on close",
    "Retention: off-by-one in chunk deletion",
    "Write-path metrics",
    "Fix typo in getting started",
    "Speed up startup with many series",
    "Experimental mmap reader",
    "CLI: lumen verify",
    "Python: close file handles on drop",
    "Docs: back up a running database",
    "Packaging: Debian packages",
)
# Profiles of the stargazers not in the blog: invented names, two left empty.
EXTRA_NAMES = {
    "kestrel-dev": None,
    "tsdb-watcher": None,
    "mqtt-maria": "Maria Lindgren",
    "edgeops-lab": "EdgeOps Lab",
    "hkrause": "Hannes Krause",
    "jpl-sensors": "Jean-Paul Laurent",
    "rustacean-ray": "Ray Nakamura",
    "gridlog": "Gregor Lange",
    "sol-ana": "Ana Solberg",
    "datafarmer": "Dana Farmer",
    "pi-cluster-pete": "Pete Marsh",
    "lorawan-lu": "Lu Chen",
    "quietbyte": "Quinn Byers",
    "ohmmeter": "Oskar Hellman",
    "teleme-tree": "Teodora Mitrović",
    "sparse-sam": "Sam Whitaker",
    "vindkraft-ola": "Ola Vik",
}
USER_LINKS = (  # the link templates of a full user record (after html_url): key, path
    ("followers", "followers"),
    ("following", "following{/other_user}"),
    ("gists", "gists{/gist_id}"),
    ("starred", "starred{/owner}{/repo}"),
    ("subscriptions", "subscriptions"),
    ("organizations", "orgs"),
    ("repos", "repos"),
    ("events", "events{/privacy}"),
    ("received_events", "received_events"),
)
N_PUBLIC_EMAILS = 24  # of the 60 blog commenters on GitHub
N_EMAIL_OTHER_CASE = 3
FREE_TEXT_COMPANIES = ("Freelance", "Self-employed")
COMPANY_WORDS = {"iot": "IoT"}  # spelled this way in a company name
COMPANY_SUFFIXES = {".com": ("Inc.", "GmbH"), ".net": ("GmbH", "AB"), ".org": ("Ltd", "Corp.")}
LOCATIONS = (
    "Berlin, Germany",
    "Hamburg",
    "Kiel, Germany",
    "Stockholm, Sweden",
    "Oslo",
    "Helsinki, Finland",
    "Copenhagen",
    "Amsterdam, The Netherlands",
    "Lisbon, Portugal",
    "Porto",
    "Milan, Italy",
    "Vienna, Austria",
    "Zürich",
    "Kraków, Poland",
    "Istanbul",
    "Lagos, Nigeria",
    "Bangalore, India",
    "Tokyo, Japan",
    "Toronto, ON",
    "Austin, TX",
    "São Paulo, Brazil",
    "Remote",
)
STAFF_LOCATIONS = ("Lisbon, Portugal", "Uppsala, Sweden", "Berlin")
BIOS = (
    "Embedded developer. Sensors, gateways and too many Raspberry Pis.",
    "Data engineer working on IoT pipelines.",
    "Firmware and time-series things.",
    "Rust, C and the occasional soldering iron.",
    "PhD student: storage engines for constrained devices.",
    "Industrial automation, edge computing.",
)
BOT_TITLES = (
    "Bump criterion from 0.5.1 to 0.6.0",
    "Bump actions/checkout from 4 to 5",
    "Bump pyo3 from 0.22.2 to 0.23.1",
    "Bump tokio from 1.40.0 to 1.41.0",
)
LABEL_COLORS = {
    "bug": "d73a4a",
    "documentation": "0075ca",
    "enhancement": "a2eeef",
    "good first issue": "7057ff",
    "question": "d876e3",
    "dependencies": "0366d6",
}
REPLIES = (
    "Thanks for the report! Which version and which platform?",
    "I can reproduce this on main. Looking into it.",
    "Could you share the output of `lumen info`?",
    "This should be fixed by the linked pull request.",
    "Good idea. Would you like to send a pull request?",
    "Confirmed, this is a regression from 0.8.",
    "See the docs section on retention; does that answer it?",
    "Closing as this works as intended, but we will document it better.",
)
COMMUNITY_REPLIES = (
    "Same here on a Raspberry Pi 4.",
    "Lumen 0.9.2 on Debian 12, ext4 on an SD card.",
    "Thanks, that fixed it for me!",
    "I would be happy to work on this.",
    "+1, we need this for our fleet of gateways.",
    "Tried the workaround, it helps but is slow.",
)
REVIEW_NOTES = (
    "Can we add a test for the empty case?",
    "This allocates in the hot path; could we reuse the buffer?",
    "Nit: please document this option.",
    "Should this be behind a feature flag?",
    "The error message could say which segment failed.",
)


@dataclass
class User:
    login: str
    uid: int
    kind: str = "User"
    association: str = "NONE"
    weight: float = 1.0

    def json(self) -> dict[str, Any]:
        return {
            "login": self.login,
            "id": self.uid,
            "node_id": f"U_kgDO{self.uid:08d}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{self.uid}?v=4",
            "gravatar_id": "",
            "url": f"{API}/users/{self.login}",
            "html_url": f"{WEB}/{self.login}",
            "type": self.kind,
            "user_view_type": "public",
            "site_admin": False,
        }


@dataclass
class Comment:
    cid: int
    author: User
    created: datetime
    updated: datetime
    body: str


@dataclass
class Review:
    rid: int
    author: User
    state: str
    submitted: datetime
    body: str
    comments: list[Comment] = field(default_factory=list)


@dataclass
class Item:
    number: int
    pull: bool
    title: str
    author: User
    created: datetime
    labels: tuple[str, ...] = ()
    state: str = "open"
    state_reason: str | None = None
    closed: datetime | None = None
    merged: bool = False
    draft: bool = False
    body: str = ""
    comments: list[Comment] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)

    @property
    def updated(self) -> datetime:
        times = [self.created, *(c.updated for c in self.comments)]
        times += [r.submitted for r in self.reviews]
        times += [c.updated for r in self.reviews for c in r.comments]
        if self.closed:
            times.append(self.closed)
        return max(times)


def login(name: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class Repository:
    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        people = Generator().people
        self.staff = [
            User(login(name), 4100 + i, association="MEMBER", weight=1.0)
            for i, (_, name, _) in enumerate(STAFF)
        ]
        self.people = [
            User(login(p.name), 81000 + i, weight=p.weight) for i, p in enumerate(people[:N_PEOPLE])
        ]
        self.stargazer_names = [login(p.name) for p in people]
        self.blog_people = {login(p.name): p for p in people}
        self.bot = User(BOT, 49699333, kind="Bot", association="CONTRIBUTOR")
        self._ids = {"comment": 2_310_000_000, "review": 2_480_000_000, "rc": 1_820_000_000}
        self.items = self._items()
        self._comments()
        self._reviews()
        for item in self.items:  # authors of merged pull requests are contributors
            if item.merged and item.author.association == "NONE":
                item.author.association = "CONTRIBUTOR"

    def _next(self, kind: str) -> int:
        self._ids[kind] += self.rng.randrange(3, 900)
        return self._ids[kind]

    def _member(self) -> User:
        return self.rng.choices(self.people, [p.weight for p in self.people])[0]

    def _at(self, when: datetime) -> datetime:
        return when.replace(microsecond=0)

    # -- issues and pull requests

    def _items(self) -> list[Item]:
        rng = self.rng
        kinds = [False] * N_ISSUES + [True] * N_PULLS
        rng.shuffle(kinds)
        span = (END - timedelta(days=20) - START).total_seconds()
        created = sorted(START + timedelta(seconds=rng.uniform(0, span)) for _ in kinds)
        issue_states = (
            ["open"] * OPEN_ISSUES
            + ["not_planned"] * NOT_PLANNED
            + ["completed"] * (N_ISSUES - OPEN_ISSUES - NOT_PLANNED)
        )
        rng.shuffle(issue_states)
        pull_states = ["merged"] * MERGED + ["closed"] * CLOSED_UNMERGED + ["open"] * OPEN_PULLS
        rng.shuffle(pull_states)
        bots = set(rng.sample(range(N_PULLS), N_BOT_PULLS))
        issue_titles, pull_titles, bot_titles = (
            list(ISSUE_TITLES),
            list(PULL_TITLES),
            list(BOT_TITLES),
        )
        items: list[Item] = []
        drafts = 0
        for number, (pull, when) in enumerate(zip(kinds, created, strict=True), 1):
            when = self._at(when)
            if pull:
                k = sum(i.pull for i in items)
                state = pull_states[k]
                if k in bots:
                    author, title, labels = self.bot, bot_titles.pop(0), ("dependencies",)
                    body = "Bumps the dependency. Dependabot will resolve any conflicts."
                else:
                    author = self.staff[k % 3] if rng.random() < 0.3 else self._member()
                    title, labels = pull_titles.pop(0), ()
                    body = f"{title}.\n\nCloses a reported issue; tests included."
                item = Item(number, True, title, author, when, labels, body=body)
                if state == "open":
                    item.draft = drafts < DRAFTS and author is not self.bot
                    drafts += item.draft
                else:
                    item.state, item.merged = "closed", state == "merged"
                    item.closed = self._at(
                        min(when + timedelta(hours=rng.uniform(3, 24 * 12)), END)
                    )
            else:
                title, labels = issue_titles.pop(0)
                author = self.staff[number % 3] if rng.random() < 0.15 else self._member()
                item = Item(number, False, title, author, when, labels)
                item.body = f"{title}. Seen with Lumen 0.9 on a small ARM board."
                k = sum(not i.pull for i in items)
                if issue_states[k] != "open":
                    item.state, item.state_reason = "closed", issue_states[k]
                    item.closed = self._at(
                        min(when + timedelta(hours=rng.uniform(2, 24 * 30)), END)
                    )
            items.append(item)
        return items

    # -- conversation

    def _response_delay(self) -> timedelta:
        """Time to first response: minutes, hours or days."""
        rng = self.rng
        speed = rng.random()
        if speed < 0.4:
            return timedelta(minutes=rng.uniform(4, 90))
        if speed < 0.75:
            return timedelta(hours=rng.uniform(2, 20))
        return timedelta(days=rng.uniform(1, 6))

    def _comments(self) -> None:
        rng = self.rng
        open_issues = [i for i in self.items if not i.pull and i.state == "open"]
        unanswered = {i.number for i in rng.sample(open_issues, UNANSWERED)}
        talk = [i for i in self.items if i.number not in unanswered]
        weights = [0.3 if i.author is self.bot else (1.0 if i.pull else 3.0) for i in talk]
        counts = dict.fromkeys((i.number for i in talk), 0)
        for i in talk:  # every issue that was answered has at least one comment
            if not i.pull:
                counts[i.number] = 1
        for _ in range(ISSUE_COMMENTS - sum(counts.values())):
            counts[rng.choices(talk, weights)[0].number] += 1
        for item in talk:
            n = counts[item.number]
            if not n:
                continue
            bound = item.closed or END - timedelta(hours=1)
            first = item.created + self._response_delay()
            if first >= bound:
                first = item.created + (bound - item.created) * 0.3
            later = sorted(first + (bound - first) * rng.uniform(0.05, 0.95) for _ in range(n - 1))
            for k, when in enumerate([first, *later]):
                staff_turn = k % 2 == 0 if item.author not in self.staff else k % 2 == 1
                if staff_turn:
                    author = rng.choice(self.staff)
                    body = rng.choice(REPLIES)
                else:
                    author = item.author if rng.random() < 0.6 else self._member()
                    author = self._member() if author is self.bot else author
                    body = rng.choice(COMMUNITY_REPLIES)
                created = self._at(when)
                edited = created + timedelta(minutes=rng.uniform(1, 30))
                updated = self._at(edited) if rng.random() < 0.1 else created
                item.comments.append(Comment(self._next("comment"), author, created, updated, body))

    def _reviews(self) -> None:
        rng = self.rng
        pulls = [i for i in self.items if i.pull]
        reviewed: list[tuple[Item, Review]] = []
        for item in pulls:
            if item.merged and item.closed is not None:
                reviewer = rng.choice([s for s in self.staff if s is not item.author])
                submitted = self._at(item.closed - timedelta(minutes=rng.uniform(5, 600)))
                submitted = max(submitted, item.created + timedelta(minutes=2))
                item.reviews.append(
                    Review(self._next("review"), reviewer, "APPROVED", submitted, "")
                )
        humans = [i for i in pulls if i.author is not self.bot]
        for _ in range(OTHER_REVIEWS):
            item = rng.choice(humans)
            bound = min([r.submitted for r in item.reviews] + [item.closed or END])
            start = item.created + timedelta(minutes=30)
            if start >= bound:
                start = item.created + (bound - item.created) * 0.2
            submitted = self._at(start + (bound - start) * rng.uniform(0.1, 0.8))
            reviewer = rng.choice([s for s in self.staff if s is not item.author])
            state = "CHANGES_REQUESTED" if rng.random() < 0.4 else "COMMENTED"
            body = "" if state == "COMMENTED" and rng.random() < 0.5 else rng.choice(REVIEW_NOTES)
            review = Review(self._next("review"), reviewer, state, submitted, body)
            item.reviews.append(review)
            reviewed.append((item, review))
        for _ in range(REVIEW_COMMENTS):
            item, review = rng.choice(reviewed)
            created = self._at(review.submitted - timedelta(seconds=rng.uniform(20, 600)))
            created = max(created, min(item.created + timedelta(minutes=1), review.submitted))
            note = rng.choice(REVIEW_NOTES)
            review.comments.append(Comment(self._next("rc"), review.author, created, created, note))
        for item in pulls:
            item.reviews.sort(key=lambda r: r.submitted)

    # -- stargazers

    def stargazers(self) -> list[User]:
        """Who stars the repository, in the order their star dates are drawn."""
        logins = self.stargazer_names + [s.login for s in self.staff] + list(EXTRA_STARGAZERS)
        assert len(logins) == N_STARS == len(set(logins))
        known = {u.login: u for u in [*self.people, *self.staff]}
        return [known.get(name) or User(name, 120000 + k) for k, name in enumerate(logins)]

    def stars(self) -> list[tuple[User, datetime]]:
        rng = self.rng
        release = END - timedelta(days=46)  # the 1.0 release: a burst of stars
        out = []
        for user in self.stargazers():
            if rng.random() < 0.3:
                when = release + timedelta(hours=rng.uniform(1, 24 * 10))
            else:
                when = START + (END - START) * rng.random()
            out.append((user, self._at(when)))
        return sorted(out, key=lambda s: (s[1], s[0].login))

    # -- profiles

    def users(self) -> list[User]:
        """Every login of the recording but the bot, in a stable order."""
        seen = {u.login: u for u in [*self.staff, *self.people, *self.stargazers()]}
        for item in self.items:
            for user in [item.author, *(c.author for c in item.comments)]:
                seen.setdefault(user.login, user)
        return [u for u in seen.values() if u.kind != "Bot"]

    def profiles(self) -> dict[str, dict[str, Any]]:
        """``/users/{login}`` bodies by login (their own random stream: ``PROFILE_SEED``)."""
        rng = random.Random(PROFILE_SEED)
        users = self.users()
        blog_logins = [u.login for u in users if u.login in self.blog_people]
        public = set(rng.sample(blog_logins, N_PUBLIC_EMAILS))
        at_company = sorted(
            name for name in public if _domain(self.blog_people[name].email) in dict(COMPANIES)
        )
        other_case = set(rng.sample(at_company, N_EMAIL_OTHER_CASE))
        personal = [name for name in blog_logins if _company(self.blog_people[name].email) is None]
        free_text = dict(
            zip(rng.sample(personal, len(FREE_TEXT_COMPANIES)), FREE_TEXT_COMPANIES, strict=True)
        )
        staff = {login(name): (i, email) for i, (_, name, email) in enumerate(STAFF)}
        out = {}
        for user in users:
            name: str | None
            if user.login in staff:
                i, email = staff[user.login]
                name, company, blog = STAFF[i][1], "@lumen-db", ""
                public_email: str | None = email
                location: str | None = STAFF_LOCATIONS[i]
                created = datetime(2012 + 2 * i, 3 + i, 11 + i, 9, 30, tzinfo=START.tzinfo)
            elif user.login in self.blog_people:
                person = self.blog_people[user.login]
                name, blog = person.name, person.url
                company = free_text.get(user.login) or _company(person.email, rng)
                public_email = None
                if user.login in public:
                    public_email = person.email
                    if user.login in other_case:
                        public_email = _other_case(person.email)
                location = rng.choice(LOCATIONS) if rng.random() < 0.7 else None
                created = _account_created(rng)
            else:
                name, company, blog, public_email = EXTRA_NAMES[user.login], None, "", None
                location = rng.choice(LOCATIONS) if rng.random() < 0.5 else None
                created = _account_created(rng)
            updated = self._at(START + (END - START) * rng.uniform(0.2, 1.0))
            short = list(user.json().items())
            at = [k for k, _ in short].index("html_url") + 1  # the links follow html_url
            links = {f"{key}_url": f"{API}/users/{user.login}/{path}" for key, path in USER_LINKS}
            out[user.login] = {
                **dict(short[:at]),
                **links,
                **dict(short[at:]),
                "name": name,
                "company": company,
                "blog": blog,
                "location": location,
                "email": public_email,
                "hireable": True if rng.random() < 0.15 else None,
                "bio": rng.choice(BIOS) if rng.random() < 0.4 else None,
                "twitter_username": (
                    user.login.replace("-", "_")[:15] if rng.random() < 0.15 else None
                ),
                "public_repos": rng.randrange(0, 90),
                "public_gists": rng.randrange(0, 12),
                "followers": min(int(rng.paretovariate(1.2) * 3) - 3, 4000),
                "following": rng.randrange(0, 60),
                "created_at": iso(created),
                "updated_at": iso(max(updated, created)),
            }
        return out

    # -- JSON

    def labels_json(self, names: tuple[str, ...]) -> list[dict[str, Any]]:
        return [
            {
                "id": 7_000_000 + sum(map(ord, n)),
                "node_id": f"LA_kwDO{sum(map(ord, n)):06d}",
                "url": f"{API}/repos/{REPO}/labels/{n.replace(' ', '%20')}",
                "name": n,
                "color": LABEL_COLORS.get(n, "ededed"),
                "default": n in LABEL_COLORS,
                "description": None,
            }
            for n in names
        ]

    def issue_json(self, item: Item) -> dict[str, Any]:
        url = f"{API}/repos/{REPO}/issues/{item.number}"
        rec: dict[str, Any] = {
            "url": url,
            "repository_url": f"{API}/repos/{REPO}",
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": f"{WEB}/{REPO}/{'pull' if item.pull else 'issues'}/{item.number}",
            "id": 2_600_000_000 + item.number * 7919,
            "node_id": f"I_kwDOLumen{item.number:05d}",
            "number": item.number,
            "title": item.title,
            "user": item.author.json(),
            "labels": self.labels_json(item.labels),
            "state": item.state,
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": len(item.comments),
            "created_at": iso(item.created),
            "updated_at": iso(item.updated),
            "closed_at": iso(item.closed) if item.closed else None,
            "author_association": item.author.association,
            "type": None,
            "active_lock_reason": None,
            "body": item.body,
            "reactions": _reactions(url),
            "timeline_url": f"{url}/timeline",
            "performed_via_github_app": None,
            "state_reason": item.state_reason,
        }
        if item.pull:
            rec["draft"] = item.draft
            rec["pull_request"] = {
                "url": f"{API}/repos/{REPO}/pulls/{item.number}",
                "html_url": f"{WEB}/{REPO}/pull/{item.number}",
                "diff_url": f"{WEB}/{REPO}/pull/{item.number}.diff",
                "patch_url": f"{WEB}/{REPO}/pull/{item.number}.patch",
                "merged_at": iso(item.closed) if item.merged and item.closed else None,
            }
        return rec

    def comment_json(self, item: Item, c: Comment) -> dict[str, Any]:
        url = f"{API}/repos/{REPO}/issues/comments/{c.cid}"
        return {
            "url": url,
            "html_url": f"{WEB}/{REPO}/{'pull' if item.pull else 'issues'}/{item.number}"
            f"#issuecomment-{c.cid}",
            "issue_url": f"{API}/repos/{REPO}/issues/{item.number}",
            "id": c.cid,
            "node_id": f"IC_kwDOLumen{c.cid}",
            "user": c.author.json(),
            "created_at": iso(c.created),
            "updated_at": iso(c.updated),
            "author_association": c.author.association,
            "body": c.body,
            "reactions": _reactions(url),
            "performed_via_github_app": None,
        }

    def review_comment_json(self, item: Item, r: Review, c: Comment) -> dict[str, Any]:
        url = f"{API}/repos/{REPO}/pulls/comments/{c.cid}"
        return {
            "url": url,
            "pull_request_review_id": r.rid,
            "id": c.cid,
            "node_id": f"PRRC_kwDOLumen{c.cid}",
            "diff_hunk": "@@ -41,7 +41,9 @@ impl Segment {",
            "path": "src/storage/segment.rs",
            "commit_id": f"{c.cid:040x}",
            "original_commit_id": f"{c.cid:040x}",
            "user": c.author.json(),
            "body": c.body,
            "created_at": iso(c.created),
            "updated_at": iso(c.updated),
            "html_url": f"{WEB}/{REPO}/pull/{item.number}#discussion_r{c.cid}",
            "pull_request_url": f"{API}/repos/{REPO}/pulls/{item.number}",
            "author_association": c.author.association,
            "_links": {"self": {"href": url}},
            "reactions": _reactions(url),
            "start_line": None,
            "original_start_line": None,
            "start_side": None,
            "line": 44,
            "original_line": 44,
            "side": "RIGHT",
            "subject_type": "line",
        }

    def review_json(self, item: Item, r: Review) -> dict[str, Any]:
        html = f"{WEB}/{REPO}/pull/{item.number}#pullrequestreview-{r.rid}"
        return {
            "id": r.rid,
            "node_id": f"PRR_kwDOLumen{r.rid}",
            "user": r.author.json(),
            "body": r.body,
            "state": r.state,
            "html_url": html,
            "pull_request_url": f"{API}/repos/{REPO}/pulls/{item.number}",
            "author_association": r.author.association,
            "_links": {
                "html": {"href": html},
                "pull_request": {"href": f"{API}/repos/{REPO}/pulls/{item.number}"},
            },
            "submitted_at": iso(r.submitted),
            "commit_id": f"{r.rid:040x}",
        }

    def files(self) -> dict[str, Any]:
        """Recorded file name → JSON body, for every URL the connector requests."""
        base = f"/repos/{REPO}"
        issues = sorted(self.items, key=lambda i: (i.updated, i.number))
        comments = sorted(
            ((i, c) for i in self.items for c in i.comments), key=lambda p: (p[1].updated, p[1].cid)
        )
        review_comments = sorted(
            ((i, r, c) for i in self.items for r in i.reviews for c in r.comments),
            key=lambda p: (p[2].updated, p[2].cid),
        )
        out: dict[str, Any] = {}

        def listing(path: str, params: dict[str, str], records: list[Any]) -> None:
            assert len(records) <= PER_PAGE, f"{path}: more than one page"
            out[recorded_name(path, urlencode(params))] = records

        listing(
            f"{base}/issues",
            {"state": "all", **LIST},
            [self.issue_json(i) for i in issues],
        )
        listing(f"{base}/issues/comments", LIST, [self.comment_json(i, c) for i, c in comments])
        listing(
            f"{base}/pulls/comments",
            LIST,
            [self.review_comment_json(i, r, c) for i, r, c in review_comments],
        )
        for item in self.items:
            if item.pull:
                listing(
                    f"{base}/pulls/{item.number}/reviews",
                    {"per_page": str(PER_PAGE)},
                    [self.review_json(item, r) for r in item.reviews],
                )
        listing(
            f"{base}/stargazers",
            {"per_page": str(PER_PAGE)},
            [{"starred_at": iso(when), "user": user.json()} for user, when in self.stars()],
        )
        for name, profile in self.profiles().items():
            out[recorded_name(f"/users/{name}")] = profile
        # The incremental run: each listing since its newest updated_at (inclusive).
        last = issues[-1].updated
        listing(
            f"{base}/issues",
            {"state": "all", **LIST, "since": iso(last)},
            [self.issue_json(i) for i in issues if i.updated >= last],
        )
        last = comments[-1][1].updated
        listing(
            f"{base}/issues/comments",
            {**LIST, "since": iso(last)},
            [self.comment_json(i, c) for i, c in comments if c.updated >= last],
        )
        last = review_comments[-1][2].updated
        listing(
            f"{base}/pulls/comments",
            {**LIST, "since": iso(last)},
            [self.review_comment_json(i, r, c) for i, r, c in review_comments if c.updated >= last],
        )
        return out


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def _company(email: str, rng: random.Random | None = None) -> str | None:
    """The company on the profile of someone with this blog email, in one of the forms
    people type (``rng`` picks it; without one, the plain name): None for freemail and
    personal domains."""
    domain = _domain(email)
    if domain == UNIVERSITY:
        return "Uni Nord"
    if domain not in dict(COMPANIES):
        return None
    slug = domain.split(".")[0]
    plain = " ".join(COMPANY_WORDS.get(word, word.capitalize()) for word in slug.split("-"))
    if rng is None:
        return plain
    suffix = rng.choice(COMPANY_SUFFIXES["." + domain.rpartition(".")[2]])
    return rng.choice((f"@{slug}", f"@{slug}", plain, plain, f"{plain} {suffix}", slug))


def _other_case(email: str) -> str:
    """``omar.wendt@northwind-robotics.example.com`` → ``Omar.Wendt@Northwind-Robotics.example.com``."""
    local, _, domain = email.partition("@")
    host, _, rest = domain.partition(".")
    title = "-".join(part.capitalize() for part in host.split("-"))
    return ".".join(p.capitalize() for p in local.split(".")) + f"@{title}.{rest}"


def _account_created(rng: random.Random) -> datetime:
    start = datetime(2010, 1, 1, tzinfo=START.tzinfo)
    return (start + (START - start) * rng.random()).replace(microsecond=0)


def _reactions(url: str) -> dict[str, Any]:
    counts = dict.fromkeys(("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket"), 0)
    return {"url": f"{url}/reactions", "total_count": 0, **counts, "eyes": 0}


def generate(out: Path = OUT) -> list[Path]:
    return write_recording(out, Repository().files())


if __name__ == "__main__":
    paths = generate()
    print(f"{len(paths)} files, {sum(p.stat().st_size for p in paths):,} bytes in {OUT}")
