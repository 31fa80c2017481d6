"""GrimoireLab's Perceval, the tool users would pick instead, in a virtual environment
of its own (its pins conflict with Airflow's), run on the same mbox and git data.

``ensure_venv()`` creates ``<cache>/perceval-<version>`` once (``python3 -m venv`` +
``pip install perceval==<version>``; about 10 s from the package index). ``run()``
times ``Backend.fetch()`` inside Perceval's interpreter, after its imports, as the
Townsquare steps are timed after theirs, and counts the items it yields.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

VERSION = "1.6.1"

SCRIPT = r"""
import json, resource, sys, time
kind, location, workdir = sys.argv[1:4]
if kind == "mbox":
    from perceval.backends.core.mbox import MBox
    backend = MBox(uri=location, dirpath=location)
else:
    from perceval.backends.core.git import Git
    backend = Git(uri=location, gitpath=workdir)
t0 = time.perf_counter()
items = 0
for _ in backend.fetch():
    items += 1
seconds = time.perf_counter() - t0
rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
          resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
print(json.dumps({"seconds": seconds, "items": items, "peak_rss_mib": round(rss, 1)}))
"""


class PercevalUnavailable(RuntimeError):
    """Perceval could not be installed (no package index, no venv module...)."""


def default_venv() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "townsquare" / f"perceval-{VERSION}"


def ensure_venv(venv: Path, say: Any = None) -> Path:
    """The venv's python, installing Perceval first when it is missing."""
    python = venv / "bin" / "python"
    if python.exists() and _installed(python):
        return python
    if say:
        say(f"bench: installing perceval=={VERSION} into {venv} (its own virtual environment)")
    base = os.environ.get("TOWNSQUARE_BENCH_PYTHON") or _system_python()
    for cmd in (
        [base, "-m", "venv", "--clear", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         f"perceval=={VERSION}"],
    ):  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
            raise PercevalUnavailable(f"`{' '.join(cmd[:4])} …` failed: {detail[0]}")
    if not _installed(python):
        raise PercevalUnavailable(f"perceval {VERSION} did not install into {venv}")
    return python


def _installed(python: Path) -> bool:
    proc = subprocess.run(
        [str(python), "-c", "import perceval.backends.core.git, perceval.backends.core.mbox"],
        capture_output=True,
    )
    return proc.returncode == 0


def _system_python() -> str:
    """The interpreter the project's own venv was made from (not the venv itself)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def run(python: Path, kind: str, location: str, workdir: Path) -> dict[str, Any]:
    """Perceval's ``fetch()`` over ``location`` (``mbox``: a folder of mbox files;
    ``git``: a repository, read from the clone Perceval keeps in ``workdir``)."""
    if kind == "git" and not workdir.exists():
        # Perceval reads a bare clone it owns; making it is not part of the timing (the
        # Townsquare git connector reads the local repository in place)
        subprocess.run(
            ["git", "clone", "--bare", "--quiet", location, str(workdir)],
            check=True,
            capture_output=True,
        )
    proc = subprocess.run(
        [str(python), "-c", SCRIPT, kind, location, str(workdir)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        raise RuntimeError(f"perceval {kind} failed: {' | '.join(tail)}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
