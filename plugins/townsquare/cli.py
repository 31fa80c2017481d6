"""The ``townsquare`` command (a contract: scripts and tests outside the project call it).

Every command exits non-zero with a one-line reason on failure; ``--json`` prints a
machine summary on stdout (progress goes to stderr).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from townsquare import __version__
from townsquare.bench import STEP_NAMES as BENCH_STEPS
from townsquare.config import (
    DEFAULT_HOME,
    TownsquareConfig,
    lake_and_warehouse,
    load_config,
    publish_dir,
)


class Failure(click.ClickException):
    """Printed as ``townsquare: error: <one line>`` with exit code 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"townsquare: error: {self.format_message()}", err=True)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


def _progress(quiet: bool) -> Callable[[str], None]:
    def say(msg: str) -> None:
        if not quiet:
            click.echo(msg, err=True)

    return say


def _emit(payload: dict[str, Any]) -> None:
    click.echo(json.dumps(payload, indent=2, sort_keys=True, default=str))


def _optional_config(path: str | None) -> TownsquareConfig | None:
    candidate = path or os.environ.get("TOWNSQUARE_CONFIG")
    if candidate:
        return load_config(candidate)
    if Path("townsquare.yml").exists():
        return load_config("townsquare.yml")
    return None


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn any exception into a one-line error and exit code 1."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except click.ClickException:
            raise
        except KeyboardInterrupt:
            raise Failure("interrupted") from None
        except Exception as exc:
            if os.environ.get("TOWNSQUARE_DEBUG"):
                raise
            raise Failure(_one_line(exc)) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="townsquare")
