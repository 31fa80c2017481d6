"""The bundled Lumen git history (samples/repo/generate_git.py → git/lumen.fastimport).

Built into a real repository with ``git fast-import`` (``git_sample.materialize``),
read back with plain ``git log`` (not the connector) for the planted identities, then
landed by the git connector. The expected values are written out by hand from the
generator's docstring table.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from townsquare.config import SourceConfig
from townsquare.pipeline import ingest_source
from townsquare.quality import suite_path, write_suites
from townsquare.samples.repo import git_sample
from townsquare.samples.repo.git_sample import STREAM, built_from, materialize

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

NOREPLY = "users.noreply.github.com"


@pytest.fixture(autouse=True, scope="module")
def _landing_suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The committed repo_commits suite, or (until it is generated) the registry's own."""
    if suite_path("repo_commits").exists():
        yield
        return
    folder = tmp_path_factory.mktemp("expectations")
    write_suites(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TOWNSQUARE_EXPECTATIONS_DIR", str(folder))
        yield


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return materialize(tmp_path_factory.mktemp("sample") / "lumen-git")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def log(repo: Path) -> list[dict[str, str]]:
    """Every commit of every ref: author, committer, dates, subject and co-author trailers."""
    fields = ("an", "ae", "ad", "cn", "ce", "cd", "s", "p")
    fmt = "%x1e" + "%x1f".join(f"%{f}" for f in fields)
    fmt += "%x1f%(trailers:key=Co-authored-by,valueonly,separator=%x1d)"
    out = git(repo, "log", "--all", "--no-mailmap", "--date=iso-strict", f"--format={fmt}")
    records = []
    for chunk in out.split("\x1e")[1:]:
        values = chunk.rstrip("\n").split("\x1f")
        record = dict(zip((*fields, "co"), values, strict=True))
        records.append(record)
    return records


def test_materialize_builds_once_and_reuses(tmp_path: Path) -> None:
    dest = tmp_path / "samples" / "lumen-git"
    first = materialize(dest)
    assert first == dest.resolve()
    marker = dest / ".git" / git_sample.MARKER
    assert built_from(dest) == git_sample.stream_sha256()
    stamp = marker.stat().st_mtime_ns
    head = git(dest, "rev-parse", "main")
    assert git(dest, "status", "--porcelain") == ""  # a clean work tree on main
    assert git(dest, "symbolic-ref", "HEAD").strip() == "refs/heads/main"

    again = materialize(dest)
    assert again == first
    assert marker.stat().st_mtime_ns == stamp  # reused, not rebuilt
    assert git(dest, "rev-parse", "main") == head
    # deterministic: another build of the same stream has the same commits
    other = materialize(tmp_path / "other")
    assert git(other, "rev-parse", "main") == head
    assert not [p for p in dest.parent.iterdir() if p.name.startswith(".")]  # no leftovers


def test_materialize_rebuilds_a_stale_sample_and_never_overwrites_other_folders(
    tmp_path: Path,
) -> None:
    stream = tmp_path / "tiny.fastimport"
    msg = b"only commit\n"
    stream.write_bytes(
        b"feature done\ncommit refs/heads/main\n"
        b"author A <a@x.example> 1760000000 +0000\ncommitter A <a@x.example> 1760000000 +0000\n"
        + f"data {len(msg)}\n".encode()
        + msg
        + b"M 100644 inline a.txt\ndata 2\na\n\ndone\n"
    )
    dest = tmp_path / "repo"
    materialize(dest, stream)
    assert git(dest, "rev-list", "--count", "main").strip() == "1"
    materialize(dest)  # the bundled stream: rebuilt
    assert built_from(dest) == git_sample.stream_sha256()
    assert git(dest, "rev-list", "--count", "main").strip() == "403"

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        materialize(mine)
    assert (mine / "notes.txt").read_text() == "keep me"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert built_from(materialize(empty)) is not None


def test_the_history_and_its_shape(repo: Path) -> None:
    assert STREAM.stat().st_size < 1_000_000
    assert git(repo, "rev-list", "--all", "--count").strip() == "406"
    assert git(repo, "rev-list", "--count", "main").strip() == "403"
    assert git(repo, "rev-list", "--count", "--merges", "main").strip() == "8"
    assert git(repo, "rev-list", "--count", "main..zephyr-port").strip() == "3"
    assert git(repo, "tag").split() == [f"v0.{n}.0" for n in range(4, 10)] + ["v1.0.0"]
    commits = log(repo)
    dates = sorted(datetime.fromisoformat(c["ad"]).astimezone(UTC) for c in commits)
    assert datetime(2025, 9, 2, tzinfo=UTC) <= dates[0]
    assert dates[-1] < datetime(2026, 10, 31, 20, tzinfo=UTC)
    offsets = {c["ad"][-6:] for c in commits} | {c["cd"][-6:] for c in commits}
    assert {"+00:00", "+01:00", "+02:00", "-04:00", "+09:00", "+05:30"} <= offsets


def test_the_planted_identities(repo: Path) -> None:
    commits = log(repo)
    authors = Counter((c["an"], c["ae"]) for c in commits)
    # the maintainers; Tobias also edits on github.com with his noreply address
    assert authors[("Ines Duarte", "ines@lumen.example.org")] == 58
    assert authors[("Tobias Lindqvist", "tobias@lumen.example.org")] == 39
    assert authors[("Tobias Lindqvist", f"4101+tobias-lindqvist@{NOREPLY}")] == 8
    assert authors[("Priya Raman", "priya@lumen.example.org")] == 40
    # the blog email of a freemail user, then the noreply address
    assert authors[("Ingrid Quist", "ingridquist56@gmail.com")] == 7
    assert authors[("Ingrid Quist", f"81008+ingrid-quist@{NOREPLY}")] == 33
    assert authors[("Teodor Wendt", f"81027+teodor-wendt@{NOREPLY}")] == 22
    assert authors[("Quentin Wendt", "quentin_wendt@gmail.com")] == 16
    # company, personal and university addresses
    assert authors[("Omar Wendt", "omar@wendt.example.net")] == 30
    assert authors[("Mei Dahl", "mei.dahl@northwind-robotics.example.com")] == 12
    assert authors[("Henrik Brandt", "henrik.brandt@uni-nord.example")] == 8
    assert authors[("Nadia Eklund", "nadia.eklund@tessera-labs.example.net")] == 4
    # a company address, then noreply
    greta = {e for n, e in authors if n == "Greta Ishikawa"}
    assert greta == {
        "greta.ishikawa@fabrikam-energy.example.com",
        f"81031+greta-ishikawa@{NOREPLY}",
    }
    # the job change: contoso before 2026-03-01, windmill from then on
    vera = [
        (datetime.fromisoformat(c["ad"]), c["ae"]) for c in commits if c["an"] == "Vera Okonkwo"
    ]
    cut = datetime(2026, 3, 1, tzinfo=UTC)
    assert len(vera) == 26
    assert {e for d, e in vera if d < cut} == {"vera.okonkwo@contoso-iot.example.net"}
    assert {e for d, e in vera if d >= cut} == {"vera.okonkwo@windmill-analytics.example.org"}
    # the bot, and the shared team address (the wrong-merge trap)
    bot = [c for c in commits if c["an"] == "dependabot[bot]"]
    assert len(bot) == 16
    assert {c["ae"] for c in bot} == {f"49699333+dependabot[bot]@{NOREPLY}"}
    assert all(c["s"].startswith("Bump ") for c in bot)
    assert authors[("Jonas Achterberg", "team@tessera-labs.example.net")] == 4
    assert {n for n, e in authors if e == "team@tessera-labs.example.net"} == {"Jonas Achterberg"}
    # GitHub's web-flow committer (not a person) and maintainers who rebased
    committers = Counter((c["cn"], c["ce"]) for c in commits)
    assert committers[("GitHub", "noreply@github.com")] > 100
    # co-authors, by the address they commit with
    co = [c["co"].split("\x1d") for c in commits if c["co"]]
    assert len(co) == 30
    assert any(len(names) == 2 for names in co)
    every = {who for names in co for who in names}
    assert any(NOREPLY in who for who in every)
    assert any("@lumen.example.org" in who for who in every)
    # about 25 people besides the staff, the bot and the team address
    people = {n for n, _ in authors} - {
        "Ines Duarte",
        "Tobias Lindqvist",
        "Priya Raman",
        "dependabot[bot]",
        "Jonas Achterberg",
    }
    assert len(people) == 27


def test_noreply_addresses_match_the_github_sample(repo: Path) -> None:
    """``{id}+{login}@users.noreply.github.com``: the ids and logins of generate_github."""
    from townsquare.samples.blog.generate import STAFF, Generator
    from townsquare.samples.repo.generate_github import N_PEOPLE, login

    ids = {login(p.name): 81000 + i for i, p in enumerate(Generator().people[:N_PEOPLE])}
    ids |= {login(name): 4100 + i for i, (_, name, _) in enumerate(STAFF)}
    ids["dependabot[bot]"] = 49699333
    seen = set()
    for c in log(repo):
        for address in [c["ae"], *(c["co"].split("\x1d") if c["co"] else [])]:
            address = address.split("<")[-1].rstrip(">")
            if address.endswith("@" + NOREPLY):
                uid, name = address.split("@")[0].split("+")
                assert ids[name] == int(uid), address
                seen.add(name)
    assert len(seen) >= 12


def test_the_connector_lands_the_sample(repo: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    source = SourceConfig(
        type="git", name="lumen-git", location=str(repo), options={"repo": "lumen-db/lumen"}
    )
    result = ingest_source(source, lake=str(lake), credentials={})
    assert result.to_json()["entities"] == {"repo_commits": {"rows": 406, "quarantined": 0}}
    [path] = (lake / "raw" / "repo_commits").rglob("*.parquet")
    rows = pq.read_table(path).to_pylist()
    assert {r["repo"] for r in rows} == {"lumen-db/lumen"}
    assert sum(bool(r["is_merge"]) for r in rows) == 8
    assert sum(bool(r["co_author_emails"]) for r in rows) == 30
    assert sum(r["author_email"] == "team@tessera-labs.example.net" for r in rows) == 4
    assert sum(r["committer_email"] == "noreply@github.com" for r in rows) > 100
    again = ingest_source(source, lake=str(lake), credentials={})
    assert again.rows == 0


def test_the_committed_stream_is_what_the_generator_writes() -> None:
    from townsquare.samples.repo.generate_git import History

    assert History().stream() == STREAM.read_bytes()


def test_the_demo_lands_the_sample_as_lumen_git(repo: Path) -> None:
    from townsquare.demo import demo_sources

    sources = {
        s.name: s for s in demo_sources("http://127.0.0.1:1", "http://127.0.0.1:2", str(repo))
    }
    assert sources["lumen-git"].type == "git"
    assert sources["lumen-git"].location == str(repo)
    assert sources["lumen-git"].options == {"repo": "lumen-db/lumen"}
    assert "lumen-git" not in {s.name for s in demo_sources("http://x", "http://y")}
