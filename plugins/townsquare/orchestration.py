"""The logic behind the Airflow DAGs (``dags/``), kept here so it is unit-tested.

DAG files stay thin: at import they only read ``townsquare.yml`` for schedules and
retries (cached, and a missing or broken file falls back to the defaults so parsing
never breaks). Everything else (listing sources, landing one source, turning its
counts into asset events, the Cosmos configuration, the ``duckdb_writer`` pool, the
dbt manifest) lives here and runs inside tasks. dbt and Great Expectations are only
imported inside tasks.

``run_all()`` is the embedded default behind ``townsquare run``: it runs every source
family's ingest DAG and then the transform DAG in-process with ``dag.test()`` against
a SQLite metadata database.
"""

from __future__ import annotations

import gc
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from townsquare.config import (
    DEFAULT_HOME,
    ConfigError,
    Defaults,
    SourceConfig,
    TownsquareConfig,
    format_validation_error,
    lake_and_warehouse,
    load_config,
)
from townsquare.paths import dbt_env, dbt_project_dir, project_root

if TYPE_CHECKING:
    from airflow.sdk import Asset

log = logging.getLogger("townsquare.orchestration")

Progress = Callable[[str], None]

POOL = "duckdb_writer"
"""One-slot pool: DuckDB allows one writer, so every warehouse writer/reader task uses it."""
POOL_DESCRIPTION = "DuckDB allows one writer: serializes dbt, mart checks and publishing."

ASSET_SCHEME = "x-townsquare"
"""Custom URI scheme for raw-entity assets. Airflow reserves ``airflow://`` and leaves
``x-`` schemes alone (no provider normalizer), so the URI is stable whatever the lake is."""

FAMILY_ENTITIES: dict[str, tuple[str, ...]] = {
    "blog": ("blog_posts", "blog_comments", "trackbacks"),
    "forum": ("forum_topics", "forum_posts", "mail_messages"),
    "repo": (
        "repo_commits",
        "repo_issues",
        "repo_comments",
        "repo_stars",
        "repo_events",
        "repo_users",
    ),
    "commercial": ("accounts", "subscriptions"),
}
"""Raw entities each family's connectors write (trackbacks come from blog comments)."""

TRANSFORM_DAG_ID = "transform"
DBT_GROUP_ID = "dbt"
EXECUTION_MODES = ("watcher", "local", "build")
DEFAULT_EXECUTION_MODE = "build"
"""How the transform DAG runs dbt; see ``transform_mode()`` and docs/airflow.md."""
MAX_RETRY_DELAY = timedelta(hours=1)
BACKOFF = 2.0
TAGS = ("townsquare",)

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def ingest_dag_id(family: str) -> str:
    return f"ingest_{family}"


# -- configuration ---------------------------------------------------------------------


