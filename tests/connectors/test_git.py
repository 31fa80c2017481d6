"""GitConnector against real repositories made with git in temporary folders.

Dates, names and messages are fixed, so every expected value below is written out
by hand; shas are read back from git (``Repo.sha``) rather than hard-coded.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from townsquare.config import SourceConfig
from townsquare.connectors.base import ConnectorContext
from townsquare.connectors.git import (
    GitConnector,
    GitError,
    co_authors,
    is_url,
    mirror_path,
    parse_git_date,
    repo_name,
    split_records,
)
from townsquare.pipeline import ingest_source
from townsquare.quality import suite_path, write_suites
from townsquare.records import Item, Rejected, Row

GIT = shutil.which("git") or "git"
DATE = "2024-03-04T10:00:00+01:00"
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


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


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


class Repo:
    """A git repository in a temporary folder, with deterministic authors and dates."""

    def __init__(self, path: Path, *, bare: bool = False) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main", *(["--bare"] if bare else []))

    def git(
        self,
        *args: str,
        date: str = DATE,
        author: tuple[str, str] = ("Jane Doe", "jane@example.org"),
        stdin: bytes | None = None,
        config: tuple[str, ...] = (),
    ) -> str:
        env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_COMMITTER_NAME": "Commit Bot",
            "GIT_COMMITTER_EMAIL": "bot@example.org",
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
        }
        cfg = [x for c in ("advice.detachedHead=false", *config) for x in ("-c", c)]
        proc = subprocess.run(
            [GIT, *cfg, "-C", str(self.path), *args],
            input=stdin,
            capture_output=True,
            env=env,
            check=True,
        )
        return proc.stdout.decode("utf-8", "replace").strip()

    def commit(
        self,
        message: str | bytes,
        files: dict[str, str | bytes | None] | None = None,
        **kwargs: Any,
    ) -> str:
        """Write ``files`` (None deletes), commit everything with ``message``; the sha."""
        for name, content in (files or {}).items():
            target = self.path / name
            if content is None:
                target.unlink()
            elif isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        self.git("add", "-A")
        data = message.encode("utf-8") if isinstance(message, str) else message
        config = kwargs.pop("config", ())
        cleanup = kwargs.pop("cleanup", "strip")
        self.git(
            "commit",
            "-q",
            "--allow-empty",
            f"--cleanup={cleanup}",
            "-F",
            "-",
            stdin=data,
            config=config,
            **kwargs,
        )
        return self.sha()

    def raw_commit(self, text: bytes) -> str:
        """Write a commit object byte for byte (``tree`` header added); its sha."""
        tree = self.git("rev-parse", "HEAD^{tree}").encode()
        data = b"tree " + tree + b"\n" + text
        return self.git("hash-object", "-t", "commit", "-w", "--literally", "--stdin", stdin=data)

    def sha(self, rev: str = "HEAD") -> str:
        return self.git("rev-parse", rev)


def connector(location: str | Path, **kwargs: Any) -> GitConnector:
    since = kwargs.pop("since", None)
    state = kwargs.pop("state", None) or {}
    return GitConnector(
        ConnectorContext(
            name="code", location=str(location), since=since, state=state, options=kwargs
        )
    )


def collect(location: str | Path, **kwargs: Any) -> list[Item]:
    return list(connector(location, **kwargs).items())


def rows(items: list[Item]) -> list[dict[str, Any]]:
    return [i.values for i in items if isinstance(i, Row)]


def by_message(items: list[Item]) -> dict[str, dict[str, Any]]:
    return {r["message"]: r for r in rows(items)}


# --------------------------------------------------------------------------- columns


def test_a_plain_commit_fills_every_column(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "lumen")
    sha = repo.commit(
        "Add the compactor\n\nIt merges segments.\n",
        {"a.txt": "one\ntwo\nthree\n", "b.txt": "x\n"},
        author=("Ana Lima", "ana@example.org"),
        date="2024-03-04T10:00:00-03:30",
    )
    items = collect(repo.path)
    assert len(items) == 1 and isinstance(items[0], Row)
    assert items[0].entity == "repo_commits"
    assert items[0].values == {
        "repo": "lumen",
        "sha": sha,
        "parents": [],
        "author_name": "Ana Lima",
        "author_email": "ana@example.org",
        "authored_at": utc(2024, 3, 4, 13, 30),
        "author_utc_offset_minutes": -210,
        "committer_name": "Commit Bot",
        "committer_email": "bot@example.org",
        "committed_at": utc(2024, 3, 4, 13, 30),
        "committer_utc_offset_minutes": -210,
        "message": "Add the compactor\n\nIt merges segments.",
        "files_changed": 2,
        "insertions": 4,
        "deletions": 0,
        "is_merge": False,
        "co_author_names": [],
        "co_author_emails": [],
    }
    assert items[0].raw == {
        "sha": sha,
        "parents": [],
        "author": "Ana Lima <ana@example.org> 1709559000 -0330",
        "committer": "Commit Bot <bot@example.org> 1709559000 -0330",
    }


def test_merges_have_parents_and_no_counts(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    base = repo.commit("base", {"a.txt": "a\n"})
    repo.git("checkout", "-q", "-b", "side")
    side = repo.commit("side work", {"s.txt": "s\ns\n"}, date="2024-03-05T10:00:00+00:00")
    repo.git("checkout", "-q", "main")
    main = repo.commit("main work", {"a.txt": "a\nb\n"}, date="2024-03-06T10:00:00+00:00")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge side", "side", date="2024-03-07T10:00:00Z")
    merge = repo.sha()
    got = by_message(collect(repo.path))
    assert set(got) == {"base", "side work", "main work", "Merge side"}
    assert got["Merge side"]["sha"] == merge
    assert got["Merge side"]["parents"] == [main, side]
    assert got["Merge side"]["is_merge"] is True
    assert (
        got["Merge side"]["files_changed"],
        got["Merge side"]["insertions"],
        got["Merge side"]["deletions"],
    ) == (None, None, None)
    assert got["side work"]["parents"] == [base]
    assert got["side work"]["is_merge"] is False
    assert (got["main work"]["files_changed"], got["main work"]["insertions"]) == (1, 1)
    assert got["main work"]["deletions"] == 0


def test_renames_with_special_characters_and_binary_files(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    text = "".join(f"line {n}\n" for n in range(20))
    repo.commit("add", {"plain name.txt": text, "data.bin": b"\x00\x01\x02"})
    repo.git("mv", "plain name.txt", 'naïve "quoted" {braces} => arrow.txt')
    repo.commit(
        "rename and edit",
        {
            'naïve "quoted" {braces} => arrow.txt': text + "one more\n",
            "data.bin": b"\x00\x01\x03",
            "tab\there.txt": "t\n",
            "new\nline.txt": "n\nn\n",
        },
    )
    repo.commit("delete", {"data.bin": None, "tab\there.txt": None})
    repo.commit("empty")
    got = by_message(collect(repo.path))
    # the rename counts once (1 line added), the binary counts as a file without lines
    assert (got["rename and edit"]["files_changed"], got["rename and edit"]["insertions"]) == (4, 4)
    assert got["rename and edit"]["deletions"] == 0
    assert (got["add"]["files_changed"], got["add"]["insertions"]) == (2, 20)
    assert (got["delete"]["files_changed"], got["delete"]["deletions"]) == (2, 1)
    assert (got["empty"]["files_changed"], got["empty"]["insertions"]) == (0, 0)
    assert got["empty"]["deletions"] == 0


def test_cp1252_messages_declared_or_not_and_legacy_names(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    declared = repo.commit(
        "Café crème € declared\n".encode("cp1252"),
        config=("i18n.commitEncoding=cp1252",),
    )
    undeclared = repo.raw_commit(
        b"parent " + declared.encode() + b"\n"
        b"author Ren\xe9 M\xfcller <rene@example.org> 1709542800 +0200\n"
        b"committer Ren\xe9 M\xfcller <rene@example.org> 1709542800 +0200\n"
        b"\nNa\xefve \x93quotes\x94 undeclared\n"
    )
    repo.git("update-ref", "refs/heads/main", undeclared)
    got = {r["sha"]: r for r in rows(collect(repo.path))}
    assert got[declared]["message"] == "Café crème € declared"
    assert got[undeclared]["message"] == "Naïve \u201cquotes\u201d undeclared"
    assert got[undeclared]["author_name"] == "René Müller"
    assert got[undeclared]["committer_name"] == "René Müller"
    assert got[undeclared]["author_utc_offset_minutes"] == 120


def test_names_with_brackets(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit(
        "a", author=("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
    )
    repo.commit("b", author=("Doe, Jane (ACME) {ops}", "jane@example.org"))
    # git itself drops angle brackets from names when it writes the commit
    repo.commit("c", author=("Jane <the admin> Doe", "jane@example.org"))
    got = by_message(collect(repo.path))
    assert got["a"]["author_name"] == "dependabot[bot]"
    assert got["a"]["author_email"] == "49699333+dependabot[bot]@users.noreply.github.com"
    assert got["b"]["author_name"] == "Doe, Jane (ACME) {ops}"
    assert got["c"]["author_name"] == "Jane the admin Doe"


@pytest.mark.parametrize("diff_stats", [True, False])
def test_empty_first_commit_and_diff_stats_off(tmp_path: Path, diff_stats: bool) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("Initial empty commit")  # the last record of the stream, without a diff
    repo.commit("add", {"f": "1\n2\n"})
    got = by_message(collect(repo.path, diff_stats=diff_stats))
    assert got["Initial empty commit"]["files_changed"] == (0 if diff_stats else None)
    assert got["add"]["insertions"] == (2 if diff_stats else None)
    assert got["add"]["is_merge"] is False


def test_stray_carriage_returns_in_messages(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit(b"Windows line\r\nsecond\rthird \r\n\r\n", cleanup="verbatim")
    (row,) = rows(collect(repo.path))
    assert row["message"] == "Windows line\nsecond\nthird"


def test_a_record_separator_inside_a_message_does_not_split_it(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit(b"odd \x1e separator\x1f inside\n", {"f": "1\n"}, cleanup="verbatim")
    repo.commit("next", {"f": "2\n"})
    got = by_message(collect(repo.path))
    assert got["odd \x1e separator\x1f inside"]["files_changed"] == 1
    assert got["next"]["deletions"] == 1


def test_co_authored_by_trailers(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit(
        "Pair on the WAL\n\n"
        "Co-authored-by: Bob Stone <bob@example.org>\n"
        "co-authored-by:Ana Lima<ana@example.org>\n"
        "CO-AUTHORED-BY: No Address\n"
        "Co-authored-by: <nobody@example.org>\n"
        "Co-authored-by: Not Mail <not-an-address>\n"
        "Signed-off-by: Jane Doe <jane@example.org>\n"
        "Co-authored-by: Zoë [bot] <zoe@example.org>\n"
    )
    (row,) = rows(collect(repo.path))
    assert row["co_author_names"] == ["Bob Stone", "Ana Lima", "Zoë [bot]"]
    assert row["co_author_emails"] == ["bob@example.org", "ana@example.org", "zoe@example.org"]
    assert co_authors("Mentioning co-authored-by: A <a@x> inline") == ([], [])
    assert co_authors(None) == ([], [])


def test_unreadable_dates_are_rejected_and_odd_offsets_dropped(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    base = repo.commit("base")
    bad = repo.raw_commit(
        f"parent {base}\nauthor A <a@x> notadate\ncommitter C <c@x> 1709542800 +0000\n\nbad\n".encode()
    )
    odd = repo.raw_commit(
        f"parent {bad}\nauthor A <a@x> 1709542800 +9999\n"
        f"committer C <c@x> 1709542800 +0000\n\nodd\n".encode()
    )
    repo.git("update-ref", "refs/heads/main", odd)
    items = collect(repo.path)
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert len(rejected) == 1
    assert rejected[0].native_id == f"r/{bad}"
    assert rejected[0].reason == "unparseable author date: not a git date: ''"
    assert rejected[0].raw["message"] == "bad"
    got = by_message(items)
    assert got["odd"]["authored_at"] == utc(2024, 3, 4, 9, 0)
    assert got["odd"]["author_utc_offset_minutes"] is None
    assert got["odd"]["committer_utc_offset_minutes"] == 0
    assert set(got) == {"base", "odd"}


def test_parse_git_date() -> None:
    assert parse_git_date(b"0 -0000") == (utc(1970, 1, 1), 0)
    assert parse_git_date(b"1709542800 +0545") == (utc(2024, 3, 4, 9, 0), 345)
    assert parse_git_date(b"1709542800 +0199")[1] is None
    with pytest.raises(ValueError, match="representable"):
        parse_git_date(b"99999999999999999 +0000")
    with pytest.raises(ValueError, match="not a git date"):
        parse_git_date(b"yesterday")


# --------------------------------------------------------------------------- refs


def test_empty_repository_yields_nothing(tmp_path: Path) -> None:
    conn = connector(Repo(tmp_path / "empty").path)
    assert list(conn.items()) == []
    assert conn.new_state() == {"repo_commits": {"tips": {}}}


def test_every_branch_and_tag_each_commit_once(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    first = repo.commit("first", {"f": "1\n"})
    repo.git("checkout", "-q", "-b", "feature")
    feature = repo.commit("feature only", {"g": "1\n"})
    repo.git("checkout", "-q", "-b", "feature-copy")
    repo.git("checkout", "-q", "main")
    main = repo.commit("main only", {"f": "2\n"})
    repo.git("tag", "-a", "-m", "release", "v1", first)
    repo.git("tag", "light", feature)
    repo.git("tag", "tree-tag", "HEAD^{tree}")  # not a commit: ignored
    repo.git("checkout", "-q", "--orphan", "tag-only")
    tagged = repo.commit("only reachable from a tag", {"t": "t\n"})
    repo.git("tag", "orphan-tag")
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-D", "tag-only")
    conn = connector(repo.path)
    got = rows(list(conn.items()))
    assert sorted(r["message"] for r in got) == [
        "feature only",
        "first",
        "main only",
        "only reachable from a tag",
    ]
    assert conn.new_state()["repo_commits"]["tips"] == {
        "HEAD": main,
        "refs/heads/feature": feature,
        "refs/heads/feature-copy": feature,
        "refs/heads/main": main,
        "refs/tags/light": feature,
        "refs/tags/orphan-tag": tagged,
        "refs/tags/v1": first,
    }


def _spy_git(tmp_path: Path, script: str = "") -> tuple[Path, Path]:
    """A git that records each command (log, rev-list) and runs ``script`` first."""
    calls = tmp_path / "calls.txt"
    spy = tmp_path / "spy-git"
    spy.write_text(
        f"#!{sys.executable}\n"
        "import os, sys\n"
        f"with open({str(calls)!r}, 'a') as f:\n"
        "    f.write(next((a for a in sys.argv[1:] if a in ('log', 'rev-list')), '-') + '\\n')\n"
        f"{script}"
        f"os.execv({GIT!r}, [{GIT!r}, *sys.argv[1:]])\n"
    )
    spy.chmod(spy.stat().st_mode | stat.S_IXUSR)
    return spy, calls


def test_history_is_read_in_batches_each_by_its_own_git_log(tmp_path: Path) -> None:
    """git rev-list lists the commits once; a git log per batch of log_batch reads them:
    the same rows, in the same order, as one batch, each commit once, merges included."""
    repo = Repo(tmp_path / "r")
    for n in range(4):
        repo.commit(f"main {n}", {"f": f"{n}\n"})
    repo.git("checkout", "-q", "-b", "side", "HEAD~2")
    for n in range(2):
        repo.commit(f"side {n}", {"g": f"{n}\n"})
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side")
    spy, calls = _spy_git(tmp_path)
    whole = rows(collect(repo.path))
    batched = rows(collect(repo.path, log_batch=3, git_binary=str(spy)))
    assert len(whole) == 7 and len({r["sha"] for r in whole}) == 7
    assert batched == whole
    walked = [c for c in calls.read_text().split() if c != "-"]
    assert walked == ["rev-list", "log", "log", "log"]  # 7 commits, 3 a batch
    with pytest.raises(ValueError, match="log_batch must be at least 1"):
        connector(repo.path, log_batch=0)


def test_a_large_batch_is_read_by_two_git_processes_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each batch's second half runs in its own git while the first half streams in:
    the same rows in the same order; a git failing on the second half fails the run."""
    import townsquare.connectors.git as git_module

    repo = Repo(tmp_path / "r")
    for n in range(9):
        repo.commit(f"main {n}", {"f": f"{n}\n" * (n + 1)})
    whole = rows(collect(repo.path))
    monkeypatch.setattr(git_module, "LOG_SPLIT_MIN", 2)
    spy, calls = _spy_git(tmp_path)
    halves = rows(collect(repo.path, log_batch=5, git_binary=str(spy)))
    assert halves == whole and len(whole) == 9
    walked = [c for c in calls.read_text().split() if c != "-"]
    # 9 commits in batches of 5 and 4: each split in two (a batch of 4 needs 2 x 2)
    assert walked == ["rev-list", "log", "log", "log", "log"]
    # the git of a batch's second half (started first) fails: the run fails
    (tmp_path / "f").mkdir()
    state = tmp_path / "logs-started"
    failing, _ = _spy_git(
        tmp_path / "f",
        "if 'log' in sys.argv:\n"
        f"    n = os.path.getsize({str(state)!r}) if os.path.exists({str(state)!r}) else 0\n"
        f"    open({str(state)!r}, 'a').write('x')\n"
        "    if n == 0:\n"
        "        sys.stderr.write('fatal: bad object\\n'); sys.exit(128)\n",
    )
    with pytest.raises(GitError, match="bad object"):
        collect(repo.path, log_batch=5, git_binary=str(failing))


