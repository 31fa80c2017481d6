"""Incremental staging and activities: a daily run reads only the new lake files, recomputes
only the activities they touch, and ends where a full rebuild ends (every staging,
intermediate and mart table equal, row for row)."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from test_dbt_project import (
    RECENT,
    comment,
    commit,
    gh_comment,
    land,
    land_forum,
    land_repo,
    land_trackbacks_and_comments,
    mail_thread,
    message,
    run_dbt,
    second_git_run,
    topic,
    utc,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt")]

INCREMENTAL = (
    "stg_git__commits",
    "stg_github__comments",
    "stg_gharchive__events",
    "stg_discourse__posts",
    "stg_blog__comments",
    "stg_mail__messages",
)
"""Incremental staging models (every row keeps its lake file in `_lake_file`)."""


BOOKKEEPING = ("_lake_file", "_computed_at")
"""Columns that say where and when a row was computed: a full rebuild computes them anew."""


def tables(path: Path) -> dict[str, list[tuple]]:
    """Every staging/intermediate/mart table's rows (sorted), without the bookkeeping columns
    (the incremental models' state tables are in the schema `state`, not compared)."""
    out = {}
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where schema_name in ('staging', 'intermediate', 'marts') order by 1, 2"
        ).fetchall()
        for schema, table in names:
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from duckdb_columns() where schema_name = ? "
                    "and table_name = ? and column_name not in ? order by column_index",
                    [schema, table, list(BOOKKEEPING)],
                ).fetchall()
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'select {select} from {schema}."{table}"').fetchall()
            out[f"{schema}.{table}"] = sorted(rows, key=repr)
    return out


def later_same_day(t: datetime, step: int) -> datetime:
    """A time after ``t`` on its UTC date (``step`` 1 or 2: a third or two thirds of the way
    to midnight): a re-run "later the same day" lands in ``t``'s ingest_date partition,
    rewriting its file in place, whatever the hour the test runs at."""
    end = t.replace(hour=23, minute=59, second=59, microsecond=999_999)
    return t + (end - t) * step / 3


def files_read(root: Path) -> dict[str, int]:
    """How many lake files each incremental model read in the last run (from dbt's log)."""
    log = (root / "logs" / "dbt.log").read_text().splitlines()
    start = max(i for i, line in enumerate(log) if "Running with dbt" in line)
    out = {}
    for line in log[start:]:
        if "lake_source_incremental: " in line:
            model, _, rest = line.split("lake_source_incremental: ", 1)[1].partition(" reads ")
            out[model] = int(rest.split()[0])
    return out


def activities_recomputed(root: Path, model: str) -> tuple[int, int]:
    """(recomputed, removed) activities of the model's last run, from dbt's log."""
    log = (root / "logs" / "dbt.log").read_text().splitlines()
    start = max(i for i, line in enumerate(log) if "Running with dbt" in line)
    found = [line for line in log[start:] if f" {model}: recomputed " in line]
    assert len(found) == 1, found
    words = found[0].split(f" {model}: recomputed ", 1)[1].split()
    return int(words[0]), int(words[-1])