def config_path() -> Path:
    """``$TOWNSQUARE_CONFIG``, else ``townsquare.yml`` at the project root."""
    env = os.environ.get("TOWNSQUARE_CONFIG")
    return Path(env).expanduser() if env else project_root() / "townsquare.yml"


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _version(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


@lru_cache(maxsize=8)
def _parse_time_config(path: str, version: tuple[int, int] | None) -> TownsquareConfig | None:
    if version is None:
        log.info("%s not found: DAGs use the default schedule and retries", path)
        return None
    try:
        return load_config(path)
    except ConfigError as exc:
        log.warning("%s is invalid, DAGs use the defaults until it is fixed: %s", path, exc)
        return None


def parse_time_config() -> TownsquareConfig | None:
    """The config for DAG parsing: cached per file version, ``None`` if missing/invalid.

    Parsing must never break on configuration; the tasks load the file strictly
    (``runtime_config()``) and fail with the validation message instead.
    """
    path = config_path()
    return _parse_time_config(str(path), _version(path))


def runtime_config() -> TownsquareConfig:
    """The config for tasks: a missing or invalid file raises ``ConfigError``."""
    return load_config(config_path())


def runtime_paths() -> tuple[str, str]:
    """Lake and warehouse for transform tasks: the file is optional (env/defaults), but an
    invalid file raises ``ConfigError`` rather than silently using other paths."""
    cfg = runtime_config() if config_path().exists() else None
    return lake_and_warehouse(cfg)


@dataclass(frozen=True)
class DagSettings:
    """What a DAG file needs from the config at parse time."""

    schedule: str | None
    retries: int
    retry_delay: timedelta
    max_retry_delay: timedelta

    def default_args(self) -> dict[str, Any]:
        return {
            "owner": "townsquare",
            "retries": self.retries,
            "retry_delay": self.retry_delay,
            "retry_exponential_backoff": BACKOFF,
            "max_retry_delay": self.max_retry_delay,
        }


def dag_settings(family: str | None = None, cfg: TownsquareConfig | None = None) -> DagSettings:
    """Schedule (for a source family) and retry policy from the config's defaults."""
    cfg = cfg if cfg is not None else parse_time_config()
    defaults = cfg.defaults if cfg else Defaults()
    schedule = None
    if family:
        schedule = cfg.schedule_for(family) if cfg else defaults.schedule
    delay = timedelta(seconds=defaults.retry_delay_seconds)
    return DagSettings(
        schedule=schedule,
        retries=defaults.retries,
        retry_delay=delay,
        max_retry_delay=max(delay, MAX_RETRY_DELAY),
    )


# -- assets --------------------------------------------------------------------------------


def raw_asset_uri(entity: str) -> str:
    return f"{ASSET_SCHEME}://raw/{entity}"


def raw_asset(entity: str) -> Asset:
    """The Asset a landing of ``entity`` updates (name ``raw_<entity>``)."""
    from airflow.sdk import Asset

    return Asset(name=f"raw_{entity}", uri=raw_asset_uri(entity), group="townsquare-raw")


def family_assets(family: str) -> list[Asset]:
    return [raw_asset(e) for e in family_entities(family)]


def all_raw_assets() -> list[Asset]:
    """Every raw-entity asset of every family (the transform DAG's schedule)."""
    entities = dict.fromkeys(e for ents in FAMILY_ENTITIES.values() for e in ents)
    return [raw_asset(e) for e in entities]


def family_entities(family: str) -> tuple[str, ...]:
    try:
        return FAMILY_ENTITIES[family]
    except KeyError:
        known = ", ".join(sorted(FAMILY_ENTITIES))
        raise ValueError(f"no ingest DAG for source family {family!r} (have: {known})") from None


def asset_extras(result: Mapping[str, Any], family: str) -> dict[str, dict[str, Any]]:
    """Per raw entity of ``family``: the event extra for one landing (an ``ingest --json`` dict).

    Every entity of the family gets an extra (the mapped task declares all of them as
    outlets, so Airflow emits an event for each); entities the source did not write
    show zero rows.
    """
    entities = result.get("entities") or {}
    unknown = sorted(set(entities) - set(family_entities(family)))
    if unknown:
        raise ValueError(
            f"source {result.get('source')!r} wrote {', '.join(unknown)}, which are not assets "
            f"of the {family} family; add them to FAMILY_ENTITIES"
        )
    files = result.get("files") or []
    extras: dict[str, dict[str, Any]] = {}
    for entity in family_entities(family):
        counts = entities.get(entity) or {}
        marker = f"/raw/{entity}/"
        extras[entity] = {
            "source": result.get("source"),
            "type": result.get("type"),
            "run_id": result.get("run_id"),
            "rows": int(counts.get("rows", 0)),
            "quarantined": int(counts.get("quarantined", 0)),
            "files": sum(1 for f in files if marker in str(f).replace("\\", "/")),
        }
    return extras


def emit_asset_events(outlet_events: Any, extras: Mapping[str, Mapping[str, Any]]) -> None:
    """Attach each entity's counts to its asset event (``outlet_events[asset].extra``)."""
    for entity, extra in extras.items():
        outlet_events[raw_asset(entity)].extra = dict(extra)


# -- ingest tasks --------------------------------------------------------------------------


def list_sources(family: str, cfg: TownsquareConfig | None = None) -> list[dict[str, Any]]:
    """The enabled sources of ``family`` as JSON-able dicts (one mapped task each)."""
    family_entities(family)
    cfg = cfg if cfg is not None else runtime_config()
    sources = []
    for src in cfg.sources_for(family):
        data = src.model_dump(mode="json")
        data["location"] = cfg.resolve_location(src.location)
        sources.append(data)
    return sources


def ingest(
    source: Mapping[str, Any],
    *,
    cfg: TownsquareConfig | None = None,
    context: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Land one configured source (a dict from ``list_sources``); returns its ``--json`` dict.

    The lake run id is left to the pipeline: it is deterministic per source and
    interval, so an Airflow retry replaces the files of the failed try.
    """
    from pydantic import ValidationError

    from townsquare.pipeline import ingest_source

    try:
        src = SourceConfig.model_validate(dict(source))
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, f"source {source.get('name')!r}")) from None
    cfg = cfg if cfg is not None else runtime_config()
    lake, _ = lake_and_warehouse(cfg)
    result = ingest_source(
        src,
        lake=lake,
        quarantine_threshold=cfg.quarantine_threshold,
        progress=progress or log.info,
        context=dict(context or {}),
    )
    return result.to_json()


def permanent_errors() -> tuple[type[BaseException], ...]:
    """Errors a retry cannot fix: the DAG tasks fail at once instead of backing off."""
    errors: list[type[BaseException]] = [ConfigError]
    try:
        from townsquare.quality import QualityGateError

        errors.append(QualityGateError)
    except ImportError:  # pragma: no cover - quality is part of the package
        pass
    from townsquare.dashboard import DashboardError
    from townsquare.publish import PublishError

    errors += [PublishError, DashboardError]
    return tuple(errors)


@contextmanager
def fail_fast() -> Iterator[None]:
    """Turn permanent errors into ``AirflowFailException`` (no retries, clear message)."""
    try:
        yield
    except permanent_errors() as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc


# -- transform -------------------------------------------------------------------------------


def dbt_manifest_path() -> Path:
    return dbt_project_dir() / "target" / "manifest.json"


def _project_inputs() -> Iterator[Path]:
    root = dbt_project_dir()
    for name in ("dbt_project.yml", "packages.yml", "profiles.yml"):
        if (root / name).exists():
            yield root / name
    for sub in ("models", "macros", "seeds", "snapshots", "tests", "analyses"):
        folder = root / sub
        if folder.is_dir():
            yield from (p for p in folder.rglob("*") if p.is_file())


def manifest_is_current() -> bool:
    """True when ``target/manifest.json`` exists and is newer than every project file."""
    manifest = _mtime(dbt_manifest_path())
    if manifest is None:
        return False
    return all((_mtime(p) or 0) <= manifest for p in _project_inputs())


def ensure_manifest(lake: str, warehouse: str, *, force: bool = False) -> Path:
    """Run ``dbt parse`` when the manifest Cosmos renders from is missing or stale."""
    path = dbt_manifest_path()
    if force or not manifest_is_current():
        from townsquare.build import run_dbt

        run_dbt(["parse"], lake=lake, warehouse=warehouse)
        os.utime(path)  # dbt may keep the old mtime when nothing changed
    return path


def requested_mode() -> str:
    """``$TOWNSQUARE_DBT_EXECUTION_MODE`` if valid, else the default (``build``)."""
    mode = os.environ.get("TOWNSQUARE_DBT_EXECUTION_MODE", DEFAULT_EXECUTION_MODE).strip().lower()
    if mode not in EXECUTION_MODES:
        log.warning(
            "TOWNSQUARE_DBT_EXECUTION_MODE=%r is not one of %s; using %s",
            mode,
            ", ".join(EXECUTION_MODES),
            DEFAULT_EXECUTION_MODE,
        )
        mode = DEFAULT_EXECUTION_MODE
    return mode


def transform_mode() -> str:
    """``$TOWNSQUARE_DBT_EXECUTION_MODE`` (watcher, local or build), default ``build``.

    ``build`` is one Cosmos ``DbtBuildLocalOperator`` task (``dbt_build_operator``).
    ``watcher`` and ``local`` render one Airflow task per dbt node with Cosmos from
    ``target/manifest.json``; without a manifest they fall back to ``build``, which
    needs none and writes it for the next parse.
    """
    mode = requested_mode()
    if mode != "build" and not dbt_manifest_path().exists():
        log.warning(
            "%s is missing (run `dbt parse` or `python -m townsquare.orchestration prepare`); "
            "the transform DAG runs dbt as a single `dbt build` task",
            dbt_manifest_path(),
        )
        mode = "build"
    return mode


def dbt_profile_config() -> Any:
    """Cosmos' view of ``dbt_project/profiles.yml`` (profile ``townsquare``, target ``dev``)."""
    from cosmos.config import ProfileConfig

    return ProfileConfig(
        profile_name="townsquare",
        target_name="dev",
        profiles_yml_filepath=dbt_project_dir() / "profiles.yml",
    )


def dbt_build_env(lake: str, warehouse: str) -> dict[str, str]:
    """dbt's environment in ``build`` mode: ``dbt_env()``, plus dbt's target and log folders
    in the project. Cosmos runs dbt in a temporary copy of the project (symlinks); writing
    ``target/`` in place keeps dbt's partial parsing working across runs and refreshes the
    manifest the Cosmos-rendered modes parse from."""
    project = dbt_project_dir()
    return {
        **dbt_env(lake, warehouse),
        "DBT_TARGET_PATH": str(project / "target"),
        "DBT_LOG_PATH": str(project / "logs"),
    }


def use_runtime_paths(context: Any, operator: Any) -> None:
    """Cosmos interceptor of the ``build`` task, run before dbt: read the lake and warehouse
    again from the config (an invalid file fails the task at once, without retries, as the
    other tasks do) and create the warehouse's folder (DuckDB does not)."""
    with fail_fast():
        lake, warehouse = runtime_paths()
    if "://" not in warehouse:
        Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
    if "://" not in lake and not os.environ.get("TOWNSQUARE_ID_SALT"):
        from townsquare.lake import Lake

        Lake(lake).ensure_identity_salt()  # dbt reads it from the lake (macro identity_salt)
    operator.env = {**(operator.env or {}), **dbt_build_env(lake, warehouse)}
    repair_partial_parse(dbt_project_dir())


def repair_partial_parse(project: Path) -> None:
    """Point the root paths in the project's saved parse (``target/partial_parse.msgpack``)
    that lead nowhere back at the project.

    dbt keeps each node's root path in the saved parse and does not check it when it parses
    partially. A ``build`` task runs dbt in Cosmos' temporary copy of the project, gone
    after the run, while its parse is saved in the project's ``target/``: the next run
    looked for the seed files in the dead copy and every seed failed. Cosmos' own patch
    (``patch_partial_parse_content``) rewrites the paths that do not exist.
    """
    from cosmos.cache import patch_partial_parse_content

    saved = project / "target" / "partial_parse.msgpack"
    if saved.exists():
        patch_partial_parse_content(saved, project)


def freeze_gc(context: Any, operator: Any) -> None:
    """Cosmos interceptor of the ``build`` task: move the objects alive now out of the
    garbage collector's reach (``gc.freeze()``) before dbt runs.

    After every dbt invocation Cosmos calls ``gc.collect()``, which walks every object of
    the process: 0.6-0.8 s in a task process holding Airflow (a fifth of a warm
    ``dbt build`` here), and nothing to free. Frozen objects are skipped, so the collect
    only visits what dbt created. Cyclic garbage already present stays until the task
    process exits (``townsquare run`` unfreezes after each DAG run).
    """
    gc.freeze()


def dbt_build_operator(
    *, lake: str, warehouse: str, task_id: str = DBT_GROUP_ID, **kwargs: Any
) -> Any:
    """The ``build`` mode task: Cosmos' ``DbtBuildLocalOperator``, one in-process ``dbt build``.

    ``lake``/``warehouse`` come from the config at parse time; ``use_runtime_paths``
    checks them again when the task runs. No manifest is needed. Cosmos' extras that cost
    time and are not used here are off: ``dbt deps`` (no packages), compiled-SQL capture,
    and dataset emission (the DAG's own assets are the raw-entity ones).
    """
    from cosmos.constants import InvocationMode
    from cosmos.operators.local import DbtBuildLocalOperator

    return DbtBuildLocalOperator(
        task_id=task_id,
        project_dir=str(dbt_project_dir()),
        profile_config=dbt_profile_config(),
        env=dbt_build_env(lake, warehouse),
        invocation_mode=InvocationMode.DBT_RUNNER,
        install_deps=False,
        copy_dbt_packages=False,
        partial_parse=True,
        should_store_compiled_sql=False,
        emit_datasets=False,
        interceptors=[use_runtime_paths, freeze_gc],
        pool=POOL,
        **kwargs,
    )


def dbt_task_group(
    *,
    mode: str,
    lake: str,
    warehouse: str,
    default_args: Mapping[str, Any],
    group_id: str = DBT_GROUP_ID,
) -> Any:
    """A Cosmos ``DbtTaskGroup`` rendered from the manifest (call inside a DAG context).

    Every task runs in the one-slot ``duckdb_writer`` pool: in ``local`` mode each one
    writes; in ``watcher`` mode the producer writes and a consumer sensor writes too when,
    on a retry after the producer ended, it falls back to running its model itself.
    Deferred sensors do not hold the slot (the pool excludes deferred tasks).
    """
    from cosmos import DbtTaskGroup, ExecutionConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    execution_mode = {"local": ExecutionMode.LOCAL, "watcher": ExecutionMode.WATCHER}[mode]
    operator_args: dict[str, Any] = {"install_deps": False, "pool": POOL}
    group = DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=dbt_project_dir(),
            manifest_path=dbt_manifest_path(),
            env_vars=dbt_env(lake, warehouse),
        ),
        profile_config=dbt_profile_config(),
        execution_config=ExecutionConfig(
            execution_mode=execution_mode,
            invocation_mode=InvocationMode.DBT_RUNNER,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_EACH,
        ),
        operator_args=operator_args,
        default_args=dict(default_args),
    )
    return group


