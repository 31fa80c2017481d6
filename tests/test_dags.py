"""The DAG files in dags/: they parse, fast, with retries, tags, assets and pools.

DagBag runs against this process's migrated SQLite metadata DB (``airflow_home`` in
conftest.py). The
Cosmos-rendered variants (``watcher``/``local``) need a dbt manifest, so they run
``dbt parse`` on a copy of the project and are marked ``e2e``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from townsquare import orchestration as orch
from townsquare.paths import dbt_project_dir

DAGS = orch.dags_dir()
DAG_FILES = sorted(p.name for p in DAGS.glob("*.py"))


@pytest.fixture
def config(airflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "townsquare.yml"
    path.write_text(
        "lake: data/lake\nwarehouse: data/wh.duckdb\n"
        "defaults: {retries: 4, retry_delay_seconds: 90}\n"
        "sources:\n"
        "  - {type: wxr, name: main-blog, location: blog.xml, schedule: '0 6 * * *'}\n"
        "  - {type: mbox, name: dev-list, location: lists/, schedule: '30 * * * *'}\n"
        "  - {type: discourse, name: forum, location: 'https://forum.example.org'}\n"
    )
    monkeypatch.setenv("TOWNSQUARE_CONFIG", str(path))
    for name in (
        "TOWNSQUARE_DBT_EXECUTION_MODE",
        "TOWNSQUARE_LAKE",
        "TOWNSQUARE_WAREHOUSE",
        "DBT_EXCLUDE_RESOURCE_TYPES",
    ):
        monkeypatch.delenv(name, raising=False)
    return path


def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    started = time.monotonic()
    bag = DagBag(dag_folder=str(DAGS))
    elapsed = time.monotonic() - started
    stats = ", ".join(
        f"{Path(s.file).name} {s.duration.total_seconds():.3f}s" for s in bag.dagbag_stats
    )
    print(f"\nDagBag over {DAGS}: {elapsed:.3f}s ({stats})")
    return bag


def test_dag_files_parse_without_errors_into_the_expected_dags(config: Path) -> None:
    bag = dagbag()
    assert bag.import_errors == {}
    assert DAG_FILES == ["ingest.py", "transform.py"]
    assert sorted(bag.dag_ids) == [
        "ingest_blog",
        "ingest_commercial",
        "ingest_forum",
        "ingest_repo",
        "transform",
    ]
    for stat in bag.dagbag_stats:
        assert stat.duration < timedelta(seconds=2), stat


def test_every_dag_has_tags_and_every_task_retries_with_backoff(config: Path) -> None:
    bag = dagbag()
    for dag in bag.dags.values():
        assert "townsquare" in dag.tags, dag.dag_id
        assert dag.catchup is False
        for task in dag.tasks:
            assert task.retries == 4, task.task_id
            assert task.retry_delay == timedelta(seconds=90)
            assert task.retry_exponential_backoff == 2.0
            assert task.max_retry_delay == timedelta(hours=1)


def test_dags_parse_without_a_config_file(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOWNSQUARE_CONFIG", str(config.parent / "missing.yml"))
    bag = dagbag()
    assert bag.import_errors == {}
    for dag_id in ("ingest_blog", "ingest_forum", "ingest_repo", "ingest_commercial"):
        assert bag.dags[dag_id].schedule == "@daily"
    assert all(t.retries == 3 for d in bag.dags.values() for t in d.tasks)


def test_ingest_blog_maps_over_sources_and_declares_the_raw_assets(config: Path) -> None:
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    dag = dagbag().dags["ingest_blog"]
    assert dag.schedule == "0 6 * * *"  # the first blog source's schedule
    assert set(dag.task_ids) == {"list_sources", "ingest"}
    ingest = dag.get_task("ingest")
    assert isinstance(ingest, MappedOperator)
    assert ingest.upstream_task_ids == {"list_sources"}
    assert [(a.name, a.uri) for a in ingest.outlets] == [
        ("raw_blog_posts", "x-townsquare://raw/blog_posts"),
        ("raw_blog_comments", "x-townsquare://raw/blog_comments"),
        ("raw_trackbacks", "x-townsquare://raw/trackbacks"),
    ]
    assert {"ingest", "blog"} <= dag.tags


@pytest.mark.parametrize(
    ("dag_id", "schedule", "assets", "doc"),
    [
        (
            "ingest_forum",
            "30 * * * *",  # the first forum source's schedule
            ["forum_topics", "forum_posts", "mail_messages"],
            "Discourse",
        ),
        (
            "ingest_repo",
            "@daily",  # no repo source configured: the default
            [
                "repo_commits",
                "repo_issues",
                "repo_comments",
                "repo_stars",
                "repo_events",
                "repo_users",
            ],
            "GH Archive",
        ),
        (
            "ingest_commercial",
            "@daily",  # no crm source configured: the default
            ["accounts", "subscriptions"],
            "CRM/billing exports",
        ),
    ],
)
def test_each_family_dag_maps_over_its_sources_and_declares_its_assets(
    config: Path, dag_id: str, schedule: str, assets: list[str], doc: str
) -> None:
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    dag = dagbag().dags[dag_id]
    assert dag.schedule == schedule
    assert set(dag.task_ids) == {"list_sources", "ingest"}
    ingest = dag.get_task("ingest")
    assert isinstance(ingest, MappedOperator)
    assert [(a.name, a.uri) for a in ingest.outlets] == [
        (f"raw_{e}", f"x-townsquare://raw/{e}") for e in assets
    ]
    assert {"ingest", dag_id.removeprefix("ingest_")} <= dag.tags
    assert doc in (dag.doc_md or "")


def test_transform_is_scheduled_on_any_raw_asset_and_serializes_warehouse_tasks(
    config: Path,
) -> None:
    from airflow.sdk import AssetAny

    dag = dagbag().dags["transform"]
    condition = dag.timetable.asset_condition
    assert isinstance(condition, AssetAny)
    assert sorted(a.name for a in condition.objects) == [
        "raw_accounts",
        "raw_blog_comments",
        "raw_blog_posts",
        "raw_forum_posts",
        "raw_forum_topics",
        "raw_mail_messages",
        "raw_repo_comments",
        "raw_repo_commits",
        "raw_repo_events",
        "raw_repo_issues",
        "raw_repo_stars",
        "raw_repo_users",
        "raw_subscriptions",
        "raw_trackbacks",
    ]
    # build mode: one dbt task, then docs, the checks, publishing and the dashboard
    assert set(dag.task_ids) == {"dbt", "dbt_docs", "check_marts", "publish", "dashboard"}
    for writer in ("dbt", "dbt_docs", "check_marts", "publish"):
        assert dag.get_task(writer).pool == "duckdb_writer", writer
    assert dag.get_task("dashboard").pool == "default_pool"  # reads the published snapshot
    assert dag.get_task("dbt_docs").upstream_task_ids == {"dbt"}
    assert dag.get_task("check_marts").upstream_task_ids == {"dbt_docs"}
    assert dag.get_task("publish").upstream_task_ids == {"check_marts", "dbt_docs"}
    assert dag.get_task("dashboard").upstream_task_ids == {"publish"}


def test_transform_runs_dbt_build_through_cosmos_by_default(config: Path) -> None:
    from cosmos.constants import InvocationMode
    from cosmos.operators.local import DbtBuildLocalOperator

    dbt = dagbag().dags["transform"].get_task("dbt")
    assert type(dbt) is DbtBuildLocalOperator
    assert dbt.base_cmd == ["build"]
    assert dbt.invocation_mode == InvocationMode.DBT_RUNNER
    assert dbt.install_deps is False
    assert dbt.emit_datasets is False
    assert dbt.should_store_compiled_sql is False
    assert dbt.project_dir == str(dbt_project_dir())
    assert dbt.profile_config.profiles_yml_filepath == dbt_project_dir() / "profiles.yml"
    assert (dbt.profile_config.profile_name, dbt.profile_config.target_name) == (
        "townsquare",
        "dev",
    )
    assert dbt.interceptors == [orch.use_runtime_paths, orch.freeze_gc]
    base = config.parent
    assert dbt.env == {  # from the config when the file was parsed
        "TOWNSQUARE_LAKE": str(base / "data" / "lake"),
        "TOWNSQUARE_WAREHOUSE": str(base / "data" / "wh.duckdb"),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test",
        "DBT_TARGET_PATH": str(dbt_project_dir() / "target"),
        "DBT_LOG_PATH": str(dbt_project_dir() / "logs"),
    }
    assert (dbt.retries, dbt.retry_delay) == (4, timedelta(seconds=90))


def test_build_mode_needs_no_manifest(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(dbt_project_dir(), project, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.setenv("TOWNSQUARE_DBT_PROJECT_DIR", str(project))
    monkeypatch.setenv("TOWNSQUARE_DBT_EXECUTION_MODE", "local")  # falls back to build
    bag = dagbag()
    assert bag.import_errors == {}
    dbt = bag.dags["transform"].get_task("dbt")
    assert dbt.project_dir == str(project)
    assert dbt.env["DBT_TARGET_PATH"] == str(project / "target")
    assert not (project / "target").exists()


PROBE = """
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
started = time.monotonic()
bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({
    "seconds": time.monotonic() - started,
    "errors": {k: v[-300:] for k, v in bag.import_errors.items()},
    "dags": sorted(bag.dag_ids),
    "heavy": sorted(m for m in sys.modules
                    if m.split(".")[0] in ("dbt", "great_expectations", "duckdb", "pandas")),
    "cosmos_telemetry": __import__("cosmos.telemetry").telemetry.should_emit(),
}))
"""


def probe_dagbag(env: dict[str, str]) -> dict:
    """DagBag over dags/ in a fresh interpreter: what did parsing import, how long did it take."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(DAGS)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_dag_files_do_not_import_dbt_or_great_expectations(config: Path) -> None:
    report = probe_dagbag({"TOWNSQUARE_DBT_EXECUTION_MODE": "build"})
    print(f"\n[build] DagBag in a fresh interpreter: {report['seconds']:.3f}s")
    assert report["errors"] == {}
    assert report["dags"] == [
        "ingest_blog",
        "ingest_commercial",
        "ingest_forum",
        "ingest_repo",
        "transform",
    ]
    assert report["heavy"] == []
    assert report["cosmos_telemetry"] is False  # airflow_env() turns it off