def test_detached_head_and_bare_repositories(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    first = repo.commit("first")
    repo.commit("second")
    repo.git("checkout", "-q", first)
    detached = repo.commit("on a detached head")
    got = by_message(collect(repo.path))
    assert set(got) == {"first", "second", "on a detached head"}
    assert got["on a detached head"]["parents"] == [first]
    # a bare clone: no work tree, no HEAD-only commit (it is not in any ref there)
    bare = tmp_path / "r-bare.git"
    subprocess.run([GIT, "clone", "-q", "--bare", str(repo.path), str(bare)], check=True)
    got_bare = rows(collect(bare))
    assert {r["message"] for r in got_bare} == {"first", "second", "on a detached head"}
    assert {r["repo"] for r in got_bare} == {"r-bare"}
    assert detached in {r["sha"] for r in got_bare}


# --------------------------------------------------------------------------- locations


def test_repo_names_and_url_detection() -> None:
    assert repo_name("https://github.com/lumen-db/lumen.git") == "lumen-db/lumen"
    assert repo_name("https://github.com/lumen-db/lumen/") == "lumen-db/lumen"
    assert repo_name("git@github.com:lumen-db/lumen.git") == "lumen-db/lumen"
    assert repo_name("ssh://git@gitlab.example.org:2222/group/sub/tool.git") == "sub/tool"
    assert repo_name("file:///srv/git/lumen.git") == "lumen"
    assert repo_name("/srv/git/lumen.git") == "lumen"
    assert is_url("git@github.com:a/b.git") and is_url("HTTPS://x/y")
    assert not is_url("/srv/git/lumen") and not is_url("C:/repos/x")
    one = mirror_path(Path("/c"), "https://github.com/a/lumen.git")
    assert one.parent == Path("/c") and one.name.startswith("lumen-") and one.suffix == ".git"
    assert one != mirror_path(Path("/c"), "https://github.com/b/lumen.git")


def test_repo_option_wins(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "checkout")
    repo.commit("x")
    assert rows(collect(repo.path, repo="lumen-db/lumen"))[0]["repo"] == "lumen-db/lumen"


def test_clone_url_is_mirrored_then_fetched(tmp_path: Path) -> None:
    origin = Repo(tmp_path / "origin")
    origin.commit("one", {"f": "1\n"})
    origin.git("branch", "doomed")
    url = origin.path.as_uri()
    cache = tmp_path / "cache"
    first = connector(url, cache_dir=str(cache))
    got = rows(list(first.items()))
    assert [r["message"] for r in got] == ["one"]
    assert got[0]["repo"] == "origin"
    mirrors = list(cache.iterdir())
    assert [m.name for m in mirrors] == [mirror_path(cache, url).name]
    state = first.new_state()
    assert "refs/heads/doomed" in state["repo_commits"]["tips"]

    origin.commit("two", {"f": "2\n"}, date="2024-03-05T10:00:00+00:00")
    origin.git("branch", "-D", "doomed")
    origin.git("checkout", "-q", "-b", "topic")
    origin.commit("three", {"g": "3\n"}, date="2024-03-06T10:00:00+00:00")
    second = connector(url, cache_dir=str(cache), state=state)
    assert sorted(r["message"] for r in rows(list(second.items()))) == ["three", "two"]
    tips = second.new_state()["repo_commits"]["tips"]
    assert "refs/heads/doomed" not in tips  # pruned
    assert tips["refs/heads/topic"] == origin.sha("topic")
    assert [m.name for m in cache.iterdir()] == [mirrors[0].name]


def test_default_cache_folder_follows_townsquare_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin = Repo(tmp_path / "origin")
    origin.commit("one")
    monkeypatch.setenv("TOWNSQUARE_HOME", str(tmp_path / "home"))
    assert len(collect(origin.path.as_uri())) == 1
    assert [p.name for p in (tmp_path / "home" / "git-cache").iterdir()] == [
        mirror_path(tmp_path, origin.path.as_uri()).name
    ]


def test_unreachable_url_missing_folder_and_non_repository(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="git clone exited with status"):
        collect((tmp_path / "nowhere").as_uri(), cache_dir=str(tmp_path / "cache"))
    assert list((tmp_path / "cache").iterdir()) == []  # no half-made mirror left
    with pytest.raises(FileNotFoundError, match="repository folder not found"):
        connector(tmp_path / "missing")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitError, match="is not a git repository"):
        collect(plain, git_binary=GIT)


