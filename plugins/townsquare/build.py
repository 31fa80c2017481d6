"""Build the warehouse: dbt (in-process) over the lake, the mart checks, then publishing.

Order matters: ``dbt build`` -> ``dbt docs generate`` -> Great Expectations mart checks ->
publish (read-only snapshot + Parquet + docs, one atomic flip) -> dashboard. A failure at
any step before the flip publishes nothing: readers keep the previous release and the
previous dashboard.
"""

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
    release: dict[str, Any] | None = None
    """The published release (see townsquare.publish.Release.to_json), when published."""
    dashboard: str | None = None
    """The dashboard file, when rendered."""
    docs: str | None = None
    """The published dbt docs page, when generated."""

    def to_json(self) -> dict[str, Any]:
        return {
            "warehouse": self.warehouse,
            "seconds": round(self.seconds, 3),
            "nodes": self.nodes,
            "marts": self.marts,
            "release": self.release,
            "dashboard": self.dashboard,
            "docs": self.docs,
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
    publish_dir: str | None = None,
    docs: bool = True,
) -> BuildResult:
    """``dbt build`` over the lake into ``warehouse``, the mart checks, then (with
    ``publish_dir``) publishing and the dashboard.

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
    docs_file = None
    if docs and publish_dir:
        docs_file = generate_docs(
            lake, warehouse, progress=progress, target_path=target_path, compile=False
        )
    checked: dict[str, str] = {}
    if check:
        from townsquare.quality import check_marts

        say("checking the marts")
        check_marts(warehouse, fingerprints=checked)
    out = BuildResult(warehouse=warehouse, seconds=0.0, nodes=nodes, marts=marts)
    if publish_dir:
        if not check:
            raise BuildError(
                "publishing needs the mart checks: unchecked marts are never published"
            )
        release, dashboard = publish_and_render(
            warehouse, publish_dir, docs_file=docs_file, checked=checked, progress=progress
        )
        out.release = release.to_json()
        out.docs = release.docs
        out.dashboard = dashboard
    out.seconds = time.monotonic() - started
    return out


def generate_docs(
    lake: str,
    warehouse: str,
    *,
    progress: Progress | None = None,
    target_path: str | None = None,
    compile: bool = True,
) -> str:
    """``dbt docs generate --static``: one self-contained page (manifest and catalog inside).

    ``compile=False`` reuses the manifest a ``dbt build`` just wrote to ``target_path``.
    The identity salt is inlined into compiled SQL; it is redacted from the page, which is
    published. Returns the page's path.
    """
    say = progress or (lambda _m: None)
    say("generating the dbt docs")
    args = ["docs", "generate", "--static"]
    if not compile:
        args.append("--no-compile")
    run_dbt(args, lake=lake, warehouse=warehouse, progress=progress, target_path=target_path)
    target = Path(target_path or os.environ.get("DBT_TARGET_PATH") or "target")
    page = (target if target.is_absolute() else dbt_project_dir() / target) / "static_index.html"
    if not page.exists():
        raise BuildError(f"dbt docs generate wrote no {page}")
    salt = identity_salt(lake)
    if salt:
        text = page.read_text(encoding="utf-8")
        redacted = redact_salt(text, salt)
        if redacted != text:
            page.write_text(redacted, encoding="utf-8")
    return str(page)


def redact_salt(text: str, salt: str) -> str:
    """Replace the salt in every form the docs page can hold it (as written, SQL-quoted,
    JSON-escaped, both); raise BuildError if any 12 characters of it are still there."""
    import json

    forms = {salt, salt.replace("'", "''")}
    forms |= {json.dumps(f)[1:-1] for f in list(forms)}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "<identity salt: redacted>")
    window = min(12, len(salt))
    for i in range(len(salt) - window + 1):
        if salt[i : i + window] in text:
            raise BuildError("the dbt docs page still holds part of the identity salt")
    return text


def identity_salt(lake: str) -> str | None:
    """The salt the dbt macro ``identity_salt`` uses (the env var, else the lake's file)."""
    env = os.environ.get("TOWNSQUARE_ID_SALT")
    if env:
        return env
    if "://" in lake:
        return None
    path = Path(lake) / "_state" / "identity_salt"
    return path.read_text(encoding="ascii").strip() if path.exists() else None


def publish_and_render(
    warehouse: str,
    publish_dir: str,
    *,
    docs_file: str | None = None,
    checked: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> tuple[Any, str]:
    """Publish the checked marts, then render the dashboard from the current release."""
    from townsquare.publish import publish

    release = publish(
        warehouse, publish_dir, docs_file=docs_file, checked=checked, progress=progress
    )
    dashboard = render_published_dashboard(publish_dir, progress=progress)
    return release, str(dashboard.path)


def render_published_dashboard(
    publish_dir: str, out: str | None = None, progress: Progress | None = None
) -> Any:
    """Render the dashboard from the current release (default ``<publish>/dashboard.html``).

    Under the publish lock: a render never overwrites the dashboard of a newer release
    with an older one. Returns the ``DashboardResult`` (its ``release_id`` is the one shown).
    """
    from townsquare.dashboard import render_dashboard
    from townsquare.publish import DASHBOARD, DOCS, current_release, publish_lock

    root = Path(publish_dir)
    with publish_lock(root):
        release = current_release(publish_dir)
        if release is None:
            raise BuildError(
                f"nothing is published in {publish_dir}: run `townsquare build` first "
                "(the demo publishes to .townsquare/demo/published: pass --publish)"
            )
        target = Path(out) if out else root / DASHBOARD
        docs_href = None
        if release.docs:
            docs = Path(os.path.abspath(root / DOCS / "index.html"))
            docs_href = os.path.relpath(docs, Path(os.path.abspath(target)).parent)
        result = render_dashboard(release.snapshot, target, docs_href=docs_href, progress=progress)
    (progress or (lambda _m: None))(f"dashboard: {result.path}")
    return result


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