# -- Cosmos-rendered transform (needs a real manifest: dbt parse) ------------------------------


@pytest.fixture(scope="module")
def parsed_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of dbt_project/ with target/manifest.json from a real ``dbt parse``."""
    project = tmp_path_factory.mktemp("dbt") / "dbt_project"
    shutil.copytree(dbt_project_dir(), project, ignore=shutil.ignore_patterns("target", "logs"))
    work = project.parent
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOWNSQUARE_DBT_PROJECT_DIR", str(project))
        started = time.monotonic()
        orch.ensure_manifest(str(work / "lake"), str(work / "wh.duckdb"))
        print(f"\ndbt parse: {time.monotonic() - started:.1f}s")
    assert (project / "target" / "manifest.json").exists()
    return project


@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["local", "watcher"])
def test_transform_renders_the_dbt_graph_with_cosmos(
    config: Path, parsed_project: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv("TOWNSQUARE_DBT_PROJECT_DIR", str(parsed_project))
    monkeypatch.setenv("TOWNSQUARE_DBT_EXECUTION_MODE", mode)
    bag = dagbag()
    assert bag.import_errors == {}
    dag = bag.dags["transform"]
    manifest = json.loads((parsed_project / "target" / "manifest.json").read_text())
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    dbt_tasks = [t for t in dag.tasks if t.task_id.startswith("dbt.")]
    rendered = {t.task_id.split(".")[1] for t in dbt_tasks}
    assert models <= rendered, models - rendered
    assert all(t.retries == 4 for t in dag.tasks)
    assert dag.get_task("check_marts").pool == "duckdb_writer"
    assert dag.get_task("check_marts").upstream_task_ids
    pools = {t.task_id: t.pool for t in dbt_tasks}
    if mode == "watcher":  # the producer's gate is an EmptyOperator: it never runs code
        assert pools.pop("dbt.dbt_producer_watcher_done") == "default_pool"
        assert "dbt.dbt_producer_watcher" in pools
    assert set(pools.values()) == {"duckdb_writer"}


@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["local", "watcher"])
def test_cosmos_rendering_does_not_import_dbt_or_great_expectations(
    config: Path, parsed_project: Path, mode: str
) -> None:
    report = probe_dagbag(
        {"TOWNSQUARE_DBT_EXECUTION_MODE": mode, "TOWNSQUARE_DBT_PROJECT_DIR": str(parsed_project)}
    )
    print(f"\n[{mode}] DagBag in a fresh interpreter: {report['seconds']:.3f}s")
    assert report["errors"] == {}
    assert report["heavy"] == []


# -- docker-compose.yml and docker/Dockerfile (no Docker engine here: structural checks) --------

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW_SERVICES = {
    "airflow-api-server": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}


def interpolate(value: str) -> str:
    """Compose variable syntax with an empty environment: ${X:-default}, ${X:?err}, $$."""
    import re

    def one(match: re.Match[str]) -> str:
        _name, op, rest = match.group(1), match.group(2), match.group(3)
        return rest if op in (":-", "-") else ""

    value = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}", one, value)
    return value.replace("$$", "$")


@pytest.fixture(scope="module")
def compose() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def mounts(service: dict) -> dict[str, str]:
    """Container path -> host path (./...) or named volume."""
    result = {}
    for spec in service.get("volumes", []):
        parts = interpolate(spec).split(":")
        result[parts[1]] = parts[0]
    return result


def test_compose_has_the_airflow_3_services(compose: dict) -> None:
    services = compose["services"]
    assert {"postgres", "airflow-init", *AIRFLOW_SERVICES} <= set(services)
    for name, command in AIRFLOW_SERVICES.items():
        assert services[name]["command"] == command
        assert services[name]["build"] == {"context": ".", "dockerfile": "docker/Dockerfile"}
    assert "8080:8080" in services["airflow-api-server"]["ports"]


def test_compose_environment_local_executor_execution_api_and_no_telemetry(compose: dict) -> None:
    for name in ("airflow-init", *AIRFLOW_SERVICES):
        env = compose["services"][name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@postgres/airflow")
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
            "http://airflow-api-server:8080/execution/"
        )
        assert env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False"
        assert env["DO_NOT_TRACK"] == "1"
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
        assert "AIRFLOW_JWT_SECRET:?" in env["AIRFLOW__API_AUTH__JWT_SECRET"]  # never a default


def test_compose_services_are_healthchecked_and_wait_for_init(compose: dict) -> None:
    services = compose["services"]
    for name in ("postgres", *AIRFLOW_SERVICES):
        assert services[name]["healthcheck"]["test"], name
    for name in AIRFLOW_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["postgres"] == {"condition": "service_healthy"}
        assert depends["airflow-init"] == {"condition": "service_completed_successfully"}
    init = "\n".join(services["airflow-init"]["command"])
    assert "airflow db migrate" in init
    assert 'airflow pools set duckdb_writer 1 "' in init
    assert "python -m townsquare.orchestration prepare" in init


def test_compose_mounts_exist_and_match_the_container_paths(compose: dict) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for source in mounts(service).values():
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name}: {source} is not in the repository"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"
    scheduler = compose["services"]["airflow-scheduler"]
    env, mounted = scheduler["environment"], mounts(scheduler)
    root = env["TOWNSQUARE_PROJECT_ROOT"]
    for folder in ("dags", "plugins", "dbt_project", "expectations"):
        assert mounted[f"{root}/{folder}"] == f"./{folder}"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == f"{root}/dags"
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == f"{root}/plugins"
    assert mounted[env["TOWNSQUARE_CONFIG"]] == "./townsquare.example.yml"
    assert mounted[env["TOWNSQUARE_LAKE"]] in declared
    assert mounted[str(Path(env["TOWNSQUARE_WAREHOUSE"]).parent)] in declared


def test_default_mounted_config_is_valid_and_its_files_are_in_the_mounts() -> None:
    from townsquare.config import load_config

    cfg = load_config(ROOT / "townsquare.example.yml")
    local = [s for s in cfg.sources if s.enabled and "://" not in s.location]
    assert local, "the default config should land the bundled samples"
    for src in local:
        resolved = Path(cfg.resolve_location(src.location))
        assert resolved.exists(), src.location
        top = resolved.relative_to(ROOT).parts[0]
        assert top in ("plugins", "dbt_project", "expectations", "dags"), src.location


def test_dockerfile_extends_airflow_and_installs_the_lock() -> None:
    from importlib.metadata import version

    text = (ROOT / "docker" / "Dockerfile").read_text()
    lines = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    airflow = version("apache-airflow")
    assert (
        lines[0]
        == f"FROM apache/airflow:{airflow}-python{sys.version_info[0]}.{sys.version_info[1]}"
    )
    assert f"apache-airflow=={airflow}\n" in (ROOT / "requirements" / "lock.txt").read_text()
    copy_lock = lines.index(
        "COPY --chown=airflow:0 requirements/lock.txt /opt/townsquare/requirements/lock.txt"
    )
    install = lines.index("RUN pip install --no-cache-dir -r /opt/townsquare/requirements/lock.txt")
    assert copy_lock < install
    assert "RUN pip install --no-cache-dir --no-deps -e /opt/townsquare" in lines
    for line in lines:
        if line.startswith("COPY"):
            *sources, _dest = [p for p in line.split()[1:] if not p.startswith("--")]
            for src in sources:
                assert (ROOT / src).exists(), f"COPY source {src} missing"


def test_orchestration_module_entry_point_usage() -> None:
    assert orch.main(["bogus"]) == 2
