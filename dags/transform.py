"""Airflow DAG ``transform``: dbt over the lake (through Cosmos), the dbt docs, the mart
checks, publishing (read-only snapshot + Parquet + docs, one atomic flip) and the dashboard.

Scheduled on the raw-entity assets: any landing (``ingest_*`` DAGs) triggers it.
dbt runs through astronomer-cosmos, as chosen by ``$TOWNSQUARE_DBT_EXECUTION_MODE``
(see docs/airflow.md): ``build`` (default) is one Cosmos ``DbtBuildLocalOperator`` task
running ``dbt build``; ``watcher``/``local`` render one task per dbt node with Cosmos
from ``dbt_project/target/manifest.json``. Every task that touches the DuckDB
warehouse runs in the one-slot ``duckdb_writer`` pool. dbt and Great Expectations are
imported inside the tasks only. A failed build or check stops the run before ``publish``:
BI readers keep the previous release and the previous dashboard.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import AssetAny, dag, task

from townsquare import orchestration as orch
from townsquare.config import lake_and_warehouse

settings = orch.dag_settings()
mode = orch.transform_mode()


@dag(
    dag_id=orch.TRANSFORM_DAG_ID,
    schedule=AssetAny(*orch.all_raw_assets()),
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=settings.default_args(),
    tags=[*orch.TAGS, "transform", "dbt"],
    doc_md=__doc__,
)
def transform() -> None:
    lake, warehouse = lake_and_warehouse(orch.parse_time_config())
    if mode == "build":
        dbt = orch.dbt_build_operator(lake=lake, warehouse=warehouse)
    else:
        dbt = orch.dbt_task_group(
            mode=mode, lake=lake, warehouse=warehouse, default_args=settings.default_args()
        )

    @task(pool=orch.POOL)
    def dbt_docs() -> str:
        """``dbt docs generate --static``: the page published beside the dashboard."""
        with orch.fail_fast():
            return orch.generate_docs()

    @task(pool=orch.POOL)
    def check_marts() -> dict[str, Any]:
        """Great Expectations suites on the marts; a failure stops publishing."""
        with orch.fail_fast():
            return orch.check_marts(orch.runtime_paths()[1])

    @task(pool=orch.POOL)
    def publish(docs_file: str, checks: dict[str, Any]) -> dict[str, Any]:
        """The checked marts as a new release: snapshot, Parquet, docs; then the flip."""
        with orch.fail_fast():
            return orch.publish_marts(docs_file, checks["fingerprints"])

    @task
    def dashboard(release: dict[str, Any]) -> str:
        """The executive dashboard, rendered from the release just published."""
        with orch.fail_fast():
            return orch.render_dashboard()

    docs = dbt_docs()
    checked = check_marts()
    released = publish(docs, checked)
    dbt >> docs >> checked >> released
    dashboard(released)


transform()
