"""Generate the bundled mailing-list samples for ``townsquare demo`` (deterministic, offline).

The story continues the blog samples (``townsquare.samples.blog.generate``): *Lumen*,
the fictional embedded time-series database, runs two Mailman 2 lists.

- ``mail/lumen-dev.mbox``: the developers' list as an mbox file (mboxrd quoting,
  UTF-8 bodies, RFC 2047 encoded non-ASCII names, ``List-Id`` header).
- ``pipermail/lumen-users/``: the users' list as its public Pipermail archive,
  in the Mailman 2.1 layout: ``index.html`` plus one ``YYYY-Month.txt.gz`` per
  month, with addresses obfuscated the Pipermail way (``jane at example.org``).
  The demo serves this folder from a local HTTP server.

Members: the blog's staff (``STAFF``), 28 of its commenters (same names and
emails, from ``Generator().people``: the identity graph can join them) and a few
list-only members, some with non-ASCII names. Dates fall between the blog's
``START`` and ``END``; every Date header has a UTC offset.

Not everyone posts from the address they comment on the blog with (identity
resolution has to work for it; the addresses are chosen after the messages, with
a random stream of their own, so threads and dates do not depend on them):

- ``ADDRESS_VARIANTS``: every message of these people comes from a variant of their
  blog address: a plus-tag on a provider that ignores it (4 gmail people, e.g.
  ``fatima.eklund+lumen@gmail.com``) or the same address in other letter case (2,
  ``DagnyYilmaz@Gmail.com``). Normalising the address merges them.
- ``SECOND_ADDRESSES``: some messages (about half) of 3 people come from a second,
  unrelated address (``owendt@proton.me`` for Omar Wendt): only a manual override can
  merge those.
- ``SHARED_ADDRESS``: the list-only member Søren Ørsted
  (``soren.orsted@tessera-labs.example.net``) sends 3 messages from his team's shared
  mailbox ``team@tessera-labs.example.net``, the address another Tessera Labs person
  (Jonas Achterberg) commits with in the git sample (``samples/repo/generate_git.py``):
  a wrong-merge trap for matching on the address alone.

Run ``python -m townsquare.samples.forum.generate_mail`` to rewrite the files.
Output depends only on the constants below and ``SEED``.

Facts the tests check (they follow from the constants):

- lumen-dev: 120 messages in 35 threads; 8 questions were never answered; replies
  point at their parent with In-Reply-To and References, except 6 that carry only
  References and 2 that carry neither (a bare "Re: <subject>").
- lumen-users: 60 messages in 20 threads (4 unanswered), spread over 14 monthly
  archives.
"""

from __future__ import annotations

import gzip
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime
from pathlib import Path

from townsquare.samples.blog.generate import END, STAFF, START, Generator

SEED = 20261002
HERE = Path(__file__).resolve().parent
DEV_LIST = "lumen-dev"
USERS_LIST = "lumen-users"
LIST_HOST = "lists.lumen.example.org"

DEV_MESSAGES = 120
DEV_THREADS = 35
DEV_UNANSWERED = 8
DEV_REFERENCES_ONLY = 6
DEV_SUBJECT_ONLY = 2
USERS_MESSAGES = 60
USERS_THREADS = 20
USERS_UNANSWERED = 4
BLOG_MEMBERS = 28

LIST_ONLY = (
    ("Zoë Håkansson", "zoe@hakansson.example.net"),
    ("Łukasz Wróbel", "lukasz.wrobel@contoso-iot.example.net"),
    ("Renée Fauré", "renee.faure@fabrikam-energy.example.com"),
    ("Tomás Ibáñez", "tomas@ibanez.example.net"),
    ("Søren Ørsted", "soren.orsted@tessera-labs.example.net"),
    ("Chen Wei", "chen.wei@uni-nord.example"),
)
OFFSETS = (0, 60, 120, -300, -420, 330, 540, 60, 120, 0)
ADDRESS_SEED = f"{SEED}:addresses"
ADDRESS_VARIANTS = {  # blog name → the address all their list messages come from
    "Fatima Eklund": "fatima.eklund+lumen@gmail.com",
    "Teodor Wendt": "teodor_wendt+lists@gmail.com",
    "Linnea Petrakis": "linnea.petrakis28+lumen@gmail.com",
    "Amara Eklund": "amara_eklund+lumen-dev@gmail.com",
    "Dagny Yilmaz": "DagnyYilmaz@Gmail.com",
    "Mei Dahl": "Mei.Dahl@Northwind-Robotics.example.com",
}
SECOND_ADDRESSES = {  # blog name → a second, unrelated address some messages come from
    "Omar Wendt": "owendt@proton.me",
    "Callum Sandoval": "callum@sandoval.example.net",
    "Aiko Wendt": "aiko.w@outlook.com",
}
SHARED_ADDRESS = ("Søren Ørsted", "team@tessera-labs.example.net", 3)  # name, address, messages

