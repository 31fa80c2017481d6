"""Where the project's folders are, for an editable install, a checkout or a container."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The repository root (plugins/townsquare/../..), or $TOWNSQUARE_PROJECT_ROOT."""
    env = os.environ.get("TOWNSQUARE_PROJECT_ROOT")
    return Path(env).resolve() if env else PACKAGE_DIR.parent.parent


def dbt_project_dir() -> Path:
    env = os.environ.get("TOWNSQUARE_DBT_PROJECT_DIR")
    return Path(env).resolve() if env else project_root() / "dbt_project"


def expectations_dir() -> Path:
    env = os.environ.get("TOWNSQUARE_EXPECTATIONS_DIR")
    return Path(env).resolve() if env else project_root() / "expectations"


def samples_dir() -> Path:
    return PACKAGE_DIR / "samples"


UNIT_TESTS_SKIPPED = "unit_test"
"""What ``DBT_EXCLUDE_RESOURCE_TYPES`` is unless the environment sets it: the builds the CLI,
the DAGs and the bench run skip dbt's unit tests, as dbt advises for production (their
inputs are fixed rows, not the data; the test suite runs them, ``tests/dbt``). Set it
empty to run them too."""


def dbt_env(lake: str, warehouse: str) -> dict[str, str]:
    """Environment variables dbt's profile and sources read, and the resource types a build
    skips (``UNIT_TESTS_SKIPPED``)."""
    return {
        "TOWNSQUARE_LAKE": lake,
        "TOWNSQUARE_WAREHOUSE": warehouse,
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_EXCLUDE_RESOURCE_TYPES": os.environ.get(
            "DBT_EXCLUDE_RESOURCE_TYPES", UNIT_TESTS_SKIPPED
        ),
    }
