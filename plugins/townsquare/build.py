"""Build the warehouse: dbt (in-process) over the lake, then the mart checks."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from townsquare.paths import dbt_env, dbt_project_dir

Progress = Callable[[str], None]


class BuildError(RuntimeError):
    """dbt failed; the message names the failing nodes."""


@dataclass
class BuildResult:
    warehouse: str
    seconds: float
    nodes: dict[str, int] = field(default_factory=dict)
    """Counts of dbt results by status (success, pass, warn, error, fail, skipped)."""
    marts: dict[str, int] = field(default_factory=dict)
    """Row counts of every mart table."""

    def to_json(self) -> dict[str, Any]:
        return {
            "warehouse": self.warehouse,
            "seconds": round(self.seconds, 3),
            "nodes": self.nodes,
            "marts": self.marts,
        }


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_dbt(
    args: list[str],
    *,
    lake: str,
    warehouse: str,
    progress: Progress | None = None,
    target_path: str | None = None,
) -> Any:
    """Run one dbt command in-process against the project; raises BuildError on failure."""
    from dbt.cli.main import dbtRunner

    project = dbt_project_dir()
    Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _m: None)

    tests: dict[str, int] = {}

    def on_event(event: Any) -> None:
        name = event.info.name
        if name not in ("LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult"):
            return
        data = event.data
        node = getattr(data, "node_info", None)
        label = node.node_name if node else getattr(data, "name", "?")
        status = str(getattr(data, "status", "") or (node.node_status if node else ""))
        if name == "LogTestResult":
            tests[status] = tests.get(status, 0) + 1
            if status not in ("pass", "success"):
                say(f"dbt: test {label}: {status}")
        else:
            say(f"dbt: {label}: {status}")

    full = [
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        # the profile and target Cosmos passes too: dbt's partial-parse state stays shared
        "--profile",
        "townsquare",
        "--target",
        "dev",
        "--quiet",
    ]
    if target_path:
        full += ["--target-path", target_path]
    if "://" not in lake and not os.environ.get("TOWNSQUARE_ID_SALT"):
        from townsquare.lake import Lake

        Lake(lake).ensure_identity_salt()  # dbt reads it from the lake (macro identity_salt)
    with _env(dbt_env(lake, warehouse)):
        result = dbtRunner(callbacks=[on_event]).invoke(full)
    if tests:
        say("dbt: tests: " + ", ".join(f"{n} {status}" for status, n in sorted(tests.items())))
    if result.exception is not None:
        raise BuildError(f"dbt {args[0]} crashed: {result.exception}")
    if not result.success:
        failed = []
        for r in getattr(result.result, "results", None) or []:
            if str(r.status) in ("error", "fail", "runtime error"):
                failed.append(f"{r.node.name} ({r.status}: {(r.message or '').strip()[:200]})")
        detail = "; ".join(failed) or "see the dbt log in dbt_project/logs"
        raise BuildError(f"dbt {args[0]} failed: {detail}")
    return result


def build(
    lake: str,
    warehouse: str,
    progress: Progress | None = None,
    check: bool = True,
    target_path: str | None = None,
) -> BuildResult:
    """``dbt build`` over the lake into ``warehouse``, then the mart quality checks.

    ``target_path``: dbt's target folder (default ``dbt_project/target``); separate runs
    at the same time (tests) give each their own.
    """
    started = time.monotonic()
    say = progress or (lambda _m: None)
    say(f"building the warehouse {warehouse} from {lake}")
    result = run_dbt(
        ["build"], lake=lake, warehouse=warehouse, progress=progress, target_path=target_path
    )
    nodes: dict[str, int] = {}
    for r in getattr(result.result, "results", None) or []:
        nodes[str(r.status)] = nodes.get(str(r.status), 0) + 1
    marts = mart_row_counts(warehouse)
    if check:
        from townsquare.quality import check_marts

        say("checking the marts")
        check_marts(warehouse)
    return BuildResult(
        warehouse=warehouse, seconds=time.monotonic() - started, nodes=nodes, marts=marts
    )


def mart_row_counts(warehouse: str) -> dict[str, int]:
    import duckdb

    with duckdb.connect(warehouse, read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like '%marts%' and table_type = 'BASE TABLE' order by 2"
        ).fetchall()
        return {
            name: con.execute(f'select count(*) from "{schema}"."{name}"').fetchall()[0][0]
            for schema, name in tables
        }
