"""``townsquare.synth``: the synthetic community lands through the real connectors.

Small scales only (0.002: about two thousand rows); the module's generations are shared
through fixtures. Checks: byte-identical output for a seed, linear volumes, every source
landing with exactly the manifest's counts and nothing quarantined, the delta on top
with no duplicate keys, and the community's shape (heavy tail, several channels, bots,
conversion).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from townsquare.pipeline import ingest_source
from townsquare.schemas import ENTITIES
from townsquare.synth import apply_delta, generate, population, read_manifest, serve, source_configs

SCALE = 0.002
LINEAR = ("blog", "forum", "mail", "git", "github", "gharchive")  # feeds and CRM are tiny by design


def _tree_digest(root: Path) -> dict[str, str]:
    """SHA-256 per file, git objects left out (their packing may differ; SHAs are compared)."""
    out = {}
    for dirpath, dirnames, names in os.walk(root):
        dirnames.sort()
        if "borealis.git" in Path(dirpath).parts:
            continue
        for name in sorted(names):
            path = Path(dirpath, name)
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _commits(root: Path) -> list[str]:
    proc = subprocess.run(
        ["git", "-C", str(root / "git" / "borealis.git"), "rev-list", "--all"],
        capture_output=True,
        check=True,
        text=True,
    )
    return sorted(proc.stdout.split())


def _base_rows(manifest: dict, keys: tuple[str, ...] = LINEAR) -> int:
    return sum(sum(manifest["sources"][k]["base"]["rows"].values()) for k in keys)


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "out"
    generate(SCALE, out, seed=42)
    return out


def test_population_shape_at_scale_one() -> None:
    pop = population.build(1.0, 7)
    stats = pop.stats()
    assert stats["population"] == population.PEOPLE_PER_SCALE
    assert stats["organizations"] == population.PEOPLE_PER_SCALE // 10
    # about one business organization in a hundred converts
    assert 0.008 <= stats["conversion_rate"] <= 0.012
    assert stats["converting_organizations"] >= 30
    # a few business users per organization
    assert 2 <= stats["business_users"] / stats["organizations"] <= 6
    # people in several channels, with different identities per channel
    multi = [p for p in pop.people if p.channels.bit_count() > 1]
    assert 0.15 <= len(multi) / len(pop.people) <= 0.5
    repo_forum = [
        p for p in pop.people if p.channels & population.FORUM and p.channels & population.REPO
    ]
    shared = sum(p.forum_username == p.login for p in repo_forum)
    assert 0.2 <= shared / len(repo_forum) <= 0.7
    assert any("+" in p.mail_from.partition("@")[0] for p in pop.people)
    assert any(p.mail_from != p.mail_from.lower() for p in pop.people)
    assert any(e.endswith("@users.noreply.github.com") for p in pop.people for e in p.git_emails)
    domains = {a.rpartition("@")[2].lower() for p in pop.people for a in (p.personal, p.work) if a}
    domains.discard(population.NOREPLY_DOMAIN)
    assert all(d.endswith((".example", ".test")) for d in domains)
    # heavy-tailed weights: the top 10% hold most of the weight
    weights = sorted((p.weight for p in pop.people if not p.staff), reverse=True)
    assert sum(weights[: len(weights) // 10]) / sum(weights) > 0.5
    # unique logins and GitHub ids
    assert len({p.login for p in pop.people}) == len(pop.people)
    assert len({p.gh_id for p in pop.people}) == len(pop.people)


def test_deterministic_for_a_seed(synth: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(SCALE, again, seed=42)
    assert _tree_digest(again) == _tree_digest(synth)
    assert _commits(again) == _commits(synth)
    other = tmp_path / "other"
    generate(SCALE, other, seed=43)
    assert _tree_digest(other) != _tree_digest(synth)
    assert set(_commits(other)).isdisjoint(_commits(synth))
    # an earlier synth output is replaced; other folders are never overwritten
    generate(SCALE, other, seed=42)
    assert _tree_digest(other) == _tree_digest(synth)
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        generate(SCALE, stranger, seed=42)


def test_git_history_written_by_several_fast_import_processes_is_the_same(
    synth: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fast-import restarted every 40 commits (every 150,000 in production): the same
    commits, refs and files (GH Archive pushes carry the SHAs), more than one pack."""
    import townsquare.synth.git as synth_git

    monkeypatch.setattr(synth_git, "IMPORT_COMMITS", 40)
    sliced = tmp_path / "sliced"
    generate(SCALE, sliced, seed=42)
    assert _tree_digest(sliced) == _tree_digest(synth)
    assert _commits(sliced) == _commits(synth)

    def refs(root: Path) -> str:
        return subprocess.run(
            ["git", "-C", str(root / "git" / "borealis.git"), "show-ref"],
            capture_output=True, check=True, text=True,
        ).stdout  # fmt: skip

    assert refs(sliced) == refs(synth)
    packs = list((sliced / "git" / "borealis.git" / "objects" / "pack").glob("*.pack"))
    commits = len(_commits(synth))
    assert commits > 80 and len(packs) >= commits // 40 - 1


