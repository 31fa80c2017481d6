"""``townsquare bench``: every step really runs, in child processes, on a tiny community.

- the whole suite (Perceval left out) at scale 0.002: ingest counts equal the synth
  manifest's, git alone reads as many commits, the incremental build runs after the delta day, the Cosmos and plain
  builds both run, the synth output stays as made (the delta is applied to a copy) and
  is reused by a second run;
- Perceval in its own venv on the same mbox folder and git repository yields as many
  items as the Townsquare connectors land;
- the targets' arithmetic on figures small enough to check by hand.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from townsquare.bench import BenchResult, StepResult, perceval, run_bench
from townsquare.bench.report import render_markdown, targets
from townsquare.synth import generate, read_manifest

SCALE = 0.002
# the whole bench runs about 30 child processes (each imports GX or dbt): minutes, not seconds
pytestmark = pytest.mark.timeout(1800)


def _commits(repo: Path) -> int:
    out = subprocess.run(
        ["git", "--git-dir", str(repo), "rev-list", "--all", "--count"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[BenchResult, Path, list[str]]:
    out = tmp_path_factory.mktemp("bench")
    said: list[str] = []
    result = run_bench(SCALE, out, seed=7, skip=("perceval",), progress=said.append)
    return result, out, said


def test_every_step_runs_and_lands_what_synth_wrote(bench) -> None:
    result, out, said = bench
    manifest = read_manifest(out / "synth")
    names = [s.name for s in result.steps]
    assert names[0] == "synth"
    for spec in manifest["sources"].values():
        ingest = result.step(f"ingest:{spec['name']}")
        assert ingest is not None, spec["name"]
        assert ingest.extra["entities"] == spec["base"]["rows"]
        assert ingest.items == sum(spec["base"]["rows"].values())
        assert ingest.extra["quarantined"] == 0
        delta = result.step(f"delta:{spec['name']}")
        assert delta is not None and delta.extra["entities"] == spec["delta"]["rows"]
        limit = result.step(f"landing_limit:{spec['name']}")
        assert limit is not None and limit.items == ingest.items
    git = manifest["sources"]["git"]
    ceiling = result.step(f"git_log:{git['name']}")  # git alone, on the same repository
    assert ceiling is not None and ceiling.items == git["base"]["rows"]["repo_commits"]
    for name in ("dbt:full", "dbt:plain", "dbt:cosmos", "dbt:incremental"):
        step = result.step(name)
        assert step is not None and step.seconds > 0 and step.peak_rss_mib > 50, name
    for name in ("dbt:full", "dbt:incremental"):
        kinds = result.step(name).extra["node_seconds"]
        assert kinds["model"] > 0 and kinds["test"] > 0, kinds
        assert "unit_test" not in kinds, kinds  # production builds skip them (paths.dbt_env)
    # the same project both ways: every node of the plain build ran in the incremental one
    assert result.step("dbt:full").items == result.step("dbt:incremental").items > 100
    assert result.skipped == {"perceval": "--skip perceval"}
    assert any("records read" in s or s.startswith("bench: ingest:") for s in said)


def test_results_are_written_and_agree_with_the_steps(bench) -> None:
    result, out, _ = bench
    data = json.loads((out / "bench.json").read_text())
    assert data["scale"] == SCALE and data["machine"]["cpus"] >= 1
    by_name = {s["name"]: s for s in data["steps"]}
    full, inc = by_name["dbt:full"], by_name["dbt:incremental"]
    share = next(t for t in data["targets"] if t["unit"] == "share")
    assert share["measured"] == pytest.approx(inc["seconds"] / full["seconds"])
    cosmos = next(t for t in data["targets"] if "Cosmos" in t["target"])
    assert cosmos["measured"] == pytest.approx(
        by_name["dbt:cosmos"]["wall_seconds"] / by_name["dbt:plain"]["wall_seconds"]
    )
    md = (out / "bench.md").read_text()
    assert md == render_markdown(result)
    assert "| dbt:incremental |" in md and "## Targets" in md
    assert "ingest mbox: at least 5x Perceval's items/s | not measured | n/a" in md


def test_synth_output_is_left_as_made_and_reused(bench) -> None:
    _, out, _ = bench
    manifest = read_manifest(out / "synth")
    base_commits = manifest["sources"]["git"]["base"]["rows"]["repo_commits"]
    # the delta day went into the run's copy, not into OUT/synth
    assert _commits(out / "synth" / "git" / "borealis.git") == base_commits
    run_copy = out / "run" / "src" / "git" / "borealis.git"
    assert _commits(run_copy) == base_commits + manifest["sources"]["git"]["new"]["repo_commits"]
    again = run_bench(SCALE, out, seed=7, skip=("perceval", "dbt", "landing_limit"))
    assert "synth" in again.skipped and again.step("synth") is None
    assert again.step("ingest:synth-git").items == base_commits


def test_perceval_reads_the_same_mbox_and_git(tmp_path: Path) -> None:
    synth = tmp_path / "synth"
    generate(0.001, synth, seed=3)
    manifest = read_manifest(synth)
    python = perceval.ensure_venv(perceval.default_venv())
    mail = perceval.run(python, "mbox", str(synth / "mail"), tmp_path / "pm")
    assert mail["items"] == manifest["sources"]["mail"]["base"]["rows"]["mail_messages"] > 0
    git = perceval.run(python, "git", str(synth / "git" / "borealis.git"), tmp_path / "pg")
    assert git["items"] == manifest["sources"]["git"]["base"]["rows"]["repo_commits"] > 0
    assert git["seconds"] > 0 and git["peak_rss_mib"] > 10


def _step(name: str, seconds: float, items: int | None = None, rss: float = 100.0, wall=None):
    return StepResult(name, seconds, wall or seconds, rss, items)


def test_targets_by_hand() -> None:
    result = BenchResult(scale=10, seed=1, out="x", started="t", machine={"cpus": 2})
    result.steps = [
        _step("ingest:synth-mail", 10.0, 100_000),  # 10,000/s
        _step("perceval:mbox", 50.0, 100_000),  # 2,000/s -> 5.0x: met (at least 5x)
        _step("ingest:synth-git", 20.0, 40_000),  # 2,000/s
        _step("perceval:git", 40.0, 40_000),  # 1,000/s -> 2.0x: missed
        _step("git_log:synth-git", 10.0, 40_000),  # git alone 4,000/s: 4.0x Perceval
        StepResult(
            "dbt:full",
            600.0,
            600.0,
            1900.0,
            500,
            extra={
                "node_seconds": {"model": 900.0, "test": 250.5, "unit_test": 3.0},
                "slowest_nodes": [["int_activities", 120.0], ["int_identities", 80.25]],
            },
        ),
        _step("dbt:incremental", 66.0, 500),  # 11%: missed
        _step("dbt:plain", 100.0, 500, wall=110.0),
        _step("dbt:cosmos", 120.0, 1, wall=143.0, rss=2100.0),  # 1.3x: met; 2,100 MiB: missed
        _step("perceval:git-huge", 1.0, 1, rss=9000.0),  # Perceval's memory is not ours
    ]
    got = {t["target"].split(":")[0]: (t["measured"], t["met"]) for t in targets(result)}
    assert got["ingest mbox"] == (pytest.approx(5.0), True)
    assert got["ingest git"] == (pytest.approx(2.0), False)
    assert got["incremental build (1% new data)"] == (pytest.approx(0.11), False)
    assert got["transform DAG through Cosmos"] == (pytest.approx(1.3), True)
    peak = next(t for t in targets(result) if t["unit"] == "MiB")
    assert (peak["measured"], peak["met"]) == (2100.0, False)
    assert "dbt:cosmos" in peak["target"]
    md = render_markdown(result)
    assert "| mbox | 10,000 | 2,000 | 5.0x |" in md
    assert "| 11.0% | **no** |" in md
    assert (
        "| dbt:full | 600.0 | 900.0 | 250.5 | 3.0 | n/a | int_activities 120.0, "
        "int_identities 80.2 |" in md
    )
    assert "two processes a batch), writes 4.00x Perceval's items/s" in md
    assert "writes 4,000 commits/s; Townsquare's git ingest runs at 50% of that." in md
