"""What the benchmark scripts share: timing an iteration in a child process, peak RSS.

Each case runs in a fresh interpreter (``python <script> --child KIND PATH``) so that
``ru_maxrss`` (the process's peak resident memory) belongs to that case alone.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path


def peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def count_items(items: Iterable[object], baseline: float) -> dict[str, float]:
    """Exhaust ``items``: rows, seconds, the baseline and the peak RSS (MiB)."""
    t0 = time.perf_counter()
    n = sum(1 for _ in items)
    seconds = time.perf_counter() - t0
    return {"rows": n, "seconds": seconds, "baseline_mib": baseline, "peak_mib": peak_rss_mib()}


def measure(script: str, kind: str, path: Path) -> dict[str, float]:
    """Run ``script --child kind path`` and read the JSON it prints last."""
    proc = subprocess.run(
        [sys.executable, script, "--child", kind, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])
