"""stg_mail__messages threads incrementally: a daily run chooses parents again only for the
new messages and the stored ones they can affect, and walks only the replies below a changed
parent, yet ends where a full rebuild ends. Random archives (late parents, missing parents,
reply cycles, subject threads, re-landed and changed messages, removed and rewritten files)
are built day by day and compared with a full refresh after every day."""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from test_dbt_project import land, message, run_dbt, utc

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt")]

MODEL = "stg_mail__messages"
COLUMNS = """
    message_key, list_name, subject, thread_subject, sent_at, in_reply_to, "references",
    parent_message_id, parent_rule, thread_root_message_id, thread_depth, _lake_file
"""
SUBJECTS = (
    "Build fails", "Release plan", "Docs typo", "Roadmap", "CI flaky", "Logo",
    "Meetup", "Security", "Packaging", "Windows", "Translations", "Licence",
)  # fmt: skip


def rows(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"select {COLUMNS} from staging.{MODEL} order by message_key").fetchall()


def written_last(warehouse: Path) -> list[str]:
    """The messages the last run wrote (its `_computed_at`)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [
            key
            for (key,) in con.execute(
                f"select message_key from staging.{MODEL} where _computed_at = "
                f"(select max(_computed_at) from staging.{MODEL}) order by 1"
            ).fetchall()
        ]


def subject_parents(warehouse: Path) -> set[str]:
    """The messages some stored message has as its subject parent."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            parent
            for (parent,) in con.execute(
                f"select parent_message_id from staging.{MODEL} where parent_rule = 'subject'"
            ).fetchall()
        }