def check_marts(warehouse: str) -> dict[str, Any]:
    """The Great Expectations gate on the marts (imported here: GE takes seconds)."""
    from townsquare.quality import check_marts as run_checks

    fingerprints: dict[str, str] = {}
    run_checks(warehouse, fingerprints=fingerprints)
    return {"warehouse": warehouse, "checked": True, "fingerprints": fingerprints}


def runtime_publish_dir() -> str:
    """The publish folder for transform tasks (config, $TOWNSQUARE_PUBLISH or beside the
    warehouse)."""
    from townsquare.config import publish_dir

    cfg = runtime_config() if config_path().exists() else None
    return publish_dir(cfg, lake_and_warehouse(cfg)[1])


def generate_docs() -> str:
    """``dbt docs generate --static`` into a target folder beside the warehouse (Cosmos ran
    dbt elsewhere); returns the page to publish."""
    from townsquare.build import generate_docs as run_docs

    lake, warehouse = runtime_paths()
    target = str(Path(warehouse).parent / "dbt-docs-target")
    return run_docs(lake, warehouse, target_path=target, compile=True)


def publish_marts(docs_file: str | None, checked: dict[str, str] | None) -> dict[str, Any]:
    """Publish the checked marts (snapshot + Parquet + docs), one atomic flip; ``checked``
    are the fingerprints the check task saw (a changed warehouse publishes nothing)."""
    from townsquare.publish import publish

    warehouse = runtime_paths()[1]
    release = publish(
        warehouse, runtime_publish_dir(), docs_file=docs_file, checked=checked, progress=_log
    )
    return {k: v for k, v in release.to_json().items() if k != "files"}


