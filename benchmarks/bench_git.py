"""Throughput and peak memory of the git connector on a generated 100k-commit repository.

Generates a repository with ``git fast-import`` (default 100,000 commits: each
changes one to three of 500 files in 25 folders, one in fifty is a merge of a side-branch
commit, one in twenty has a ``Co-authored-by`` trailer, one in ten an 8-bit
Latin-1 author name, tags every 1,000 commits), then measures, each in a fresh
subprocess so ``ru_maxrss`` (peak resident memory) belongs to that case alone (the
Python process's; git's own peak is sampled from ``/proc`` in the ``git log`` case):

- ``git log``: the connector's ``git log`` command alone, output to a pipe that
  is read and dropped (what git itself costs);
- ``items()``: ``GitConnector.items()``: git log streamed, parsed, rows built;
- ``ingest``: ``townsquare.pipeline.ingest_source`` into a temporary lake (parse,
  Great Expectations landing gate, Parquet), the end-to-end landing.

    .venv/bin/python benchmarks/bench_git.py [--commits N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from measure import count_items, measure, peak_rss_mib

FILES = 500
EPOCH = 1_600_000_000


def _data(payload: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(payload), payload)


def fast_import_stream(commits: int) -> Iterator[bytes]:
    """A ``git fast-import`` stream of ``commits`` commits (merges included)."""
    mark = 0
    main_tip = 0
    for n in range(commits):
        when = EPOCH + n * 600
        person = n % 997
        name = (
            f"Jos\xe9 M\xfcller {person}".encode("latin-1") if n % 10 == 3 else b"Dev %d" % person
        )
        ident = b"%s <dev%d@example.org> %d +0100" % (name, person, when)
        message = b"Change %d: tune the compactor\n\nLonger explanation of change %d.\n" % (n, n)
        if n % 20 == 7:
            message += b"\nCo-authored-by: Pair %d <pair%d@example.org>\n" % (person, person)
        merge_from = 0
        if n % 50 == 49 and main_tip:
            # a side-branch commit off main, merged by this commit
            mark += 1
            yield b"commit refs/heads/side\nmark :%d\n" % mark
            yield b"author %s\ncommitter %s\n" % (ident, ident)
            yield _data(b"Side work %d\n" % n)
            yield b"from :%d\n" % main_tip
            yield b"M 100644 inline side/%d.txt\n" % n
            yield _data(b"side %d\n" % n)
            merge_from = mark
        mark += 1
        yield b"commit refs/heads/main\nmark :%d\n" % mark
        yield b"author %s\ncommitter %s\n" % (ident, ident)
        yield _data(message)
        if main_tip:
            yield b"from :%d\n" % main_tip
        if merge_from:
            yield b"merge :%d\n" % merge_from
        for k in range(1 + n % 3):
            file = (n * 7 + k * 131) % FILES
            path = b"src/pkg_%02d/module_%d.txt" % (file % 25, file)
            body = b"".join(b"line %d of version %d\n" % (i, n) for i in range(5 + n % 11))
            yield b"M 100644 inline %s\n" % path
            yield _data(body)
        main_tip = mark
        if n % 1000 == 999:
            yield b"reset refs/tags/v%d\nfrom :%d\n\n" % (n // 1000, mark)


def make_repo(path: Path, commits: int) -> None:
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    proc = subprocess.Popen(
        ["git", "-C", str(path), "fast-import", "--quiet"], stdin=subprocess.PIPE
    )
    assert proc.stdin is not None
    buffer: list[bytes] = []
    for piece in fast_import_stream(commits):
        buffer.append(piece)
        if len(buffer) >= 4096:
            proc.stdin.write(b"".join(buffer))
            buffer = []
    proc.stdin.write(b"".join(buffer))
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "-C", str(path), "symbolic-ref", "HEAD", "refs/heads/main"], check=True)


def _ensure_suites() -> None:
    """Use the registry's suites when the committed repo_commits suite is missing."""
    from townsquare.quality import suite_path, write_suites

    if not suite_path("repo_commits").exists():
        folder = Path(tempfile.mkdtemp(prefix="bench-git-suites-"))
        write_suites(folder)
        os.environ["TOWNSQUARE_EXPECTATIONS_DIR"] = str(folder)


