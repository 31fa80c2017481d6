"""Fixtures of the dashboard tests: the tiny snapshot (see tiny_snapshot.py) and its page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tiny_snapshot import build_snapshot

from townsquare.dashboard import DashboardResult, render_dashboard


@pytest.fixture(scope="session")
def tiny_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny snapshot (shared: do not modify it)."""
    return build_snapshot(tmp_path_factory.mktemp("snapshot") / "townsquare.duckdb")


@pytest.fixture
def make_snapshot(tmp_path: Path) -> Callable[..., Path]:
    """Build a variant of the tiny snapshot: ``make_snapshot(drop=["fct_leads"])``."""

    def make(**options: Any) -> Path:
        return build_snapshot(tmp_path / "variant.duckdb", **options)

    return make


@pytest.fixture(scope="session")
def tiny_dashboard(
    tiny_snapshot: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, DashboardResult]:
    """The tiny snapshot rendered once: (html path, result)."""
    out = tmp_path_factory.mktemp("dashboard") / "site" / "dashboard.html"
    return out, render_dashboard(tiny_snapshot, out)
