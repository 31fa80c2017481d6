"""Throughput and peak memory of the streaming mbox parser against ``mailbox.mbox``.

Generates a large mbox (default 100,000 messages of about 2-3 KB: one in five
multipart/alternative with an HTML part, one in ten with 8-bit Latin-1 headers and
body, one in twenty with an attachment, quoted ``>From `` lines) in a temporary
folder, plus a tenth-size copy, then measures, each in a fresh subprocess so
``ru_maxrss`` (peak resident memory) belongs to that case alone:

- ``townsquare``: ``MboxConnector.items()``: split, parse, decode, dedup, rows;
- ``mailbox.mbox``: the naive standard-library loop (iterate the messages, read
  subject, from, date and the text body), which indexes the whole file first.

    .venv/bin/python benchmarks/bench_mbox.py [--messages N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from measure import count_items, measure, peak_rss_mib

WORDS = [
    "lumen",
    "compaction",
    "wal",
    "segment",
    "retention",
    "query",
    "index",
    "shard",
    "arm",
    "build",
    "flush",
    "timestamp",
    "delta",
    "gorilla",
    "chunk",
    "cache",
    "sensor",
    "edge",
    "replica",
    "snapshot",
    "the",
    "a",
    "of",
    "to",
    "and",
]


def _paragraphs(rng: random.Random, size: int) -> str:
    out: list[str] = []
    length = 0
    while length < size:
        line = " ".join(rng.choice(WORDS) for _ in range(12))
        out.append(line)
        length += len(line) + 1
    return "\n".join(out)


def write_mbox(path: Path, messages: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with path.open("wb") as out:
        for n in range(messages):
            when = start + timedelta(minutes=7 * n)
            person = n % 5000
            eight_bit = n % 10 == 3
            name = f"Jos\xe9 M\xfcller {person}" if eight_bit else f"Person {person}"
            charset = "iso-8859-1" if eight_bit else "utf-8"
            head = (
                f"From p{person}@example.org {when:%a %b %d %H:%M:%S %Y}\n"
                f"Return-Path: <p{person}@example.org>\n"
                f"Received: from mail.example.org (mail.example.org [192.0.2.1])\n"
                f"\tby lists.example.org (Postfix) with ESMTP id {n:08X}\n"
                f"\tfor <lumen-dev@lists.example.org>; {format_datetime(when)}\n"
                f"From: {name} <p{person}@example.org>\n"
                f"To: lumen-dev@lists.example.org\n"
                f"Subject: {'Re: ' if n % 3 else ''}[lumen-dev] thread {n // 4} about "
                f"{rng.choice(WORDS)}\n"
                f"Date: {format_datetime(when.astimezone())}\n"
                f"Message-ID: <msg{n}@example.org>\n"
                + (f"In-Reply-To: <msg{n - 1}@example.org>\n" if n % 3 else "")
                + "List-Id: Lumen developers <lumen-dev.lists.example.org>\n"
                "MIME-Version: 1.0\n"
            )
            text = _paragraphs(rng, rng.randint(1200, 2200))
            if n % 7 == 0:
                text += "\n\n>From the changelog: quoted line\n"
            if n % 20 == 0:
                body = (
                    'Content-Type: multipart/mixed; boundary="mix"\n\n--mix\n'
                    f"Content-Type: text/plain; charset={charset}\n\n{text}\n--mix\n"
                    'Content-Type: application/octet-stream; name="trace.bin"\n'
                    "Content-Transfer-Encoding: base64\n"
                    'Content-Disposition: attachment; filename="trace.bin"\n\n'
                    + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n" * 8
                    + "--mix--\n"
                )
            elif n % 5 == 0:
                body = (
                    'Content-Type: multipart/alternative; boundary="alt"\n\n--alt\n'
                    f"Content-Type: text/plain; charset={charset}\n\n{text}\n--alt\n"
                    f"Content-Type: text/html; charset={charset}\n\n"
                    f"<html><body><p>{text[:600]}</p></body></html>\n--alt--\n"
                )
            else:
                body = f"Content-Type: text/plain; charset={charset}\n\n{text}\n"
            out.write((head + body + "\n").encode("latin-1" if eight_bit else "utf-8"))


def child_townsquare(path: str) -> dict[str, float]:
    from townsquare.connectors.base import ConnectorContext
    from townsquare.connectors.mbox import MboxConnector

    baseline = peak_rss_mib()
    conn = MboxConnector(ConnectorContext(name="bench", location=path))
    return count_items(conn.items(), baseline)


def child_mailbox(path: str) -> dict[str, float]:
    import mailbox

    baseline = peak_rss_mib()
    t0 = time.perf_counter()
    n = 0
    for msg in mailbox.mbox(path, create=False):
        _ = (msg["subject"], msg["from"], msg["date"])
        for part in msg.walk():
            if part.get_content_type() == "text/plain":
                payload = part.get_payload(decode=True) or b""
                payload.decode(part.get_content_charset() or "utf-8", "replace")
        n += 1
    seconds = time.perf_counter() - t0
    return {"rows": n, "seconds": seconds, "baseline_mib": baseline, "peak_mib": peak_rss_mib()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path = args.child
        run = child_townsquare if kind == "townsquare" else child_mailbox
        print(json.dumps(run(path)))
        return

    with tempfile.TemporaryDirectory(prefix="bench-mbox-") as tmp:
        big = Path(tmp) / "big.mbox"
        small = Path(tmp) / "small.mbox"
        t0 = time.perf_counter()
        write_mbox(big, args.messages)
        write_mbox(small, max(10, args.messages // 10))
        print(f"generated inputs in {time.perf_counter() - t0:.1f}s")
        header = (
            f"{'parser':<14}{'messages':>10}{'MiB':>8}{'seconds':>9}{'msgs/s':>9}"
            f"{'peak RSS MiB':>14}{'over baseline':>15}"
        )
        print(header)
        print("-" * len(header))
        for path in (small, big):
            for kind in ("townsquare", "mailbox.mbox"):
                r = measure(__file__, kind, path)
                size = os.path.getsize(path) / 2**20
                print(
                    f"{kind:<14}{int(r['rows']):>10,}{size:>8.1f}{r['seconds']:>9.2f}"
                    f"{r['rows'] / r['seconds']:>9,.0f}{r['peak_mib']:>14.1f}"
                    f"{r['peak_mib'] - r['baseline_mib']:>15.1f}"
                )


if __name__ == "__main__":
    main()