def process_peak_mib(pid: int) -> float:
    """A running process's peak RSS so far (Linux ``VmHWM``), MiB; 0 when unknown."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def child_git_log(path: str) -> dict[str, float]:
    from townsquare.connectors.git import LOG_ARGS

    baseline = peak_rss_mib()
    t0 = time.perf_counter()
    revs = subprocess.run(
        ["git", "-C", path, "rev-parse", "--all"], check=True, capture_output=True
    ).stdout
    proc = subprocess.Popen(
        ["git", "-C", path, *LOG_ARGS, "--numstat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(revs)
    proc.stdin.close()
    records = 0
    git_mib = 0.0
    while block := proc.stdout.read1(1 << 20):
        records += block.count(b"\x1e")
        git_mib = max(git_mib, process_peak_mib(proc.pid))
    proc.wait()
    seconds = time.perf_counter() - t0
    return {
        "rows": records,
        "seconds": seconds,
        "baseline_mib": baseline,
        "peak_mib": peak_rss_mib(),
        "git_mib": git_mib,
    }


def child_items(path: str) -> dict[str, float]:
    from townsquare.connectors.base import ConnectorContext
    from townsquare.connectors.git import GitConnector

    baseline = peak_rss_mib()
    conn = GitConnector(ConnectorContext(name="bench", location=path))
    return count_items(conn.items(), baseline)


def child_ingest(path: str) -> dict[str, float]:
    _ensure_suites()
    from townsquare import quality
    from townsquare.config import SourceConfig
    from townsquare.pipeline import ingest_source

    quality._gx()  # import Great Expectations before the clock starts
    baseline = peak_rss_mib()
    source = SourceConfig(type="git", name="bench", location=path)
    with tempfile.TemporaryDirectory(prefix="bench-git-lake-") as lake:
        t0 = time.perf_counter()
        result = ingest_source(source, lake=lake, credentials={})
        seconds = time.perf_counter() - t0
    return {
        "rows": result.rows,
        "seconds": seconds,
        "baseline_mib": baseline,
        "peak_mib": peak_rss_mib(),
    }


CHILDREN = {"git log": child_git_log, "items()": child_items, "ingest": child_ingest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path = args.child
        print(json.dumps(CHILDREN[kind](path)))
        return

    with tempfile.TemporaryDirectory(prefix="bench-git-") as tmp:
        small = Path(tmp) / "small.git"
        big = Path(tmp) / "big.git"
        t0 = time.perf_counter()
        make_repo(big, args.commits)
        make_repo(small, max(10, args.commits // 10))
        print(f"generated repositories with git fast-import in {time.perf_counter() - t0:.1f}s")
        header = (
            f"{'case':<10}{'commits':>10}{'repo MiB':>10}{'seconds':>9}{'commits/s':>11}"
            f"{'peak RSS MiB':>14}{'over baseline':>15}{'git RSS MiB':>13}"
        )
        print(header)
        print("-" * len(header))
        for path in (small, big):
            size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20
            for kind in CHILDREN:
                r = measure(__file__, kind, path)
                print(
                    f"{kind:<10}{int(r['rows']):>10,}{size:>10.1f}{r['seconds']:>9.2f}"
                    f"{r['rows'] / r['seconds']:>11,.0f}{r['peak_mib']:>14.1f}"
                    f"{r['peak_mib'] - r['baseline_mib']:>15.1f}"
                    + (f"{r['git_mib']:>13.1f}" if "git_mib" in r else f"{'-':>13}")
                )


if __name__ == "__main__":
    main()