@click.option("-v", "--verbose", is_flag=True, help="Log debug details to stderr.")
def main(verbose: bool) -> None:
    """Townsquare: community analytics from internet traffic to contributors to revenue."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@main.command()
@click.argument("source_type", metavar="TYPE")
@click.argument("locations", metavar="LOCATION...", nargs=-1, required=True)
@click.option(
    "--name", required=True, help="Source instance name (a slug: lowercase, digits, - or _)."
)
@click.option(
    "--lake",
    help="Lake root (path or fsspec URL). Default: config, $TOWNSQUARE_LAKE or ./.townsquare/lake.",
)
@click.option(
    "--since", help="Only records on or after this ISO 8601 time (overrides the stored watermark)."
)
@click.option(
    "--api-url",
    help="API base URL (github: GitHub Enterprise, e.g. https://ghe.example.com/api/v3).",
)
@click.option(
    "--option", "options", multiple=True, metavar="KEY=VALUE", help="Connector option (repeatable)."
)
@click.option(
    "--credential-env",
    "cred_env",
    multiple=True,
    metavar="KEY=ENVVAR",
    help="Take a credential (username, password, token, api_key, api_username) from an "
    "environment variable.",
)
@click.option(
    "--threshold",
    type=float,
    default=None,
    help="Largest share of quarantined rows before the landing fails (default 0.05).",
)
@click.option(
    "--config", "config_path", help="townsquare.yml (for the lake and threshold defaults)."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@_guard
def ingest(
    source_type: str,
    locations: tuple[str, ...],
    name: str,
    lake: str | None,
    since: str | None,
    api_url: str | None,
    options: tuple[str, ...],
    cred_env: tuple[str, ...],
    threshold: float | None,
    config_path: str | None,
    as_json: bool,
) -> None:
    """Land one ad-hoc source without a config file.

    TYPE is a source type (wxr, wordpress, feed, discourse, mbox, pipermail, git, github,
    gharchive, crm); LOCATION a file, folder or URL (github: OWNER/REPO; git: a path or clone
    URL; crm: a folder with accounts.csv and subscriptions.csv, or .parquet, or one such
    file). gharchive takes several LOCATIONs (hourly files, folders or URLs).
    """
    from pydantic import ValidationError

    from townsquare.config import Credentials, SourceConfig, format_validation_error
    from townsquare.pipeline import ingest_source

    cfg = _optional_config(config_path)
    opts: dict[str, Any] = {}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep:
            raise Failure(f"--option expects KEY=VALUE, got {item!r}")
        opts[key] = yaml_scalar(value)
    env_map = {}
    for item in cred_env:
        key, sep, var = item.partition("=")
        if not sep:
            raise Failure(f"--credential-env expects KEY=ENVVAR, got {item!r}")
        env_map[key] = var
    if since:
        _check_iso(since)
    if api_url:
        opts["api_url"] = api_url
    if len(locations) > 1 and source_type not in MULTI_LOCATION_TYPES:
        raise Failure(f"{source_type} takes one LOCATION, got {len(locations)}")
    resolved = [_local_location(source_type, loc) for loc in locations]
    location = resolved[0]
    if len(resolved) > 1:
        opts["locations"] = resolved
    try:
        source = SourceConfig(
            type=source_type,
            name=name,
            location=location,
            options=opts,
            credentials=Credentials(env=env_map),
        )
    except ValidationError as exc:
        raise Failure(format_validation_error(exc, "ingest")) from None
    result = ingest_source(
        source,
        lake=lake_and_warehouse(cfg, lake=lake)[0],
        since=since,
        quarantine_threshold=threshold
        if threshold is not None
        else (cfg.quarantine_threshold if cfg else 0.05),
        progress=_progress(False),
    )
    if as_json:
        _emit(result.to_json())
    else:
        for entity, r in sorted(result.entities.items()):
            click.echo(f"{entity}: {r.rows} rows written, {r.quarantined} quarantined")
        click.echo(f"run {result.run_id} in {result.seconds:.1f}s")


MULTI_LOCATION_TYPES = frozenset({"gharchive"})
PATH_TYPES = frozenset({"wxr", "feed", "mbox", "git", "gharchive", "crm"})
"""Types whose LOCATION may be a local file or folder (checked and made absolute)."""
_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:")  # git@github.com:owner/repo.git


def _local_location(source_type: str, location: str) -> str:
    """A local path location, checked and absolute; URLs and other forms unchanged."""
    if source_type not in PATH_TYPES or "://" in location or _SCP_LIKE.match(location):
        return location
    path = Path(location)
    if not path.exists():
        raise Failure(f"{location}: no such file or folder")
    return str(path.resolve())


def yaml_scalar(value: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        return value


def _check_iso(value: str) -> None:
    from datetime import datetime

    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Failure(f"--since: not an ISO 8601 date or time: {value!r}") from None


@main.command()
@click.option("--lake", help="Lake root. Default: config, $TOWNSQUARE_LAKE or ./.townsquare/lake.")
@click.option(
    "--warehouse",
    help="Working DuckDB file. Default: config, $TOWNSQUARE_WAREHOUSE or ./.townsquare/warehouse.duckdb.",
)
@click.option(
    "--publish",
    "publish_to",
    help="Publish folder. Default: config, $TOWNSQUARE_PUBLISH or published/ beside the warehouse.",
)
@click.option(
    "--no-publish", is_flag=True, help="Build and check only; leave the published release as is."
)
@click.option("--config", "config_path", help="townsquare.yml.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@_guard
def build(
    lake: str | None,
    warehouse: str | None,
    publish_to: str | None,
    no_publish: bool,
    config_path: str | None,
    as_json: bool,
) -> None:
    """dbt build over the lake, the mart checks, then publish the marts and the dashboard."""
    from townsquare.build import build as run_build

    cfg = _optional_config(config_path)
    lake_path, warehouse_path = lake_and_warehouse(cfg, lake, warehouse)
    target = None if no_publish else publish_dir(cfg, warehouse_path, publish_to)
    result = run_build(lake_path, warehouse_path, progress=_progress(False), publish_dir=target)
    if as_json:
        _emit(result.to_json())
        return
    for mart, rows in result.marts.items():
        click.echo(f"{mart}: {rows} rows")
    click.echo(f"built {result.warehouse} in {result.seconds:.1f}s")
    if result.release:
        click.echo(f"published release {result.release['release_id']} to {target}")
        click.echo(f"  snapshot:  {Path(target, 'townsquare.duckdb')}  (open read-only)")
        click.echo(f"  parquet:   {Path(target, 'parquet')}/<mart>.parquet")
        if result.docs:
            click.echo(f"  dbt docs:  {Path(target, 'docs', 'index.html')}")
        click.echo(f"  dashboard: {result.dashboard}")


@main.command()
@click.option(
    "--publish",
    "publish_from",
    help="Publish folder. Default: config, $TOWNSQUARE_PUBLISH or published/ beside the warehouse.",
)
@click.option("--out", help="HTML file to write. Default: dashboard.html in the publish folder.")
@click.option("--config", "config_path", help="townsquare.yml.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@_guard
def dashboard(
    publish_from: str | None, out: str | None, config_path: str | None, as_json: bool
) -> None:
    """Render the executive dashboard (one offline HTML file) from the published marts."""
    from townsquare.build import render_published_dashboard

    cfg = _optional_config(config_path)
    _, warehouse_path = lake_and_warehouse(cfg)
    source = publish_dir(cfg, warehouse_path, publish_from)
    result = render_published_dashboard(source, out, progress=_progress(as_json))
    if as_json:
        _emit({"dashboard": str(result.path), "release_id": result.release_id})
    else:
        click.echo(str(result.path))


@main.command()
@click.option(
    "--config",
    "config_path",
    default=None,
    help="townsquare.yml (default: $TOWNSQUARE_CONFIG or ./townsquare.yml).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@_guard
def run(config_path: str | None, as_json: bool) -> None:
    """Run every configured source's ingest DAG and the transform DAG in-process."""
    from townsquare.orchestration import run_all

    summary = run_all(config_path)
    if as_json:
        _emit(summary)
    else:
        click.echo(json.dumps(summary, indent=2, default=str))


