"""Throughput and peak memory of the GH Archive connector, landed end to end.

Generates one hourly-style file of ``--events`` events (default 1,000,000) in GH
Archive's shape (compact one-line JSON, gzip): event types in roughly GH Archive's
mix (pushes, creates, stars, pull requests, comments, issues, forks, releases) with
payloads built by ``townsquare.samples.repo.generate_gharchive`` (about 1-2 KB an
event); 1% of the events belong to ``lumen-db/lumen`` and 0.5% to
``lumen-db/lumen-go``. Then measures, each case in a fresh subprocess so that
``ru_maxrss`` (peak resident memory) belongs to that case alone:

- ``connector``: ``GhArchiveConnector.items()`` exhausted, no filter (no lake);
- ``ingest-nogate``: ``ingest_source`` into a temporary lake, no filter, without
  the Great Expectations gate (to separate the gate's memory from the lake's);
- ``ingest-all``: ``ingest_source``, no filter, with the gate (a real landing);
- ``ingest-filtered``: ``ingest_source`` with ``repos: [lumen-db/lumen]`` and the gate.

events/s counts input events (lines) per second of landing (the filtered case
reads every line too). The issue's must-show: 1M events land with peak RSS under
500 MB.

    .venv/bin/python benchmarks/bench_gharchive.py [--events N] [--cases a,b]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from measure import measure, peak_rss_mib

HOUR = datetime(2026, 9, 14, 15, tzinfo=UTC)
NAME = f"{HOUR:%Y-%m-%d}-{HOUR.hour}.json.gz"
MIX = (
    ("PushEvent", 45),
    ("CreateEvent", 12),
    ("WatchEvent", 10),
    ("PullRequestEvent", 12),
    ("IssueCommentEvent", 10),
    ("IssuesEvent", 6),
    ("ForkEvent", 4),
    ("ReleaseEvent", 1),
)
POOL = 400
"""Payload variants per event type (each line picks one; ids, actors, repos, times vary)."""
CASES = ("connector", "ingest-nogate", "ingest-all", "ingest-filtered")


def write_archive(path: Path, events: int, seed: int = 11) -> dict[str, int]:
    """The hourly file; returns event counts (all, lumen-db/lumen, lumen-db/lumen-go)."""
    from townsquare.samples.repo import generate_gharchive as gh

    rng = random.Random(seed)
    kinds = [k for k, w in MIX for _ in range(w)]
    pools: dict[str, list[str]] = {}
    for kind, _w in MIX:
        variants = []
        for n in range(POOL):
            login = f"user{rng.randrange(10**6)}"
            body_words = rng.choice((10, 30, 60, 120, 200)) if kind != "PushEvent" else 0
            commits = [
                (f"Dev {login}", f"{login}@example.com", gh.text(rng, rng.randrange(3, 25)))
                for _ in range(rng.choice((1, 1, 1, 2, 3, 5)))
            ]
            variants.append(
                gh.dumps(
                    gh.payload(
                        kind,
                        rng,
                        repo_name=f"owner{n}/project{n}",
                        login=login,
                        when=HOUR,
                        number=rng.randrange(1, 30_000),
                        title=gh.text(rng, 8),
                        body_words=body_words,
                        commits=commits,
                    )
                )
            )
        pools[kind] = variants
    actors = [gh.dumps(gh.actor(f"dev{n}")) for n in range(20_000)]
    orgs = [gh.dumps(gh.org(f"org{n}", 90_000_000 + n)) for n in range(5000)]
    repos: list[tuple[str, str | None]] = []
    for n in range(20_000):
        owner = f"org{n % 5000}" if n % 3 else f"dev{n}"
        org = orgs[n % 5000] if n % 3 else None
        repos.append((gh.dumps(gh.repo(f"{owner}/project{n}", 500_000_000 + n)), org))
    lumen = (gh.dumps(gh.repo(*gh.LUMEN)), gh.dumps(gh.repo(*gh.LUMEN_GO)))
    lumen_org = gh.dumps(gh.org(*gh.ORG))
    counts = {"all": events, "lumen": 0, "lumen_go": 0}
    with gzip.open(path, "wb", compresslevel=3) as out:
        chunk: list[str] = []
        for i in range(events):
            kind = rng.choice(kinds)
            roll = rng.random()
            if roll < 0.01:
                where, org = lumen[0], lumen_org
                counts["lumen"] += 1
            elif roll < 0.015:
                where, org = lumen[1], lumen_org
                counts["lumen_go"] += 1
            else:
                where, org = repos[rng.randrange(len(repos))]
            stamp = (HOUR + timedelta(seconds=i * 3600 // events)).strftime("%Y-%m-%dT%H:%M:%SZ")
            actor = actors[rng.randrange(len(actors))]
            body = pools[kind][rng.randrange(POOL)]
            tail = f',"org":{org}}}' if org else "}"
            chunk.append(
                f'{{"id":"{40_000_000_000 + i}","type":"{kind}","actor":{actor},"repo":{where},'
                f'"payload":{body},"public":true,"created_at":"{stamp}"{tail}\n'
            )
            if len(chunk) >= 10_000:
                out.write("".join(chunk).encode("utf-8"))
                chunk = []
        out.write("".join(chunk).encode("utf-8"))
    return counts


def child(kind: str, path: str) -> dict[str, Any]:
    from townsquare.config import SourceConfig
    from townsquare.connectors.base import ConnectorContext
    from townsquare.connectors.gharchive import GhArchiveConnector
    from townsquare.pipeline import ingest_source

    baseline = peak_rss_mib()
    t0 = time.perf_counter()
    if kind == "connector":
        conn = GhArchiveConnector(ConnectorContext(name="bench", location=path))
        rows = sum(1 for _ in conn.items())
        quarantined = 0
    else:
        options = {"repos": ["lumen-db/lumen"]} if kind == "ingest-filtered" else {}
        source = SourceConfig(type="gharchive", name="bench", location=path, options=options)
        with tempfile.TemporaryDirectory(prefix="bench-gharchive-lake-") as lake:
            result = ingest_source(source, lake=lake, credentials={}, gate=kind != "ingest-nogate")
        rows = result.entities["repo_events"].rows
        quarantined = result.entities["repo_events"].quarantined
    seconds = time.perf_counter() - t0
    return {
        "rows": rows,
        "quarantined": quarantined,
        "seconds": seconds,
        "baseline_mib": baseline,
        "peak_mib": peak_rss_mib(),
    }


def _suites_env() -> tempfile.TemporaryDirectory[str] | None:
    """The landing gate needs raw_repo_events.json: generate the suites where it is missing."""
    from townsquare.quality import suite_path, write_suites

    if suite_path("repo_events").exists():
        return None
    folder = tempfile.TemporaryDirectory(prefix="bench-gharchive-expectations-")
    write_suites(Path(folder.name))
    os.environ["TOWNSQUARE_EXPECTATIONS_DIR"] = folder.name
    print(
        f"(expectations/raw_repo_events.json is missing: using generated suites in {folder.name})"
    )
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return

    suites = _suites_env()
    with tempfile.TemporaryDirectory(prefix="bench-gharchive-") as tmp:
        path = Path(tmp) / NAME
        t0 = time.perf_counter()
        counts = write_archive(path, args.events)
        size = path.stat().st_size
        with gzip.open(path, "rb") as fh:
            raw = sum(len(chunk) for chunk in iter(lambda: fh.read(1 << 24), b""))
        print(
            f"generated {counts['all']:,} events ({counts['lumen']:,} of lumen-db/lumen) in "
            f"{time.perf_counter() - t0:.1f}s: {size / 2**20:.1f} MiB gzip, "
            f"{raw / 2**20:.1f} MiB JSON ({raw / counts['all']:.0f} bytes an event)"
        )
        header = (
            f"{'case':<17}{'events':>11}{'rows':>11}{'quar.':>7}{'seconds':>9}{'events/s':>10}"
            f"{'peak RSS MiB':>14}{'baseline':>10}"
        )
        print(header)
        print("-" * len(header))
        for kind in args.cases.split(","):
            r = measure(__file__, kind, path)
            print(
                f"{kind:<17}{counts['all']:>11,}{int(r['rows']):>11,}{int(r['quarantined']):>7,}"
                f"{r['seconds']:>9.1f}{counts['all'] / r['seconds']:>10,.0f}"
                f"{r['peak_mib']:>14.1f}{r['baseline_mib']:>10.1f}",
                flush=True,
            )
    if suites is not None:
        suites.cleanup()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