DEV_TOPICS = (
    "WAL segment size defaults",
    "Compaction stalls on ARMv7",
    "Proposal: pluggable codecs",
    "CI flakes in the fuzzing job",
    "Delta-of-delta for irregular series",
    "Retention policies and tombstones",
    "Cross-compiling for RISC-V",
    "LQL grammar ambiguity with 'by'",
    "mmap vs. pread on SD cards",
    "Release checklist for 0.6",
    "Float compression regression",
    "Backfilling historical data",
    "Crash on power loss during fsync",
    "Downsampling rollups in the background",
    "Query planner: predicate pushdown",
    "Memory budget for small devices",
    "Chimp128 benchmark numbers",
    "Async API for the C bindings",
    "Rust bindings: ownership of iterators",
    "Encrypting segments at rest",
    "Timezones in LQL time buckets",
    "Replication over flaky links",
    "Snapshot format versioning",
    "Deprecating the v1 HTTP endpoint",
    "Sensor IDs as tags or series keys",
    "Windows build instructions",
    "Code of conduct for the list",
    "Zephyr RTOS port",
    "Benchmark harness on the Pi Zero",
    "Handling clock jumps on devices",
    "Index bloat with many short series",
    "Python bindings packaging",
    "Continuous queries design",
    "Docs: storage engine internals",
    "GSoC project ideas",
)
USERS_TOPICS = (
    "Getting started on a Raspberry Pi",
    "How do I export to CSV?",
    "Retention not deleting old data",
    "Support plans for production use?",
    "Grafana datasource for Lumen",
    "Query is slow with many tags",
    "Lumen on an ESP32?",
    "Upgrading from 0.4 to 0.5",
    "Training for our team",
    "Disk full: what happens?",
    "Storing GPS coordinates",
    "Is there a Docker image?",
    "Backups while writing",
    "LQL: average per hour",
    "Counting events per day",
    "Home Assistant integration",
    "Does Lumen run on Windows?",
    "Commercial license question",
    "Error: segment checksum mismatch",
    "Migrating from InfluxDB",
)
QUESTION_BODIES = (
    "Hi all,\n\nI'm looking into {topic} and could not find anything in the docs.\nHas anyone tried this, or is there an issue I should follow?\n\nThanks,\n{first}",
    "Hello,\n\nQuick question about {topic}: what is the recommended approach?\nWe run Lumen on about 40 field devices.\n\nBest regards,\n{first}",
    "Hey everyone,\n\nFrom what I can tell, {topic} is not covered yet.\nI'd be happy to help if someone points me in the right direction.\n\n-- \n{first}",
)
REPLY_BODIES = (
    "Thanks, that helped. I'll open a PR once I have a test for it.",
    "Same here on our devices. A minimal reproduction is attached to the issue.",
    "Good point. From the design notes, the segment header already has room for it.",
    "I'd rather keep the default and document the trade-off.",
    "+1, this would make our deployment a lot simpler.",
    "We discussed this in the community call; notes are on the wiki.",
    "Could you share the config you used? I can't reproduce it on 0.5.",
    "Merged, it will be in the next release. Thanks for the report!",
)


@dataclass
class Member:
    name: str
    email: str
    staff: bool = False


@dataclass
class Mail:
    mid: str
    author: Member
    sent: datetime
    subject: str
    body: str
    offset_minutes: int
    parent: Mail | None = None
    references: list[str] = field(default_factory=list)
    threading: str = "full"  # full, references, subject
    address: str = ""  # the From address when it is not the member's own

    @property
    def sender(self) -> str:
        return self.address or self.author.email


def members(rng: random.Random) -> tuple[list[Member], list[Member]]:
    """(staff, community): staff first; community = blog commenters + list-only members."""
    staff = [Member(name, email, staff=True) for _login, name, email in STAFF]
    people = Generator().people
    community = [Member(p.name, p.email) for p in people[:BLOG_MEMBERS]]
    community += [Member(name, email) for name, email in LIST_ONLY]
    rng.shuffle(community)
    return staff, community


