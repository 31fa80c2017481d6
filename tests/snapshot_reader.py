"""A BI-tool stand-in for the concurrency test: queries the published marts in a loop.

    python snapshot_reader.py PUBLISH_DIR STOP_FILE OUT_FILE MODE

MODE ``fresh``: every round opens the stable path ``townsquare.duckdb`` read-only, reads the
release id and the row count of every mart in one connection, then closes it; it also
resolves ``current`` once and reads every Parquet file's release id and row count.
MODE ``held``: one connection opened at the start and kept for the whole run.
Each round is one JSON line in OUT_FILE: {"release_id", "marts": {...}, "parquet": {...}} or
{"error": "..."}. Stops when STOP_FILE exists, after 900 s at most.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import duckdb


def snapshot_round(con: duckdb.DuckDBPyConnection) -> dict:
    release = con.execute("select release_id from _townsquare.release").fetchall()[0][0]
    names = [
        n
        for (n,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
        ).fetchall()
    ]
    counts = {n: con.execute(f'select count(*) from marts."{n}"').fetchall()[0][0] for n in names}
    return {"release_id": release, "marts": counts}


def parquet_round(publish_dir: Path) -> dict:
    folder = Path(os.path.realpath(publish_dir / "current")) / "parquet"
    releases, counts = set(), {}
    with duckdb.connect() as con:
        for path in sorted(folder.glob("*.parquet")):
            meta = con.execute(
                "select value from parquet_kv_metadata(?) where key = 'townsquare_release'",
                [str(path)],
            ).fetchall()
            releases.add(meta[0][0].decode())
            counts[path.stem] = con.execute(
                "select count(*) from read_parquet(?)", [str(path)]
            ).fetchall()[0][0]
    return {"releases": sorted(releases), "marts": counts}


def main() -> int:
    publish_dir, stop_file, out_file, mode = (
        Path(sys.argv[1]),
        sys.argv[2],
        sys.argv[3],
        sys.argv[4],
    )
    snapshot = str(publish_dir / "townsquare.duckdb")
    held = duckdb.connect(snapshot, read_only=True) if mode == "held" else None
    deadline = time.monotonic() + 900
    with open(out_file, "a") as out:
        while not os.path.exists(stop_file) and time.monotonic() < deadline:
            try:
                if held is not None:
                    row = snapshot_round(held)
                else:
                    with duckdb.connect(snapshot, read_only=True) as con:
                        row = snapshot_round(con)
                    row["parquet"] = parquet_round(publish_dir)
            except Exception as exc:  # the test asserts there are none
                row = {"error": f"{type(exc).__name__}: {exc}"}
            out.write(json.dumps(row) + "\n")
            out.flush()
            time.sleep(0.05)
    return 0


if __name__ == "__main__":
    sys.exit(main())
