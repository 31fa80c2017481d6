"""Airflow DAG ``ingest_blog``: land every enabled blog source (WXR, WordPress REST, feeds).

Thin on purpose: the logic is in ``townsquare.orchestration`` (unit-tested). At parse
time this file only reads the schedule and retry policy from townsquare.yml (cached;
a missing file means the defaults). One mapped ``ingest`` task per source; each emits
an event on the raw-entity assets with its row counts, which schedules ``transform``.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import dag, get_current_context, task

from townsquare import orchestration as orch

FAMILY = "blog"
settings = orch.dag_settings(FAMILY)


@dag(
    dag_id=orch.ingest_dag_id(FAMILY),
    schedule=settings.schedule,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=settings.default_args(),
    tags=[*orch.TAGS, "ingest", FAMILY],
    doc_md=__doc__,
)
def ingest_blog() -> None:
    @task
    def list_sources() -> list[dict[str, Any]]:
        """Enabled blog sources from townsquare.yml, read when the run starts."""
        with orch.fail_fast():
            return orch.list_sources(FAMILY)

    @task(outlets=orch.family_assets(FAMILY), map_index_template="{{ source_name }}")
    def ingest(source: dict[str, Any], outlet_events: Any = None) -> dict[str, Any]:
        """Land one source; attach its row counts to the raw-entity asset events."""
        context = get_current_context()
        context["source_name"] = source["name"]  # type: ignore[typeddict-unknown-key]
        with orch.fail_fast():
            result = orch.ingest(
                source,
                context={
                    "airflow_dag_id": context["dag"].dag_id,
                    "airflow_run_id": context["run_id"],
                    "airflow_map_index": context["ti"].map_index,
                },
            )
        orch.emit_asset_events(outlet_events, orch.asset_extras(result, FAMILY))
        return result

    ingest.expand(source=list_sources())


ingest_blog()