# --------------------------------------------------------------------------- incremental


def _lake_rows(lake: Path, source: str = "code") -> list[dict[str, Any]]:
    files = sorted(lake.glob(f"raw/repo_commits/source={source}/*/*.parquet"))
    return [r for f in files for r in pq.read_table(f).to_pylist()]


def test_pipeline_second_run_lands_only_new_commits(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "lumen")
    repo.commit("one", {"f": "1\n"})
    repo.commit("two", {"f": "2\n"}, date="2024-03-05T10:00:00+00:00")
    lake = tmp_path / "lake"
    source = SourceConfig(type="git", name="code", location=str(repo.path))

    first = ingest_source(source, lake=str(lake), credentials={})
    assert first.to_json()["entities"] == {"repo_commits": {"rows": 2, "quarantined": 0}}

    repo.commit("three", {"f": "3\n"}, date="2024-03-06T10:00:00+00:00")
    repo.git("checkout", "-q", "-b", "topic", "HEAD~2")
    topic = repo.commit(
        "four\n\nCo-authored-by: Bob Stone <bob@example.org>\n",
        {"g": "4\n"},
        date="2024-03-07T12:00:00+02:00",
    )
    second = ingest_source(source, lake=str(lake), credentials={})
    assert second.to_json()["entities"] == {"repo_commits": {"rows": 2, "quarantined": 0}}
    assert second.run_id != first.run_id
    table = pq.read_table(next(lake.glob(f"raw/repo_commits/*/*/{second.run_id}-*.parquet")))
    landed = sorted(table.to_pylist(), key=lambda r: r["authored_at"])
    assert [r["message"].split("\n")[0] for r in landed] == ["three", "four"]
    four = landed[1]
    assert (four["sha"], four["repo"], four["source"]) == (topic, "lumen", "code")
    assert four["authored_at"] == utc(2024, 3, 7, 10, 0)
    assert four["author_utc_offset_minutes"] == 120
    assert four["co_author_names"] == ["Bob Stone"]
    assert four["co_author_emails"] == ["bob@example.org"]
    assert (four["files_changed"], four["insertions"], four["is_merge"]) == (1, 1, False)

    # nothing new: nothing landed, every commit in the lake exactly once
    third = ingest_source(source, lake=str(lake), credentials={})
    assert third.rows == 0
    shas = [r["sha"] for r in _lake_rows(lake)]
    assert len(shas) == len(set(shas)) == 4
    state = (lake / "_state/code/repo_commits.json").read_text()
    assert topic in state and '"refs/heads/topic"' in state


