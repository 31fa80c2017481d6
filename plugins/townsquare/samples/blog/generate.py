"""Generate the bundled blog samples for ``townsquare demo`` (deterministic, offline).

The story: *Lumen*, a fictional open-source embedded time-series database, has a
WordPress blog (exported as WXR 1.2), a community blog (an RSS 2.0 feed plus its
WordPress comment feed) and a release-notes Atom feed. Every name, email and site
is invented; domains are reserved example domains (``*.example.com/.net/.org``,
``*.example``) except a few freemail addresses with fake names.

Run ``python -m townsquare.samples.blog.generate`` (or this file) to rewrite the
files next to it. Output depends only on the constants below and ``SEED``.

Facts the tests check (they follow from the constants):

- WXR: 25 posts (24 published, 1 draft with a zero GMT date) + 2 pages, plus 3
  attachments and 1 menu item that the connector skips; 240 comments: 200 of type
  comment (174 by 60 community commenters, of which 4 pending and 2 trash; 18 staff
  replies; 8 spam) and 40 pingbacks/trackbacks (30 pingbacks, 10 trackbacks) from
  12 referring sites; 48 threaded replies.
- Community feed: 10 posts; its comment feed: 30 comments on them.
- Releases Atom feed: 8 entries.
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

SEED = 20261001
HERE = Path(__file__).resolve().parent

SITE = "https://lumen.example.org"
BLOG = f"{SITE}/blog"
COMMUNITY = "https://community.lumen.example.org"
REPO = "https://github.com/lumen-db/lumen"
START = datetime(2025, 9, 2, tzinfo=UTC)
END = datetime(2026, 10, 31, 20, 0, tzinfo=UTC)

N_COMMENTERS = 60
COMMUNITY_COMMENTS = 174
PENDING = 4
TRASH = 2
STAFF_REPLIES = 18
COMMUNITY_REPLIES = 30
SPAM = 8
N_COMMUNITY_FEED_COMMENTS = 30
FIRST_COMMENT_ID = 12

STAFF = (
    ("ines", "Ines Duarte", "ines@lumen.example.org"),
    ("tobias", "Tobias Lindqvist", "tobias@lumen.example.org"),
    ("priya", "Priya Raman", "priya@lumen.example.org"),
)

# (title, slug, categories, tags, author login, topic)
POSTS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...], str, str], ...] = (
    (
        "Introducing Lumen: a time-series database for the edge",
        "introducing-lumen",
        ("Announcements",),
        ("lumen", "embedded", "time-series"),
        "ines",
        "the storage format",
    ),
    (
        "Why we chose an append-only log for Lumen's storage engine",
        "append-only-log",
        ("Engineering",),
        ("storage", "design"),
        "tobias",
        "the write-ahead log",
    ),
    (
        "Lumen 0.4 released: delta-of-delta timestamps",
        "lumen-0-4",
        ("Releases",),
        ("release", "compression"),
        "priya",
        "timestamp compression",
    ),
    (
        "Running Lumen on a Raspberry Pi Zero 2 W",
        "raspberry-pi-zero",
        ("Tutorials",),
        ("raspberry-pi", "arm", "benchmarks"),
        "tobias",
        "ARM builds",
    ),
    (
        "Gorilla, Chimp and friends: float compression in Lumen",
        "float-compression",
        ("Engineering",),
        ("compression",),
        "ines",
        "float compression",
    ),
    (
        "How we fuzz the Lumen WAL",
        "fuzzing-the-wal",
        ("Engineering",),
        ("testing", "fuzzing", "wal"),
        "tobias",
        "fuzzing",
    ),
    (
        "Lumen 0.5: retention policies and downsampling",
        "lumen-0-5",
        ("Releases",),
        ("release", "retention"),
        "priya",
        "retention policies",
    ),
    (
        "Query language design notes: LQL vs. SQL",
        "lql-vs-sql",
        ("Engineering",),
        ("query-language", "sql"),
        "ines",
        "the query language",
    ),
    (
        "Community call recap: December 2025",
        "community-call-december-2025",
        ("Community",),
        ("community-call",),
        "priya",
        "the community call",
    ),
    (
        "Benchmarking Lumen against SQLite & RocksDB on ARM",
        "benchmarks-arm",
        ("Benchmarks",),
        ("benchmarks", "arm", "sqlite", "rocksdb"),
        "tobias",
        "benchmarks",
    ),
    (
        "Lumen 0.6 released: continuous aggregates",
        "lumen-0-6",
        ("Releases",),
        ("release", "aggregates"),
        "priya",
        "continuous aggregates",
    ),
    (
        "Contributor spotlight: the ESP32 port",
        "contributor-spotlight-esp32",
        ("Community",),
        ("esp32", "contributors"),
        "ines",
        "the ESP32 port",
    ),
    (
        "Zero-copy reads with memory-mapped segments",
        "zero-copy-reads",
        ("Engineering",),
        ("mmap", "performance"),
        "tobias",
        "memory-mapped reads",
    ),
    (
        "Lumen 0.7: a C API and Python bindings",
        "lumen-0-7",
        ("Releases",),
        ("release", "python", "c-api"),
        "priya",
        "the Python bindings",
    ),
    (
        "Migrating from InfluxDB 1.x to Lumen",
        "migrating-from-influxdb",
        ("Tutorials",),
        ("migration", "influxdb"),
        "ines",
        "migration",
    ),
    (
        "What we learned from 1,000 GitHub issues",
        "1000-issues",
        ("Community",),
        ("community", "triage"),
        "priya",
        "issue triage",
    ),
    (
        "Lumen 0.8 released: crash-safe compaction",
        "lumen-0-8",
        ("Releases",),
        ("release", "compaction"),
        "tobias",
        "compaction",
    ),
    (
        "Power-loss testing on industrial SD cards",
        "power-loss-testing",
        ("Engineering",),
        ("testing", "durability"),
        "tobias",
        "durability",
    ),
    (
        "Announcing Lumen Support and Training",
        "support-and-training",
        ("Announcements",),
        ("support", "training"),
        "ines",
        "support plans",
    ),
    (
        "Lumen 0.9: OpenTelemetry metrics ingest",
        "lumen-0-9",
        ("Releases",),
        ("release", "opentelemetry"),
        "priya",
        "OpenTelemetry ingest",
    ),
    (
        "Designing a tiny query planner",
        "tiny-query-planner",
        ("Engineering",),
        ("query-language", "planner"),
        "ines",
        "the query planner",
    ),
    (
        "Community call recap: July 2026",
        "community-call-july-2026",
        ("Community",),
        ("community-call",),
        "priya",
        "the community call",
    ),
    (
        "Lumen 1.0 is here",
        "lumen-1-0",
        ("Releases", "Announcements"),
        ("release", "stable"),
        "ines",
        "the 1.0 release",
    ),
    (
        "Case study: predictive maintenance at a wind farm",
        "case-study-wind-farm",
        ("Case studies",),
        ("customers", "energy"),
        "tobias",
        "predictive maintenance",
    ),
    (
        "Roadmap for Lumen 1.1",
        "roadmap-1-1",
        ("Announcements",),
        ("roadmap",),
        "ines",
        "the roadmap",
    ),
)
DRAFT_INDEX = 24  # the last post is an unpublished draft

PAGES = (
    (
        "About Lumen",
        "about",
        "priya",
        '<p>Lumen is an embedded time-series database written in Rust, built for devices at the edge: sensors, gateways and industrial PCs.</p>\n<p>It is Apache-2.0 licensed and developed in the open on <a href="'
        + REPO
        + '">GitHub</a>.</p>',
    ),
    (
        "Support & Training",
        "support",
        "ines",
        '<h2>Support plans</h2>\n<p>Business and 24/7 support with guaranteed response times, from the people who build Lumen.</p>\n<h2>Training</h2>\n<p>Two-day on-site or remote training for teams adopting Lumen. Write to <a href="mailto:sales@lumen.example.org">sales@lumen.example.org</a>.</p>',
    ),
)

FIRST = (
    "Aiko",
    "Amara",
    "Bastian",
    "Beatriz",
    "Callum",
    "Chiara",
    "Dmitri",
    "Dolores",
    "Elif",
    "Emeka",
    "Fatima",
    "Felix",
    "Gustavo",
    "Hana",
    "Henrik",
    "Ilse",
    "Imran",
    "Jana",
    "Jonas",
    "Kaito",
    "Katarzyna",
    "Leandro",
    "Lena",
    "Malik",
    "Marta",
    "Mateo",
    "Mei",
    "Nadia",
    "Niko",
    "Olga",
    "Omar",
    "Paulina",
    "Quentin",
    "Rafael",
    "Rosa",
    "Sander",
    "Selin",
    "Soren",
    "Tamsin",
    "Teodor",
    "Uma",
    "Valentin",
    "Vera",
    "Wiebke",
    "Xavier",
    "Yara",
    "Yusuf",
    "Zofia",
    "Arjun",
    "Brigid",
    "Cyrus",
    "Dagny",
    "Esme",
    "Farid",
    "Greta",
    "Hugo",
    "Ingrid",
    "Joaquin",
    "Kirsi",
    "Linnea",
)
LAST = (
    "Abara",
    "Berglund",
    "Castellanos",
    "Dervish",
    "Eklund",
    "Fairweather",
    "Gallo",
    "Haverkamp",
    "Ishikawa",
    "Jovanovic",
    "Kowalczyk",
    "Lindahl",
    "Marchetti",
    "Novak",
    "Okonkwo",
    "Petrakis",
    "Quist",
    "Rautio",
    "Sandoval",
    "Tamura",
    "Ulloa",
    "Vasquez",
    "Wendt",
    "Yilmaz",
    "Zeller",
    "Achterberg",
    "Brandt",
    "Coelho",
    "Dahl",
    "Esposito",
)
COMPANIES = (  # domain, number of commenters working there
    ("northwind-robotics.example.com", 5),
    ("fabrikam-energy.example.com", 4),
    ("contoso-iot.example.net", 3),
    ("globex-industrial.example.org", 3),
    ("windmill-analytics.example.org", 3),
    ("tessera-labs.example.net", 2),
    ("vandelay-sensors.example.com", 1),
    ("initech.example.com", 1),
)
FREEMAIL = ("gmail.com", "outlook.com", "proton.me", "yahoo.com", "gmail.com", "gmail.com")
N_FREEMAIL = 30
UNIVERSITY = "uni-nord.example"
N_UNIVERSITY = 3
# the rest (60 - 22 - 30 - 3 = 5) use a personal domain: <last>.example.net

# referring sites: name, base URL, inbound links, of which trackbacks
REF_SITES = (
    ("Embedded Weekly", "https://embeddedweekly.example.com", 9, 0),
    ("Hacker Digest", "https://www.hackerdigest.example.net", 6, 0),
    ("TSDB Roundup", "https://tsdb-roundup.example.org", 5, 4),
    ("Rust Notes", "https://rustnotes.example.com", 4, 0),
    ("Edge Notes", "https://edge-notes.example.net", 3, 0),
    ("IoT Builders", "https://iotbuilders.example.com", 3, 0),
    ("Data Eng Links", "https://dataeng-links.example.org", 2, 0),
    ("Makers Forum Blog", "https://blog.makersforum.example.net", 2, 2),
    ("Kernel & Metal", "https://kernelmetal.example.com", 2, 2),
    ("Sensors Monthly", "https://sensorsmonthly.example.org", 2, 2),
    ("Marta's notebook", "https://marta.example.net", 1, 0),
    ("Windmill Analytics Engineering", "https://engineering.windmill-analytics.example.org", 1, 0),
)
SPAMMERS = (
    ("Best SEO Deals", "offers@cheap-seo.example.net", "https://cheap-seo.example.net"),
    ("crypto bonus", "win@bonus-crypto.example.com", "https://bonus-crypto.example.com"),
    ("Replica Watches", "sale@watches.example.org", "https://watches.example.org"),
    ("Essay Writer", "help@essays.example.net", ""),
    ("Free Followers", "grow@followers.example.com", "https://followers.example.com"),
)

DEVICES = (
    "a Raspberry Pi 4",
    "an ESP32-S3",
    "a BeagleBone Black",
    "an industrial gateway",
    "a Jetson Nano",
    "a STM32MP1 board",
    "an x86 edge box",
)
WISHES = (
    "Zephyr RTOS",
    "a Go client",
    "Prometheus remote write",
    "encryption at rest",
    "a Grafana data source",
    "MQTT ingest",
    "tiered storage to S3",
)
COMPETITORS = ("InfluxDB", "QuestDB", "TimescaleDB", "SQLite with a time index", "Prometheus TSDB")
USECASES = (
    "vibration monitoring",
    "smart meters",
    "fleet telemetry",
    "HVAC analytics",
    "solar inverters",
)

COMMENT_TEMPLATES = (
    "Great write-up! Does {topic} also work on {device}?",
    "We've been running Lumen on {device} for {n} months now and {topic} has been rock solid.",
    "Any plans to support {wish}? It would make {usecase} much easier for us.",
    "I tried this on {device} and got roughly {n}k points/s. Is that in the expected range?",
    "Thanks, the section on {topic} was exactly what I needed.",
    "Is there a way to configure {topic} per series rather than per database?",
    "How does {topic} compare to what {competitor} does?",
    "+1 for {wish}. Happy to help test it on {device}.",
    "Small typo in the second code block: <code>lumen_open()</code> should be <code>lumen_open_ro()</code>.",
    'I opened an issue about {topic}: <a href="' + REPO + '/issues/{issue}">#{issue}</a>',
    "We're evaluating Lumen at work for {usecase}. Is commercial support available?",
    "Do you offer training? About {n} of our engineers are starting with Lumen next quarter.",
    "The numbers for {topic} look impressive &#8212; would love to see the benchmark scripts.",
    "Nice! Upgrading from the previous version was painless for us.",
    "Could you say more about memory usage on {device}? We only have {n} MB to spare.",
    "Finally a TSDB that doesn't need a JVM &amp; 2 GB of RAM. Keep it up!",
)
REPLY_TEMPLATES = (
    "Good question! Short answer: yes, {topic} works the same way there.",
    "Thanks for the report, this is fixed on main and will ship in the next release.",
    "Yes &#8212; see the docs section on {topic}, and feel free to ask on the forum.",
    "Same experience here on {device}.",
    "We measured something similar; the numbers depend a lot on the SD card.",
    "Not yet, but it's on the roadmap. A design issue is open on GitHub.",
)
STAFF_REPLY_TEMPLATES = (
    "Thanks! {topic} works on {device} too; we test it in CI on real hardware.",
    "Good catch, fixed. Thank you!",
    'Yes, we offer business and 24/7 support plans as well as training; see <a href="'
    + SITE
    + '/support/">the support page</a> or write to sales@lumen.example.org.',
    "That's on the roadmap; follow the tracking issue on GitHub for updates.",
    "The benchmark scripts are in the repository under <code>bench/</code>.",
)
SPAM_TEXT = (
    "Great post!!! Check my site for the best deals",
    "Nice article, very informative. Visit us for cheap offers",
    "I like this blog. Earn $$$ from home",
)


@dataclass
class Person:
    name: str
    email: str
    url: str
    weight: float
    ip: str


@dataclass
class Post:
    post_id: int
    title: str
    slug: str
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    author: str
    topic: str
    date: datetime
    post_type: str = "post"
    status: str = "publish"
    content: str = ""
    modified: datetime | None = None
    comments: list[Comment] = field(default_factory=list)

    @property
    def url(self) -> str:
        if self.post_type == "page":
            return f"{SITE}/{self.slug}/"
        if self.status != "publish":
            return f"{SITE}/?p={self.post_id}"
        return f"{BLOG}/{self.date:%Y/%m}/{self.slug}/"


@dataclass
class Comment:
    post: Post
    author: str
    email: str
    url: str
    ip: str
    date: datetime
    content: str
    approved: str = "1"
    ctype: str = "comment"
    parent: Comment | None = None
    comment_id: int = 0
    akismet: bool = False


def site_offset(when: datetime) -> timedelta:
    """Europe/Berlin: CEST (+2) from the last Sunday of March to the last Sunday of October."""

    def last_sunday(year: int, month: int) -> datetime:
        day = datetime(year, month + 1, 1, 1, tzinfo=UTC) - timedelta(days=1)
        return day - timedelta(days=(day.weekday() + 1) % 7)

    start, end = last_sunday(when.year, 3), last_sunday(when.year, 10)
    return timedelta(hours=2 if start <= when < end else 1)


def local(when: datetime) -> str:
    return (when + site_offset(when)).strftime("%Y-%m-%d %H:%M:%S")


def gmt(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S")


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def rfc822(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC)).replace("-0000", "+0000")


class Generator:
    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.people = self._people()
        self.posts = self._posts()
        self.pages = self._pages()

    # -- people

    def _ip(self) -> str:
        rng = self.rng
        kind = rng.random()
        if kind < 0.15:
            return f"2001:db8:{rng.randrange(0x10000):x}::{rng.randrange(1, 0xFFFF):x}"
        net = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
        return f"{net}.{rng.randrange(1, 255)}"

    def _people(self) -> list[Person]:
        rng = self.rng
        firsts = list(FIRST)
        rng.shuffle(firsts)
        domains: list[str] = []
        for domain, n in COMPANIES:
            domains += [domain] * n
        domains += ["freemail"] * N_FREEMAIL + [UNIVERSITY] * N_UNIVERSITY
        domains += ["personal"] * (N_COMMENTERS - len(domains))
        rng.shuffle(domains)
        people: list[Person] = []
        for i in range(N_COMMENTERS):
            first, last = firsts[i], rng.choice(LAST)
            name = f"{first} {last}"
            handle = f"{first}.{last}".lower()
            kind = domains[i]
            url = ""
            if kind == "freemail":
                email = f"{handle.replace('.', rng.choice(('.', '', '_')))}{rng.choice(('', '', str(rng.randrange(10, 99))))}@{rng.choice(FREEMAIL)}"
            elif kind == "personal":
                email = f"{first.lower()}@{last.lower()}.example.net"
                url = f"https://{last.lower()}.example.net"
            else:
                email = f"{handle}@{kind}"
            if not url and rng.random() < 0.35:
                url = rng.choice(
                    (
                        f"https://github.com/{first.lower()}{last.lower()[:3]}",
                        f"https://{first.lower()}.example.net",
                        f"https://www.linkedin.example.com/in/{first.lower()}-{last.lower()}",
                    )
                )
            # a few very active people, a long tail of one-off commenters
            weight = 1 / (1 + i) ** 0.9
            people.append(Person(name, email, url, weight, self._ip()))
        rng.shuffle(people)
        return people

    # -- posts and pages

    def _posts(self) -> list[Post]:
        rng = self.rng
        span = (END - timedelta(days=12) - START).total_seconds()
        posts: list[Post] = []
        post_id = 10
        for i, (title, slug, cats, tags, author, topic) in enumerate(POSTS):
            base = START + timedelta(seconds=span * i / (len(POSTS) - 1))
            date = base + timedelta(hours=rng.randrange(-48, 48), minutes=rng.randrange(60))
            date = date.replace(hour=rng.randrange(6, 15), second=0, microsecond=0)
            post_id += rng.randrange(3, 9)
            post = Post(post_id, title, slug, cats, tags, author, topic, min(date, END))
            post.content = self._body(post)
            if rng.random() < 0.4:
                post.modified = post.date + timedelta(
                    days=rng.randrange(1, 30), hours=rng.randrange(24)
                )
            if i == DRAFT_INDEX:
                post.status = "draft"
            posts.append(post)
        return posts

    def _pages(self) -> list[Post]:
        pages = []
        for n, (title, slug, author, content) in enumerate(PAGES):
            date = START - timedelta(days=20 - n * 3)
            page = Post(3 + n, title, slug, (), (), author, "", date.replace(hour=9, minute=0))
            page.post_type = "page"
            page.content = content
            page.modified = datetime(2026, 6, 1, 10, 0, tzinfo=UTC) + timedelta(days=n)
            pages.append(page)
        return pages

    def _body(self, post: Post) -> str:
        rng = self.rng
        parts = [
            "<!-- wp:paragraph -->",
            f"<p>This post is about {html.escape(post.topic)} in Lumen&nbsp;&#8212; what we built, why, and what comes next.</p>",
            "<!-- /wp:paragraph -->",
            "",
            "<!-- wp:heading -->",
            "<h2>Background</h2>",
            "<!-- /wp:heading -->",
            "",
            f"<p>Devices at the edge write small points often: on {rng.choice(DEVICES)} a typical deployment ingests "
            f"{rng.randrange(2, 90)}k points per second while the CPU stays under {rng.randrange(5, 40)}%.</p>",
            "",
            "<!-- wp:code -->",
            '<pre class="wp-block-code"><code>let db = lumen::open("/var/lib/lumen")?;\ndb.write("temp", ts, 21.5)?;</code></pre>',
            "<!-- /wp:code -->",
            "",
            f'<p>Questions? Join the community call or open an issue on <a href="{REPO}">GitHub</a>.</p>',
        ]
        return "\n".join(parts)

    # -- comments

    def _delay(self, scale_hours: float) -> timedelta:
        return timedelta(hours=self.rng.expovariate(1 / scale_hours) + 0.2)

    def _fill(self, template: str, post: Post) -> str:
        rng = self.rng
        return template.format(
            topic=post.topic,
            device=rng.choice(DEVICES),
            wish=rng.choice(WISHES),
            usecase=rng.choice(USECASES),
            competitor=rng.choice(COMPETITORS),
            n=rng.randrange(2, 64),
            issue=rng.randrange(100, 1400),
        )

    def _comment_date(self, post: Post, after: datetime | None = None) -> datetime:
        base = after or post.date
        for _ in range(20):
            when = base + self._delay(60 if after is None else 18)
            if when < END:
                return when.replace(microsecond=0)
        return (base + timedelta(minutes=30)).replace(microsecond=0)

    def comments(self) -> list[Comment]:
        rng = self.rng
        published = [p for p in self.posts if p.status == "publish"]
        popularity = [
            rng.uniform(0.3, 1.0) * (2.0 if "Releases" in p.categories else 1.0) for p in published
        ]
        comments: list[Comment] = []
        authors = list(self.people)  # everyone comments at least once
        authors += rng.choices(
            self.people, [p.weight for p in self.people], k=COMMUNITY_COMMENTS - N_COMMENTERS
        )
        rng.shuffle(authors)
        top_level = COMMUNITY_COMMENTS - COMMUNITY_REPLIES
        for n, person in enumerate(authors):
            parent = None
            if n < top_level:
                post = rng.choices(published, popularity)[0]
            else:
                parent = rng.choice(
                    [
                        c
                        for c in comments
                        if c.parent is None and c.approved == "1" and c.email != person.email
                    ]
                )
                post = parent.post
            template = rng.choice(REPLY_TEMPLATES if parent else COMMENT_TEMPLATES)
            c = Comment(
                post,
                person.name,
                person.email,
                person.url,
                person.ip,
                self._comment_date(post, parent.date if parent else None),
                self._fill(template, post),
                parent=parent,
                akismet=rng.random() < 0.3,
            )
            if n < PENDING:
                c.approved = "0"
            elif n < PENDING + TRASH:
                c.approved = "trash"
            post.comments.append(c)
            comments.append(c)
        # staff answer questions
        staff_targets = rng.sample([c for c in comments if c.approved == "1"], STAFF_REPLIES)
        for target in staff_targets:
            _login, name, email = next(s for s in STAFF if s[0] == target.post.author)
            reply = Comment(
                target.post,
                name,
                email,
                SITE,
                "192.0.2.1",
                self._comment_date(target.post, target.date),
                self._fill(rng.choice(STAFF_REPLY_TEMPLATES), target.post),
                parent=target,
            )
            target.post.comments.append(reply)
            comments.append(reply)
        for i in range(SPAM):
            name, email, url = SPAMMERS[i % len(SPAMMERS)]
            post = rng.choice(published)
            c = Comment(
                post,
                name,
                email,
                url,
                self._ip(),
                self._comment_date(post),
                rng.choice(SPAM_TEXT),
                approved="spam",
                akismet=True,
            )
            post.comments.append(c)
            comments.append(c)
        for name, base, links, trackbacks in REF_SITES:
            for k in range(links):
                post = rng.choices(published, popularity)[0]
                kind = "trackback" if k < trackbacks else "pingback"
                slug = f"{post.slug.split('-')[0]}-{rng.randrange(10, 999)}"
                source = (
                    f"{base}/{post.date:%Y/%m}/{slug}/"
                    if rng.random() < 0.6
                    else f"{base}/issue-{rng.randrange(40, 200)}/"
                )
                if kind == "pingback":
                    author = f"{post.title[:40].rstrip()} &#8211; {name}"
                    content = (
                        f"[&#8230;] {post.topic.capitalize()} in Lumen, explained well [&#8230;]"
                    )
                else:
                    author = name
                    content = f"<strong>Links: {html.escape(post.topic)}</strong>\n\nLumen now handles {html.escape(post.topic)}; worth a read."
                c = Comment(
                    post,
                    author,
                    "",
                    source,
                    self._ip(),
                    self._comment_date(post),
                    content,
                    ctype=kind,
                )
                post.comments.append(c)
                comments.append(c)
        comments.sort(key=lambda c: (c.date, c.email, c.content))
        # parents must precede replies in id order (WordPress ids are chronological)
        for c in comments:
            if c.parent is not None and c.date <= c.parent.date:
                c.date = c.parent.date + timedelta(minutes=7)
        comments.sort(key=lambda c: (c.date, c.email, c.content))
        for n, c in enumerate(comments):
            c.comment_id = FIRST_COMMENT_ID + n
        return comments


# --------------------------------------------------------------------------- WXR


def wxr(gen: Generator, comments: list[Comment]) -> str:
    rng = gen.rng
    out: list[str] = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        "<!-- This is a WordPress eXtended RSS file generated by WordPress as an export of your site. -->",
        "<!-- It contains information about your site's posts, pages, comments, categories, and other content. -->",
        '<!-- generator="WordPress/6.8.1" created="2026-11-02 09:12" -->',
        '<rss version="2.0"',
        '\txmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"',
        '\txmlns:content="http://purl.org/rss/1.0/modules/content/"',
        '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"',
        '\txmlns:dc="http://purl.org/dc/elements/1.1/"',
        '\txmlns:wp="http://wordpress.org/export/1.2/"',
        ">",
        "",
        "<channel>",
        "\t<title>Lumen Blog</title>",
        f"\t<link>{BLOG}</link>",
        "\t<description>News and engineering notes from the Lumen time-series database</description>",
        "\t<pubDate>Mon, 02 Nov 2026 09:12:00 +0000</pubDate>",
        "\t<language>en-US</language>",
        "\t<wp:wxr_version>1.2</wp:wxr_version>",
        f"\t<wp:base_site_url>{SITE}</wp:base_site_url>",
        f"\t<wp:base_blog_url>{BLOG}</wp:base_blog_url>",
        "",
    ]
    for n, (login, name, email) in enumerate(STAFF, start=1):
        first, last = name.split(" ", 1)
        out.append(
            f"\t<wp:author><wp:author_id>{n}</wp:author_id><wp:author_login>{cdata(login)}</wp:author_login>"
            f"<wp:author_email>{cdata(email)}</wp:author_email><wp:author_display_name>{cdata(name)}</wp:author_display_name>"
            f"<wp:author_first_name>{cdata(first)}</wp:author_first_name><wp:author_last_name>{cdata(last)}</wp:author_last_name></wp:author>"
        )
    out.append("")
    cats = sorted({c for p in gen.posts for c in p.categories})
    tags = sorted({t for p in gen.posts for t in p.tags})
    for n, cat in enumerate(cats, start=2):
        out.append(
            f"\t<wp:category>\n\t\t<wp:term_id>{n}</wp:term_id>\n\t\t<wp:category_nicename>{cdata(_nicename(cat))}</wp:category_nicename>\n"
            f"\t\t<wp:category_parent>{cdata('')}</wp:category_parent>\n\t\t<wp:cat_name>{cdata(html.escape(cat, quote=False))}</wp:cat_name>\n\t</wp:category>"
        )
    for n, tag in enumerate(tags, start=100):
        out.append(
            f"\t<wp:tag>\n\t\t<wp:term_id>{n}</wp:term_id>\n\t\t<wp:tag_slug>{cdata(tag)}</wp:tag_slug>\n\t\t<wp:tag_name>{cdata(tag)}</wp:tag_name>\n\t</wp:tag>"
        )
    out.append("\n\t<generator>https://wordpress.org/?v=6.8.1</generator>\n")

    items: list[tuple[int, str]] = []
    for page in gen.pages:
        items.append((page.post_id, _item(page, [], rng)))
    for post in gen.posts:
        items.append(
            (post.post_id, _item(post, sorted(post.comments, key=lambda c: c.comment_id), rng))
        )
    # media and menu items, as real exports have them (the connector skips them)
    for k, post in enumerate((gen.posts[3], gen.posts[9], gen.posts[23])):
        items.append((post.post_id + 1, _attachment(post, post.post_id + 1, k)))
    items.append((2, _menu_item(gen.pages[0])))
    for _, text in sorted(items):
        out.append(text)
    out.append("</channel>\n</rss>\n")
    return "\n".join(out)


def _nicename(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-").replace("--", "-")


def _item(post: Post, comments: list[Comment], rng: random.Random) -> str:
    draft = post.status != "publish"
    lines = [
        "\t<item>",
        f"\t\t<title>{cdata(post.title)}</title>",
        f"\t\t<link>{post.url}</link>",
        f"\t\t<pubDate>{'Thu, 01 Jan 1970 00:00:00 +0000' if draft else rfc822(post.date)}</pubDate>",
        f"\t\t<dc:creator>{cdata(post.author)}</dc:creator>",
        f'\t\t<guid isPermaLink="false">{SITE}/?{"page_id" if post.post_type == "page" else "p"}={post.post_id}</guid>',
        "\t\t<description></description>",
        f"\t\t<content:encoded>{cdata(post.content)}</content:encoded>",
        f"\t\t<excerpt:encoded>{cdata('')}</excerpt:encoded>",
        f"\t\t<wp:post_id>{post.post_id}</wp:post_id>",
        f"\t\t<wp:post_date>{cdata(local(post.date))}</wp:post_date>",
        f"\t\t<wp:post_date_gmt>{cdata('0000-00-00 00:00:00' if draft else gmt(post.date))}</wp:post_date_gmt>",
        f"\t\t<wp:post_modified>{cdata(local(post.modified or post.date))}</wp:post_modified>",
        f"\t\t<wp:post_modified_gmt>{cdata(gmt(post.modified or post.date))}</wp:post_modified_gmt>",
        f"\t\t<wp:comment_status>{cdata('closed' if post.post_type == 'page' else 'open')}</wp:comment_status>",
        f"\t\t<wp:ping_status>{cdata('closed' if post.post_type == 'page' else 'open')}</wp:ping_status>",
        f"\t\t<wp:post_name>{cdata('' if draft else post.slug)}</wp:post_name>",
        f"\t\t<wp:status>{cdata(post.status)}</wp:status>",
        "\t\t<wp:post_parent>0</wp:post_parent>",
        "\t\t<wp:menu_order>0</wp:menu_order>",
        f"\t\t<wp:post_type>{cdata(post.post_type)}</wp:post_type>",
        f"\t\t<wp:post_password>{cdata('')}</wp:post_password>",
        "\t\t<wp:is_sticky>0</wp:is_sticky>",
    ]
    for cat in post.categories:
        lines.append(
            f'\t\t<category domain="category" nicename="{_nicename(cat)}">{cdata(html.escape(cat, quote=False))}</category>'
        )
    for tag in post.tags:
        lines.append(f'\t\t<category domain="post_tag" nicename="{tag}">{cdata(tag)}</category>')
    lines.append(
        f"\t\t<wp:postmeta>\n\t\t<wp:meta_key>{cdata('_edit_last')}</wp:meta_key>\n\t\t<wp:meta_value>{cdata('1')}</wp:meta_value>\n\t\t</wp:postmeta>"
    )
    for c in comments:
        lines.append(_comment(c, rng))
    lines.append("\t</item>")
    return "\n".join(lines)


def _comment(c: Comment, rng: random.Random) -> str:
    meta = ""
    if c.akismet:
        result = "true" if c.approved == "spam" else "false"
        submitted = (
            f'a:4:{{s:14:"comment_author";s:{len(c.author)}:"{c.author}";s:7:"user_ip";s:{len(c.ip)}:"{c.ip}";'
            f's:10:"user_agent";s:11:"Mozilla/5.0";s:8:"referrer";s:0:"";}}'
        )
        meta = (
            f"\n\t\t\t<wp:commentmeta>\n\t\t\t\t<wp:meta_key>{cdata('akismet_result')}</wp:meta_key>\n\t\t\t\t<wp:meta_value>{cdata(result)}</wp:meta_value>\n\t\t\t</wp:commentmeta>"
            f"\n\t\t\t<wp:commentmeta>\n\t\t\t\t<wp:meta_key>{cdata('akismet_as_submitted')}</wp:meta_key>\n\t\t\t\t<wp:meta_value>{cdata(submitted)}</wp:meta_value>\n\t\t\t</wp:commentmeta>"
        )
    # older comments were imported before WordPress 5.5 wrote "comment" explicitly
    ctype = c.ctype if c.ctype != "comment" or c.date >= datetime(2026, 1, 1, tzinfo=UTC) else ""
    return (
        "\t\t<wp:comment>\n"
        f"\t\t\t<wp:comment_id>{c.comment_id}</wp:comment_id>\n"
        f"\t\t\t<wp:comment_author>{cdata(c.author)}</wp:comment_author>\n"
        f"\t\t\t<wp:comment_author_email>{cdata(c.email)}</wp:comment_author_email>\n"
        f"\t\t\t<wp:comment_author_url>{html.escape(c.url)}</wp:comment_author_url>\n"
        f"\t\t\t<wp:comment_author_IP>{cdata(c.ip)}</wp:comment_author_IP>\n"
        f"\t\t\t<wp:comment_date>{cdata(local(c.date))}</wp:comment_date>\n"
        f"\t\t\t<wp:comment_date_gmt>{cdata(gmt(c.date))}</wp:comment_date_gmt>\n"
        f"\t\t\t<wp:comment_content>{cdata(c.content)}</wp:comment_content>\n"
        f"\t\t\t<wp:comment_approved>{cdata(c.approved)}</wp:comment_approved>\n"
        f"\t\t\t<wp:comment_type>{cdata(ctype)}</wp:comment_type>\n"
        f"\t\t\t<wp:comment_parent>{c.parent.comment_id if c.parent else 0}</wp:comment_parent>\n"
        f"\t\t\t<wp:comment_user_id>{[s[2] for s in STAFF].index(c.email) + 1 if c.email in [s[2] for s in STAFF] else 0}</wp:comment_user_id>"
        f"{meta}\n"
        "\t\t</wp:comment>"
    )


def _attachment(post: Post, post_id: int, k: int) -> str:
    name = ("pi-zero-setup", "arm-benchmark-chart", "wind-farm")[k]
    url = f"{SITE}/wp-content/uploads/{post.date:%Y/%m}/{name}.png"
    return "\n".join(
        [
            "\t<item>",
            f"\t\t<title>{cdata(name)}</title>",
            f"\t\t<link>{post.url}{name}/</link>",
            f"\t\t<pubDate>{rfc822(post.date)}</pubDate>",
            f"\t\t<dc:creator>{cdata(post.author)}</dc:creator>",
            f'\t\t<guid isPermaLink="false">{url}</guid>',
            "\t\t<description></description>",
            f"\t\t<content:encoded>{cdata('')}</content:encoded>",
            f"\t\t<excerpt:encoded>{cdata('')}</excerpt:encoded>",
            f"\t\t<wp:post_id>{post_id}</wp:post_id>",
            f"\t\t<wp:post_date>{cdata(local(post.date))}</wp:post_date>",
            f"\t\t<wp:post_date_gmt>{cdata(gmt(post.date))}</wp:post_date_gmt>",
            f"\t\t<wp:post_name>{cdata(name)}</wp:post_name>",
            f"\t\t<wp:status>{cdata('inherit')}</wp:status>",
            f"\t\t<wp:post_parent>{post.post_id}</wp:post_parent>",
            "\t\t<wp:menu_order>0</wp:menu_order>",
            f"\t\t<wp:post_type>{cdata('attachment')}</wp:post_type>",
            f"\t\t<wp:post_password>{cdata('')}</wp:post_password>",
            "\t\t<wp:is_sticky>0</wp:is_sticky>",
            f"\t\t<wp:attachment_url>{cdata(url)}</wp:attachment_url>",
            "\t</item>",
        ]
    )


def _menu_item(page: Post) -> str:
    return "\n".join(
        [
            "\t<item>",
            f"\t\t<title>{cdata('')}</title>",
            f"\t\t<link>{SITE}/?p=2</link>",
            f"\t\t<pubDate>{rfc822(page.date)}</pubDate>",
            f"\t\t<dc:creator>{cdata(page.author)}</dc:creator>",
            f'\t\t<guid isPermaLink="false">{SITE}/?p=2</guid>',
            "\t\t<description></description>",
            f"\t\t<content:encoded>{cdata(' ')}</content:encoded>",
            f"\t\t<excerpt:encoded>{cdata('')}</excerpt:encoded>",
            "\t\t<wp:post_id>2</wp:post_id>",
            f"\t\t<wp:post_date>{cdata(local(page.date))}</wp:post_date>",
            f"\t\t<wp:post_date_gmt>{cdata(gmt(page.date))}</wp:post_date_gmt>",
            f"\t\t<wp:post_name>{cdata('2')}</wp:post_name>",
            f"\t\t<wp:status>{cdata('publish')}</wp:status>",
            "\t\t<wp:post_parent>0</wp:post_parent>",
            "\t\t<wp:menu_order>1</wp:menu_order>",
            f"\t\t<wp:post_type>{cdata('nav_menu_item')}</wp:post_type>",
            f"\t\t<wp:post_password>{cdata('')}</wp:post_password>",
            "\t\t<wp:is_sticky>0</wp:is_sticky>",
            f'\t\t<category domain="nav_menu" nicename="main">{cdata("Main")}</category>',
            "\t</item>",
        ]
    )


# --------------------------------------------------------------------------- feeds

COMMUNITY_POSTS = (
    (
        "Building a weather station with Lumen and an ESP32",
        "weather-station-esp32",
        ("Projects",),
        "esp32",
    ),
    ("Lumen + Grafana: a dashboard in ten minutes", "grafana-dashboard", ("How-to",), "grafana"),
    ("My first contribution to Lumen", "first-contribution", ("Contributors",), "contributing"),
    ("Meetup recap: Lumen Berlin #3", "meetup-berlin-3", ("Events",), "meetups"),
    ("Storing CAN bus data from a tractor", "can-bus-tractor", ("Projects",), "can-bus"),
    (
        "Hacktoberfest 2026: good first issues",
        "hacktoberfest-2026",
        ("Contributors",),
        "hacktoberfest",
    ),
    ("Lumen on RISC-V: first numbers", "risc-v-first-numbers", ("Benchmarks",), "risc-v"),
    ("Writing a Lumen exporter for Modbus", "modbus-exporter", ("How-to",), "modbus"),
    ("Office hours are moving to Thursdays", "office-hours-thursdays", ("Events",), "office-hours"),
    ("Community survey results 2026", "survey-2026", ("Community",), "survey"),
)
COMMUNITY_AUTHORS = 4  # community posts are written by the four most active commenters


def community_feeds(gen: Generator) -> tuple[str, str]:
    rng = gen.rng
    authors = gen.people[:COMMUNITY_AUTHORS]
    start = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    posts = []
    for i, (title, slug, cats, tag) in enumerate(COMMUNITY_POSTS):
        date = start + timedelta(days=18 * i, hours=rng.randrange(0, 9))
        posts.append(
            {
                "id": 400 + i * 7,
                "title": title,
                "slug": slug,
                "cats": cats,
                "tag": tag,
                "date": date,
                "author": authors[i % len(authors)].name,
                "comments": [],
            }
        )
    commenters = gen.people[:15]
    for n in range(N_COMMUNITY_FEED_COMMENTS):
        post = posts[n % len(posts)] if n < len(posts) else rng.choice(posts)
        person = commenters[n % len(commenters)]
        when = post["date"] + timedelta(hours=rng.expovariate(1 / 40) + 0.5)
        text = rng.choice(
            (
                f"Thanks for sharing! I'm trying the same with {rng.choice(DEVICES)}.",
                "Which Lumen version did you use for this?",
                "Great write-up &#8212; bookmarking this.",
                f"Would love a follow-up on {post['tag']}.",
                "Could this become an example in the main repository?",
            )
        )
        post["comments"].append(
            {"id": 900 + n, "author": person.name, "date": min(when, END), "text": text}
        )
    url = lambda p: f"{COMMUNITY}/{p['date']:%Y/%m/%d}/{p['slug']}/"  # noqa: E731

    items = []
    for p in sorted(posts, key=lambda p: p["date"], reverse=True):
        cats = "".join(f"\n\t\t<category>{cdata(c)}</category>" for c in (*p["cats"], p["tag"]))
        items.append(
            f"""	<item>
		<title>{html.escape(p["title"])}</title>
		<link>{url(p)}</link>
		<comments>{url(p)}#respond</comments>
		<dc:creator>{cdata(p["author"])}</dc:creator>
		<pubDate>{rfc822(p["date"])}</pubDate>{cats}
		<guid isPermaLink="false">{COMMUNITY}/?p={p["id"]}</guid>
		<description>{cdata(f"{p['title']}: notes from the Lumen community. [&#8230;]")}</description>
		<content:encoded>{cdata(f"<p>{html.escape(p['title'])}.</p>" + chr(10) + "<p>Notes from the Lumen community about " + html.escape(p["tag"]) + ".</p>")}</content:encoded>
		<wfw:commentRss>{url(p)}feed/</wfw:commentRss>
		<slash:comments>{len(p["comments"])}</slash:comments>
	</item>"""
        )
    latest = max(p["date"] for p in posts)
    posts_feed = f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:wfw="http://wellformedweb.org/CommentAPI/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:atom="http://www.w3.org/2005/Atom"
	xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"
	xmlns:slash="http://purl.org/rss/1.0/modules/slash/"
	>

<channel>
	<title>Lumen Community</title>
	<atom:link href="{COMMUNITY}/feed/" rel="self" type="application/rss+xml" />
	<link>{COMMUNITY}</link>
	<description>Stories, projects and events from Lumen users and contributors</description>
	<lastBuildDate>{rfc822(latest)}</lastBuildDate>
	<language>en-US</language>
	<sy:updatePeriod>hourly</sy:updatePeriod>
	<sy:updateFrequency>1</sy:updateFrequency>
	<generator>https://wordpress.org/?v=6.8.1</generator>
{chr(10).join(items)}
</channel>
</rss>
"""
    all_comments = sorted(
        ((c, p) for p in posts for c in p["comments"]), key=lambda cp: cp[0]["date"], reverse=True
    )
    citems = []
    for c, p in all_comments:
        citems.append(
            f"""	<item>
		<title>Comment on {html.escape(p["title"])} by {html.escape(c["author"])}</title>
		<link>{url(p)}#comment-{c["id"]}</link>
		<dc:creator>{cdata(c["author"])}</dc:creator>
		<pubDate>{rfc822(c["date"])}</pubDate>
		<guid isPermaLink="false">{COMMUNITY}/?p={p["id"]}#comment-{c["id"]}</guid>
		<description>{cdata(c["text"])}</description>
		<content:encoded>{cdata("<p>" + c["text"] + "</p>")}</content:encoded>
	</item>"""
        )
    comments_feed = f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:atom="http://www.w3.org/2005/Atom"
	xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"
	>
