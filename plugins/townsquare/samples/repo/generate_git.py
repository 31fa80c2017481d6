"""Generate the bundled git history of Lumen for ``townsquare demo`` (deterministic, offline).

The story: *Lumen*, the fictional embedded time-series database of the blog sample
(``samples/blog/generate.py``), keeps its code at ``github.com/lumen-db/lumen`` (the
recorded API of ``generate_github.py``). This module writes the repository's history
as a ``git fast-import`` stream, ``git/lumen.fastimport`` next to this file;
``townsquare.samples.repo.git_sample.materialize`` turns it into a real repository
(``git init`` + ``git fast-import``, no network, no git configuration needed: every
identity is in the stream).

Run ``python -m townsquare.samples.repo.generate_git`` to rewrite the stream. Output
depends only on the constants below and ``SEED`` (the people come from the blog's
``Generator().people``; GitHub logins and ids as ``generate_github`` makes them:
``login(name)``, user id ``81000 + i`` for ``people[i]``, ``4100 + i`` for ``STAFF[i]``).

The history (2025-09-02 … 2026-10-31): one ``main`` branch of small text-file changes
(squash-merged pull requests, the maintainers' direct commits, GitHub web-UI edits),
8 feature branches merged with ``--no-ff`` merge commits, one unmerged branch
(``zephyr-port``) and 7 lightweight release tags (``v0.4.0`` … ``v1.0.0``).
Squash-merged and web-UI commits have the committer ``GitHub <noreply@github.com>``
(GitHub's web-flow identity, shared by everyone: not a person); commits a maintainer
rebased have that maintainer as committer. Author and committer dates carry each
person's UTC offset (with European or US daylight saving time where they live).

Who commits with which address (``login`` = ``generate_github.login(name)``; noreply =
``{id}+{login}@users.noreply.github.com``; "blog" = the person's blog-comment email):

=========================  =======  ========================================================
author                     commits  address(es)
=========================  =======  ========================================================
Ines Duarte (staff)             58  ines@lumen.example.org (the first commit; 4 merges)
Tobias Lindqvist (staff)        47  tobias@lumen.example.org; 8 web-UI edits with
                                    4101+tobias-lindqvist@users.noreply.github.com
Priya Raman (staff)             40  priya@lumen.example.org (7 releases; 4 merges)
Ingrid Quist                    40  blog (ingridquist56@gmail.com) until 2025-12-01, then
                                    noreply 81008+ingrid-quist (both kinds over time)
Omar Wendt                      30  blog (personal domain omar@wendt.example.net)
Vera Okonkwo                    26  vera.okonkwo@contoso-iot.example.net until 2026-03-01,
                                    then vera.okonkwo@windmill-analytics.example.org (job change)
Teodor Wendt                    22  noreply 81027+teodor-wendt
Quentin Wendt                   16  blog (quentin_wendt@gmail.com: freemail, no noreply)
Kaito Kowalczyk                 14  noreply 81037+kaito-kowalczyk (3 on ``zephyr-port``)
Mei Dahl                        12  blog (company, northwind-robotics)
Esme Ulloa                      10  noreply 81007+esme-ulloa
Fatima Eklund                    9  noreply 81002+fatima-eklund
Henrik Brandt                    8  blog (university, uni-nord.example)
Greta Ishikawa                   7  blog (company, fabrikam-energy) until 2026-06-01, then
                                    noreply 81031+greta-ishikawa
Amara Eklund                     6  noreply 81021+amara-eklund
Linnea Petrakis                  5  noreply 81022+linnea-petrakis
Niko Coelho                      5  blog (company, northwind-robotics)
Brigid Coelho                    4  noreply 81012+brigid-coelho
Hugo Abara                       4  blog (company, vandelay-sensors)
Nadia Eklund                     4  blog (company, nadia.eklund@tessera-labs.example.net)
Xavier Zeller                    3  noreply 81032+xavier-zeller
Dagny Yilmaz                     3  blog (dagnyyilmaz@gmail.com)
Aiko Wendt                       3  blog (company, contoso-iot)
Callum Sandoval                  2  blog (company, windmill-analytics)
Malik Brandt                     2  blog (personal domain)
Bastian Berglund                 2  blog (university)
Emeka Dervish                    1  noreply 81015+emeka-dervish
Rosa Eklund                      1  noreply 81023+rosa-eklund
Jana Castellanos                 1  blog (company, initech)
Selin Sandoval                   1  noreply 81038+selin-sandoval
Jonas Achterberg                 4  team@tessera-labs.example.net ONLY: the shared team
                                    address (a wrong-merge trap: the list-only member Søren
                                    Ørsted of the mailing-list sample posts from it too).
                                    A blog commenter (jonas.achterberg@tessera-labs...);
                                    on GitHub only a stargazer (jonas-achterberg, 120055)
dependabot[bot]                 16  49699333+dependabot[bot]@users.noreply.github.com
=========================  =======  ========================================================

Facts the tests check (they follow from the constants; ``generate()`` asserts them):

- 406 commits: 398 regular + 8 merge commits; 403 reachable from ``main``, 3 only from
  ``zephyr-port``; 7 tags.
- 30 commits (about 8%) carry ``Co-authored-by:`` trailers (some two), naming staff
  and contributors by the address they commit with at that date.
- The stream is well under 1 MB.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from townsquare.samples.blog.generate import END, STAFF, START, Generator
from townsquare.samples.repo.generate_github import N_PEOPLE, login

SEED = 20261124
HERE = Path(__file__).resolve().parent
OUT = HERE / "git" / "lumen.fastimport"

NOREPLY = "users.noreply.github.com"
WEB_FLOW = ("GitHub", "noreply@github.com")
BOT = ("dependabot[bot]", f"49699333+dependabot[bot]@{NOREPLY}")
STAFF_ID, PEOPLE_ID = 4100, 81000
JOB_CHANGE = datetime(2026, 3, 1, tzinfo=UTC)
OLD_EMPLOYER, NEW_EMPLOYER = "contoso-iot.example.net", "windmill-analytics.example.org"
TEAM = ("Jonas Achterberg", "team@tessera-labs.example.net")
N_TEAM_COMMITS = 4
STAFF_WEB_EDITS = 8  # Tobias's GitHub web-UI edits, with his noreply address
CO_AUTHOR_SHARE = 0.08
MAX_LINES = 16  # a file keeps at most this many lines: the stream stays small

# Time zones: (minutes east of UTC in winter, daylight saving rule: "eu", "us" or None)
LISBON, STOCKHOLM, BERLIN = (0, "eu"), (60, "eu"), (60, "eu")
HELSINKI, NEW_YORK, DENVER = (120, "eu"), (-300, "us"), (-420, "us")
SAO_PAULO, KOLKATA, TOKYO, LAGOS = (-180, None), (330, None), (540, None), (60, None)

# Staff: (commits of their own on main, time zone); Priya also tags the releases
STAFF_PLAN = {
    "Ines Duarte": (53, LISBON),
    "Tobias Lindqvist": (39, STOCKHOLM),  # + STAFF_WEB_EDITS with the noreply address
    "Priya Raman": (29, BERLIN),  # + one release commit per tag
}
# Contributors (blog people among the first N_PEOPLE): name → (commits, plan, time zone).
# plan: "blog" (their blog email), "noreply", "blog>noreply YYYY-MM-DD" (the blog email
# before that date, noreply from it on), "job" (OLD_EMPLOYER before JOB_CHANGE, then
# NEW_EMPLOYER). Commits on feature branches count here too.
CONTRIBUTORS: dict[str, tuple[int, str, tuple[int, str | None]]] = {
    "Ingrid Quist": (40, "blog>noreply 2025-12-01", STOCKHOLM),
    "Omar Wendt": (30, "blog", BERLIN),
    "Vera Okonkwo": (26, "job", LAGOS),
    "Teodor Wendt": (22, "noreply", NEW_YORK),
    "Quentin Wendt": (16, "blog", BERLIN),
    "Kaito Kowalczyk": (14, "noreply", TOKYO),
    "Mei Dahl": (12, "blog", HELSINKI),
    "Esme Ulloa": (10, "noreply", DENVER),
    "Fatima Eklund": (9, "noreply", STOCKHOLM),
    "Henrik Brandt": (8, "blog", BERLIN),
    "Greta Ishikawa": (7, "blog>noreply 2026-06-01", TOKYO),
    "Amara Eklund": (6, "noreply", SAO_PAULO),
    "Linnea Petrakis": (5, "noreply", HELSINKI),
    "Niko Coelho": (5, "blog", LISBON),
    "Brigid Coelho": (4, "noreply", NEW_YORK),
    "Hugo Abara": (4, "blog", LAGOS),
    "Nadia Eklund": (4, "blog", STOCKHOLM),
    "Xavier Zeller": (3, "noreply", KOLKATA),
    "Dagny Yilmaz": (3, "blog", BERLIN),
    "Aiko Wendt": (3, "blog", TOKYO),
    "Callum Sandoval": (2, "blog", NEW_YORK),
    "Malik Brandt": (2, "blog", BERLIN),
    "Bastian Berglund": (2, "blog", BERLIN),
    "Emeka Dervish": (1, "noreply", LAGOS),
    "Rosa Eklund": (1, "noreply", SAO_PAULO),
    "Jana Castellanos": (1, "blog", DENVER),
    "Selin Sandoval": (1, "noreply", HELSINKI),
}
# Feature branches: name, author, commits, window (start, end), files of their own,
# merged by (None: never merged)
BRANCHES: tuple[tuple[str, str, int, tuple[str, str], tuple[str, ...], str | None], ...] = (
    (
        "esp32-port",
        "Omar Wendt",
        5,
        ("2025-10-20", "2025-11-12"),
        ("examples/esp32/main.c", "examples/esp32/README.md"),
        "Ines Duarte",
    ),
    (
        "continuous-aggregates",
        "Vera Okonkwo",
        4,
        ("2026-01-08", "2026-01-26"),
        ("src/aggregates.c", "tests/test_aggregates.c"),
        "Priya Raman",
    ),
    (
        "python-bindings",
        "Teodor Wendt",
        4,
        ("2026-02-16", "2026-03-20"),
        ("python/lumen/cursor.py", "python/tests/test_cursor.py"),
        "Priya Raman",
    ),
    (
        "mmap-reader",
        "Kaito Kowalczyk",
        3,
        ("2026-04-13", "2026-04-30"),
        ("src/mmap_reader.c",),
        "Ines Duarte",
    ),
    (
        "lql-fill",
        "Ingrid Quist",
        4,
        ("2026-05-11", "2026-05-29"),
        ("src/lql_fill.c", "tests/test_lql_fill.c"),
        "Ines Duarte",
    ),
    (
        "crash-safe-compaction",
        "Mei Dahl",
        3,
        ("2026-06-22", "2026-07-17"),
        ("src/compaction_journal.c",),
        "Priya Raman",
    ),
    (
        "otel-ingest",
        "Quentin Wendt",
        3,
        ("2026-08-03", "2026-08-21"),
        ("src/otel.c", "tests/test_otel.c"),
        "Ines Duarte",
    ),
    (
        "debian-packaging",
        "Henrik Brandt",
        3,
        ("2026-09-21", "2026-10-09"),
        ("packaging/debian/control", "packaging/debian/rules"),
        "Priya Raman",
    ),
    (
        "zephyr-port",
        "Kaito Kowalczyk",
        3,
        ("2026-10-12", "2026-10-28"),
        ("ports/zephyr/lumen_zephyr.c", "ports/zephyr/CMakeLists.txt"),
        None,
    ),
)
RELEASES = (
    ("v0.4.0", "2025-10-07"),
    ("v0.5.0", "2025-12-02"),
    ("v0.6.0", "2026-02-03"),
    ("v0.7.0", "2026-04-07"),
    ("v0.8.0", "2026-06-02"),
    ("v0.9.0", "2026-08-04"),
    ("v1.0.0", "2026-09-15"),
)
# dependabot[bot] pull requests, in order: (package, from, to, file)
REQUIREMENTS = "python/requirements-dev.txt"
WORKFLOW = ".github/workflows/ci.yml"
BUMPS = (
    ("pytest", "8.3.2", "8.3.3", REQUIREMENTS),
    ("actions/checkout", "4.1.7", "4.2.0", WORKFLOW),
    ("hypothesis", "6.112.0", "6.115.3", REQUIREMENTS),
    ("cffi", "1.17.0", "1.17.1", REQUIREMENTS),
    ("actions/setup-python", "5.2.0", "5.3.0", WORKFLOW),
    ("pytest", "8.3.3", "8.3.4", REQUIREMENTS),
    ("numpy", "2.1.1", "2.2.0", REQUIREMENTS),
    ("actions/cache", "4.0.2", "4.1.2", WORKFLOW),
    ("hypothesis", "6.115.3", "6.122.1", REQUIREMENTS),
    ("actions/checkout", "4.2.0", "4.2.2", WORKFLOW),
    ("numpy", "2.2.0", "2.2.3", REQUIREMENTS),
    ("pytest", "8.3.4", "8.4.0", REQUIREMENTS),
    ("actions/upload-artifact", "4.4.0", "4.6.0", WORKFLOW),
    ("hypothesis", "6.122.1", "6.131.0", REQUIREMENTS),
    ("numpy", "2.2.3", "2.3.1", REQUIREMENTS),
    ("actions/setup-python", "5.3.0", "5.6.0", WORKFLOW),
)
BUMP_URLS = {
    "pytest": "https://github.com/pytest-dev/pytest",
    "hypothesis": "https://github.com/HypothesisWorks/hypothesis",
    "cffi": "https://github.com/python-cffi/cffi",
    "numpy": "https://github.com/numpy/numpy",
}

# Areas of the code base (files on main; never the branches' own files)
AREAS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "wal": (
        ("src/wal.c", "src/wal.h", "tests/test_wal.c"),
        (
            "fix replay of torn segment headers",
            "fsync the directory after rotating segments",
            "make the segment size configurable",
            "handle a full disk without corrupting the tail",
            "add a checksum to the segment footer",
            "reduce allocations during replay",
            "log the segment that failed to open",
        ),
    ),
    "codec": (
        ("src/codec_gorilla.c", "src/codec_dod.c", "tests/test_codec.c"),
        (
            "add f32 Gorilla compression",
            "fix a panic on empty series in the delta-of-delta decoder",
            "speed up bit packing on ARM",
            "reject timestamps that overflow the delta",
            "accept timestamps before 1970",
            "share the bit reader between codecs",
        ),
    ),
    "compaction": (
        ("src/compaction.c", "tests/test_compaction.c"),
        (
            "stream chunks instead of buffering them",
            "cap memory during long compactions",
            "expose a compaction callback",
            "skip segments that are already compact",
            "fix an off-by-one in the chunk merge",
        ),
    ),
    "lql": (
        ("src/lql_parser.c", "src/lql_planner.c", "tests/test_lql.c"),
        (
            "push time bounds into subqueries",
            "resolve the 'by' ambiguity in GROUP BY",
            "add string functions",
            "report the column of parse errors",
            "support time buckets with a timezone",
        ),
    ),
    "retention": (
        ("src/retention.c", "tests/test_retention.c", "docs/retention.md"),
        (
            "fix deleting one chunk too many",
            "keep the last bucket when downsampling",
            "allow a retention policy per series",
            "document the policy syntax",
        ),
    ),
    "python": (
        ("python/lumen/__init__.py", "python/lumen/_ffi.py", "python/tests/test_basic.py"),
        (
            "close file handles on drop",
            "build aarch64 musl wheels",
            "add type hints to the public API",
            "raise LumenError instead of OSError",
            "release the GIL while writing",
        ),
    ),
    "docs": (
        ("README.md", "docs/getting-started.md", "docs/lql.md", "docs/internals.md"),
        (
            "fix a typo in getting started",
            "refresh the benchmark numbers",
            "explain how to back up a running database",
            "add a migration guide from InfluxDB",
            "describe the storage engine internals",
            "link the community forum",
        ),
    ),
    "ci": (
        (".github/workflows/nightly.yml", "Makefile"),
        (
            "cache the cross-compilers",
            "run the fuzzers nightly",
            "test on a Raspberry Pi runner",
            "build on Windows",
            "fail on compiler warnings",
        ),
    ),
    "bench": (
        ("bench/run.sh", "bench/README.md"),
        (
            "add a harness for the Pi Zero",
            "compare against SQLite",
            "record the SD card model in results",
            "add a float compression benchmark",
        ),
    ),
    "api": (
        ("include/lumen.h", "src/api.c"),
        (
            "add lumen_open_ro()",
            "make lumen_close() idempotent",
            "expose write-path metrics",
            "add an async write API",
        ),
    ),
    "examples": (
        ("examples/modbus/gateway.c", "examples/modbus/README.md"),
        (
            "add a Modbus gateway example",
            "read the poll interval from the config",
            "document the wiring of the gateway",
            "handle reconnects to the PLC",
        ),
    ),
}
TEAM_AREA = "examples"  # what the Tessera team address works on
WEB_EDIT_FILES = ("README.md", "docs/getting-started.md", "docs/lql.md", "CONTRIBUTING.md")
BODIES = (
    "The old behaviour only showed up on slow SD cards.",
    "Found while testing on a Raspberry Pi 4 with a full disk.",
    "This keeps the public API unchanged.",
    "Benchmarks on an x86 edge box show no regression.",
    "Follow-up to the discussion on the lumen-dev list.",
    "Reported on the forum; reproduced with the fuzzing corpus.",
    "Needed for the ESP32 port.",
)
WORDS = (
    "segment",
    "chunk",
    "series",
    "bucket",
    "cursor",
    "footer",
    "budget",
    "codec",
    "index",
    "window",
    "tail",
    "sync",
)


@dataclass
class Author:
    name: str
    plan: str
    zone: tuple[int, str | None]
    uid: int | None = None  # GitHub user id
    blog_email: str = ""

    @property
    def login(self) -> str:
        return login(self.name)

    def noreply(self) -> str:
        return f"{self.uid}+{self.login}@{NOREPLY}"

    def email(self, when: datetime) -> str:
        """The address this person commits with at ``when``."""
        if self.plan == "noreply":
            return self.noreply()
        if self.plan == "job":
            local = self.blog_email.split("@")[0]
            return f"{local}@{OLD_EMPLOYER if when < JOB_CHANGE else NEW_EMPLOYER}"
        if self.plan.startswith("blog>noreply "):
            switch = datetime.fromisoformat(self.plan.split()[1]).replace(tzinfo=UTC)
            return self.blog_email if when < switch else self.noreply()
        return self.blog_email


@dataclass
class Commit:
    when: datetime  # committer date (the order of the history)
    author: tuple[str, str]
    author_at: datetime
    author_offset: int
    committer: tuple[str, str]
    committer_offset: int
    message: str
    changes: dict[str, list[str] | None] = field(default_factory=dict)  # path → lines
    branch: str = "main"  # the line of development it belongs to
    merge: str | None = None  # a merge commit: the branch it merges
    tag: str | None = None
    mark: int = 0
    kind: str = "main"  # main, branch, merge, bot, team, web (for the facts)


def offset_at(zone: tuple[int, str | None], when: datetime) -> int:
    """Minutes east of UTC at ``when`` in ``zone`` (EU or US daylight saving time)."""
    base, rule = zone
    if rule == "eu":

        def last_sunday(month: int) -> datetime:
            day = datetime(when.year, month + 1, 1, 1, tzinfo=UTC) - timedelta(days=1)
            return day - timedelta(days=(day.weekday() + 1) % 7)

        return base + (60 if last_sunday(3) <= when < last_sunday(10) else 0)
    if rule == "us":

        def nth_sunday(month: int, n: int) -> datetime:
            first = datetime(when.year, month, 1, 7, tzinfo=UTC)
            return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))

        return base + (60 if nth_sunday(3, 2) <= when < nth_sunday(11, 1) else 0)
    return base


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class History:
    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        people = Generator().people
        index = {p.name: i for i, p in enumerate(people[:N_PEOPLE])}
        self.staff = {
            name: Author(name, "blog", STAFF_PLAN[name][1], STAFF_ID + i, email)
            for i, (_, name, email) in enumerate(STAFF)
        }
        self.people = {
            name: Author(name, plan, zone, PEOPLE_ID + index[name], people[index[name]].email)
            for name, (_, plan, zone) in CONTRIBUTORS.items()
        }
        self.team = Author(TEAM[0], "blog", BERLIN, None, TEAM[1])
        self.files: dict[str, dict[str, list[str]]] = {"main": self._initial_files()}
        self.commits = self._plan()
        self._co_authors()

    # -- when, who

    def _local_time(self, day: datetime, zone: tuple[int, str | None]) -> datetime:
        """A moment on ``day`` between 08:00 and 23:00 local time, in UTC."""
        minutes = self.rng.randrange(8 * 60, 23 * 60)
        local = day.replace(hour=0, minute=0, second=0, microsecond=0)
        moment = local + timedelta(minutes=minutes, seconds=self.rng.randrange(60))
        return moment - timedelta(minutes=offset_at(zone, moment))

    def _days(self, n: int, start: datetime, end: datetime) -> list[datetime]:
        span = (end - start).total_seconds()
        return sorted(start + timedelta(seconds=span * self.rng.random()) for _ in range(n))

    def _ident(self, who: Author, when: datetime) -> tuple[str, str]:
        return who.name, who.email(when)

    # -- the plan: every commit, in committer-date order

    def _plan(self) -> list[Commit]:
        rng = self.rng
        first, last = START + timedelta(days=1), END - timedelta(days=2)
        commits: list[Commit] = []
        ines = self.staff["Ines Duarte"]
        at = START.replace(hour=8, minute=14)
        commits.append(self._direct(ines, at, "Initial commit", initial=True))

        on_branches = {b[1]: 0 for b in BRANCHES}
        for branch in BRANCHES:
            on_branches[branch[1]] += branch[2]
        # community pull requests, squash-merged (or rebased by a maintainer)
        for name, (n, plan, _zone) in CONTRIBUTORS.items():
            who = self.people[name]
            n -= on_branches.get(name, 0)
            if n <= 0:
                continue
            if n >= 8 or " " in plan:  # switches address: active over the whole span
                start, end = first, last
            else:
                start = first + (last - first) * rng.uniform(0, 0.75)
                end = min(last, start + (last - first) * rng.uniform(0.08, 0.3))
            for day in self._days(n, start, end):
                commits.append(self._pull(who, day))
        # the maintainers' own commits
        for name, (n, _zone) in STAFF_PLAN.items():
            for day in self._days(n, first, last):
                commits.append(
                    self._direct(self.staff[name], self._local_time(day, self.staff[name].zone))
                )
        tobias = self.staff["Tobias Lindqvist"]
        for day in self._days(STAFF_WEB_EDITS, first, last):
            commits.append(self._web_edit(tobias, self._local_time(day, tobias.zone)))
        # dependabot pull requests, merged with the button
        for k, bump in enumerate(BUMPS):
            opened = first + (last - first) * (k + rng.uniform(0.1, 0.7)) / len(BUMPS)
            commits.append(self._bump(bump, opened))
        # the shared team address
        for day in self._days(N_TEAM_COMMITS, _day("2026-04-01"), _day("2026-07-31")):
            commits.append(self._team(day))
        # releases (Priya), tagged
        priya = self.staff["Priya Raman"]
        for tag, date in RELEASES:
            at = self._local_time(_day(date), priya.zone)
            commits.append(self._release(priya, at, tag))
        # feature branches and their merges
        for spec in BRANCHES:
            commits += self._branch(*spec)
        commits.sort(key=lambda c: (c.when, c.author_at))
        return commits

    def _pull(self, who: Author, day: datetime) -> Commit:
        rng = self.rng
        authored = self._local_time(day, who.zone)
        area = rng.choice([a for a in AREAS if a != TEAM_AREA] + ["docs"])
        if rng.random() < 0.7:  # "Squash and merge" on GitHub
            committer, merged = WEB_FLOW, authored + timedelta(hours=rng.uniform(2, 120))
            c_offset = 0
        else:  # a maintainer rebased it locally
            staff = self.staff[rng.choice(list(STAFF_PLAN))]
            merged = authored + timedelta(hours=rng.uniform(1, 72))
            committer, c_offset = self._ident(staff, merged), offset_at(staff.zone, merged)
        return Commit(
            when=min(merged, END - timedelta(hours=3)),
            author=self._ident(who, authored),
            author_at=authored,
            author_offset=offset_at(who.zone, authored),
            committer=committer,
            committer_offset=c_offset,
            message=self._message(area),
            changes=self._touch(area),
        )

    def _direct(
        self, who: Author, at: datetime, message: str = "", initial: bool = False
    ) -> Commit:
        area = self.rng.choice(list(AREAS))
        ident, offset = self._ident(who, at), offset_at(who.zone, at)
        return Commit(
            when=at,
            author=ident,
            author_at=at,
            author_offset=offset,
            committer=ident,
            committer_offset=offset,
            message=message or self._message(area),
            changes={} if initial else self._touch(area),
            kind="initial" if initial else "main",
        )

    def _web_edit(self, who: Author, at: datetime) -> Commit:
        path = self.rng.choice(WEB_EDIT_FILES)
        return Commit(
            when=at,
            author=(who.name, who.noreply()),
            author_at=at,
            author_offset=offset_at(who.zone, at),
            committer=WEB_FLOW,
            committer_offset=0,
            message=f"Update {path}",
            changes={path: None},
            kind="web",
        )

    def _bump(self, bump: tuple[str, str, str, str], opened: datetime) -> Commit:
        package, old, new, path = bump
        merged = opened + timedelta(hours=self.rng.uniform(3, 96))
        where = " in /python" if path == REQUIREMENTS else ""
        v = "" if path == REQUIREMENTS else "v"  # actions tag their releases vX.Y.Z
        url = BUMP_URLS.get(package, f"https://github.com/{package}")
        kind = "direct:development" if path == REQUIREMENTS else "direct:production"
        update = "patch" if old.split(".")[:2] == new.split(".")[:2] else "minor"
        message = (
            f"Bump {package} from {old} to {new}{where}\n\n"
            f"Bumps [{package}]({url}) from {old} to {new}.\n"
            f"- [Release notes]({url}/releases)\n"
            f"- [Commits]({url}/compare/{v}{old}...{v}{new})\n\n"
            "---\n"
            "updated-dependencies:\n"
            f"- dependency-name: {package}\n"
            f"  dependency-version: {new}\n"
            f"  dependency-type: {kind}\n"
            f"  update-type: version-update:semver-{update}\n"
            "...\n\n"
            "Signed-off-by: dependabot[bot] <support@github.com>"
        )
        return Commit(
            when=min(merged, END - timedelta(hours=3)),
            author=BOT,
            author_at=opened,
            author_offset=0,
            committer=WEB_FLOW,
            committer_offset=0,
            message=message,
            changes={path: [f"bump {package} {old} {new}"]},  # applied in order, see _emit
            kind="bot",
        )

    def _team(self, day: datetime) -> Commit:
        commit = self._pull(self.team, day)
        commit.committer, commit.committer_offset = WEB_FLOW, 0
        commit.message = self._message(TEAM_AREA)
        commit.changes = self._touch(TEAM_AREA)
        commit.kind = "team"
        return commit

    def _release(self, who: Author, at: datetime, tag: str) -> Commit:
        commit = self._direct(who, at, f"Release {tag}")
        commit.changes = {"CHANGELOG.md": [f"release {tag}"], "include/lumen.h": None}
        commit.tag = tag
        return commit

    def _branch(
        self,
        name: str,
        author: str,
        n: int,
        window: tuple[str, str],
        paths: tuple[str, ...],
        merger: str | None,
    ) -> list[Commit]:
        rng = self.rng
        who = self.people[author]
        start, end = _day(window[0]), _day(window[1])
        out = []
        subjects = (
            f"{name}: scaffolding",
            f"{name}: first working version",
            f"{name}: tests",
            f"{name}: address review comments",
            f"{name}: docs",
        )
        for k, day in enumerate(self._days(n, start, end - timedelta(days=3))):
            at = self._local_time(day, who.zone)
            ident, offset = self._ident(who, at), offset_at(who.zone, at)
            touched: dict[str, list[str] | None] = {
                p: None for p in paths if k == 0 or rng.random() < 0.7
            } or {paths[0]: None}
            out.append(
                Commit(
                    when=at,
                    author=ident,
                    author_at=at,
                    author_offset=offset,
                    committer=ident,
                    committer_offset=offset,
                    message=subjects[k],
                    changes=touched,
                    branch=name,
                    kind="branch",
                )
            )
        if merger is not None:
            staff = self.staff[merger]
            at = self._local_time(end, staff.zone)
            ident, offset = self._ident(staff, at), offset_at(staff.zone, at)
            out.append(
                Commit(
                    when=at,
                    author=ident,
                    author_at=at,
                    author_offset=offset,
                    committer=ident,
                    committer_offset=offset,
                    message=f"Merge branch '{name}'",
                    merge=name,
                    kind="merge",
                )
            )
        return out

    # -- messages and changes

    def _message(self, area: str) -> str:
        rng = self.rng
        subject = f"{area}: {rng.choice(AREAS[area][1])}"
        if rng.random() < 0.35:
            return f"{subject}\n\n{rng.choice(BODIES)}"
        return subject

    def _touch(self, area: str) -> dict[str, list[str] | None]:
        paths = AREAS[area][0]
        k = 1 if self.rng.random() < 0.6 else min(len(paths), 2 + (self.rng.random() < 0.3))
        return {p: None for p in self.rng.sample(paths, k)}

    def _co_authors(self) -> None:
        """``Co-authored-by:`` trailers on about CO_AUTHOR_SHARE of the human commits."""
        rng = self.rng
        pool = [*self.staff.values(), *self.people.values()]
        weights = [
            10.0 if who.name in self.staff else float(CONTRIBUTORS[who.name][0]) for who in pool
        ]
        human = [c for c in self.commits if c.kind in ("main", "branch")]
        for commit in rng.sample(human, round(len(human) * CO_AUTHOR_SHARE)):
            picked: list[Author] = []
            for _ in range(2 if rng.random() < 0.2 else 1):
                who = rng.choices(pool, weights)[0]
                if who.name != commit.author[0] and who not in picked:
                    picked.append(who)
            if not picked:
                picked.append(
                    self.staff[
                        "Priya Raman" if commit.author[0] != "Priya Raman" else "Ines Duarte"
                    ]
                )
            trailers = "\n".join(
                f"Co-authored-by: {who.name} <{who.email(commit.author_at)}>" for who in picked
            )
            commit.message = f"{commit.message}\n\n{trailers}"

    # -- files

    def _initial_files(self) -> dict[str, list[str]]:
        files: dict[str, list[str]] = {
            "README.md": [
                "# Lumen",
                "",
                "An embedded time-series database for the edge.",
                "",
                "See docs/getting-started.md to begin.",
            ],
            "CHANGELOG.md": ["# Changelog", ""],
            "CONTRIBUTING.md": [
                "# Contributing",
                "",
                "Open an issue first, then a pull request against main.",
            ],
            "LICENSE": ["Apache License 2.0 (sample text)"],
            REQUIREMENTS: [
                "pytest==8.3.2",
                "hypothesis==6.112.0",
                "cffi==1.17.0",
                "numpy==2.1.1",
            ],
        }
        for area, (paths, _subjects) in AREAS.items():
            for path in paths:
                files.setdefault(path, [_line(path, f"{area} module", 0)])
        files[WORKFLOW] = [
            "name: ci",
            "on: [push, pull_request]",
            "jobs:",
            "  test:",
            "    runs-on: ubuntu-latest",
            "    steps:",
            "      - uses: actions/checkout@v4.1.7",
            "      - uses: actions/setup-python@v5.2.0",
            "      - uses: actions/cache@v4.0.2",
            "      - uses: actions/upload-artifact@v4.4.0",
            "      - run: make test",
        ]
        return files

    def _apply(self, tree: dict[str, list[str]], path: str, spec: list[str] | None, k: int) -> None:
        """Change ``path`` in ``tree``: a bump or release line, else a small random edit."""
        rng = self.rng
        lines = list(tree.get(path, []))
        if spec and spec[0].startswith("bump "):
            _, package, old, new = spec[0].split()
            bumped = [
                ln.replace(f"{package}=={old}", f"{package}=={new}").replace(
                    f"{package}@v{old}", f"{package}@v{new}"
                )
                for ln in lines
            ]
            assert bumped != lines, (path, spec)
            lines = bumped
        elif spec and spec[0].startswith("release "):
            lines.insert(2, f"## {spec[0].split()[1]}")
            del lines[MAX_LINES:]
        else:
            op = rng.random()
            if op < 0.55 or len(lines) < 3:
                lines.insert(rng.randrange(len(lines) + 1), _line(path, rng.choice(WORDS), k))
            elif op < 0.85:
                lines[rng.randrange(len(lines))] = _line(path, rng.choice(WORDS), k)
            else:
                for _ in range(rng.randrange(2, 4)):
                    lines.insert(rng.randrange(len(lines) + 1), _line(path, rng.choice(WORDS), k))
            while len(lines) > MAX_LINES:
                del lines[rng.randrange(len(lines))]
        tree[path] = lines

    # -- the stream

    def stream(self) -> bytes:
        out: list[bytes] = [b"feature done\n"]
        tips: dict[str, int] = {}
        tags: list[tuple[str, int]] = []
        for k, commit in enumerate(self.commits):
            commit.mark = k + 1
            branch = commit.branch
            if branch not in self.files:  # a feature branch starts from main as it is now
                self.files[branch] = {p: list(v) for p, v in self.files["main"].items()}
                tips[branch] = tips["main"]
            tree = self.files[branch]
            ref = "refs/heads/zephyr-port" if branch == "zephyr-port" else "refs/heads/main"
            changes: dict[str, list[str]] = {}
            if commit.kind == "initial":
                changes = {p: list(v) for p, v in tree.items()}
            elif commit.merge:
                merged = self.files[commit.merge]
                own = next(b[4] for b in BRANCHES if b[0] == commit.merge)
                for path in own:
                    tree[path] = list(merged[path])
                    changes[path] = tree[path]
            else:
                for path, spec in commit.changes.items():
                    self._apply(tree, path, spec, k)
                    changes[path] = tree[path]
            head = [
                f"commit {ref}",
                f"mark :{commit.mark}",
                f"author {_ident(commit.author, commit.author_at, commit.author_offset)}",
                f"committer {_ident(commit.committer, commit.when, commit.committer_offset)}",
            ]
            out.append(("\n".join(head) + "\n").encode())
            out.append(_data(commit.message + "\n"))
            if branch in tips:
                out.append(f"from :{tips[branch]}\n".encode())
            if commit.merge:
                out.append(f"merge :{tips[commit.merge]}\n".encode())
            for path in sorted(changes):
                out.append(f"M 100644 inline {path}\n".encode())
                out.append(_data("\n".join(changes[path]) + "\n"))
            out.append(b"\n")
            tips[branch] = commit.mark
            if commit.tag:
                tags.append((commit.tag, commit.mark))
        out.append(f"reset refs/heads/main\nfrom :{tips['main']}\n\n".encode())
        for tag, mark in tags:
            out.append(f"reset refs/tags/{tag}\nfrom :{mark}\n\n".encode())
        out.append(b"done\n")
        return b"".join(out)


def _line(path: str, word: str, k: int) -> str:
    ext = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
    n = (k * 37) % 997
    if ext in ("c", "h"):
        return f"static int lumen_{word}_{n} = {k % 64};"
    if ext == "py":
        return f"{word.upper()}_{n} = {k % 64}"
    if ext == "md":
        return f"- Notes on the {word} ({n})."
    if ext in ("yml", "txt"):
        return f"# {word} {n}"
    if ext == "sh":
        return f"./lumen-bench --{word} {n}"
    if path.endswith("CMakeLists.txt"):
        return f"# {word} {n}"
    return f"# {word} {n}"


def _ident(who: tuple[str, str], when: datetime, offset: int) -> str:
    sign = "+" if offset >= 0 else "-"
    hours, minutes = divmod(abs(offset), 60)
    return f"{who[0]} <{who[1]}> {int(when.timestamp())} {sign}{hours:02d}{minutes:02d}"


def _data(text: str) -> bytes:
    raw = text.encode("utf-8")
    return f"data {len(raw)}\n".encode() + raw + b"\n"


def facts(history: History) -> dict[str, int]:
    commits = history.commits
    return {
        "commits": len(commits),
        "merges": sum(c.merge is not None for c in commits),
        "branch_only": sum(c.branch == "zephyr-port" for c in commits),
        "tags": sum(c.tag is not None for c in commits),
        "co_authored": sum("Co-authored-by:" in c.message for c in commits),
        "bot": sum(c.kind == "bot" for c in commits),
        "team": sum(c.kind == "team" for c in commits),
    }


def generate(out: Path = OUT) -> Path:
    history = History()
    data = history.stream()
    got = facts(history)
    want = {
        "commits": 406,
        "merges": 8,
        "branch_only": 3,
        "tags": 7,
        "bot": 16,
        "team": 4,
        "co_authored": 30,
    }
    assert {k: got[k] for k in want} == want, got
    assert len(data) < 1_000_000, len(data)
    emails = {c.author[1] for c in history.commits if c.author[0] == "Vera Okonkwo"}
    assert {e.split("@")[1] for e in emails} == {OLD_EMPLOYER, NEW_EMPLOYER}, emails
    for name in ("Ingrid Quist", "Greta Ishikawa"):
        kinds = {NOREPLY in c.author[1] for c in history.commits if c.author[0] == name}
        assert kinds == {True, False}, name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return out


if __name__ == "__main__":
    path = generate()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    print(f"{path.stat().st_size:,} bytes, sha256 {digest}…: {path}")
    print(facts(History()))