def test_volumes_are_linear(synth: Path, tmp_path: Path) -> None:
    small = read_manifest(synth)
    double = generate(SCALE * 2, tmp_path / "double", seed=42)
    ratio = _base_rows(read_manifest(tmp_path / "double")) / _base_rows(small)
    assert 1.7 <= ratio <= 2.3, ratio
    assert double.base_rows > 0
    # the delta is about 1% of the base's new volume
    new = sum(sum(s["new"].values()) for s in small["sources"].values())
    assert 0.003 <= new / small["totals"]["base_rows"] <= 0.05


def test_shape(synth: Path) -> None:
    manifest = read_manifest(synth)
    people = manifest["people"]
    assert people["top_10pct_share"] > 0.5
    assert 0.1 <= people["multi_channel_share"] <= 0.5
    assert manifest["span"]["base_start"] == "2021-01-01T00:00:00Z"
    assert manifest["span"]["delta_start"] > manifest["span"]["base_end"]
    log = subprocess.run(
        [
            "git",
            "-C",
            str(synth / "git" / "borealis.git"),
            "log",
            "--all",
            "--format=%an <%ae>%n%b",
        ],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    assert "dependabot[bot]" in log and "github-actions[bot]" in log
    assert "Co-authored-by:" in log
    assert "@users.noreply.github.com>" in log
    mbox = (synth / "mail" / "borealis-users.mbox").read_bytes()
    assert b"\nIn-Reply-To: <" in mbox and b"\nReferences: <" in mbox
    assert b"=?utf-8?" in mbox or any(b > 127 for b in mbox[:200_000])
    assert b"multipart/" in mbox
    crm = manifest["sources"]["crm"]["extra"]
    assert crm["customers_from_community"] >= 1 and crm["customers_never_seen"] >= 1


def _keys(lake: str, entity: str, source: str) -> tuple[int, int]:
    """Rows and distinct natural keys of ``entity`` landed by ``source``."""
    pattern = str(Path(lake, "raw", entity, f"source={source}", "*", "*.parquet"))
    with duckdb.connect() as con:
        if not con.execute("select count(*) from glob(?)", [pattern]).fetchone()[0]:
            return 0, 0
        key = ", ".join(ENTITIES[entity].key)
        rows, distinct = con.execute(
            f"select count(*), count(distinct ({key})) from read_parquet(?)", [pattern]
        ).fetchone()
    return int(rows), int(distinct)


def test_lands_base_then_delta_through_the_connectors(synth: Path, tmp_path: Path) -> None:
    out = tmp_path / "landing"
    shutil.copytree(synth, out, symlinks=True)
    lake = str(tmp_path / "lake")
    manifest = read_manifest(out)
    for phase in ("base", "delta"):
        if phase == "delta":
            done = apply_delta(out)
            assert (
                done["git_commits"] == manifest["sources"]["git"]["delta"]["rows"]["repo_commits"]
            )
            assert apply_delta(out)["git_commits"] == 0  # idempotent
        # GitHub's listings 7 records a page: every listing is read through its Link pages
        with serve(out, page_size=7) as urls:
            configs = source_configs(out, phase, urls)
            assert {c.name for c in configs} == {s["name"] for s in manifest["sources"].values()}
            for config in configs:
                key = config.name.removeprefix("synth-")
                result = ingest_source(config, lake=lake, credentials={})
                expected = manifest["sources"][key][phase]["rows"]
                landed = {e: r.rows for e, r in result.entities.items()}
                quarantined = {
                    e: r.quarantined for e, r in result.entities.items() if r.quarantined
                }
                assert quarantined == {}, (phase, key, quarantined)
                assert {e: landed.get(e, 0) for e in expected} == expected, (phase, key)
    # No duplicates: the keys in the lake are the base's plus the delta's new ones.
    for key, spec in manifest["sources"].items():
        for entity, base_rows in spec["base"]["rows"].items():
            rows, distinct = _keys(lake, entity, spec["name"])
            assert distinct == base_rows + spec["new"][entity], (key, entity)
            assert rows == base_rows + spec["delta"]["rows"][entity], (key, entity)


def test_manifest_describes_every_source(synth: Path) -> None:
    manifest = json.loads((synth / "manifest.json").read_text())
    assert manifest["scale"] == SCALE and manifest["seed"] == 42
    types = {k: s["type"] for k, s in manifest["sources"].items()}
    assert types == {
        "blog": "wxr", "community": "feed", "forum": "discourse", "mail": "mbox", "git": "git",
        "github": "github", "gharchive": "gharchive", "crm": "crm",
    }  # fmt: skip
    for spec in manifest["sources"].values():
        if "serve" in spec:
            assert (synth / spec["serve"]).is_dir()
        else:
            assert (synth / spec["base"]["location"]).exists()
            assert (synth / spec["delta"]["location"]).exists()
    assert manifest["totals"]["base_rows"] == sum(
        sum(s["base"]["rows"].values()) for s in manifest["sources"].values()
    )
    hours = sorted(p.name for p in (synth / "gharchive").iterdir())
    assert hours and all(h.endswith(".json.gz") for h in hours)
    assert all(p.name.startswith("2026-01-01-") for p in (synth / "delta" / "gharchive").iterdir())


def test_cli_synth(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from townsquare.cli import main

    out = tmp_path / "cli"
    result = CliRunner().invoke(main, ["synth", "--scale", "0.001", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["base_rows"] == read_manifest(out)["totals"]["base_rows"] > 0
    assert set(summary["sources"]) == set(read_manifest(out)["sources"])
    text = CliRunner().invoke(main, ["synth", "--scale", "0.001", "--out", str(out)])
    assert text.exit_code == 0 and "gharchive" in text.output
    bad = CliRunner().invoke(main, ["synth", "--scale", "0", "--out", str(out)])
    assert bad.exit_code == 1


def test_synth_mail_is_read_without_the_email_package(synth: Path) -> None:
    """Every synth message (multipart ones too) takes the mail fast path, which must give
    the email package's body text (see tests/connectors/test_mail_bodies.py)."""
    from email.parser import BytesParser
    from email.policy import compat32

    from townsquare.mail import _COMPLEX, MboxSplitter, body_text, simple_body, split_simple

    parser = BytesParser(policy=compat32)
    multipart = 0
    for path in sorted((synth / "mail").glob("*.mbox")):
        with path.open("rb") as fh:
            for raw in MboxSplitter(fh, str(path)):
                simple = split_simple(raw.data)
                assert simple is not None, raw.start
                fast = simple_body(simple[1], simple[2])
                assert fast is not _COMPLEX, raw.data[:400]
                assert fast == body_text(parser.parsebytes(raw.data)), raw.start
                multipart += "multipart/" in simple[1].get("content-type", "")
    assert multipart > 0
