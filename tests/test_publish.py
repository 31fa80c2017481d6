"""Publishing: a read-only snapshot + Parquet per mart, flipped atomically, old releases kept."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from townsquare.publish import (
    CURRENT,
    RELEASES,
    PublishError,
    current_release,
    publish,
    releases,
)


def make_warehouse(path: Path, *, people: int, orgs: int = 2) -> Path:
    """A working warehouse as dbt leaves it: mart tables with comments, plus staging views."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create schema if not exists staging")
        con.execute(
            "create or replace table marts.dim_contributors as "
            "select 'p' || i as person_id, i * 1.5 as weighted_activity from range(?) t(i)",
            [people],
        )
        con.execute(
            "create or replace table marts.dim_organizations as "
            "select 'org' || i as organization, cast(i * 10.25 as decimal(18, 2)) as revenue "
            "from range(?) t(i)",
            [orgs],
        )
        con.execute("comment on table marts.dim_contributors is 'One row per person.'")
        con.execute(
            "comment on column marts.dim_contributors.weighted_activity is "
            "'Sum of activity weights (it''s a score).'"
        )
        con.execute("create or replace view staging.stg_x as select 1 as a")
    return path


def test_publish_writes_a_read_only_snapshot_parquet_and_a_release_manifest(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path / "wh.duckdb", people=3)
    docs = tmp_path / "static_index.html"
    docs.write_text("<html>docs</html>")
    out = tmp_path / "published"
    messages: list[str] = []

    release = publish(str(warehouse), out, docs_file=str(docs), progress=messages.append)

    assert release.marts == {"dim_contributors": 3, "dim_organizations": 2}
    assert os.readlink(out / CURRENT) == f"{RELEASES}/{release.release_id}"
    # stable paths for BI tools go through `current`
    assert os.readlink(out / "townsquare.duckdb") == "current/townsquare.duckdb"
    assert os.readlink(out / "parquet") == "current/parquet"
    assert (out / "docs" / "index.html").read_text() == "<html>docs</html>"
    snapshot = out / "townsquare.duckdb"
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o444
    assert not Path(f"{snapshot.resolve()}.wal").exists()
    with duckdb.connect(str(snapshot), read_only=True) as con:
        # only the marts (no staging views that would point at the lake), types kept
        assert con.execute(
            "select schema_name, table_name from duckdb_tables() order by 1, 2"
        ).fetchall() == [
            ("_townsquare", "marts"),
            ("_townsquare", "release"),
            ("marts", "dim_contributors"),
            ("marts", "dim_organizations"),
        ]
        assert con.execute("select count(*) from duckdb_views() where not internal").fetchall() == [
            (0,)
        ]
        assert con.execute(
            "select data_type from duckdb_columns() where column_name = 'revenue'"
        ).fetchall() == [("DECIMAL(18,2)",)]
        assert con.execute("select sum(revenue) from marts.dim_organizations").fetchall()[0][
            0
        ] == pytest.approx(10.25)
        # dbt descriptions travel as comments (BI tools and the dashboard show them)
        assert con.execute(
            "select comment from duckdb_tables() where table_name = 'dim_contributors'"
        ).fetchall() == [("One row per person.",)]
        assert con.execute(
            "select comment from duckdb_columns() where column_name = 'weighted_activity'"
        ).fetchall() == [("Sum of activity weights (it's a score).",)]
        assert con.execute("select release_id from _townsquare.release").fetchall() == [
            (release.release_id,)
        ]
    parquet = out / "parquet" / "dim_contributors.parquet"
    assert duckdb.sql(f"select count(*) from '{parquet}'").fetchall() == [(3,)]
    meta = duckdb.sql(f"select key, value from parquet_kv_metadata('{parquet}')").fetchall()
    assert (b"townsquare_release", release.release_id.encode()) in meta
    info = json.loads((Path(release.path) / "release.json").read_text())
    assert info["release_id"] == release.release_id
    assert info["marts"] == {"dim_contributors": 3, "dim_organizations": 2}
    assert info["files"]["townsquare.duckdb"] == (out / "townsquare.duckdb").stat().st_size
    assert current_release(out).release_id == release.release_id
    assert any("published 2 marts (5 rows)" in m for m in messages)


