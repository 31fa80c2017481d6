"""``townsquare bench``: what each step costs at a given size, against what users would
pick instead.

``run_bench(scale, out)`` works in ``OUT``:

1. ``OUT/synth``: the synthetic community (``townsquare synth``); reused when its
   manifest has the same scale, seed and generator version (it is never modified: the
   delta day is applied to a copy).
2. ``OUT/run/src``: the synth output as the sources see it (the parts the delta day
   changes, forum, GitHub and git, are copied; the rest are links).
3. Ingest: every source's base landing into ``OUT/run/lake`` (forum and GitHub served
   over HTTP by ``RecordedServer``), one child process per source: records/s, peak RSS.
4. Landing limit: pyarrow alone writing each source's already-parsed rows
   (``steps.landing_limit``): the parse overhead as a ratio; and git alone writing the
   ``git log --numstat`` the git connector reads, run as it runs it
   (``steps.git_log``), the ceiling of a git reader that reports diff stats.
5. Perceval (``bench.perceval``, its own venv) on the same mbox folder and git
   repository: items/s for each and the ratio.
6. dbt full build (``dbt build``, empty warehouse).
7. Orchestration: copies of the built warehouse; the ``transform`` DAG's dbt task
   through Cosmos (``dag.test()``) on one, a plain ``dbt build`` on the other, each a
   fresh process timed whole: the ratio.
8. The delta day (about 1% new rows) landed, then the incremental ``dbt build``: its
   wall time as a share of the full build.

Every step runs in a child process (``python -m townsquare.bench.steps``), so its peak
RSS is its own. Results: ``OUT/bench.json`` and ``OUT/bench.md`` (also printed);
each step's log in ``OUT/run/logs/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from townsquare.bench import perceval
from townsquare.bench.report import render_markdown, targets

Progress = Callable[[str], None]

STEP_NAMES = ("landing_limit", "perceval", "dbt", "cosmos", "incremental")
"""What ``--skip`` accepts (``dbt`` skips everything after the landing)."""
DBT_KEYS = ("slowest_nodes", "node_seconds")
"""What a dbt step reports beyond its time: its 8 slowest nodes, node time by kind."""
MUTABLE = ("forum", "github", "git")
"""Synth folders the delta day rewrites: copied per run so ``OUT/synth`` stays as made."""
CHILD_ENV = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "PYTHONUNBUFFERED": "1",
}


class BenchError(RuntimeError):
    """A step failed; the message names it and ends with its log's last lines."""


@dataclass
class StepResult:
    name: str
    seconds: float
    wall_seconds: float
    peak_rss_mib: float
    items: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        if not self.items or self.seconds <= 0:
            return None
        return self.items / self.seconds


