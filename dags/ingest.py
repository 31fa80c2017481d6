"""Airflow DAGs ``ingest_<family>``: land every enabled source of one family.

One DAG per source family in ``townsquare.orchestration.FAMILY_ENTITIES``:
``ingest_blog`` (WXR, WordPress REST, feeds), ``ingest_forum`` (Discourse, mbox,
Pipermail), ``ingest_repo`` (git, GitHub, GH Archive) and ``ingest_commercial`` (CRM/billing
exports). Thin on purpose: the logic is in ``townsquare.orchestration``
(unit-tested). At parse time this file only reads each family's schedule and the retry
policy from townsquare.yml (cached; a missing file means the defaults). One mapped
``ingest`` task per configured source; each emits an event on its family's raw-entity
assets with its row counts, which schedules ``transform``.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, dag, get_current_context, task

from townsquare import orchestration as orch

FAMILY_DOCS = {
    "blog": "Blog sources: WordPress WXR exports, the WordPress REST API, RSS/Atom feeds.",
    "forum": "Forum sources: Discourse sites, mbox files and Pipermail (Mailman 2) archives.",
    "repo": "Repository sources: git repositories, the GitHub REST API, GH Archive files.",
    "commercial": "Commercial sources: CRM/billing exports (accounts and subscriptions, CSV "
    "or Parquet).",
}


def ingest_dag(family: str) -> DAG:
    settings = orch.dag_settings(family)

    @dag(
        dag_id=orch.ingest_dag_id(family),
        schedule=settings.schedule,
        start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        default_args=settings.default_args(),
        tags=[*orch.TAGS, "ingest", family],
        doc_md=f"{FAMILY_DOCS.get(family, family)}\n\n{__doc__}",
    )
    def ingest_family() -> None:
        @task
        def list_sources() -> list[dict[str, Any]]:
            """Enabled sources of this family from townsquare.yml, read when the run starts."""
            with orch.fail_fast():
                return orch.list_sources(family)

        @task(outlets=orch.family_assets(family), map_index_template="{{ source_name }}")
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
            orch.emit_asset_events(outlet_events, orch.asset_extras(result, family))
            return result

        ingest.expand(source=list_sources())

    return ingest_family()


for _family in orch.FAMILY_ENTITIES:
    globals()[orch.ingest_dag_id(_family)] = ingest_dag(_family)