def render_dashboard() -> str:
    """Render the dashboard from the current release into ``<publish>/dashboard.html``."""
    from townsquare.build import render_published_dashboard

    return str(render_published_dashboard(runtime_publish_dir(), progress=_log).path)


def _log(msg: str) -> None:
    log.info("%s", msg)


# -- embedded Airflow (townsquare run) ------------------------------------------------------


def dags_dir() -> Path:
    env = os.environ.get("TOWNSQUARE_DAGS_DIR")
    return Path(env).resolve() if env else project_root() / "dags"


def airflow_env(home: Path, *, sqlite: bool = True) -> dict[str, str]:
    """Environment for an embedded Airflow: SQLite metadata DB in ``home``, our DAGs only."""
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_dir()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
        "DO_NOT_TRACK": "1",
        "SCARF_ANALYTICS": "false",
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "townsquare",  # Cosmos asks; nothing is sent
        "GX_ANALYTICS_ENABLED": "false",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if sqlite:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home / 'airflow.db'}"
    return env


def configure_airflow(home: Path | None = None, *, base_dir: Path | None = None) -> Path:
    """Point this process at an embedded Airflow home (before or after airflow is imported).

    With ``home`` given, that folder and a SQLite DB in it are forced (tests). Otherwise
    ``$AIRFLOW_HOME`` wins when set (its airflow.cfg decides the metadata DB), else
    ``<base_dir>/.townsquare/airflow`` with a SQLite DB; ``AIRFLOW__*`` variables already
    in the environment are kept.
    """
    explicit = home is not None
    user_home = os.environ.get("AIRFLOW_HOME")
    if home is None:
        home = (
            Path(user_home)
            if user_home
            else Path(base_dir or Path.cwd()) / DEFAULT_HOME / "airflow"
        )
    home = home.expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    own_db = explicit or not user_home
    for key, value in airflow_env(home, sqlite=own_db).items():
        if explicit or key == "AIRFLOW_HOME" or key not in os.environ:
            os.environ[key] = value
    if "airflow.settings" in sys.modules:
        # Airflow was imported earlier (with another home): re-read the settings it
        # caches at import; explicit AIRFLOW__* variables are read at every conf.get.
        from airflow import settings

        before = settings.SQL_ALCHEMY_CONN
        settings.configure_vars()
        if before != settings.SQL_ALCHEMY_CONN:
            settings.reconfigure_orm()
    return home


