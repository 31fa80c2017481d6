"""townsquare.orchestration: the logic behind the DAGs, tested without a scheduler.

The end-to-end test (``-m e2e``) runs the real ``ingest_blog`` DAG with ``dag.test()``
on a tiny WXR export and checks the asset events it recorded in the metadata DB.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from townsquare import orchestration as orch
from townsquare.config import FAMILIES, ConfigError
from townsquare.schemas import ENTITIES


def write_config(folder: Path, text: str) -> Path:
    path = folder / "townsquare.yml"
    path.write_text(text)
    return path


@pytest.fixture
def config_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config path in $TOWNSQUARE_CONFIG (the file is written by the test)."""
    path = tmp_path / "townsquare.yml"
    monkeypatch.setenv("TOWNSQUARE_CONFIG", str(path))
    monkeypatch.delenv("TOWNSQUARE_LAKE", raising=False)
    monkeypatch.delenv("TOWNSQUARE_WAREHOUSE", raising=False)
    return path


TWO_BLOGS = """
lake: data/lake
warehouse: data/wh.duckdb
defaults: {retries: 5, retry_delay_seconds: 30}
sources:
  - type: wxr
    name: main-blog
    location: exports/blog.xml
    schedule: "@hourly"
  - type: feed
    name: news
    location: https://news.example.org/feed/
  - type: wordpress
    name: old-wp
    location: https://old.example.org
    enabled: false
"""


# -- configuration at parse time and at run time ----------------------------------------


def test_list_sources_returns_enabled_blog_sources_with_resolved_locations(
    config_env: Path,
) -> None:
    (config_env.parent / "exports").mkdir()
    (config_env.parent / "exports" / "blog.xml").write_text("<rss/>")
    config_env.write_text(TWO_BLOGS)

    sources = orch.list_sources("blog")

    assert [s["name"] for s in sources] == ["main-blog", "news"]
    assert sources[0]["type"] == "wxr"
    assert sources[0]["location"] == str(config_env.parent / "exports" / "blog.xml")
    assert sources[1]["location"] == "https://news.example.org/feed/"
    assert sources[0]["schedule"] == "@hourly"


def test_list_sources_keeps_a_relative_location_that_does_not_exist(config_env: Path) -> None:
    config_env.write_text("sources:\n  - {type: wxr, name: later, location: not-yet/there.xml}\n")
    assert orch.list_sources("blog")[0]["location"] == "not-yet/there.xml"