def test_since_scans_the_whole_history_by_committer_date(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("old", date="2024-01-01T00:00:00+00:00")
    repo.commit("new", date="2024-03-01T00:00:00+00:00")
    state = connector(repo.path).new_state()
    first = connector(repo.path)
    list(first.items())
    state = first.new_state()
    assert rows(collect(repo.path, state=state)) == []
    got = rows(collect(repo.path, state=state, since="2024-02-01"))
    assert [r["message"] for r in got] == ["new"]
    got = rows(collect(repo.path, state=state, since="2023-12-31T20:00:00-03:00"))
    assert [r["message"] for r in got] == ["new", "old"]


def test_rewritten_history_keeps_going(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("one")
    repo.commit("two")
    conn = connector(repo.path)
    list(conn.items())
    state = conn.new_state()
    # a force-push: "two" is replaced; only the replacement comes next time
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.commit("two again", date="2024-03-08T00:00:00Z")
    assert [r["message"] for r in rows(collect(repo.path, state=state))] == ["two again"]
    # an old tip that is gone from the repository: a warning, the rest still excludes
    gone = {
        "repo_commits": {"tips": {"refs/heads/main": "f" * 40, "refs/tags/x": repo.sha("HEAD~1")}}
    }
    with caplog.at_level(logging.WARNING, logger="townsquare.connectors.git"):
        got = rows(collect(repo.path, state=gone))
    assert [r["message"] for r in got] == ["two again"]
    assert "no longer in the repository" in caplog.text


def test_interval_key_is_deterministic_and_follows_the_old_tips(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("one")
    assert connector(repo.path).interval_key() == connector(repo.path).interval_key()
    conn = connector(repo.path)
    list(conn.items())
    state = conn.new_state()
    assert connector(repo.path, state=state).interval_key() != connector(repo.path).interval_key()
    assert (
        connector(repo.path, state=state, since="2024-01-01").interval_key()
        != connector(repo.path, state=state).interval_key()
    )


def test_unreadable_stored_tips_are_a_clear_error(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    with pytest.raises(ValueError, match="unreadable tips"):
        connector(repo.path, state={"repo_commits": {"tips": ["abc"]}})


# --------------------------------------------------------------------------- failures


def fake_git(tmp_path: Path, *, cut: int, exit_code: int = 0, kill: bool = False) -> Path:
    """A ``git`` that runs the real one but cuts ``git log`` output after ``cut`` bytes,
    then exits with ``exit_code`` (or kills itself)."""
    script = tmp_path / "fake-git"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, signal, subprocess, sys\n"
        f"GIT = {GIT!r}\n"
        "if 'log' not in sys.argv[1:]:\n"
        "    os.execv(GIT, [GIT, *sys.argv[1:]])\n"
        "out = subprocess.run([GIT, *sys.argv[1:]], stdin=sys.stdin, stdout=subprocess.PIPE)\n"
        f"sys.stdout.buffer.write(out.stdout[:{cut}])\n"
        "sys.stdout.flush()\n"
        f"if {kill!r}:\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        f"sys.exit({exit_code})\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _three_commits(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "r")
    for n in range(3):
        repo.commit(f"commit {n}", {"f": f"{n}\n"})
    return repo


@pytest.mark.parametrize(
    ("cut", "exit_code", "kill", "error"),
    [
        (10**9, 1, False, "git log exited with status 1"),
        (150, 0, False, "ends inside the record of commit"),
        (200, 0, True, "git log was killed by signal 9"),
    ],
)
def test_a_cut_stream_is_an_error_and_nothing_lands(
    tmp_path: Path, cut: int, exit_code: int, kill: bool, error: str
) -> None:
    repo = _three_commits(tmp_path)
    lake = tmp_path / "lake"
    source = SourceConfig(type="git", name="code", location=str(repo.path))
    ingest_source(source, lake=str(lake), credentials={})
    state_file = lake / "_state/code/repo_commits.json"
    state_before = state_file.read_text()
    repo.commit("later", {"f": "later\n"})
    fake = fake_git(tmp_path, cut=cut, exit_code=exit_code, kill=kill)
    broken = SourceConfig(
        type="git", name="code", location=str(repo.path), options={"git_binary": str(fake)}
    )
    with pytest.raises(GitError, match=error):
        ingest_source(broken, lake=str(lake), credentials={})
    assert state_file.read_text() == state_before
    assert [r["message"] for r in _lake_rows(lake)] == ["commit 2", "commit 1", "commit 0"]
    # the real git lands the new commit afterwards
    assert ingest_source(source, lake=str(lake), credentials={}).rows == 1


def test_a_cut_at_a_record_boundary_is_caught_by_the_terminator() -> None:
    record = b"\x1e" + b"a" * 40 + b"\0\0J\0j@x\x001 +0000\0J\0j@x\x001 +0000\0msg\n\0\n"
    numstat = b"\n1\t0\tf\n"
    assert [f[0] for f, _ in split_records(io.BytesIO(record + numstat))] == [b"a" * 40]
    for cut in (record[:-1], record[:-2], record + numstat[:-1], record + b"\n1\t0"):
        with pytest.raises(GitError, match="ends inside the record"):
            list(split_records(io.BytesIO(cut), chunk=7))
    with pytest.raises(GitError, match="unexpected output"):
        list(split_records(io.BytesIO(b"gpg: Signature made\n" + record)))


def test_closing_the_stream_early_stops_git(tmp_path: Path) -> None:
    repo = _three_commits(tmp_path)
    items = connector(repo.path).items()
    assert isinstance(next(items), Row)
    items.close()  # kills git; no zombie, no exception