def ensure_airflow_db() -> None:
    """Create or migrate the metadata DB (fast path: skip when already at head)."""
    from airflow.utils import db
    from airflow.utils.session import create_session

    try:
        with create_session() as session:
            current = db._get_current_revision(session)
        if current and current == db._get_script_object().get_current_head():
            return
    except Exception:  # private helpers moved: fall back to the full path
        log.debug("revision check failed; running initdb", exc_info=True)
    db.initdb()


def ensure_pool(slots: int = 1) -> None:
    """Create the ``duckdb_writer`` pool when missing (an existing pool is left as is)."""
    from airflow.models.pool import Pool

    if Pool.get_pool(POOL) is None:
        Pool.create_or_update_pool(POOL, slots, POOL_DESCRIPTION, include_deferred=False)


def prepare(cfg: TownsquareConfig | None = None) -> None:
    """Everything a deployment needs before DAGs run: the pool and a current manifest."""
    lake, warehouse = lake_and_warehouse(cfg)
    ensure_pool()
    ensure_manifest(lake, warehouse)


def load_dags() -> dict[str, Any]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dags_dir()))
    if bag.import_errors:
        detail = "; ".join(
            f"{Path(f).name}: {e.strip().splitlines()[-1]}" for f, e in bag.import_errors.items()
        )
        raise RuntimeError(f"DAG import errors: {detail}")
    return dict(bag.dags)