def threads(
    rng: random.Random,
    list_name: str,
    topics: tuple[str, ...],
    total: int,
    unanswered: int,
    staff: list[Member],
    community: list[Member],
) -> list[Mail]:
    """Messages of ``len(topics)`` threads (``unanswered`` of them without replies)."""
    n_threads = len(topics)
    replies_left = total - n_threads
    answered = n_threads - unanswered
    silent = set(rng.sample(range(n_threads), unanswered))
    # spread the replies over the answered threads: at least one each
    shares = [1] * answered
    for _ in range(replies_left - answered):
        shares[rng.randrange(answered)] += 1
    span = (END - timedelta(days=10) - START).total_seconds()
    mails: list[Mail] = []
    k = 0
    for t, topic in enumerate(topics):
        root_at = START + timedelta(seconds=span * (t + rng.random() * 0.8) / n_threads)
        asker = community[rng.randrange(len(community))]
        template = rng.choice(QUESTION_BODIES)
        root = Mail(
            mid=f"{list_name}-{t + 1:03d}.{rng.randrange(16**6):06x}@{LIST_HOST}",
            author=asker,
            sent=root_at,
            subject=topic,
            body=template.format(topic=topic.lower(), first=asker.name.split()[0]),
            offset_minutes=rng.choice(OFFSETS),
        )
        mails.append(root)
        if t in silent:
            continue
        thread = [root]
        when = root_at
        for r in range(shares[k]):
            when += timedelta(hours=rng.uniform(0.5, 40))
            parent = thread[-1] if rng.random() < 0.6 else rng.choice(thread)
            author = rng.choice(staff) if r == 0 and rng.random() < 0.5 else rng.choice(community)
            quote = parent.body.splitlines()[0] if parent.body else ""
            reply = Mail(
                mid=f"{list_name}-{t + 1:03d}-{r + 1:02d}.{rng.randrange(16**6):06x}@{LIST_HOST}",
                author=author,
                sent=min(when, END - timedelta(hours=1)),
                subject=f"Re: {topic}",
                body=f"On {format_datetime(parent.sent)}, {parent.author.name} wrote:\n> {quote}\n\n"
                + rng.choice(REPLY_BODIES)
                + f"\n\n{author.name.split()[0]}",
                offset_minutes=rng.choice(OFFSETS),
                parent=parent,
                references=[*parent.references, parent.mid],
            )
            thread.append(reply)
            mails.append(reply)
        k += 1
    return mails


def mark_threading(rng: random.Random, mails: list[Mail]) -> None:
    replies = [m for m in mails if m.parent is not None]
    picked = rng.sample(replies, DEV_REFERENCES_ONLY + DEV_SUBJECT_ONLY)
    for m in picked[:DEV_REFERENCES_ONLY]:
        m.threading = "references"
    for m in picked[DEV_REFERENCES_ONLY:]:
        m.threading = "subject"
        m.references = []


