"""The lake library: atomic commits, idempotent re-runs, quarantine, crash safety."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from townsquare.lake import Lake, LakeRun, clean_temporaries
from townsquare.schemas import TRACKBACKS

WHEN = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def tb(i: int, **over) -> dict:
    row = {
        "trackback_id": f"tb-{i}",
        "kind": "pingback",
        "source_url": f"https://ref{i % 3}.example.net/post/{i}",
        "source_domain": f"ref{i % 3}.example.net",
        "received_at": datetime(2026, 1, 1 + i % 28, tzinfo=UTC),
    }
    row.update(over)
    return row


def visible(lake: Path, area: str = "raw") -> list[str]:
    return sorted(str(p.relative_to(lake)) for p in (lake / area).rglob("*.parquet"))


def count(lake: Path, entity: str = "trackbacks") -> int:
    return duckdb.execute(
        f"select count(*) from read_parquet('{lake}/raw/{entity}/*/*/*.parquet')"
    ).fetchall()[0][0]


def land(lake: Path, n: int, run_id: str = "blog-run1", **kw) -> dict:
    run = LakeRun(str(lake), "blog", run_id, ingested_at=WHEN, **kw)
    with run:
        w = run.writer("trackbacks")
        for i in range(n):
            w.add(tb(i), raw={"i": i})
        return run.commit({"trackbacks": {"cursor": n}})


def test_layout_names_and_lineage(tmp_path: Path) -> None:
    results = land(tmp_path, 5)
    assert visible(tmp_path) == [
        "raw/trackbacks/source=blog/ingest_date=2026-03-04/blog-run1-0.parquet"
    ]
    table = pq.read_table(tmp_path / visible(tmp_path)[0])
    assert table.schema.equals(TRACKBACKS.schema)
    assert table.num_rows == 5
    assert set(table.column("source").to_pylist()) == {"blog"}
    assert set(table.column("run_id").to_pylist()) == {"blog-run1"}
    assert table.column("ingested_at").to_pylist()[0] == WHEN
    assert json.loads(table.column("raw").to_pylist()[2]) == {"i": 2}
    assert results["trackbacks"].rows == 5
    manifest = json.loads((tmp_path / "_manifests" / "blog-run1.json").read_text())
    assert manifest["entities"]["trackbacks"]["rows"] == 5
    assert manifest["entities"]["trackbacks"]["schema_hash"] == TRACKBACKS.schema_hash
    assert manifest["status"] == "committed"
    state = json.loads((tmp_path / "_state" / "blog" / "trackbacks.json").read_text())
    assert state["state"] == {"cursor": 5}
    assert Lake(str(tmp_path)).read_state("blog", ["trackbacks", "blog_posts"]) == {
        "trackbacks": {"cursor": 5}
    }


def test_rerun_same_interval_replaces_files_no_duplicates(tmp_path: Path) -> None:
    land(tmp_path, 7, file_rows=3, batch_rows=3)  # parts of 3 rows: -0, -1, -2
    assert len(visible(tmp_path)) == 3
    assert count(tmp_path) == 7
    land(tmp_path, 7, file_rows=3, batch_rows=3)
    assert count(tmp_path) == 7
    # A re-run of the same run id with less data also removes the parts it no longer writes.
    land(tmp_path, 2, file_rows=3, batch_rows=3)
    assert visible(tmp_path) == [
        "raw/trackbacks/source=blog/ingest_date=2026-03-04/blog-run1-0.parquet"
    ]
    assert count(tmp_path) == 2
    # Another run id adds files beside it.
    land(tmp_path, 4, run_id="blog-run2")
    assert count(tmp_path) == 6


def test_rerun_on_a_later_day_replaces_the_earlier_partition(tmp_path: Path) -> None:
    land(tmp_path, 3)
    run = LakeRun(str(tmp_path), "blog", "blog-run1", ingested_at=datetime(2026, 3, 9, tzinfo=UTC))
    with run:
        for i in range(3):
            run.writer("trackbacks").add(tb(i))
        run.commit()
    assert visible(tmp_path) == [
        "raw/trackbacks/source=blog/ingest_date=2026-03-09/blog-run1-0.parquet"
    ]


def test_bad_rows_go_to_quarantine_with_reasons(tmp_path: Path) -> None:
    run = LakeRun(str(tmp_path), "blog", "blog-q", ingested_at=WHEN)
    with run:
        w = run.writer("trackbacks")
        assert w.add(tb(1))
        assert not w.add(tb(1), raw={"dup": True})  # duplicate id
        assert not w.add(tb(2, trackback_id=None))  # missing key
        assert not w.add(tb(3, received_at="yesterday-ish"))  # not a timestamp
        assert not w.add(tb(4, received_at=datetime(2026, 1, 1)))  # naive timestamp
        w.reject("unparseable item", raw="<item>", native_id="x9")
        results = run.commit()
    assert results["trackbacks"].rows == 1
    assert results["trackbacks"].quarantined == 5
    q = duckdb.execute(
        f"select native_id, reason from read_parquet('{tmp_path}/quarantine/*/*/*/*.parquet') "
        "order by native_id nulls first"
    ).fetchall()
    assert q == [
        (None, "missing key column trackback_id"),
        ("tb-1", "duplicate id in batch: tb-1"),
        ("tb-3", "column received_at: not an ISO 8601 timestamp: 'yesterday-ish'"),
        ("tb-4", "column received_at: timestamp without a time zone (2026-01-01 00:00:00)"),
        ("x9", "unparseable item"),
    ]
    assert visible(tmp_path, "quarantine") == [
        "quarantine/trackbacks/source=blog/ingest_date=2026-03-04/blog-q.parquet"
    ]


def test_gate_hook_quarantines_flagged_rows(tmp_path: Path) -> None:
    def gate(spec, rows):
        return {i: "kind must be pingback" for i, r in enumerate(rows) if r["kind"] != "pingback"}

    run = LakeRun(str(tmp_path), "blog", "blog-g", ingested_at=WHEN, gate=gate, batch_rows=2)
    with run:
        w = run.writer("trackbacks")
        for i in range(5):
            w.add(tb(i, kind="trackback" if i in (1, 4) else "pingback"))
        results = run.commit()
    assert (results["trackbacks"].rows, results["trackbacks"].quarantined) == (3, 2)
    ids = duckdb.execute(
        f"select trackback_id from read_parquet('{tmp_path}/raw/*/*/*/*.parquet') order by 1"
    ).fetchall()
    assert ids == [("tb-0",), ("tb-2",), ("tb-3",)]


def test_rejected_run_publishes_quarantine_only(tmp_path: Path) -> None:
    run = LakeRun(str(tmp_path), "blog", "blog-r", ingested_at=WHEN)
    with run:
        run.writer("trackbacks").add(tb(1))
        run.writer("trackbacks").reject("bad", raw="x")
        run.commit({"trackbacks": {"cursor": 99}}, data=False)
    assert visible(tmp_path) == []
    assert len(visible(tmp_path, "quarantine")) == 1
    assert not (tmp_path / "_state").exists()
    assert json.loads((tmp_path / "_manifests" / "blog-r.json").read_text())["status"] == "rejected"
    assert not list(tmp_path.rglob("*.tmp"))


def test_abort_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), LakeRun(str(tmp_path), "blog", "blog-a", batch_rows=2) as run:
        for i in range(5):
            run.writer("trackbacks").add(tb(i))
        raise RuntimeError("connector failed")
    assert visible(tmp_path) == []
    assert not list(tmp_path.rglob("*.tmp"))
    assert not (tmp_path / "_state").exists()


CRASH_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from datetime import datetime, UTC
    from townsquare.lake import Lake, LakeRun
    lake, when = sys.argv[1], sys.argv[2]
    run = LakeRun(lake, "blog", "blog-crash", batch_rows=100, file_rows=250)
    if when == "after-data":
        Lake.write_state = lambda *a, **k: os._exit(9)  # die between data and state
    w = run.writer("trackbacks")
    for i in range(1000):
        w.add({"trackback_id": str(i), "source_url": "https://a.example.org/",
               "received_at": datetime(2026, 1, 1, tzinfo=UTC)})
        if when == "mid-write" and i == 620:
            os._exit(9)  # a hard crash: no cleanup, no finally blocks
    run.commit({"trackbacks": {"cursor": 1000}})
    """
)