@dataclass
class BenchResult:
    scale: float
    seed: int
    out: str
    started: str
    machine: dict[str, Any]
    steps: list[StepResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def step(self, name: str) -> StepResult | None:
        return next((s for s in self.steps if s.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "seed": self.seed,
            "out": self.out,
            "started": self.started,
            "machine": self.machine,
            "seconds": round(self.seconds, 1),
            "skipped": self.skipped,
            "steps": [
                {**asdict(s), "rate": None if s.rate is None else round(s.rate, 1)}
                for s in self.steps
            ],
            "targets": targets(self),
        }


def run_bench(
    scale: float,
    out: str | Path,
    *,
    seed: int = 42,
    skip: tuple[str, ...] = (),
    perceval_venv: Path | None = None,
    progress: Progress | None = None,
) -> BenchResult:
    unknown = sorted(set(skip) - set(STEP_NAMES))
    if unknown:
        raise BenchError(f"unknown --skip value(s): {', '.join(unknown)}")
    if scale <= 0:
        raise BenchError(f"scale must be positive (got {scale})")
    say = progress or (lambda _m: None)
    started = time.monotonic()
    work = Path(out).resolve()
    run_dir = work / "run"
    result = BenchResult(
        scale=scale,
        seed=seed,
        out=str(work),
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        machine=_machine(),
    )
    synth_dir = work / "synth"
    if _synth_reusable(synth_dir, scale, seed):
        say(f"bench: reusing {synth_dir} (scale {scale:g}, seed {seed})")
        result.skipped["synth"] = "reused the synth output of an earlier run"
    else:
        _run(result, "synth", "synth", {"scale": scale, "out": str(synth_dir), "seed": seed},
             work, say, extra_keys=("files", "bytes"))  # fmt: skip
    try:
        shutil.rmtree(run_dir, ignore_errors=True)
        (run_dir / "logs").mkdir(parents=True)
        src = _sources_view(synth_dir, run_dir / "src")
        lake = str(run_dir / "lake")
        landed = _land(result, src, "base", lake, run_dir, say)
        if "landing_limit" in skip:
            result.skipped["landing_limit"] = "--skip landing_limit"
        else:
            for name, files in landed.items():
                _run(result, f"landing_limit:{name}", "landing_limit",
                     {"files": files, "scratch": str(run_dir / "scratch")}, run_dir, say)  # fmt: skip
            _git_ceiling(result, src, run_dir, say)
        _perceval(result, src, run_dir, skip, perceval_venv, say)
        if "dbt" in skip:
            result.skipped["dbt"] = "--skip dbt"
        else:
            _builds(result, src, lake, run_dir, skip, say)
    finally:
        # what was measured is written even when a step failed (the error says which)
        result.seconds = time.monotonic() - started
        write_results(result, work)
    return result


def _land(
    result: BenchResult, src: Path, phase: str, lake: str, run_dir: Path, say: Progress
) -> dict[str, list[str]]:
    """Every source's ``phase`` (base or delta) landing, one child each: the files landed."""
    from townsquare.synth import serve, source_configs

    prefix = "ingest" if phase == "base" else "delta"
    landed: dict[str, list[str]] = {}
    with serve(src) as urls:
        for source in source_configs(src, phase, urls):
            args = {"source": source.model_dump(mode="json"), "lake": lake}
            keys = ("entities", "quarantined", "import_seconds")
            r = _run(result, f"{prefix}:{source.name}", "ingest", args, run_dir, say,
                     extra_keys=keys, type=source.type)  # fmt: skip
            landed[source.name] = r["files"]
    return landed


def _builds(
    result: BenchResult, src: Path, lake: str, run_dir: Path, skip: tuple[str, ...],
    say: Progress,
) -> None:  # fmt: skip
    """Full build, Cosmos vs plain on copies of it, then the delta day and the incremental
    build."""
    from townsquare.synth import apply_delta

    warehouse = run_dir / "warehouse.duckdb"
    args = {"lake": lake, "target_path": str(run_dir / "target"), "verbose": True,
            "command": ["build"], "warehouse": str(warehouse)}  # fmt: skip
    _run(result, "dbt:full", "dbt", args, run_dir, say, extra_keys=DBT_KEYS)
    _orchestration(result, lake, warehouse, run_dir, skip, say)
    if "incremental" in skip:
        result.skipped["incremental"] = "--skip incremental"
        return
    say("bench: applying the delta day (to the run's copy of forum, GitHub and git)")
    apply_delta(src)
    _land(result, src, "delta", lake, run_dir, say)
    _run(result, "dbt:incremental", "dbt", args, run_dir, say, extra_keys=DBT_KEYS)


def write_results(result: BenchResult, work: Path) -> None:
    (work / "bench.json").write_text(json.dumps(result.to_json(), indent=2) + "\n")
    (work / "bench.md").write_text(render_markdown(result))


def _git_ceiling(result: BenchResult, src: Path, run_dir: Path, say: Progress) -> None:
    """git alone writing the ``git log --numstat`` the git connector reads (``git_log``)."""
    spec = json.loads((src / "manifest.json").read_text())["sources"]["git"]
    repository = str(src / spec["base"]["location"])
    _run(result, f"git_log:{spec['name']}", "git_log", {"repository": repository}, run_dir, say)


def _perceval(
    result: BenchResult,
    src: Path,
    run_dir: Path,
    skip: tuple[str, ...],
    venv: Path | None,
    say: Progress,
) -> None:
    if "perceval" in skip:
        result.skipped["perceval"] = "--skip perceval"
        return
    try:
        python = perceval.ensure_venv(venv or perceval.default_venv(), say)
    except perceval.PercevalUnavailable as exc:
        result.skipped["perceval"] = str(exc)
        say(f"bench: perceval skipped: {exc}")
        return
    manifest = json.loads((src / "manifest.json").read_text())
    for kind, key in (("mbox", "mail"), ("git", "git")):
        location = str(src / manifest["sources"][key]["base"]["location"])
        say(f"bench: perceval {kind} on {location}")
        t0 = time.monotonic()
        r = perceval.run(python, kind, location, run_dir / f"perceval-{kind}")
        result.steps.append(
            StepResult(
                name=f"perceval:{kind}",
                seconds=r["seconds"],
                wall_seconds=time.monotonic() - t0,
                peak_rss_mib=r["peak_rss_mib"],
                items=r["items"],
                extra={"compare": manifest["sources"][key]["name"], "version": perceval.VERSION},
            )
        )
        say(f"bench: perceval {kind}: {r['items']:,} items in {r['seconds']:.1f}s")


def _orchestration(
    result: BenchResult, lake: str, warehouse: Path, run_dir: Path, skip: tuple[str, ...],
    say: Progress,
) -> None:  # fmt: skip
    """Cosmos vs plain ``dbt build``: each on its own copy of the built warehouse."""
    if "cosmos" in skip:
        result.skipped["cosmos"] = "--skip cosmos"
        return
    airflow_home = run_dir / "airflow"
    env = {
        "TOWNSQUARE_LAKE": lake,
        "TOWNSQUARE_CONFIG": str(run_dir / "no-config.yml"),
        "TOWNSQUARE_DBT_EXECUTION_MODE": "build",
        "AIRFLOW_HOME": str(airflow_home),
    }
    _run(result, "airflow_setup", "airflow_setup", {"airflow_home": str(airflow_home)},
         run_dir, say, env=env, record=False)  # fmt: skip
    for name in ("plain", "cosmos"):
        copy = run_dir / f"warehouse-{name}.duckdb"
        shutil.copyfile(warehouse, copy)
        if name == "plain":
            args = {"lake": lake, "warehouse": str(copy), "command": ["build"],
                    "target_path": str(run_dir / "target-plain")}  # fmt: skip
            _run(result, "dbt:plain", "dbt", args, run_dir, say, env=env)
        else:
            _run(result, "dbt:cosmos", "cosmos", {"airflow_home": str(airflow_home)}, run_dir,
                 say, env={**env, "TOWNSQUARE_WAREHOUSE": str(copy)})  # fmt: skip
        copy.unlink()


def _run(
    result: BenchResult,
    name: str,
    step: str,
    args: dict[str, Any],
    run_dir: Path,
    say: Progress,
    *,
    env: dict[str, str] | None = None,
    extra_keys: tuple[str, ...] = (),
    record: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """Run one step in a child process; its stderr goes to the log and to ``say``."""
    log_path = run_dir / "logs" / f"{name.replace(':', '-')}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    out_path = log_path.with_suffix(".json")
    say(f"bench: {name}")
    t0 = time.monotonic()
    with log_path.open("w") as log, out_path.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "townsquare.bench.steps", step, json.dumps(args)],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **CHILD_ENV, **(env or {})},
            cwd=run_dir,
        )
        assert proc.stderr is not None
        for line in proc.stderr:
            log.write(line)
            if _worth_showing(line):
                say(f"  {line.rstrip()}")
        code = proc.wait()
    wall = time.monotonic() - t0
    lines = out_path.read_text().strip().splitlines()
    if code != 0 or not lines:
        tail = log_path.read_text().strip().splitlines()[-5:]
        raise BenchError(f"step {name} failed (exit {code}; log {log_path}): " + " | ".join(tail))
    data = json.loads(lines[-1])
    if record:
        step_result = StepResult(
            name=name,
            seconds=data["seconds"],
            wall_seconds=wall,
            peak_rss_mib=data["peak_rss_mib"],
            items=data.get("items"),
            extra={**{k: data[k] for k in extra_keys if k in data}, **extra},
        )
        result.steps.append(step_result)
        rate = f", {step_result.rate:,.0f}/s" if step_result.rate else ""
        items = f"{step_result.items:,} items, " if step_result.items else ""
        say(
            f"bench: {name}: {items}{data['seconds']:.1f}s{rate}, "
            f"peak RSS {data['peak_rss_mib']:,.0f} MiB"
        )
    return data


