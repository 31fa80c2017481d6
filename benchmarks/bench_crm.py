"""Throughput and peak memory of the CRM export connector, and of landing end to end.

Generates a subscriptions CSV (default 200,000 rows, ~30 MiB: amounts with thousands
separators, dates and date-times with offsets, mixed-case kinds and statuses, one row
in 200 with a bad value, so the quarantine path runs too), a tenth-size copy, and the
same rows as Parquet (typed: decimal amounts, UTC timestamps), in a temporary folder.
Then measures, each in a fresh subprocess so ``ru_maxrss`` (peak resident memory)
belongs to that case alone:

- ``connector``: ``CrmConnector.items()`` over the CSV (scan + SHA-256, parse, convert,
  dedup) or the Parquet file;
- ``land``: ``ingest_source`` into a temporary lake: the connector, coercion, the Great
  Expectations row gate per 10,000-row batch, Parquet writes, the commit.

rows/s counts input rows (landed + quarantined) per second.

    .venv/bin/python benchmarks/bench_crm.py [--rows N]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from measure import measure, peak_rss_mib

HEADER = [
    "subscription_id",
    "account_id",
    "product_kind",
    "product",
    "plan",
    "started_at",
    "ended_at",
    "amount",
    "currency",
    "status",
    "updated_at",
]
KINDS = ["support", "Support", "training", "TRAINING", "other"]
PRODUCTS = ["24/7 Enterprise Support", "Business Support", "Admin course", "Onboarding", "Audit"]
PLANS = ["annual", "monthly", "one-off"]
STATUSES = ["active", "Active", "cancelled", "expired", "trial", "pending"]
CURRENCIES = ["EUR", "usd", "GBP", "CHF"]
BAD_EVERY = 200


def generate(rows: int, seed: int = 11) -> Iterator[dict[str, Any]]:
    """The same ``rows`` records for every call (streamed: the parent's peak RSS is inherited
    by the measured children through ``execve``, so it must stay small)."""
    rng = random.Random(seed)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for n in range(rows):
        begin = start + timedelta(hours=rng.randrange(0, 5 * 365 * 24))
        end = begin + timedelta(days=rng.choice([30, 365, 730])) if n % 3 else None
        cents = rng.randrange(0, 5_000_000)
        amount = Decimal(cents) / 100
        yield (
            {
                "subscription_id": f"S-{n:07d}",
                "account_id": f"A-{rng.randrange(0, rows // 10 + 1):06d}",
                "product_kind": rng.choice(KINDS),
                "product": rng.choice(PRODUCTS),
                "plan": rng.choice(PLANS),
                "started_at": begin,
                "ended_at": end,
                "amount": amount,
                "currency": rng.choice(CURRENCIES),
                "status": rng.choice(STATUSES),
                "updated_at": begin + timedelta(days=1),
                "bad": n % BAD_EVERY == 7,
            }
        )


def write_csv(path: Path, records: Iterator[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i, r in enumerate(records):
            begin = r["started_at"]
            started = begin.date().isoformat() if i % 2 else begin.isoformat()
            ended = r["ended_at"].strftime("%Y-%m-%dT%H:%M:%S+02:00") if r["ended_at"] else ""
            amount = f"{r['amount']:,.2f}" if i % 4 else f"{r['amount']}"
            writer.writerow(
                [
                    r["subscription_id"],
                    r["account_id"],
                    "consulting" if r["bad"] else r["product_kind"],
                    r["product"],
                    r["plan"],
                    started,
                    ended,
                    amount,
                    r["currency"],
                    r["status"],
                    r["updated_at"].strftime("%Y-%m-%d %H:%M:%S"),
                ]
            )


def write_parquet(path: Path, records: Iterator[dict[str, Any]]) -> None:
    import itertools

    import pyarrow as pa
    import pyarrow.parquet as pq

    ts = pa.timestamp("us", tz="UTC")
    types = {c: pa.string() for c in HEADER}
    types.update(
        {"started_at": ts, "ended_at": ts, "updated_at": ts, "amount": pa.decimal128(18, 2)}
    )
    schema = pa.schema([(c, types[c]) for c in HEADER])
    with pq.ParquetWriter(path, schema) as writer:
        while chunk := list(itertools.islice(records, 20_000)):
            for r in chunk:
                if r["bad"]:
                    r["product_kind"] = "consulting"
            columns = {c: pa.array([r[c] for r in chunk], types[c]) for c in HEADER}
            writer.write_table(pa.table(columns, schema=schema))


def child(kind: str, path: str) -> dict[str, Any]:
    from townsquare.records import Rejected

    if kind == "connector":
        from townsquare.connectors.base import ConnectorContext
        from townsquare.connectors.crm import CrmConnector

        baseline = peak_rss_mib()
        t0 = time.perf_counter()
        conn = CrmConnector(ConnectorContext(name="bench", location=path))
        rows = quarantined = 0
        for item in conn.items():
            if isinstance(item, Rejected):
                quarantined += 1
            else:
                rows += 1
        seconds = time.perf_counter() - t0
    else:
        from townsquare.config import SourceConfig
        from townsquare.pipeline import ingest_source
        from townsquare.quality import _context

        _context()  # import Great Expectations before the baseline: its ~270 MB is fixed cost
        baseline = peak_rss_mib()
        source = SourceConfig(type="crm", name="bench", location=path)
        with tempfile.TemporaryDirectory(prefix="bench-crm-lake-") as lake:
            t0 = time.perf_counter()
            result = ingest_source(source, lake=lake, credentials={})
            seconds = time.perf_counter() - t0
        rows = result.entities["subscriptions"].rows
        quarantined = result.entities["subscriptions"].quarantined
    return {
        "rows": rows,
        "quarantined": quarantined,
        "seconds": seconds,
        "baseline_mib": baseline,
        "peak_mib": peak_rss_mib(),
    }


def _suites_env() -> tempfile.TemporaryDirectory[str] | None:
    """The landing gate needs raw_subscriptions.json: generate the suites where it is missing.

    (Checked without importing ``townsquare.quality``: it imports pyarrow, and the measured
    children would inherit this process's peak RSS.)"""
    from townsquare.paths import expectations_dir

    if (expectations_dir() / "raw_subscriptions.json").exists():
        return None
    from townsquare.quality import write_suites

    folder = tempfile.TemporaryDirectory(prefix="bench-crm-expectations-")
    write_suites(Path(folder.name))
    os.environ["TOWNSQUARE_EXPECTATIONS_DIR"] = folder.name
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--generate", metavar="FOLDER", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    if args.generate:
        folder = Path(args.generate)
        write_csv(folder / "big" / "subscriptions.csv", generate(args.rows))
        write_parquet(folder / "parquet" / "subscriptions.parquet", generate(args.rows))
        write_csv(folder / "small" / "subscriptions.csv", generate(max(10, args.rows // 10)))
        return

    suites = _suites_env()
    with tempfile.TemporaryDirectory(prefix="bench-crm-") as tmp:
        small_n = max(10, args.rows // 10)
        big_csv = Path(tmp, "big") / "subscriptions.csv"
        small_csv = Path(tmp, "small") / "subscriptions.csv"
        big_parquet = Path(tmp, "parquet") / "subscriptions.parquet"
        for path in (big_csv, small_csv, big_parquet):
            path.parent.mkdir()
        t0 = time.perf_counter()
        # in a subprocess: a child inherits its parent's peak RSS through execve, so the
        # parent must stay small (no pyarrow, no records)
        subprocess.run(
            [sys.executable, __file__, "--rows", str(args.rows), "--generate", tmp], check=True
        )
        print(f"generated inputs in {time.perf_counter() - t0:.1f}s")
        cases = [
            (f"connector csv ({small_n:,})", "connector", small_csv),
            (f"connector csv ({args.rows:,})", "connector", big_csv),
            (f"connector parquet ({args.rows:,})", "connector", big_parquet),
            (f"land csv ({small_n:,})", "land", small_csv),
            (f"land csv ({args.rows:,})", "land", big_csv),
            (f"land parquet ({args.rows:,})", "land", big_parquet),
        ]
        header = (
            f"{'case':<28}{'MiB':>7}{'rows':>10}{'quar.':>7}{'seconds':>9}{'rows/s':>10}"
            f"{'peak RSS MiB':>14}{'over baseline':>15}"
        )
        print(header)
        print("-" * len(header))
        for label, kind, path in cases:
            r = measure(__file__, kind, path.parent)
            size = path.stat().st_size / 2**20
            total = r["rows"] + r["quarantined"]
            print(
                f"{label:<28}{size:>7.1f}{int(r['rows']):>10,}{int(r['quarantined']):>7,}"
                f"{r['seconds']:>9.2f}{total / r['seconds']:>10,.0f}{r['peak_mib']:>14.1f}"
                f"{r['peak_mib'] - r['baseline_mib']:>15.1f}",
                flush=True,
            )
    if suites is not None:
        suites.cleanup()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