@main.command()
@click.option(
    "--home",
    default=None,
    help="Folder for the demo's lake and warehouse (default ./.townsquare/demo).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@_guard
def demo(home: str | None, as_json: bool) -> None:
    """Land the bundled sample sources, build, check and print a summary."""
    from townsquare.demo import run_demo

    summary = run_demo(home or str(Path(DEFAULT_HOME, "demo")), progress=_progress(False))
    if as_json:
        _emit(summary.to_json())
    else:
        click.echo(summary.render())


@main.command()
@click.option(
    "--write", is_flag=True, help="Regenerate expectations/raw_*.json from the schema registry."
)
@_guard
def expectations(write: bool) -> None:
    """Check (or --write) the raw landing suites against the schema registry."""
    from townsquare.quality import stale_suites, write_suites

    if write:
        for path in write_suites():
            click.echo(f"wrote {path}")
        return
    stale = stale_suites()
    if stale:
        raise Failure(
            f"suites out of date: {', '.join(stale)}; run `townsquare expectations --write`"
        )
    click.echo("expectation suites are current")


@main.command()
@click.option(
    "--scale", type=float, required=True, help="1 is about a million rows; linear (0.001 works)."
)
@click.option("--out", "out", required=True, help="Output folder (empty, new, or a synth output).")
@click.option("--seed", type=int, default=42, show_default=True, help="Same seed, same bytes.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@_guard
def synth(scale: float, out: str, seed: int, as_json: bool) -> None:
    """Write a synthetic community: every source in its real format, plus a delta day."""
    from townsquare.synth import generate

    if scale <= 0:
        raise Failure(f"--scale must be positive (got {scale})")
    result = generate(scale, out, seed=seed, progress=_progress(as_json))
    if as_json:
        _emit(result.to_json())
    else:
        click.echo(result.render())


@main.command()
@click.option("--scale", type=float, default=1.0, show_default=True, help="synth scale.")
@click.option(
    "--out",
    "out",
    default=".townsquare/bench",
    show_default=True,
    help="Work folder: synth output (reused for the same scale and seed), the run, results.",
)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--skip",
    "skip",
    multiple=True,
    type=click.Choice(BENCH_STEPS),
    help="Leave a part out (repeatable); `dbt` leaves out every dbt step.",
)
@click.option(
    "--perceval-venv",
    type=click.Path(path_type=Path),
    default=None,
    help="Perceval's virtual environment (default ~/.cache/townsquare/perceval-VERSION).",
)
@click.option("--json", "as_json", is_flag=True, help="Print bench.json on stdout.")
@_guard
def bench(
    scale: float,
    out: str,
    seed: int,
    skip: tuple[str, ...],
    perceval_venv: Path | None,
    as_json: bool,
) -> None:
    """Benchmark every step on a synthetic community; writes OUT/bench.json and bench.md."""
    from townsquare.bench import BenchError, render_markdown, run_bench

    try:
        result = run_bench(
            scale, out, seed=seed, skip=skip, perceval_venv=perceval_venv,
            progress=_progress(False),
        )  # fmt: skip
    except BenchError as exc:
        raise Failure(str(exc)) from exc
    if as_json:
        _emit(result.to_json())
    else:
        click.echo(render_markdown(result))


if __name__ == "__main__":  # pragma: no cover
    main()
