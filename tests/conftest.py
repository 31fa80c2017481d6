"""Shared test setup: one embedded Airflow home per pytest process.

The Airflow environment (``orchestration.airflow_env``: SQLite metadata DB, our DAGs
folder, telemetry off) is set when this file is imported, before any test module can
import Airflow, so nothing ever reads or creates ``~/airflow``. Tests run with
``pytest -n 2 --dist loadfile``: every process (each xdist worker, and the controller)
gets its own folder from ``tempfile.mkdtemp``, named after the worker, so two workers
never share a SQLite file. The folder is removed at the end, unless a session that
used it failed: then it is kept, with the task logs.

Airflow itself is only imported by the ``airflow_home`` fixture, which the modules
that need the metadata DB request; other modules do not pay for it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from townsquare import orchestration as orch

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix=f"townsquare-airflow-{WORKER}-")).resolve()
os.environ.update(orch.airflow_env(AIRFLOW_HOME))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    used = (AIRFLOW_HOME / "airflow.db").exists()
    if exitstatus == 0 or not used:  # e.g. the xdist controller, which runs no test
        shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)
    else:
        print(f"\nAirflow home (task logs) kept: {AIRFLOW_HOME}")


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    """This process's Airflow home, with a migrated SQLite metadata DB (once per process)."""
    orch.configure_airflow(AIRFLOW_HOME)
    started = time.monotonic()
    orch.ensure_airflow_db()
    print(f"\nairflow metadata DB ready in {AIRFLOW_HOME} in {time.monotonic() - started:.2f}s")
    return AIRFLOW_HOME