def plant_addresses(mails: list[Mail]) -> None:
    """Send some messages from other addresses (see the module docstring)."""
    rng = random.Random(ADDRESS_SEED)
    by_name: dict[str, list[Mail]] = {}
    for m in mails:
        by_name.setdefault(m.author.name, []).append(m)
    for name, address in ADDRESS_VARIANTS.items():
        local, domain = address.lower().split("@")  # a variant: the same address, normalised
        assert f"{local.split('+')[0]}@{domain}" == by_name[name][0].author.email, address
        for m in by_name[name]:
            m.address = address
    for name, address in SECOND_ADDRESSES.items():
        own = by_name[name]
        for m in rng.sample(own, max(1, len(own) // 2)):
            m.address = address
    name, address, n = SHARED_ADDRESS
    for m in rng.sample(by_name[name], n):
        m.address = address


def _local(m: Mail) -> datetime:
    return m.sent.astimezone(timezone(timedelta(minutes=m.offset_minutes)))


def _envelope_date(when: datetime) -> str:
    when = when.astimezone(UTC)
    return f"{when:%a %b} {when.day:2d} {when:%H:%M:%S %Y}"


def _mboxrd(body: str) -> str:
    return "\n".join(
        ">" + line if line.lstrip(">").startswith("From ") else line for line in body.splitlines()
    )


def _encoded_name(name: str) -> str:
    return name if name.isascii() else Header(name, "utf-8").encode()


def dev_mbox(mails: list[Mail]) -> bytes:
    out: list[str] = []
    for m in sorted(mails, key=lambda m: m.sent):
        lines = [
            f"From {m.sender} {_envelope_date(m.sent)}",
            f"From: {_encoded_name(m.author.name)} <{m.sender}>",
            f"To: {DEV_LIST}@{LIST_HOST}",
            f"Subject: {m.subject}",
            f"Date: {format_datetime(_local(m))}",
            f"Message-ID: <{m.mid}>",
        ]
        if m.parent is not None and m.threading == "full":
            lines.append(f"In-Reply-To: <{m.parent.mid}>")
        if m.references and m.threading != "subject":
            lines.append("References: " + "\n ".join(f"<{r}>" for r in m.references))
        lines += [
            f"List-Id: Lumen developers <{DEV_LIST}.{LIST_HOST}>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "",
            _mboxrd(m.body),
            "",
        ]
        out.append("\n".join(lines) + "\n")
    return "".join(out).encode("utf-8")


def _obfuscate(email: str) -> str:
    return email.replace("@", " at ")


def pipermail_month(mails: list[Mail]) -> bytes:
    """One month as Mailman 2.1 writes ``YYYY-Month.txt``."""
    out: list[str] = []
    for m in mails:
        lines = [
            f"From {_obfuscate(m.sender)}  {_envelope_date(m.sent)}",
            f"From: {_obfuscate(m.sender)} ({_encoded_name(m.author.name)})",
            f"Date: {format_datetime(_local(m))}",
            f"Subject: [{USERS_LIST}] {m.subject}",
        ]
        if m.parent is not None:
            lines.append(f"In-Reply-To: <{m.parent.mid}>")
            lines.append("References: " + "\n\t".join(f"<{r}>" for r in m.references))
        lines += [f"Message-ID: <{m.mid}>", "", _mboxrd(m.body), "", ""]
        out.append("\n".join(lines))
    return "".join(out).encode("utf-8")


INDEX_HEAD = """<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2//EN">
<HTML>
  <HEAD>
     <title>The {title} Archives</title>
     <META NAME="robots" CONTENT="noindex,follow">
     <META http-equiv="Content-Type" content="text/html; charset=us-ascii">
  </HEAD>
  <BODY BGCOLOR="#ffffff">
     <h1>The {title} Archives </h1>
     <p>
      You can get <a href="https://{host}/mailman/listinfo/{name}">more information about this list</a>.
     </p>
     <table border=3>
          <tr><td>Archive</td>
          <td>View by:</td>
          <td>Downloadable version</td></tr>
"""
INDEX_ROW = """
        <tr>
            <td>{label}:</td>
            <td>
              <A href="{stem}/thread.html">[ Thread ]</a>
              <A href="{stem}/subject.html">[ Subject ]</a>
              <A href="{stem}/author.html">[ Author ]</a>
              <A href="{stem}/date.html">[ Date ]</a>
            </td>
            <td><A href="{stem}.txt.gz">[ Gzip'd Text {size} KB ]</a></td>
            </tr>
"""
INDEX_TAIL = """
     </table>
  </BODY>
</HTML>
"""


def pipermail_archive(mails: list[Mail]) -> dict[str, bytes]:
    """File name → bytes: ``index.html`` and one gzip'd text archive per month."""
    by_month: dict[tuple[int, int], list[Mail]] = {}
    for m in sorted(mails, key=lambda m: m.sent):
        by_month.setdefault((m.sent.year, m.sent.month), []).append(m)
    files: dict[str, bytes] = {}
    rows: list[str] = []
    for year, month in sorted(by_month, reverse=True):
        first = datetime(year, month, 1)
        stem = f"{year}-{first:%B}"
        data = gzip.compress(pipermail_month(by_month[(year, month)]), mtime=0)
        files[f"{stem}.txt.gz"] = data
        rows.append(
            INDEX_ROW.format(
                label=f"{first:%B} {year}", stem=stem, size=max(1, round(len(data) / 1024))
            )
        )
    title = USERS_LIST.capitalize()
    head = INDEX_HEAD.format(title=title, host=LIST_HOST, name=USERS_LIST)
    files["index.html"] = (head + "".join(rows) + INDEX_TAIL).encode("ascii")
    return files


def generate(out: Path = HERE) -> dict[str, int]:
    rng = random.Random(SEED)
    staff, community = members(rng)
    dev = threads(rng, DEV_LIST, DEV_TOPICS, DEV_MESSAGES, DEV_UNANSWERED, staff, community)
    mark_threading(rng, dev)
    users = threads(
        rng, USERS_LIST, USERS_TOPICS, USERS_MESSAGES, USERS_UNANSWERED, staff, community
    )
    plant_addresses(dev + users)
    (out / "mail").mkdir(parents=True, exist_ok=True)
    (out / "mail" / f"{DEV_LIST}.mbox").write_bytes(dev_mbox(dev))
    folder = out / "pipermail" / USERS_LIST
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.txt.gz"):
        old.unlink()
    for name, data in pipermail_archive(users).items():
        (folder / name).write_bytes(data)
    return {"lumen-dev": len(dev), "lumen-users": len(users)}


if __name__ == "__main__":
    print(generate())