def test_list_sources_fails_on_missing_config_and_unknown_family(config_env: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        orch.list_sources("blog")
    config_env.write_text(TWO_BLOGS)
    with pytest.raises(ValueError, match="no ingest DAG for source family 'web'"):
        orch.list_sources("web")


def test_dag_settings_from_config(config_env: Path) -> None:
    config_env.write_text(TWO_BLOGS)
    settings = orch.dag_settings("blog")
    assert settings == orch.DagSettings(
        schedule="@hourly",
        retries=5,
        retry_delay=timedelta(seconds=30),
        max_retry_delay=timedelta(hours=1),
    )
    args = settings.default_args()
    assert args["retries"] == 5
    assert args["retry_exponential_backoff"] == 2.0
    assert args["max_retry_delay"] == timedelta(hours=1)


def test_dag_settings_without_a_config_file_use_the_defaults(config_env: Path) -> None:
    assert not config_env.exists()
    assert orch.dag_settings("blog") == orch.DagSettings(
        schedule="@daily",
        retries=3,
        retry_delay=timedelta(seconds=60),
        max_retry_delay=timedelta(hours=1),
    )


def test_invalid_config_falls_back_at_parse_time_but_fails_at_run_time(
    config_env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config_env.write_text("sources:\n  - {type: wxrr, name: x, location: y}\n")
    assert orch.dag_settings("blog").schedule == "@daily"
    assert "DAGs use the defaults until it is fixed" in caplog.text
    with pytest.raises(ConfigError, match=r"sources\[0\]\.type: expected one of"):
        orch.list_sources("blog")


def test_parse_time_config_is_cached_until_the_file_changes(config_env: Path) -> None:
    config_env.write_text(TWO_BLOGS)
    first = orch.parse_time_config()
    assert first is not None
    assert orch.parse_time_config() is first
    config_env.write_text(TWO_BLOGS.replace("retries: 5", "retries: 7"))
    later = time.time() + 5
    os.utime(config_env, (later, later))
    second = orch.parse_time_config()
    assert second is not first
    assert second is not None and second.defaults.retries == 7


def test_runtime_paths_come_from_the_file_and_the_environment_wins(
    config_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_env.write_text(TWO_BLOGS)
    base = config_env.parent
    assert orch.runtime_paths() == (str(base / "data/lake"), str(base / "data/wh.duckdb"))
    monkeypatch.setenv("TOWNSQUARE_LAKE", "s3://bucket/lake")
    monkeypatch.setenv("TOWNSQUARE_WAREHOUSE", "/srv/wh.duckdb")
    assert orch.runtime_paths() == ("s3://bucket/lake", "/srv/wh.duckdb")


def test_runtime_paths_accept_no_file_but_reject_a_broken_one(
    config_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOWNSQUARE_WAREHOUSE", "/srv/wh.duckdb")
    assert orch.runtime_paths()[1] == "/srv/wh.duckdb"
    config_env.write_text("lake: [not, a, string]\n")
    with pytest.raises(ConfigError, match="lake"):
        orch.runtime_paths()


# -- assets --------------------------------------------------------------------------------


def test_raw_assets_have_stable_names_and_uris() -> None:
    asset = orch.raw_asset("blog_posts")
    assert asset.name == "raw_blog_posts"
    assert asset.uri == "x-townsquare://raw/blog_posts"
    assert [a.name for a in orch.all_raw_assets()] == [
        "raw_blog_posts",
        "raw_blog_comments",
        "raw_trackbacks",
        "raw_forum_topics",
        "raw_forum_posts",
        "raw_mail_messages",
        "raw_repo_commits",
        "raw_repo_issues",
        "raw_repo_comments",
        "raw_repo_stars",
        "raw_repo_events",
        "raw_repo_users",
        "raw_accounts",
        "raw_subscriptions",
    ]


def test_family_entities_are_registered_raw_entities_and_cover_the_connectors() -> None:
    from townsquare.connectors.registry import connector_class, implemented_types

    for family, entities in orch.FAMILY_ENTITIES.items():
        assert set(entities) <= set(ENTITIES), family
    for source_type in implemented_types():
        family = FAMILIES[source_type]
        written = set(connector_class(source_type).entities)
        assert written <= set(orch.family_entities(family)), source_type


WXR_RESULT = {
    "source": "main-blog",
    "type": "wxr",
    "entities": {
        "blog_comments": {"rows": 40, "quarantined": 2},
        "blog_posts": {"rows": 7, "quarantined": 0},
    },
    "files": [
        "/lake/raw/blog_posts/source=main-blog/ingest_date=2024-05-01/main-blog-abc-0.parquet",
        "/lake/raw/blog_comments/source=main-blog/ingest_date=2024-05-01/main-blog-abc-0.parquet",
        "/lake/raw/blog_comments/source=main-blog/ingest_date=2024-05-01/main-blog-abc-1.parquet",
    ],
    "run_id": "main-blog-abc",
}


def test_asset_extras_carry_counts_for_every_entity_of_the_family() -> None:
    extras = orch.asset_extras(WXR_RESULT, "blog")
    common = {"source": "main-blog", "type": "wxr", "run_id": "main-blog-abc"}
    assert extras == {
        "blog_posts": {**common, "rows": 7, "quarantined": 0, "files": 1},
        "blog_comments": {**common, "rows": 40, "quarantined": 2, "files": 2},
        "trackbacks": {**common, "rows": 0, "quarantined": 0, "files": 0},
    }


def test_asset_extras_reject_an_entity_outside_the_family() -> None:
    result = {**WXR_RESULT, "entities": {"forum_posts": {"rows": 1, "quarantined": 0}}}
    with pytest.raises(ValueError, match="wrote forum_posts, which are not assets of the blog"):
        orch.asset_extras(result, "blog")


def test_emit_asset_events_sets_the_extra_on_airflows_outlet_accessors() -> None:
    from airflow.sdk.execution_time.context import OutletEventAccessors

    events = OutletEventAccessors()
    orch.emit_asset_events(events, orch.asset_extras(WXR_RESULT, "blog"))
    assert events[orch.raw_asset("blog_comments")].extra["rows"] == 40
    assert events[orch.raw_asset("trackbacks")].extra["rows"] == 0
    assert sorted(a.name for a in events) == [
        "raw_blog_comments",
        "raw_blog_posts",
        "raw_trackbacks",
    ]


# -- task helpers ------------------------------------------------------------------------------


def test_fail_fast_turns_permanent_errors_into_airflow_fail_exception() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from townsquare.quality import QualityGateError

    quality = pytest.raises(AirflowFailException, match="QualityGateError: 40% quarantined")
    with quality, orch.fail_fast():
        raise QualityGateError("40% quarantined")
    with pytest.raises(AirflowFailException, match="ConfigError: bad file"), orch.fail_fast():
        raise ConfigError("bad file")
    with pytest.raises(ConnectionError), orch.fail_fast():  # transient: Airflow retries it
        raise ConnectionError("reset by peer")


def test_ingest_rejects_an_invalid_source_dict_with_the_field_path(config_env: Path) -> None:
    config_env.write_text(TWO_BLOGS)
    with pytest.raises(ConfigError, match=r"source 'Bad Name': name: expected a slug"):
        orch.ingest({"type": "wxr", "name": "Bad Name", "location": "x.xml"})


def test_stdout_to_stderr_moves_python_and_fd_level_output(capfd: pytest.CaptureFixture) -> None:
    with orch.stdout_to_stderr():
        print("from print")
        sys.stdout.flush()
        os.write(1, b"from fd 1\n")
    print("after")
    out, err = capfd.readouterr()
    assert out == "after\n"
    assert "from print\n" in err and "from fd 1\n" in err


# -- dbt manifest and execution mode ---------------------------------------------------------


@pytest.fixture
def dbt_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = tmp_path / "dbt_project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: t\n")
    (project / "models" / "a.sql").write_text("select 1 as x\n")
    monkeypatch.setenv("TOWNSQUARE_DBT_PROJECT_DIR", str(project))
    monkeypatch.delenv("TOWNSQUARE_DBT_EXECUTION_MODE", raising=False)
    return project


def _touch(path: Path, when: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text("{}")
    os.utime(path, (when, when))


def test_manifest_is_current_compares_with_every_project_file(dbt_project: Path) -> None:
    manifest = dbt_project / "target" / "manifest.json"
    assert orch.dbt_manifest_path() == manifest
    assert not orch.manifest_is_current()
    now = time.time()
    _touch(manifest, now)
    _touch(dbt_project / "models" / "a.sql", now - 60)
    _touch(dbt_project / "dbt_project.yml", now - 60)
    assert orch.manifest_is_current()
    _touch(dbt_project / "models" / "sub" / "b.sql", now + 60)
    assert not orch.manifest_is_current()


def test_transform_mode(dbt_project: Path, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    assert orch.transform_mode() == orch.DEFAULT_EXECUTION_MODE
    monkeypatch.setenv("TOWNSQUARE_DBT_EXECUTION_MODE", "Watcher")
    assert orch.transform_mode() == "build"  # no manifest yet
    assert "single `dbt build` task" in caplog.text
    _touch(dbt_project / "target" / "manifest.json", time.time())
    assert orch.transform_mode() == "watcher"
    monkeypatch.setenv("TOWNSQUARE_DBT_EXECUTION_MODE", "local")
    assert orch.transform_mode() == "local"
    monkeypatch.setenv("TOWNSQUARE_DBT_EXECUTION_MODE", "kubernetes")
    assert orch.transform_mode() == orch.DEFAULT_EXECUTION_MODE


def test_dbt_build_env_adds_the_projects_target_and_log_folders(
    dbt_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBT_EXCLUDE_RESOURCE_TYPES", raising=False)
    assert orch.dbt_build_env("/lake", "/wh/w.duckdb") == {
        "TOWNSQUARE_LAKE": "/lake",
        "TOWNSQUARE_WAREHOUSE": "/wh/w.duckdb",
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test",
        "DBT_TARGET_PATH": str(dbt_project / "target"),
        "DBT_LOG_PATH": str(dbt_project / "logs"),
    }


def test_build_operator_reads_the_paths_again_when_it_runs(
    config_env: Path, dbt_project: Path
) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    (dbt_project / "profiles.yml").write_text("townsquare: {target: dev, outputs: {}}\n")
    op = orch.dbt_build_operator(lake="/parsed/lake", warehouse="/parsed/wh.duckdb")
    assert op.env["TOWNSQUARE_LAKE"] == "/parsed/lake"
    config_env.write_text("lake: now/lake\nwarehouse: now/db/wh.duckdb\n")
    base = config_env.parent

    orch.use_runtime_paths({}, op)

    assert op.env["TOWNSQUARE_LAKE"] == str(base / "now" / "lake")
    assert op.env["TOWNSQUARE_WAREHOUSE"] == str(base / "now" / "db" / "wh.duckdb")
    assert (base / "now" / "db").is_dir()  # DuckDB does not create the folder
    config_env.write_text("warehouse: [not, a, path]\n")
    with pytest.raises(AirflowFailException, match=r"ConfigError: .*warehouse"):
        orch.use_runtime_paths({}, op)


def test_task_side_effects_undone_restores_the_environment_and_unfreezes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    monkeypatch.setenv("TS_KEPT", "1")
    monkeypatch.setenv("TS_CHANGED", "before")
    monkeypatch.delenv("TS_ADDED", raising=False)
    with orch.task_side_effects_undone():
        os.environ["TS_ADDED"] = "leak"
        os.environ["TS_CHANGED"] = "after"
        del os.environ["TS_KEPT"]
        orch.freeze_gc({}, None)
        assert gc.get_freeze_count() > 0
    assert "TS_ADDED" not in os.environ
    assert (os.environ["TS_CHANGED"], os.environ["TS_KEPT"]) == ("before", "1")
    assert gc.get_freeze_count() == 0


# -- embedded Airflow ---------------------------------------------------------------------------


def test_airflow_env_points_at_a_sqlite_db_in_home(tmp_path: Path) -> None:
    env = orch.airflow_env(tmp_path)
    assert env["AIRFLOW_HOME"] == str(tmp_path)
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path}/airflow.db"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(orch.dags_dir())
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False"
    assert env["DO_NOT_TRACK"] == "1"
    assert env["SCARF_ANALYTICS"] == "false"
    assert env["GX_ANALYTICS_ENABLED"] == "false"
    assert env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "false"
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in orch.airflow_env(tmp_path, sqlite=False)


def test_ensure_pool_creates_a_one_slot_pool_once(airflow_home: Path) -> None:
    from airflow.models.pool import Pool

    orch.ensure_pool()
    pool = Pool.get_pool(orch.POOL)
    assert pool is not None and pool.slots == 1
    Pool.create_or_update_pool(orch.POOL, 2, "widened by an operator", include_deferred=False)
    orch.ensure_pool()  # an existing pool is left as the operator set it
    assert Pool.get_pool(orch.POOL).slots == 2
    Pool.create_or_update_pool(orch.POOL, 1, orch.POOL_DESCRIPTION, include_deferred=False)


def test_ensure_airflow_db_is_a_fast_no_op_when_current(airflow_home: Path) -> None:
    started = time.monotonic()
    orch.ensure_airflow_db()
    assert time.monotonic() - started < 1.0


def test_run_all_needs_enabled_sources(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, "sources:\n  - {type: wxr, name: a, location: a.xml, enabled: false}\n"
    )
    with pytest.raises(ConfigError, match="no enabled sources to run"):
        orch.run_all(str(path))


# -- end to end: the real DAG, dag.test(), a tiny real WXR file ----------------------------------

TINY_WXR = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>Tiny Blog</title>
  <link>https://blog.example.org</link>
  <wp:wxr_version>1.2</wp:wxr_version>
  <wp:base_site_url>https://blog.example.org</wp:base_site_url>
  <wp:base_blog_url>https://blog.example.org</wp:base_blog_url>
  <item>
    <title>Hello Lumen</title>
    <link>https://blog.example.org/2024/03/hello-lumen/</link>
    <dc:creator>alice</dc:creator>
    <content:encoded><![CDATA[<p>First post.</p>]]></content:encoded>
    <wp:post_id>11</wp:post_id>
    <wp:post_date>2024-03-01 10:00:00</wp:post_date>
    <wp:post_date_gmt>2024-03-01 09:00:00</wp:post_date_gmt>
    <wp:post_name>hello-lumen</wp:post_name>
    <wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type>
    <wp:comment>
      <wp:comment_id>101</wp:comment_id>
      <wp:comment_author>Bob</wp:comment_author>
      <wp:comment_author_email>bob@example.com</wp:comment_author_email>
      <wp:comment_date>2024-03-02 11:00:00</wp:comment_date>
      <wp:comment_date_gmt>2024-03-02 10:00:00</wp:comment_date_gmt>
      <wp:comment_content><![CDATA[Nice post!]]></wp:comment_content>
      <wp:comment_approved>1</wp:comment_approved>
      <wp:comment_type>comment</wp:comment_type>
      <wp:comment_parent>0</wp:comment_parent>
    </wp:comment>
    <wp:comment>
      <wp:comment_id>102</wp:comment_id>
      <wp:comment_author>Other Site</wp:comment_author>
      <wp:comment_author_url>https://other.example.net/links/</wp:comment_author_url>
      <wp:comment_date>2024-03-03 12:00:00</wp:comment_date>
      <wp:comment_date_gmt>2024-03-03 11:00:00</wp:comment_date_gmt>
      <wp:comment_content><![CDATA[[...] a great read [...]]]></wp:comment_content>
      <wp:comment_approved>1</wp:comment_approved>
      <wp:comment_type>pingback</wp:comment_type>
      <wp:comment_parent>0</wp:comment_parent>
    </wp:comment>
  </item>
  <item>
    <title>Second</title>
    <link>https://blog.example.org/2024/04/second/</link>
    <dc:creator>alice</dc:creator>
    <content:encoded><![CDATA[<p>Two.</p>]]></content:encoded>
    <wp:post_id>12</wp:post_id>
    <wp:post_date>2024-04-01 10:00:00</wp:post_date>
    <wp:post_date_gmt>2024-04-01 09:00:00</wp:post_date_gmt>
    <wp:post_name>second</wp:post_name>
    <wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type>
  </item>
</channel>
</rss>
"""


@pytest.mark.e2e
def test_ingest_blog_dag_lands_a_wxr_file_and_emits_asset_events(
    airflow_home: Path, config_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (config_env.parent / "tiny.wxr.xml").write_text(TINY_WXR)
    config_env.write_text(
        "lake: lake\n"
        "defaults: {retries: 1, retry_delay_seconds: 1}\n"
        "sources:\n  - {type: wxr, name: tiny-blog, location: tiny.wxr.xml}\n"
    )
    monkeypatch.chdir(airflow_home)  # the task must not depend on the working directory
    orch.ensure_pool()
    dags = orch.load_dags()
    started = time.monotonic()
    run = orch.run_dag(dags["ingest_blog"], say=lambda _m: None)
    print(f"\ningest_blog dag.test(): {time.monotonic() - started:.1f}s")

    assert run["state"] == "success"
    assert run["tasks"] == {"ingest[0]": "success", "list_sources": "success"}
    by_asset = {e["asset"]: e for e in run["asset_events"]}
    assert set(by_asset) == {"raw_blog_posts", "raw_blog_comments", "raw_trackbacks"}
    assert by_asset["raw_blog_posts"]["rows"] == 2
    assert by_asset["raw_blog_comments"]["rows"] == 2  # the comment and the pingback
    assert by_asset["raw_trackbacks"]["rows"] == 1
    assert all(e["source"] == "tiny-blog" and e["quarantined"] == 0 for e in by_asset.values())
    lake = config_env.parent / "lake" / "raw"
    for entity in ("blog_posts", "blog_comments", "trackbacks"):
        files = list((lake / entity / "source=tiny-blog").rglob("*.parquet"))
        assert len(files) == by_asset[f"raw_{entity}"]["files"] == 1


@pytest.mark.e2e
def test_ingest_blog_dag_fails_without_retrying_on_a_broken_config(
    airflow_home: Path, config_env: Path
) -> None:
    config_env.write_text(
        "defaults: {retries: 3, retry_delay_seconds: 300}\n"
        "sources:\n  - {type: wxr, name: tiny-blog, location: tiny.wxr.xml}\n"
    )
    dags = orch.load_dags()  # parsed with retries 3 and a 5-minute delay
    config_env.write_text("sources: {not: a list}\n")
    started = time.monotonic()
    with pytest.raises(
        RuntimeError,
        match=r"DAG ingest_blog ended failed \(failed: list_sources; upstream_failed: ingest\)",
    ):
        orch.run_dag(dags["ingest_blog"], say=lambda _m: None)
    assert time.monotonic() - started < 60  # failed at once, no 5-minute retry wait


@pytest.mark.e2e
def test_transform_dag_fails_without_retrying_on_a_broken_config(
    airflow_home: Path, config_env: Path
) -> None:
    config_env.write_text("defaults: {retries: 3, retry_delay_seconds: 300}\n")
    dags = orch.load_dags()  # parsed with retries 3 and a 5-minute delay
    config_env.write_text("lake: [not, a, path]\n")
    started = time.monotonic()
    with pytest.raises(
        RuntimeError,
        match=r"DAG transform ended failed \(failed: dbt; upstream_failed: check_marts, "
        r"dashboard, dbt_docs, publish\)",
    ):
        orch.run_dag(dags["transform"], say=lambda _m: None)
    assert time.monotonic() - started < 60  # Cosmos' task failed at once, no retry wait


@pytest.fixture
def dbt_project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """dbt_project/ without target/ (so no manifest): this test's dbt writes only here."""
    from townsquare.paths import dbt_project_dir

    project = tmp_path / "dbt_project"
    shutil.copytree(dbt_project_dir(), project, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.setenv("TOWNSQUARE_DBT_PROJECT_DIR", str(project))
    return project


_NETWORK: list[list[str]] = []
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "", socket.gethostname()}


def _audit(event: str, args: tuple) -> None:
    """Record every attempt to resolve or reach a host that is not this machine."""
    if not _NETWORK:
        return
    host = None
    if event == "socket.getaddrinfo":
        host = args[0]
    elif event == "socket.connect" and isinstance(args[1], tuple):
        host = args[1][0]
    if host is not None:
        host = host.decode() if isinstance(host, bytes) else str(host)
        if host not in LOCAL_HOSTS:
            _NETWORK[-1].append(f"{event} {host}")


@pytest.fixture(scope="session")
def _audit_hook() -> None:
    sys.addaudithook(_audit)  # hooks cannot be removed: it records only while a test asks


@pytest.fixture
def network_attempts(_audit_hook: None) -> Iterator[list[str]]:
    """Hosts the code under test tried to resolve or connect to (observed, not blocked)."""
    attempts: list[str] = []
    _NETWORK.append(attempts)
    try:
        yield attempts
    finally:
        _NETWORK.remove(attempts)


@pytest.mark.e2e
def test_run_all_runs_ingest_then_transform_and_keeps_stdout_clean(
    airflow_home: Path,
    config_env: Path,
    dbt_project_copy: Path,
    network_attempts: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture,
) -> None:
    import gc

    (config_env.parent / "tiny.wxr.xml").write_text(TINY_WXR)
    config_env.write_text(
        "lake: lake\nwarehouse: wh/wh.duckdb\n"
        "defaults: {retries: 1, retry_delay_seconds: 1}\n"
        "sources:\n  - {type: wxr, name: tiny-blog, location: tiny.wxr.xml}\n"
    )
    monkeypatch.setenv("TOWNSQUARE_DBT_EXECUTION_MODE", "build")
    messages: list[str] = []
    started = time.monotonic()
    summary = orch.run_all(str(config_env), progress=messages.append)
    print(f"\nrun_all on a tiny WXR: {time.monotonic() - started:.1f}s", file=sys.stderr)

    out, err = capfd.readouterr()
    assert out == ""  # Airflow's console logging went to stderr
    assert "Finished running" not in err  # dbt is quiet in townsquare run
    assert summary["lake"] == str(config_env.parent / "lake")
    assert summary["warehouse"] == str(config_env.parent / "wh" / "wh.duckdb")
    assert list(summary["dags"]) == ["ingest_blog", "transform"]
    assert summary["dags"]["ingest_blog"]["state"] == "success"
    assert summary["dags"]["transform"]["tasks"] == {
        "dbt": "success",
        "dbt_docs": "success",
        "check_marts": "success",
        "publish": "success",
        "dashboard": "success",
    }
    # published beside the warehouse: snapshot, Parquet, docs and the dashboard
    published = config_env.parent / "wh" / "published"
    assert (published / "townsquare.duckdb").exists()
    assert (published / "parquet" / "fct_activities.parquet").exists()
    assert (published / "docs" / "index.html").exists()
    assert "townsquare-data" in (published / "dashboard.html").read_text()
    assert "  tiny-blog: raw_blog_posts: 2 rows, 0 quarantined" in messages
    import duckdb

    with duckdb.connect(summary["warehouse"], read_only=True) as con:
        posts = con.execute("select count(*) from staging.stg_blog__posts").fetchone()
    assert posts == (2,)
    # Cosmos' dbt build wrote the manifest the per-model modes render from
    assert (dbt_project_copy / "target" / "manifest.json").exists()
    # nothing the in-process tasks set is left behind (Cosmos copies dbt's env into os.environ)
    for name in (
        "TOWNSQUARE_LAKE",
        "TOWNSQUARE_WAREHOUSE",
        "DBT_TARGET_PATH",
        "AIRFLOW_CTX_DAG_ID",
    ):
        assert name not in os.environ, name
    assert gc.get_freeze_count() == 0
    # a second run parses partially from what the first saved, whose paths led into Cosmos'
    # temporary copy of the project (gone): every seed failed to load before the repair
    again = orch.run_all(str(config_env), progress=messages.append)
    assert again["dags"]["transform"]["tasks"]["dbt"] == "success"
    assert network_attempts == []  # no telemetry from Airflow, Cosmos, dbt or GX