def _worth_showing(line: str) -> bool:
    """Progress lines of the steps (not Airflow's or dbt's debug chatter)."""
    text = line.strip()
    return text.startswith(("synth:", "dbt:", "airflow:")) or (
        ": " in text and "records read" in text
    )


def _synth_reusable(synth_dir: Path, scale: float, seed: int) -> bool:
    from townsquare.synth import GENERATOR_VERSION, read_manifest

    try:
        manifest = read_manifest(synth_dir)
    except (OSError, ValueError):
        return False
    return (
        manifest.get("scale") == scale
        and manifest.get("seed") == seed
        and manifest.get("version") == GENERATOR_VERSION
    )


def _sources_view(synth_dir: Path, view: Path) -> Path:
    """``view`` looks like ``synth_dir``: copies of the parts the delta day changes,
    symbolic links for the rest."""
    view.mkdir(parents=True)
    for entry in sorted(synth_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.name in MUTABLE:
            subprocess.run(["cp", "-a", str(entry), str(view / entry.name)], check=True)
        else:
            (view / entry.name).symlink_to(entry)
    return view


def _machine() -> dict[str, Any]:
    mem = None
    with contextlib.suppress(ValueError, OSError):  # not Linux
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return {
        "cpus": os.cpu_count(),
        "memory_mib": mem,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


__all__ = [
    "STEP_NAMES",
    "BenchError",
    "BenchResult",
    "StepResult",
    "render_markdown",
    "run_bench",
]
