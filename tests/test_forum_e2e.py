"""Forum sources end to end: the CLI lands Discourse, mbox and Pipermail; dbt builds; reruns
change nothing.

The bundled samples are served over real HTTP by the demo's local site (Discourse JSON and a
Pipermail archive) from this process; the first landing of each type goes through the
`townsquare ingest TYPE LOCATION --json` command as scripts call it (three subprocesses at
once), the reruns through the same pipeline in-process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from townsquare.build import build
from townsquare.paths import samples_dir
from townsquare.pipeline import adhoc_source, ingest_source
from townsquare.samples.forum.recorded_server import demo_site

pytestmark = pytest.mark.e2e

MBOX = samples_dir() / "forum" / "mail" / "lumen-dev.mbox"
STAGING = ("stg_discourse__topics", "stg_discourse__posts", "stg_mail__messages")


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with demo_site() as url:
        yield url


def sources(site: str) -> list[tuple[str, str, str]]:
    return [
        ("mbox", str(MBOX), "lumen-dev"),
        ("discourse", site, "lumen-forum"),
        ("pipermail", f"{site}/pipermail/lumen-users/", "lumen-users"),
    ]


def counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = {
            t: con.execute(f"select count(*) from staging.{t}").fetchall()[0][0] for t in STAGING
        }
        found["fct_forum_threads"] = con.execute(
            "select count(*) from marts.fct_forum_threads"
        ).fetchall()[0][0]
    return found


def threads(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("from marts.fct_forum_threads order by thread_key").fetchall()


@pytest.fixture(scope="module")
def landed(site: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("forum")
    lake = root / "lake"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNSQUARE_")}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "townsquare.cli",
                "ingest",
                kind,
                location,
                "--name",
                name,
                "--lake",
                str(lake),
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=root,
        )
        for kind, location, name in sources(site)
    ]
    results = {}
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        summary = json.loads(out)
        results[summary["source"]] = summary
    return {"root": root, "lake": lake, "cli": results}


def test_cli_lands_each_forum_type_with_the_json_contract(landed: dict) -> None:
    cli = landed["cli"]
    assert {name: s["type"] for name, s in cli.items()} == {
        "lumen-dev": "mbox",
        "lumen-forum": "discourse",
        "lumen-users": "pipermail",
    }
    assert cli["lumen-dev"]["entities"] == {"mail_messages": {"rows": 120, "quarantined": 0}}
    assert cli["lumen-users"]["entities"] == {"mail_messages": {"rows": 60, "quarantined": 0}}
    assert cli["lumen-forum"]["entities"] == {
        "forum_posts": {"rows": 150, "quarantined": 0},
        "forum_topics": {"rows": 30, "quarantined": 0},
    }
    for summary in cli.values():
        assert summary["files"] and all(Path(f).exists() for f in summary["files"])
        assert summary["run_id"].startswith(summary["source"] + "-")


def test_rerunning_the_same_ingests_leaves_staging_unchanged(site: str, landed: dict) -> None:
    lake, root = str(landed["lake"]), landed["root"]
    warehouse = root / "warehouse.duckdb"
    target = str(root / "target")
    build(lake, str(warehouse), target_path=target)
    first, first_threads = counts(warehouse), threads(warehouse)
    assert first == {
        "stg_discourse__topics": 30,
        "stg_discourse__posts": 150,
        "stg_mail__messages": 180,
        "fct_forum_threads": first["fct_forum_threads"],
    }
    assert first["fct_forum_threads"] > 30

    # the same ingests again: the stored cursors say nothing is new
    for kind, location, name in sources(site):
        again = ingest_source(adhoc_source(kind, location, name), lake=lake, credentials={})
        assert again.rows == 0, (name, again.to_json())
    build(lake, str(warehouse), target_path=target)
    assert counts(warehouse) == first

    # a forced full reload (--since before everything) lands every row again under a new
    # run id: staging dedups on the natural key, so nothing changes downstream
    for kind, location, name in sources(site):
        reload = ingest_source(
            adhoc_source(kind, location, name), lake=lake, since="2000-01-01", credentials={}
        )
        landed_first = sum(e["rows"] for e in landed["cli"][name]["entities"].values())
        assert reload.rows == landed_first, (name, reload.to_json())
    build(lake, str(warehouse), target_path=target)
    assert counts(warehouse) == first
    assert threads(warehouse) == first_threads