<channel>
	<title>Comments for Lumen Community</title>
	<atom:link href="{COMMUNITY}/comments/feed/" rel="self" type="application/rss+xml" />
	<link>{COMMUNITY}</link>
	<description>Stories, projects and events from Lumen users and contributors</description>
	<lastBuildDate>{rfc822(all_comments[0][0]["date"])}</lastBuildDate>
	<sy:updatePeriod>hourly</sy:updatePeriod>
	<sy:updateFrequency>1</sy:updateFrequency>
	<generator>https://wordpress.org/?v=6.8.1</generator>
{chr(10).join(citems)}
</channel>
</rss>
"""
    return posts_feed, comments_feed


RELEASES = (
    ("0.4.0", 2),
    ("0.5.0", 6),
    ("0.6.0", 10),
    ("0.7.0", 13),
    ("0.8.0", 16),
    ("0.9.0", 19),
    ("1.0.0", 22),
    ("1.0.1", None),
)


def releases_atom(gen: Generator) -> str:
    entries = []
    dates: list[datetime] = []
    for version, post_index in RELEASES:
        if post_index is None:
            when = gen.posts[22].date + timedelta(days=16, hours=3)
            summary = "Bug-fix release: compaction no longer stalls on full disks."
            link = f"{REPO}/releases/tag/v{version}"
        else:
            post = gen.posts[post_index]
            when = post.date - timedelta(hours=2)
            summary = f"Lumen {version}: {post.topic}. Release notes and upgrade guide."
            link = post.url
        dates.append(when)
        entries.append(
            f"""  <entry>
    <title>Lumen {version}</title>
    <link rel="alternate" type="text/html" href="{link}"/>
    <id>tag:lumen.example.org,2025:release/{version}</id>
    <published>{when.strftime("%Y-%m-%dT%H:%M:%SZ")}</published>
    <updated>{(when + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}</updated>
    <author><name>Lumen release bot</name></author>
    <category term="release"/>
    <summary type="html">{html.escape("<p>" + summary + "</p>")}</summary>
  </entry>"""
        )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Lumen releases</title>
  <link rel="alternate" type="text/html" href="{SITE}/releases/"/>
  <link rel="self" type="application/atom+xml" href="{SITE}/releases/atom.xml"/>
  <id>tag:lumen.example.org,2025:releases</id>
  <updated>{(max(dates) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}</updated>
{chr(10).join(reversed(entries))}
</feed>
"""


def generate(out: Path = HERE) -> dict[str, Path]:
    gen = Generator()
    comments = gen.comments()
    files = {
        "wxr": out / "lumen-blog.wxr.xml",
        "community": out / "community" / "lumen-community.rss.xml",
        "community_comments": out / "community" / "lumen-community-comments.rss.xml",
        "releases": out / "lumen-releases.atom.xml",
    }
    files["community"].parent.mkdir(parents=True, exist_ok=True)
    posts_feed, comments_feed = community_feeds(gen)
    files["wxr"].write_text(wxr(gen, comments), encoding="utf-8")
    files["community"].write_text(posts_feed, encoding="utf-8")
    files["community_comments"].write_text(comments_feed, encoding="utf-8")
    files["releases"].write_text(releases_atom(gen), encoding="utf-8")
    return files


if __name__ == "__main__":
    for path in generate().values():
        print(f"{path.stat().st_size:>8}  {path}")