@contextmanager
def task_side_effects_undone() -> Iterator[None]:
    """Undo what in-process tasks leave in this process: environment variables (Airflow's
    ``AIRFLOW_CTX_*``; Cosmos copies dbt's environment, lake and warehouse included, into
    ``os.environ`` for OpenLineage) and ``freeze_gc``'s frozen objects. A task process
    ends with its task; ``dag.test()`` runs the tasks here, and a later run with another
    config must not inherit the paths."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        for key in set(os.environ) - set(saved):
            del os.environ[key]
        for key, value in saved.items():
            if os.environ.get(key) != value:
                os.environ[key] = value
        gc.unfreeze()


def run_dag(dag: Any, say: Progress) -> dict[str, Any]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    started = time.monotonic()
    say(f"airflow: running DAG {dag.dag_id}")
    with task_side_effects_undone():
        dr = dag.test()
    seconds = round(time.monotonic() - started, 3)
    state = str(getattr(dr.state, "value", dr.state))
    with create_session() as session:
        tis = dr.get_task_instances(session=session)
        tasks = {
            (ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): str(
                getattr(ti.state, "value", ti.state)
            )
            for ti in tis
        }
        events = session.execute(
            select(AssetModel.name, AssetEvent.extra)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetEvent.source_dag_id == dag.dag_id, AssetEvent.source_run_id == dr.run_id)
        ).all()
    summary: dict[str, Any] = {
        "run_id": dr.run_id,
        "state": state,
        "seconds": seconds,
        "tasks": dict(sorted(tasks.items())),
    }
    if events:
        summary["asset_events"] = [{"asset": name, **(extra or {})} for name, extra in events]
    say(f"airflow: {dag.dag_id} {state} in {seconds:.1f}s")
    if state != "success":
        by_state: dict[str, list[str]] = {}
        for task_id, task_state in sorted(tasks.items()):
            if task_state not in ("success", "skipped"):
                by_state.setdefault(task_state, []).append(task_id)
        order = sorted(by_state, key=lambda s: (s != "failed", s))
        detail = "; ".join(f"{s}: {', '.join(by_state[s])}" for s in order) or "?"
        raise RuntimeError(
            f"DAG {dag.dag_id} ended {state} ({detail}); "
            f"task logs under {os.environ.get('AIRFLOW__LOGGING__BASE_LOG_FOLDER', 'AIRFLOW_HOME/logs')}"
        )
    return summary


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send everything written to stdout (Airflow's console logging included, which holds
    its own reference to the stream) to stderr, so ``--json`` output stays clean."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no fd 1 (e.g. a daemon): Python-level redirect only
        with redirect_stdout(sys.stderr):
            yield
        return
    os.dup2(2, 1)
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


EMBEDDED_DBT_ENV = {"DBT_QUIET": "true"}
"""``townsquare run`` keeps its console output short: dbt prints errors only (a deployed
task's log keeps dbt's full output)."""


@contextmanager
def env_defaults(values: Mapping[str, str]) -> Iterator[None]:
    """Set the variables that are not set yet, for the duration of the block."""
    added = [key for key in values if key not in os.environ]
    os.environ.update({key: values[key] for key in added})
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_all(
    config_path: str | None = None, *, progress: Progress | None = _stderr
) -> dict[str, Any]:
    """Run every configured family's ingest DAG, then the transform DAG, in-process.

    The embedded default for ``townsquare run``: ``dag.test()`` against a SQLite
    metadata DB in ``$AIRFLOW_HOME`` (default ``<config folder>/.townsquare/airflow``),
    migrated on first use. Raises when a DAG run does not succeed.
    """
    say = progress or (lambda _m: None)
    started = time.monotonic()
    path = Path(config_path or os.environ.get("TOWNSQUARE_CONFIG") or "townsquare.yml")
    cfg = load_config(path)
    os.environ["TOWNSQUARE_CONFIG"] = str(path.resolve())
    families = [f for f in FAMILY_ENTITIES if cfg.sources_for(f)]
    missing = sorted({s.family for s in cfg.sources if s.enabled} - set(FAMILY_ENTITIES))
    if missing:
        raise ConfigError(f"{path}: no ingest DAG yet for source families: {', '.join(missing)}")
    if not families:
        raise ConfigError(f"{path}: no enabled sources to run")

    if requested_mode() == "watcher":
        # Watcher consumers are sensors waiting for a producer running beside them;
        # dag.test() runs tasks one at a time, so they would wait forever.
        say("dbt: watcher mode needs a scheduler and triggerer; running `dbt build` instead")
        os.environ["TOWNSQUARE_DBT_EXECUTION_MODE"] = "build"
    home = configure_airflow(base_dir=Path(cfg.base_dir))
    lake, warehouse = lake_and_warehouse(cfg)
    summary: dict[str, Any] = {
        "config": str(path.resolve()),
        "airflow_home": str(home),
        "lake": lake,
        "warehouse": warehouse,
        "dags": {},
    }
    with stdout_to_stderr(), env_defaults(EMBEDDED_DBT_ENV):
        say(f"airflow: metadata DB in {home}")
        ensure_airflow_db()
        ensure_pool()
        dags = load_dags()
        for family in families:
            run = run_dag(dags[ingest_dag_id(family)], say)
            for event in run.get("asset_events", []):
                say(
                    f"  {event.get('source')}: {event['asset']}: {event.get('rows', 0):,} rows, "
                    f"{event.get('quarantined', 0):,} quarantined"
                )
            summary["dags"][ingest_dag_id(family)] = run
        if requested_mode() == "local" and not manifest_is_current():
            say("dbt: refreshing the manifest Cosmos renders from")
            ensure_manifest(lake, warehouse)
            dags = load_dags()
        summary["dags"][TRANSFORM_DAG_ID] = run_dag(dags[TRANSFORM_DAG_ID], say)
    summary["seconds"] = round(time.monotonic() - started, 3)
    return summary


def main(argv: list[str] | None = None) -> int:
    """``python -m townsquare.orchestration prepare``: used by the docker-compose init."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["prepare"]:
        print("usage: python -m townsquare.orchestration prepare", file=sys.stderr)
        return 2
    cfg = parse_time_config()
    prepare(cfg)
    print(f"pool {POOL} ready; dbt manifest {dbt_manifest_path()} current")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