@dataclass
class Archive:
    """A lake of mail landed day by day, built incrementally and checked against a full
    refresh after each run."""

    root: Path
    monkeypatch: pytest.MonkeyPatch
    files: list[Path] = field(default_factory=list)

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    def land(self, run_id: str, at: datetime, messages: list[dict]) -> Path:
        path = land(self.lake, "mail_messages", "dev", run_id, at, messages)
        if path not in self.files:
            self.files.append(path)
        return path

    def build(self) -> list[tuple]:
        """Run the model incrementally, then a full refresh of a copy; both must agree."""
        self.monkeypatch.setenv("TOWNSQUARE_WAREHOUSE", str(self.warehouse))
        result = run_dbt(self.root / "incremental", "run", "--select", MODEL)
        assert result.success, result.exception or result.result
        incremental = rows(self.warehouse)
        full = self.root / "full.duckdb"
        shutil.copy(self.warehouse, full)
        self.monkeypatch.setenv("TOWNSQUARE_WAREHOUSE", str(full))
        result = run_dbt(self.root / "full", "run", "--select", MODEL, "--full-refresh")
        assert result.success, result.exception or result.result
        expected = rows(full)
        full.unlink()
        assert incremental == expected
        return incremental


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Archive:
    monkeypatch.setenv("TOWNSQUARE_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("TOWNSQUARE_ID_SALT", "threading-test")
    return Archive(tmp_path, monkeypatch)


def random_message(rng: random.Random, i: int, n: int, start: datetime) -> dict:
    """Message i of n: replies to any message (earlier, later: a late parent, or one that
    never lands), References of a few, a subject of four (half of them replies) on two lists,
    sent within a few weeks (the subject rule's 90 days hold most)."""

    def some_id() -> str:
        return f"m{rng.randrange(n)}@x" if rng.random() < 0.85 else f"ghost{rng.randrange(5)}@x"

    sent = start + timedelta(hours=rng.randrange(24 * 40))
    if rng.random() < 0.05:
        sent = start + timedelta(days=rng.choice([120, 200]))  # past the subject window
    subject = rng.choice(SUBJECTS)
    if rng.random() < 0.5:
        subject = rng.choice(["Re: ", "RE: ", "Aw: "]) + subject
    row = message(
        f"<m{i}@x>",
        f"P{i % 7}",
        f"p{i % 7}@x.example",
        subject,
        sent,
        in_reply_to=f"<{some_id()}>" if rng.random() < 0.5 else None,
        references=[f"<{some_id()}>" for _ in range(rng.choice([0, 0, 1, 2, 3]))],
    )
    row["list_name"] = rng.choice(["dev", "dev", "users", None])
    return row


@pytest.mark.parametrize("seed", [1, 8, 9])
def test_incremental_threading_matches_a_full_rebuild_every_day(
    archive: Archive, seed: int
) -> None:
    rng = random.Random(seed)
    n = 90
    start = utc(2024, 1, 1)
    messages = [random_message(rng, i, n, start) for i in range(n)]
    # cycles for sure: m0 and m1 answer each other, m2 answers m2's reply m3
    messages[0]["in_reply_to"], messages[1]["in_reply_to"] = "<m1@x>", "<m0@x>"
    messages[2]["in_reply_to"], messages[3]["in_reply_to"] = "<m3@x>", "<m2@x>"
    order = list(range(n))
    rng.shuffle(order)
    days = [order[:40], order[40:60], order[60:75], order[75:]]
    landed: list[int] = []
    for day, todays in enumerate(days):
        at = utc(2024, 3, 1 + day, 1)
        half = len(todays) // 2
        self_files = [
            archive.land(f"d{day}a", at, [messages[i] for i in todays[:half]]),
            archive.land(f"d{day}b", at, [messages[i] for i in todays[half:]]),
        ]
        if day:
            # a few stored messages land again, changed: another parent, subject or date
            changed = []
            for i in rng.sample(landed, 4):
                row = dict(messages[i])
                what = rng.choice(["in_reply_to", "subject", "sent_at", "references"])
                if what == "in_reply_to":
                    row["in_reply_to"] = f"<m{rng.randrange(n)}@x>"
                elif what == "subject":
                    row["subject"] = "Re: " + rng.choice(SUBJECTS)
                elif what == "sent_at":
                    row["sent_at"] = row["sent_at"] + timedelta(days=rng.choice([-30, 3, 95]))
                else:
                    row["references"] = [f"<m{rng.randrange(n)}@x>"]
                messages[i] = row
                changed.append(row)
            archive.land(f"d{day}c", at + timedelta(hours=1), changed)
            # yesterday's first file is re-run late yesterday, rewritten in place with one of
            # its messages changed (not one changed today): the run deletes the stored rows
            # of that file before it reads the file again
            before = days[day - 1][: len(days[day - 1]) // 2]
            kept = [i for i in before if messages[i] not in changed]
            # preferably a subject parent (its replies must be released if it moves)
            parents = subject_parents(archive.warehouse)
            kept = [i for i in kept if f"m{i}@x" in parents] or kept
            if kept:
                i = rng.choice(kept)
                row = dict(messages[i])
                row["subject"] = rng.choice(SUBJECTS)
                row["list_name"] = rng.choice(["dev", "users", None])
                row["sent_at"] = row["sent_at"] + timedelta(days=rng.choice([-2, 2, 40]))
                messages[i] = row
            yesterday = utc(2024, 3, day, 23)
            archive.land(f"d{day - 1}a", yesterday, [messages[i] for i in before])
            # an earlier day's first landing is withdrawn (its messages are gone unless landed
            # again). Not a file of changed messages: that would bring back the versions they
            # replaced, which an incremental run does not read again (a known gap, README)
            landings = [
                f for f in archive.files if f.exists() and not f.name.endswith("c-0.parquet")
            ]
            gone = rng.choice([f for f in landings if f not in self_files])
            gone.unlink()
            # and today's first file is rewritten in place by a re-run: one message less
            archive.land(f"d{day}a", at + timedelta(hours=2), [messages[i] for i in todays[1:half]])
        landed += todays
        built = archive.build()
        assert built, "nothing landed"
    # the archive ends with threads: parents of every rule, and replies below replies
    rules = {row[8] for row in built}
    assert {"in_reply_to", "references", "subject"} <= rules, rules
    assert max(row[10] for row in built) >= 2


def test_a_daily_run_rewrites_only_the_messages_it_changes(archive: Archive) -> None:
    at = utc(2024, 3, 1, 1)
    t = utc(2024, 2, 1, 9)
    archive.land(
        "d0",
        at,
        [
            message("<a@x>", "Ann", "ann@x.example", "Plans", t),
            message("<b@x>", "Bob", "bob@x.example", "Re: Plans", t + timedelta(hours=1), "<a@x>"),
            # c answers a message not landed yet; d answers c, e answers d
            message("<c@x>", "Cy", "cy@x.example", "Late", t, "<late@x>"),
            message("<d@x>", "Dee", "dee@x.example", "Re: Late", t + timedelta(hours=2), "<c@x>"),
            message("<e@x>", "Eve", "eve@x.example", "Re: Late", t + timedelta(hours=3), "<d@x>"),
            message("<f@x>", "Fay", "fay@x.example", "Other", t),
        ],
    )
    first = archive.build()
    assert len(first) == 6
    # a new reply to b: only the new message is written
    archive.land(
        "d1", at + timedelta(days=1),
        [message("<g@x>", "Gil", "gil@x.example", "Re: Plans", t + timedelta(days=1), "<b@x>")],
    )  # fmt: skip
    after = archive.build()
    assert written_last(archive.warehouse) == ["dev:g@x"]
    g = next(row for row in after if row[0] == "dev:g@x")
    assert (g[7], g[8], g[9], g[10]) == ("b@x", "in_reply_to", "a@x", 2)
    # the parent c named lands late, itself a reply to f: c, d and e move under f's thread
    archive.land(
        "d2", at + timedelta(days=2),
        [message("<late@x>", "Lu", "lu@x.example", "Re: Other", t - timedelta(hours=1), "<f@x>")],
    )  # fmt: skip
    after = archive.build()
    assert written_last(archive.warehouse) == ["dev:c@x", "dev:d@x", "dev:e@x", "dev:late@x"]
    depth = {row[0]: (row[9], row[10]) for row in after}
    assert depth["dev:late@x"] == ("f@x", 1)
    assert depth["dev:c@x"] == ("f@x", 2)
    assert depth["dev:e@x"] == ("f@x", 4)
    # the late parent's file is withdrawn: c, d and e are a thread of their own again
    archive.files[-1].unlink()
    after = archive.build()
    assert written_last(archive.warehouse) == ["dev:c@x", "dev:d@x", "dev:e@x"]
    depth = {row[0]: (row[9], row[10]) for row in after}
    assert depth["dev:c@x"] == ("c@x", 0)
    assert depth["dev:e@x"] == ("c@x", 2)


def test_a_message_that_leaves_its_subject_releases_the_replies_it_parented(
    archive: Archive,
) -> None:
    """Y's parent is A by the subject rule; A's file is re-run in place with another subject:
    the run deletes A's stored row before it reads the file again, yet Y must lose its
    parent (found in review: Y kept parent A)."""
    t = utc(2024, 2, 1, 9)
    at = utc(2024, 3, 1, 1)
    archive.land("f", at, [message("<a@x>", "Ann", "ann@x.example", "Plans", t)])
    archive.land(
        "g", at, [message("<y@x>", "Yan", "yan@x.example", "Re: Plans", t + timedelta(days=4))]
    )
    first = {row[0]: (row[7], row[8], row[10]) for row in archive.build()}
    assert first["dev:y@x"] == ("a@x", "subject", 1)
    archive.land(
        "f", at + timedelta(hours=5), [message("<a@x>", "Ann", "ann@x.example", "Budget", t)]
    )
    after = {row[0]: (row[7], row[8], row[9], row[10]) for row in archive.build()}
    assert after["dev:y@x"] == (None, None, "y@x", 0)
    assert written_last(archive.warehouse) == ["dev:a@x", "dev:y@x"]