def test_an_incremental_run_reads_only_new_files_and_matches_a_full_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake, warehouse = tmp_path / "lake", tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("TOWNSQUARE_LAKE", str(lake))
    monkeypatch.setenv("TOWNSQUARE_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("TOWNSQUARE_ID_SALT", "incremental-test")
    land_trackbacks_and_comments(lake)
    land_forum(lake)
    land_repo(lake)
    # Kim commits from a freemail address and reviews as "kim": two persons, no organization
    land(lake, "repo_commits", "app-git", "k1", RECENT,
         [commit("k1", utc(2024, 2, 1), "Kim", "kim@gmail.com")])  # fmt: skip
    land(lake, "repo_comments", "app-gh", "k1", RECENT,
         [gh_comment("review", "98", 2, "kim", utc(2024, 2, 2), review_state="COMMENTED")])  # fmt: skip
    # Olga committed once, long before the rest: months whose window nothing changes touches
    land(lake, "repo_commits", "app-git", "o1", RECENT,
         [commit("o1", utc(2023, 6, 1), "Olga", "olga@z.example")])  # fmt: skip
    assert run_dbt(tmp_path, "build").success
    with duckdb.connect(str(warehouse), read_only=True) as con:
        before = {
            m: {
                f for (f,) in con.execute(f"select distinct _lake_file from staging.{m}").fetchall()
            }
            for m in INCREMENTAL
        }
    assert all(before.values()), before

    # the next day: a new commit, a changed comment (newer load of the same key), a new review,
    # and yesterday's first git run re-landed under a new name (its old file is gone)
    day2 = RECENT + timedelta(days=1)
    land(
        lake,
        "repo_commits",
        "app-git",
        "g3",
        day2,
        [commit("c9", utc(2024, 3, 1), "Eve", "eve@y.example")],
    )
    land(
        lake,
        "blog_comments",
        "acme",
        "r9",
        day2,
        [comment("c-2", "approved", "https://other.example/x", "1", utc(2024, 1, 12))],
    )
    land(
        lake,
        "repo_comments",
        "app-gh",
        "h9",
        day2,
        [
            gh_comment("review", "99", 2, "dee", utc(2024, 3, 2), review_state="APPROVED"),
            # the API lands the comment GH Archive saw (e4, below): the API's row wins
            gh_comment("issue_comment", "4242", 2, "fay", utc(2024, 3, 2)),
        ],
    )
    # the stars landed by h1 are withdrawn (their file removed): eve's star falls back to
    # GH Archive's, fay's is gone
    next((lake / "raw" / "repo_stars").rglob("h1-0.parquet")).unlink()
    # the message c@ named in In-Reply-To lands late: c moves to its thread
    land(
        lake,
        "mail_messages",
        "dev",
        "m2",
        day2,
        [message("<gone@lists.example>", "Ivy", "ivy@x.example", "Restore", utc(2024, 3, 2, 9))],
    )
    # Dee's GitHub profile now shows the address she mails from: her mail and her reviews
    # become one person's
    land(
        lake,
        "repo_users",
        "app-gh",
        "h9",
        day2,
        [
            {"login": "dee", "user_id": "4", "name": "Dee D.", "email": "dee@corp.example"},
            # Kim's profile shows her freemail address: one person now, still no organization
            # (only the identity that changed person says which activities move)
            {"login": "kim", "user_id": "11", "name": "Kim", "email": "kim@gmail.com"},
        ],
    )
    # topics landed again: 2 is no longer a private message (its post counts), 3 becomes one
    land(
        lake,
        "forum_topics",
        "forum",
        "f3",
        day2,
        [
            topic("2", "A private message", utc(2024, 3, 1, 11)),
            topic("3", "Roadmap", utc(2024, 3, 5, 9), archetype="private_message"),
        ],
    )
    # GH Archive: a new hour (a fork, and a second star of the starred repo, later), and
    # yesterday's hour a1 re-run in place: one event more (a comment), its star (e1) gone
    star = {"event_type": "WatchEvent", "action": "started", "actor_login": "eve",
            "repo_name": "acme/app", "payload": '{"action": "started"}'}  # fmt: skip
    land(
        lake,
        "repo_events",
        "gha",
        "a2",
        day2,
        [
            {**star, "event_id": "e6", "created_at": utc(2024, 3, 4)},
            {"event_id": "e5", "event_type": "ForkEvent", "action": None, "actor_login": "dee",
             "repo_name": "acme/app", "created_at": utc(2024, 3, 3), "payload": "{}"},
            # the archive's record of comment 13, which the API landed yesterday (by bob; the
            # archive names cy): the API's stored row must still win, though its file is old
            {"event_id": "e7", "event_type": "IssueCommentEvent", "action": "created",
             "actor_login": "cy", "repo_name": "acme/app", "created_at": utc(2024, 1, 5, 12, 1),
             "payload": '{"issue": {"number": 1}, "comment": {"id": 13}}'},
        ],
    )  # fmt: skip
    land(
        lake,
        "repo_events",
        "gha",
        "a1",
        later_same_day(RECENT, 2),
        [
            {"event_id": "e4", "event_type": "IssueCommentEvent", "action": "created",
             "actor_login": "fay", "repo_name": "acme/app", "created_at": utc(2024, 3, 2),
             "payload": '{"issue": {"number": 2}, "comment": {"id": 4242}}'},
        ],
    )  # fmt: skip
    # and the run g2 re-run later the same day: its file rewritten in place, same name, with
    # the re-run's ingested_at and a changed row
    rewritten = land(
        lake,
        "repo_commits",
        "app-git",
        "g2",
        later_same_day(RECENT, 1),
        second_git_run(cy_name="Cy Renamed"),
    )
    assert str(rewritten) in before["stg_git__commits"]
    old = next((lake / "raw" / "repo_commits").rglob("g1-0.parquet"))
    relanded = old.parent.parent / f"ingest_date={day2:%Y-%m-%d}" / "g1b-0.parquet"
    relanded.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(old, relanded)

    full = tmp_path / "full.duckdb"
    assert run_dbt(tmp_path, "build").success
    read = files_read(tmp_path)
    recomputed = activities_recomputed(tmp_path, "int_activities")
    person_recomputed = activities_recomputed(tmp_path, "int_person_activities")
    mart_recomputed = activities_recomputed(tmp_path, "fct_activities")
    appearances_recomputed = activities_recomputed(tmp_path, "int_identity_appearances")
    grouped_recomputed = {
        model: activities_recomputed(tmp_path, model)
        for model in (
            "int_first_responses",
            "int_person_stages",
            "int_conversation_messages",
            "int_core_members",
            "int_forum_posts_threaded",
        )
    }
    build_log = (tmp_path / "logs" / "dbt.log").read_text().split("Running with dbt")[-1]
    shutil.copy(warehouse, full)
    monkeypatch.setenv("TOWNSQUARE_WAREHOUSE", str(full))
    assert run_dbt(tmp_path / "refresh", "build", "--full-refresh").success

    # exactly the files it had not loaded, plus the one rewritten in place (never the rest)
    entity = {
        "stg_git__commits": "repo_commits",
        "stg_github__comments": "repo_comments",
        "stg_gharchive__events": "repo_events",
        "stg_discourse__posts": "forum_posts",
        "stg_blog__comments": "blog_comments",
        "stg_mail__messages": "mail_messages",
    }
    for model, name in entity.items():
        current = {str(p) for p in (lake / "raw" / name).rglob("*.parquet")}
        rewritten_in_place = model in ("stg_git__commits", "stg_gharchive__events")
        expected = len(current - before[model]) + (1 if rewritten_in_place else 0)
        assert read.get(model, 0) == expected, (model, read.get(model), expected)
    assert read["stg_git__commits"] == 3  # g3 and g1b (new), g2 (rewritten in place)
    assert read["stg_gharchive__events"] == 2  # a2 (new), a1 (rewritten in place)
    assert read["stg_mail__messages"] == 1  # m2: gone@ (which re-threads the stored c@)
    # the activities recomputed: commits c9, c1 with its co-author, c2 and c3 (c4 is a merge);
    # comment c-2; review 99; comment 4242; eve's star; the fork e5; comment 13 (the archive's
    # e7 of it landed: the API's row, in yesterday's file, is read again and wins); messages
    # gone@ and c@; post 21 (its topic is public now); the linkbacks (always: few) -- and
    # removed: fay's star and post 31 (its topic is private now)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        linkbacks = con.execute(
            "select count(*) from intermediate.int_activities where channel = 'trackback'"
        ).fetchall()[0][0]
        total = con.execute("select count(*) from intermediate.int_activities").fetchall()[0][0]
    assert linkbacks > 0
    assert recomputed == (14 + linkbacks, 2)
    assert recomputed[0] < total / 2
    # persons: the same less the linkbacks (sites are not persons), plus Dee's mail a and b
    # (now her GitHub person's) and her review 21 (her person's organization periods changed
    # with the corp.example address), plus Kim's review 98: her GitHub identity joined the
    # person of her earlier-seen commit identity (no organization moved: only the change of
    # the identity's person tells)
    assert person_recomputed == (18, 2)
    # the mart copies what int_person_activities computed, and drops what it removed
    assert mart_recomputed == (18, 2)
    # identity resolution's input regroups the identities of those activities (git: eve@y,
    # ann, bob, cy, dependabot; github: bob, dee, eve, fay; mail: ivy, eve; forum: bob;
    # blog: c-2's author; the linking sites) and ann's forum identity, whose post 31 went:
    # 15 identities, 21 rows (dee appears through the API and GH Archive, friend.example
    # through three linkbacks, other.example through two); none is left without activity
    assert appearances_recomputed == (21, 0)
    # the models grouped by conversation, person or month recompute the groups of the person
    # activities that changed in the columns they read, before and after (the change log of
    # int_person_activities holds the versions it replaced: 10 updated, 2 removed).
    # conversations: acme/app#2 (Kim's review 98 changed person; review 99 and comment 4242
    # are new), dev's thread of a@ (a@ and b@ changed person; c@ left it), the thread of
    # gone@ (new; c@ joined it), forum:2 (post 21 new), c-2's (new) and forum:3, whose only
    # post 31 went: 5 recomputed, 1 removed (c1-c3 have no conversation; review 21 only
    # changed organization, which first responses do not read)
    assert grouped_recomputed["int_first_responses"] == (5, 1)
    # persons: Kim's old and new person, Dee's mail person and her GitHub person (a@, b@),
    # ann (post 31 went), eve (her star's time changed), fay (her star went; 4242 is hers),
    # and the persons of the new c9, gone@, post 21 and c-2 -- Kim's and Dee's old persons
    # are gone (c@ changed thread only, which stages do not read): 9 recomputed, 2 removed
    assert grouped_recomputed["int_person_stages"] == (9, 2)
    # messages: a@ and b@ (person), gone@, 4242, post 21 and c-2 (new); post 31 went (the
    # reviews are not message types, the stars and commits neither)
    assert grouped_recomputed["int_conversation_messages"] == (6, 1)
    # months: the changes fall in January to March 2024 (each month's 90-day window reaching
    # back over all three): their 40 person-months are recomputed, not Olga's June and July
    # 2023 (the windows holding her commit of June 1: August's starts on June 3), which no
    # change touches
    assert grouped_recomputed["int_core_members"] == (40, 0)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select count(*) filter (where month < '2024-01-01'), count(*) "
            "from intermediate.int_core_members"
        ).fetchall() == [(2, 42)]
    # threads: the staging rows written this run (gone@ new, c@ re-threaded) and the topics
    # whose archetype changed (2 public, 3 private): every post of gone@'s thread (gone@,
    # c@), of a@'s thread that c@ left (a@, b@, d@) and of topic 2 (post 21) is recomputed,
    # and post 31 goes with topic 3; the thread mart drops topic 3's thread
    assert grouped_recomputed["int_forum_posts_threaded"] == (6, 1)
    assert "fct_forum_threads: removed 1 threads" in build_log
    incremental, rebuilt = tables(warehouse), tables(full)
    assert incremental.keys() == rebuilt.keys()
    differing = [name for name in incremental if incremental[name] != rebuilt[name]]
    assert differing == []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select count(*) from staging.stg_git__commits where sha = 'c9'"
        ).fetchall() == [(1,)]
        assert con.execute(
            "select author_name from staging.stg_git__commits where sha = 'c2'"
        ).fetchall() == [("Cy Renamed",)]
        assert con.execute(
            "select status from staging.stg_blog__comments where comment_id = 'c-2'"
        ).fetchall() == [("approved",)]
        # GH Archive: the fork and the comment are new rows; eve's star stays one row, the
        # API's (the archive's star of it loses)
        assert con.execute(
            "select activity_key, source, occurred_at::date::varchar from intermediate.int_activities "
            "where source = 'gha' or activity_key like 'star:%' or activity_key like '%:4242' "
            "order by 1"
        ).fetchall() == [
            ("comment:acme/app:issue_comment:4242", "app-gh", "2024-03-02"),
            ("gharchive:e5", "gha", "2024-03-03"),
            ("star:acme/app:eve", "gha", "2024-03-04"),
        ]
        # c@ re-threaded under the late message; topic 2's post in, topic 3's out
        assert con.execute(
            "select activity_key, activity_type, target_key from intermediate.int_activities "
            "where activity_key in ('mail:dev:c@lists.example', 'mail:dev:gone@lists.example') "
            "order by 1"
        ).fetchall() == [
            ("mail:dev:c@lists.example", "mail_reply", mail_thread("gone@lists.example")),
            ("mail:dev:gone@lists.example", "mail_thread", mail_thread("gone@lists.example")),
        ]
        # in staging, c@ was re-threaded without its file being read again: it keeps its
        # day-1 file, under its new parent and root
        assert con.execute(
            "select parent_message_id, parent_rule, thread_root_message_id, thread_depth, "
            "_lake_file like '%m1-0.parquet' from staging.stg_mail__messages "
            "where message_id = 'c@lists.example'"
        ).fetchall() == [("gone@lists.example", "in_reply_to", "gone@lists.example", 1, True)]
        assert con.execute(
            "select activity_key from intermediate.int_activities where channel = 'forum' "
            "and target_key in ('forum:2', 'forum:3')"
        ).fetchall() == [("forum:forum:21",)]
        # e1 left with the re-run of its hour, from staging and from the activities' input
        assert con.execute(
            "select event_id from staging.stg_gharchive__events order by 1"
        ).fetchall() == [("e4",), ("e5",), ("e6",), ("e7",)]
        assert con.execute(
            "select event_id from intermediate.int_archive_activities order by 1"
        ).fetchall() == [("e4",), ("e5",), ("e6",), ("e7",)]
        # comment 13 stays the API's (bob's), though only the archive's record of it is new
        assert con.execute(
            "select source, actor_username from intermediate.int_activities "
            "where activity_key = 'comment:acme/app:issue_comment:13'"
        ).fetchall() == [("app-gh", "bob")]
        # the re-landed commit is there once, and no row points at a lake file that is gone
        assert con.execute(
            "select count(*) from staging.stg_git__commits where sha = 'c1'"
        ).fetchall() == [(1,)]
        for model in INCREMENTAL:
            files = {f for (f,) in con.execute(f"select distinct _lake_file from staging.{model}")
                     .fetchall()}  # fmt: skip
            assert all(Path(f).exists() for f in files), model
        files = {f for (f,) in con.execute(
            "select distinct _lake_file from intermediate.int_archive_activities").fetchall()}  # fmt: skip
        assert files and all(Path(f).exists() for f in files)

    # a run that cannot tell what changed recomputes everything and still ends the same: the
    # seeds' digest differs (as after an edit of activity_weights) and the persons' record of
    # the last run is gone (as after an upgrade)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update state.int_activities__inputs set digest = 'edited' where kind = 'seeds'"
        )
        con.execute("drop table state.int_person_activities__identities")
        # and the grouped models cannot tell either: one has no watermark, and the persons'
        # change log is marked as starting after the others' last run
        con.execute("drop table state.int_first_responses__watermark")
        con.execute(
            "update state.int_person_activities__log_since set since = since + interval 1 day"
        )
    monkeypatch.setenv("TOWNSQUARE_WAREHOUSE", str(warehouse))
    assert run_dbt(tmp_path, "build").success
    log = (tmp_path / "logs" / "dbt.log").read_text()
    assert "int_activities: the activity seeds changed: every activity is recomputed" in log
    assert (
        "int_person_activities: no record of the last run (int_person_activities__identities)"
        in log
    )
    assert activities_recomputed(tmp_path, "int_activities") == (total, 0)
    assert "int_first_responses: no record of the last run" in log
    for model in ("int_person_stages", "int_conversation_messages", "int_core_members"):
        assert (
            f"{model}: int_person_activities's change log does not reach back to the last run"
            in log
        )
    assert tables(warehouse) == rebuilt

    # the text rules changed since the last run (as after an edit of intent_rules): every
    # message is matched again, though int_activities recomputed none of them
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update intermediate.int_message_rule_matches set rules_hash = 'edited'")
    assert run_dbt(tmp_path / "rules", "build").success  # (a log of its own)
    assert activities_recomputed(tmp_path / "rules", "int_activities")[0] == linkbacks
    assert tables(warehouse) == rebuilt