def _crash(lake: Path, when: str) -> None:
    proc = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, str(lake), when], check=False)
    assert proc.returncode == 9


def test_crash_mid_write_leaves_no_visible_file_and_no_watermark(tmp_path: Path) -> None:
    _crash(tmp_path, "mid-write")
    assert visible(tmp_path) == []
    assert not (tmp_path / "_state").exists()
    leftovers = list(tmp_path.rglob(".*.tmp"))
    assert leftovers, "the crash should have left hidden temporaries (flushed batches)"
    assert clean_temporaries(Lake(str(tmp_path)), "blog") == len(leftovers)
    assert not list(tmp_path.rglob(".*.tmp"))


def test_crash_between_data_and_state_then_retry_has_no_duplicates(tmp_path: Path) -> None:
    _crash(tmp_path, "after-data")
    assert count(tmp_path) == 1000  # data committed ...
    assert not (tmp_path / "_state").exists()  # ... but the watermark did not advance
    # The retry reads the same interval again under the same run id: replaced, not doubled.
    proc = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, str(tmp_path), "complete"], check=True
    )
    assert proc.returncode == 0
    assert count(tmp_path) == 1000
    assert len(visible(tmp_path)) == 4  # 250 rows a part
    assert json.loads((tmp_path / "_state/blog/trackbacks.json").read_text())["state"] == {
        "cursor": 1000
    }


def test_concurrent_source_temporaries_are_not_cleaned(tmp_path: Path) -> None:
    other = tmp_path / "raw/trackbacks/source=other/ingest_date=2026-03-04"
    other.mkdir(parents=True)
    (other / ".other-run-0.parquet.tmp").write_bytes(b"in progress")
    assert clean_temporaries(Lake(str(tmp_path)), "blog") == 0
    assert (other / ".other-run-0.parquet.tmp").exists()


def test_fsspec_memory_filesystem(tmp_path: Path) -> None:
    """Paths go through fsspec: the same code lands on a non-local filesystem."""
    run = LakeRun("memory://lake", "blog", "blog-mem", ingested_at=WHEN)
    with run:
        for i in range(3):
            run.writer("trackbacks").add(tb(i))
        results = run.commit({"trackbacks": {"c": 1}})
    lake = Lake("memory://lake")
    assert results["trackbacks"].files == [
        "memory:///lake/raw/trackbacks/source=blog/ingest_date=2026-03-04/blog-mem-0.parquet"
    ]
    with lake.fs.open(lake.files("trackbacks")[0], "rb") as fh:
        assert pq.read_table(fh).num_rows == 3
    assert lake.read_state("blog", ["trackbacks"]) == {"trackbacks": {"c": 1}}