def test_a_new_release_flips_current_keeps_old_readers_working_and_prunes(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path / "wh.duckdb", people=3)
    out = tmp_path / "published"
    first = publish(str(warehouse), out)
    old_reader = duckdb.connect(str(out / "townsquare.duckdb"), read_only=True)
    assert old_reader.execute("select count(*) from marts.dim_contributors").fetchall() == [(3,)]

    make_warehouse(warehouse, people=5)
    ids = [publish(str(warehouse), out, keep=2).release_id for _ in range(3)]

    assert releases(out) == ids[-2:]  # the first two are pruned, `keep` = 2
    assert not Path(first.path).exists()
    # the reader that opened the first release still reads it, deleted or not
    assert old_reader.execute("select count(*) from marts.dim_contributors").fetchall() == [(3,)]
    assert old_reader.execute("select release_id from _townsquare.release").fetchall() == [
        (first.release_id,)
    ]
    old_reader.close()
    with duckdb.connect(str(out / "townsquare.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.dim_contributors").fetchall() == [(5,)]
        assert con.execute("select release_id from _townsquare.release").fetchall() == [(ids[-1],)]


def test_a_failed_publish_changes_nothing_and_leaves_no_partial_release(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path / "wh.duckdb", people=3)
    out = tmp_path / "published"
    good = publish(str(warehouse), out)
    before = sorted(p.name for p in (out / RELEASES).iterdir())

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(PublishError, match=r"has no tables in schema 'marts'"):
        publish(str(empty), out)
    with pytest.raises(PublishError, match=r"does not exist: build it first"):
        publish(str(tmp_path / "missing.duckdb"), out)
    # a docs page that cannot be copied fails the publish after the snapshot was staged
    with pytest.raises(FileNotFoundError):
        publish(str(warehouse), out, docs_file=str(tmp_path / "no-docs.html"))

    assert current_release(out).release_id == good.release_id
    assert sorted(p.name for p in (out / RELEASES).iterdir()) == before  # no .staging-* left


def test_a_crashed_publisher_leaves_a_stage_that_the_next_publish_removes(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path / "wh.duckdb", people=3)
    out = tmp_path / "published"
    good = publish(str(warehouse), out)
    # kill -9 in the middle of staging: a child process dies while writing the snapshot
    code = (
        "import os, townsquare.publish as p\n"
        "real = p._write_snapshot\n"
        "def dying(*a, **k):\n"
        "    real(*a, **k)\n"
        "    os._exit(9)\n"
        "p._write_snapshot = dying\n"
        f"p.publish({str(warehouse)!r}, {str(out)!r})\n"
    )
    crashed = subprocess.run([sys.executable, "-c", code], check=False)
    assert crashed.returncode == 9
    stages = list((out / RELEASES).glob(".staging-*"))
    assert len(stages) == 1  # the dead publisher's half-made release, invisible to readers
    assert current_release(out).release_id == good.release_id

    later = publish(str(warehouse), out)
    assert not list((out / RELEASES).glob(".staging-*"))
    assert current_release(out).release_id == later.release_id


def test_concurrent_publishers_are_serialized(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path / "wh.duckdb", people=4)
    out = tmp_path / "published"
    results: list[str] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            results.append(publish(str(warehouse), out, keep=10).release_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == releases(out)
    assert current_release(out).release_id in results
    for release_id in results:
        assert json.loads((out / RELEASES / release_id / "release.json").read_text())["marts"] == {
            "dim_contributors": 4,
            "dim_organizations": 2,
        }


def _fingerprints(warehouse: Path, tables: list[str]) -> dict[str, str]:
    from townsquare.quality import mart_fingerprints

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return mart_fingerprints(con, "marts", tables)


def test_only_the_checked_marts_are_published_and_only_as_checked(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path / "wh.duckdb", people=3)
    with duckdb.connect(str(warehouse)) as con:  # a table a removed dbt model left behind
        con.execute("create table marts.fct_old as select 'jane@example.org' as email")
    out = tmp_path / "published"
    checked = _fingerprints(warehouse, ["dim_contributors", "dim_organizations"])
    messages: list[str] = []
    release = publish(str(warehouse), out, checked=checked, progress=messages.append)
    assert release.marts == {"dim_contributors": 3, "dim_organizations": 2}
    assert "not publishing marts.fct_old: no mart suite checked it" in messages
    assert not (out / "parquet" / "fct_old.parquet").exists()

    # another writer changes a checked mart after the checks: nothing is published
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update marts.dim_contributors set weighted_activity = 99")
    with pytest.raises(PublishError, match=r"changed after the mart checks.*dim_contributors"):
        publish(str(warehouse), out, checked=checked)
    # a checked mart that disappeared
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop table marts.dim_organizations")
    with pytest.raises(PublishError, match=r"checked marts missing.*dim_organizations"):
        publish(str(warehouse), out, checked=checked)
    assert current_release(out).release_id == release.release_id
    assert not list((out / RELEASES).glob(".staging-*"))


def test_the_identity_salt_is_redacted_in_every_form() -> None:
    from townsquare.build import BuildError, redact_salt

    salt = "Sup3r's3cret\\\"x"
    page = f"sha256('{salt.replace(chr(39), chr(39) * 2)}' || ':' || email) " + json.dumps(
        {"compiled_code": f"sha256('{salt}')"}
    )
    assert salt.replace("'", "''") in page
    redacted = redact_salt(page, salt)
    assert "Sup3r" not in redacted and "s3cret" not in redacted
    assert redacted.count("<identity salt: redacted>") == 2
    hex_salt = "0123456789abcdef" * 4
    with pytest.raises(BuildError, match="still holds part of the identity salt"):
        redact_salt("cut: " + hex_salt[3:40], hex_salt)
