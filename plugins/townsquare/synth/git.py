"""The project's git history: ``git/borealis.git``, a bare repository built by ``git fast-import``.

The stream is generated in time order and piped into ``git fast-import`` (never held in
memory): direct commits on ``main`` by maintainers and contributors, the pull requests
merged on GitHub (the same numbers, titles, authors and merge times as the GitHub
recording: a merge commit ``Merge pull request #N from login/branch`` with the branch's
commits under ``refs/pull/N/head``, or a squash commit ``Title (#N)`` committed by
``GitHub <noreply@github.com>``), dependabot bumps, release commits by
``github-actions[bot]`` with annotated ``vX.Y.Z`` tags. People commit under several
addresses (work, personal, GitHub noreply ``ID+login@users.noreply.github.com``),
names vary (full name, login), some commits carry ``Co-authored-by:`` trailers, and
every commit changes real file contents (``git log --numstat`` counts them).

Delta: ``delta/git/borealis.fastimport`` is a second stream whose first commit starts
from ``refs/heads/main^0``: ``apply_delta(out)`` imports it into the same repository
(new commits on top of ``main``; it records that it did, so a second call does nothing).
The commit SHAs of both streams are known at generation time (``--export-marks``; the
delta stream is imported once into a scratch repository that borrows the base's
objects), so GH Archive ``PushEvent``s carry the real SHAs.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import IO

from townsquare.synth import words
from townsquare.synth.context import GITHUB_REPO, Context, MergedPull
from townsquare.synth.github import ORG_OBJ, REPO_ID, actor_obj, repo_obj
from townsquare.synth.population import BOTS, REPO, WEB_FLOW
from townsquare.synth.timeline import (
    BASE_END,
    BASE_START,
    DAY,
    DELTA_END,
    DELTA_START,
    HOUR,
    delta_count,
    iso_z,
    month_of,
    monthly_counts,
    phase,
    rng_for,
    scaled,
    time_in,
    times_in_month,
    tz_suffix,
)

COMMITS = 90_000
RELEASES = 40
MAX_LINES = 50  # lines a file may grow to (files stay small: fast-import's time is in blobs)
REPO_DIR = "git/borealis.git"
DELTA_STREAM = "delta/git/borealis.fastimport"
APPLIED = "townsquare-synth-delta"  # inside the repository: the delta stream's SHA-256
MODULES = ("runtime", "state", "sql", "connectors", "sinks", "checkpoint", "metrics", "api")
SUBJECTS = (
    "fix({m}): handle empty {noun} in {fn}", "feat({m}): support {feature}",
    "refactor({m}): simplify {fn}", "docs: explain {feature}", "test({m}): cover {fn}",
    "perf({m}): avoid copying the {noun}", "chore: tidy {m} imports", "fix: typo in {fn}",
    "ci: cache cargo registry", "build: bump MSRV", "feat(python): expose {fn}",
    "fix({m}): race between {noun} and checkpoint",
)  # fmt: skip


_IDENTS = tuple(n.replace(" ", "_") for n in words.NOUNS)
_CALLS = ("load", "spawn", "flush", "merge", "poll", "apply", "emit", "commit", "read", "write")
_COMMENTS = (
    "keep the watermark monotonic", "the checkpoint barrier must be aligned first",
    "TODO: batch these writes", "safe: the state store is single-writer here",
    "see the design doc for the rebalancing protocol", "late events go to the side output",
    "retry with backoff, the broker may be restarting", "Tune this with --buffer-size.",
    "Windows joins keep both sides until the window closes.", "This needs a test on ARM64.",
)  # fmt: skip


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0")
    return env


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        input=stdin,
        capture_output=True,
        env=_git_env(),
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout.decode()


# -- file contents that evolve ---------------------------------------------------------


class _Files:
    """The tree's files as lists of lines (main), edited commit by commit."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.files: dict[str, list[str]] = {}
        self.paths: list[str] = []

    def line(self, path: str) -> str:
        rng = self.rng
        r = rng.random
        k = int(r() * 4)
        if path.endswith(".rs"):
            if k == 0:
                return (
                    f"    let {rng.choice(_IDENTS)}_{int(r() * 100)} = {rng.choice(_CALLS)}(&ctx)?;"
                )
            if k == 1:
                return (
                    f"    if {rng.choice(_IDENTS)}.len() > {int(r() * 4096)} {{ return Ok(()); }}"
                )
            if k == 2:
                return f"// {rng.choice(_COMMENTS)}"
            return f"pub fn {rng.choice(_CALLS)}_{int(r() * 1000)}(ctx: &Context) -> Result<()> {{ Ok(()) }}"
        if path.endswith(".py"):
            if k < 2:
                return f"    self.{rng.choice(_CALLS)}({rng.choice(_IDENTS)}, {int(r() * 100)})"
            if k == 2:
                return f"# {rng.choice(_COMMENTS)}"
            return f"def {rng.choice(_CALLS)}_{int(r() * 1000)}(self): ..."
        if path.endswith(".md"):
            return (
                rng.choice(_COMMENTS)
                if k
                else f"- `{rng.choice(_IDENTS)}`: {rng.choice(_COMMENTS)}"
            )
        return f"{rng.choice(_IDENTS)}_{int(r() * 100)} = {int(r() * 10000)}"

    def add(self, path: str, n: int) -> None:
        self.files[path] = [self.line(path) for _ in range(n)]
        self.paths.append(path)

    def new_path(self) -> str:
        # Many small folders (as real trees have): fast-import rewrites a folder's tree
        # object for every change in it, so wide folders cost time and space.
        rng = self.rng
        kind = rng.random()
        n = len(self.paths)
        sub = rng.choice(_IDENTS)
        if kind < 0.6:
            path = f"src/{rng.choice(MODULES)}/{sub}/{rng.choice(_CALLS)}_{n}.rs"
        elif kind < 0.75:
            path = f"python/borealis/{rng.choice(MODULES)}/{sub}_{n}.py"
        elif kind < 0.9:
            path = (
                f"docs/{rng.choice(MODULES)}/{sub}/{words.slug(rng.choice(words.FEATURES))}-{n}.md"
            )
        else:
            path = f"tests/{rng.choice(MODULES)}/{sub}_{n}.rs"
        return path

    def pick(self) -> str:
        # hot files: the early core and the recent ones
        n = len(self.paths)
        if self.rng.random() < 0.7:
            return self.paths[int(n * self.rng.random() ** 2.5)]
        return self.paths[n - 1 - int(n * self.rng.random() ** 3)]

    def edit(self, lines: list[str], path: str) -> list[str]:
        rng = self.rng
        out = list(lines)
        for _ in range(1 + int(rng.paretovariate(2.0)) - 1 + (rng.random() < 0.4)):
            op = rng.random()
            pos = int(rng.random() * (len(out) + 1))
            if op < 0.45 or len(out) < 8:
                out[pos:pos] = [self.line(path) for _ in range(rng.randint(1, 6))]
            elif op < 0.8 and out:
                pos = min(pos, len(out) - 1)
                out[pos : pos + rng.randint(1, 3)] = [
                    self.line(path) for _ in range(rng.randint(1, 3))
                ]
            else:
                pos = min(pos, len(out) - 1)
                del out[pos : pos + rng.randint(1, 3)]
        if len(out) > MAX_LINES:
            del out[: len(out) - MAX_LINES]
        return out

    def change(self, overlay: dict[str, list[str]] | None = None) -> list[tuple[str, list[str]]]:
        """Files changed by one commit (on main, or in a branch's ``overlay``)."""
        rng = self.rng
        changes = []
        if rng.random() < 0.015:
            path = self.new_path()
            self.add(path, rng.randint(6, 25))
            lines = self.files[path]
            if overlay is not None:
                overlay[path] = lines
            changes.append((path, lines))
        for _ in range(1 + int(rng.paretovariate(1.8)) - 1 + (rng.random() < 0.3)):
            path = self.pick()
            current = overlay.get(path) if overlay is not None else None
            lines = self.edit(current if current is not None else self.files[path], path)
            if overlay is not None:
                overlay[path] = lines
            else:
                self.files[path] = lines
            changes.append((path, lines))
        return changes


# -- the stream ------------------------------------------------------------------------

IMPORT_COMMITS = 150_000
"""Commits one ``git fast-import`` process writes before the next one takes over.

fast-import keeps an entry for every object it wrote until it exits: one process for
the whole scale-10 history (770,000 commits, millions of trees and blobs) peaked at
2,014 MiB. Each next process imports the marks of the earlier ones (commits only,
about 80 bytes each), so its table holds one slice's objects; at scale 10 the largest
process, the last slice as it ended, peaked at 1,394 MiB. Commits, SHAs and refs are
the same either way; the repository has a pack per slice."""
PACK_WINDOWS = ("-c", "core.packedGitLimit=256m", "-c", "core.packedGitWindowSize=32m")
"""fast-import reads the packs it and the earlier slices wrote (parent trees, and each
imported mark's type); git maps them whole by default, and the mapped pages count in
its resident memory (1,250 MiB of a slice's process at scale 10 without this)."""


class _Importer:
    """The ``git fast-import`` process the base stream is piped into (see ``IMPORT_COMMITS``)."""

    def __init__(self, repo: Path, marks: Path) -> None:
        self.repo = repo
        self.marks = marks
        self.since = 0  # the stream's commit count when this process started
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, since: int = 0) -> IO[bytes]:
        args = ["git", *PACK_WINDOWS, "-C", str(self.repo), "fast-import", "--quiet", "--done"]
        if self.marks.exists():
            args.append(f"--import-marks={self.marks}")
        args.append(f"--export-marks={self.marks}")
        self.proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=_git_env()
        )
        self.since = since
        assert self.proc.stdin is not None
        return self.proc.stdin

    def finish(self) -> None:
        proc = self.proc
        assert proc is not None and proc.stdin is not None and proc.stderr is not None
        proc.stdin.write(b"done\n")
        proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError(
                f"git fast-import failed: {proc.stderr.read().decode(errors='replace')}"
            )
        self.proc = None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class _Stream:
    def __init__(self, fh: IO[bytes], tag: str) -> None:
        self.fh = fh
        self.tag = tag  # mark placeholder prefix for GH Archive: "@@B" or "@@D"
        self.mark = 0
        self.commits = 0

    def commit(
        self,
        ref: str,
        author: str,
        committer: str,
        message: str,
        parents: list[str],
        changes: list[tuple[str, list[str]]],
    ) -> int:
        self.mark += 1
        self.commits += 1
        msg = message.encode()
        out = [
            f"commit {ref}\nmark :{self.mark}\nauthor {author}\ncommitter {committer}\n".encode(),
            b"data %d\n" % len(msg),
            msg,
            b"\n",
        ]
        if parents:
            out.append(f"from {parents[0]}\n".encode())
            out += [f"merge {p}\n".encode() for p in parents[1:]]
        seen = set()
        for path, lines in reversed(changes):  # the last version of a path wins
            if path in seen:
                continue
            seen.add(path)
            data = ("\n".join(lines) + "\n").encode()
            out += [f"M 100644 inline {path}\n".encode(), b"data %d\n" % len(data), data]
        out.append(b"\n")
        self.fh.write(b"".join(out))
        return self.mark

    def tag_at(self, name: str, mark: int, tagger: str, message: str) -> None:
        msg = message.encode()
        self.fh.write(
            f"tag {name}\nfrom :{mark}\ntagger {tagger}\n".encode()
            + b"data %d\n" % len(msg)
            + msg
            + b"\n"
        )

    def placeholder(self, mark: int) -> str:
        return f"{self.tag}{mark}@@"


def _ident(name: str, email: str, t: int, tz: int) -> str:
    return f"{name} <{email}> {t} {tz_suffix(tz)}"


# -- generation --------------------------------------------------------------------------


def generate(ctx: Context) -> None:
    if shutil.which("git") is None:
        raise RuntimeError("synth: the git source needs the git command")
    rng = rng_for(ctx.seed, "git")
    pop = ctx.pop
    repo = ctx.out / REPO_DIR
    if repo.exists():
        shutil.rmtree(repo)
    repo.parent.mkdir(parents=True, exist_ok=True)
    (ctx.out / DELTA_STREAM).parent.mkdir(parents=True, exist_ok=True)
    _git(repo.parent, "init", "--bare", "-q", "--initial-branch=main", repo.name)
    files = _Files(rng)

    # Timeline: (t, order, kind, payload). PR branch commits come before their merge.
    events: list[tuple[int, int, str, object]] = []
    pr_counts: list[tuple[int, int]] = []  # (merge time, commits)
    for pr in ctx.merged_pulls:
        if pr.squash:
            events.append((pr.merged, 2, "squash", pr))
            pr_counts.append((pr.merged, 1))
        else:
            k = int(rng.paretovariate(1.6)) + (rng.random() < 0.5)
            span = max(60, pr.merged - pr.opened)
            times = sorted(pr.opened - 3600 + int(rng.random() * span) for _ in range(k))
            events.append((pr.merged, 2, "merge", (pr, times)))
            pr_counts.append((pr.merged, k + 1))
    base_target = scaled(COMMITS, ctx.scale, 10)
    releases = scaled(RELEASES, ctx.scale)
    step = (BASE_END - BASE_START - 40 * DAY) // releases
    for k in range(releases):
        events.append(
            (BASE_START + 40 * DAY + k * step + int(rng.random() * step * 0.5), 3, "release", None)
        )
    base_pr = sum(n for t, n in pr_counts if phase(t) == 0)
    direct = max(10, base_target - 1 - releases - base_pr)
    for m, k in enumerate(monthly_counts(direct)):
        events += [(t, 1, "direct", None) for t in times_in_month(rng, m, k)]
    events += [
        (time_in(rng, DELTA_START, DELTA_END), 1, "direct", None)
        for _ in range(delta_count(direct))
    ]
    minor = 0
    events.sort(key=lambda e: (e[0], e[1]))

    counts = ctx.source("git")
    base_marks = ctx.tmp / "git-base.marks"
    delta_marks = ctx.tmp / "git-delta.marks"
    importer = _Importer(repo, base_marks)
    stream = _Stream(importer.start(), "@@B")
    state = {"main": "", "stream": stream, "push": None, "minor": minor}
    delta_fh = None
    try:
        # The first commit: the initial tree by a maintainer.
        founder = pop.people[pop.staff[0]]
        for path, n in (("README.md", 12), ("Cargo.toml", 20), ("Cargo.lock", 40), ("CHANGELOG.md", 5),
                        (".github/workflows/ci.yml", 25), ("LICENSE", 10)):  # fmt: skip
            files.add(path, n)
        for mod in MODULES:
            files.add(f"src/{mod}/mod.rs", rng.randint(15, 40))
            files.add(f"tests/{mod}.rs", rng.randint(8, 25))
        files.add("python/borealis/__init__.py", 15)
        t0 = BASE_START + 3600
        ident = _ident(founder.git_name, founder.git_emails[0], t0, founder.tz)
        mark = stream.commit("refs/heads/main", ident, ident, "Initial commit\n", [],
                             [(p, files.files[p]) for p in files.paths])  # fmt: skip
        state["main"] = f":{mark}"
        base_n = 1
        delta_n = 0
        for i, (t, _, kind, payload) in enumerate(events):
            ph = phase(t)
            if ph == 2:
                continue
            if ph == 1 and delta_fh is None:
                _flush_push(ctx, state)
                importer.finish()
                delta_fh = (ctx.out / DELTA_STREAM).open("wb")
                stream = _Stream(delta_fh, "@@D")
                state["stream"] = stream
                state["main"] = "refs/heads/main^0"
                counts.base["repo_commits"] = base_n
            n = _emit(ctx, rng, files, state, t, kind, payload)
            if ph == 0:
                base_n += n
                if stream.commits - importer.since >= IMPORT_COMMITS:
                    importer.finish()
                    stream.fh = importer.start(since=stream.commits)
            else:
                delta_n += n
            if i % 20000 == 0:
                ctx.say(f"git: {i:,}/{len(events):,} commits")
        _flush_push(ctx, state)
        if delta_fh is None:  # no delta commits at all
            importer.finish()
            delta_fh = (ctx.out / DELTA_STREAM).open("wb")
            counts.base["repo_commits"] = base_n
        delta_fh.write(b"done\n")
        delta_fh.close()
    finally:
        importer.kill()
    _git(repo, "pack-refs", "--all", "--prune")
    _scratch_import(repo, ctx.out / DELTA_STREAM, delta_marks, ctx.tmp)
    counts.delta["repo_commits"] = counts.new["repo_commits"] = delta_n
    counts.extra.update(
        {"merged_pull_requests": len(ctx.merged_pulls), "tags": _git(repo, "tag").count("\n")}
    )


def _person_ident(rng: random.Random, pop, pid: int, t: int) -> tuple[str, str, int]:
    if pid == -1:
        b = BOTS["dependabot"]
        return b.name, b.email, 0
    if pid == -2:
        b = BOTS["actions"]
        return b.name, b.email, 0
    p = pop.people[pid]
    emails = p.git_emails
    email = emails[0] if len(emails) == 1 or rng.random() < 0.75 else rng.choice(emails[1:])
    return p.git_name, email, p.tz


def _message(rng: random.Random, pop, co_author: int | None) -> str:
    subject = rng.choice(SUBJECTS).format(
        m=rng.choice(MODULES), noun=rng.choice(words.NOUNS), feature=rng.choice(words.FEATURES),
        fn=f"{rng.choice(('poll', 'flush', 'apply', 'merge', 'load'))}_{rng.choice(words.NOUNS).replace(' ', '_')}",
    )  # fmt: skip
    body = ""
    if rng.random() < 0.4:
        body = "\n\n" + " ".join(words.sentences(rng, rng.randint(1, 2)))
    if co_author is not None:
        p = pop.people[co_author]
        body += f"\n\nCo-authored-by: {p.name} <{p.git_emails[0]}>"
    return subject + body + "\n"


def _emit(
    ctx: Context, rng: random.Random, files: _Files, state: dict, t: int, kind: str, payload: object
) -> int:
    """Write one event's commits; returns how many commits it made."""
    pop = ctx.pop
    stream: _Stream = state["stream"]
    coder = pop.sampler("code")
    month = month_of(t)
    if kind == "direct":
        pid = rng.choice(pop.staff) if rng.random() < 0.35 else coder.pick(rng, month)
        name, email, tz = _person_ident(rng, pop, pid, t)
        co = coder.pick_other(rng, month, pid) if rng.random() < 0.06 else None
        author = _ident(name, email, t, tz)
        committer = author
        if rng.random() < 0.05:  # a maintainer applied the patch
            s = pop.people[rng.choice(pop.staff)]
            committer = _ident(s.git_name, s.git_emails[0], t + rng.randint(60, 7200), s.tz)
        parent = state["main"]
        mark = stream.commit(
            "refs/heads/main", author, committer, _message(rng, pop, co), [parent], files.change()
        )
        state["main"] = f":{mark}"
        pop.tally.add(pid, REPO)
        if co is not None:
            pop.tally.add(co, REPO)
        _push(ctx, state, pid, t, [(mark, email, name, "direct")], parent)
        return 1
    if kind == "release":
        minor = state["minor"] = state["minor"] + 1
        version = f"{minor // 12}.{minor % 12}.0"
        b = BOTS["actions"]
        ident = _ident(b.name, b.email, t, 0)
        files.files["CHANGELOG.md"][1:1] = [f"## v{version}", *words.sentences(rng, 3)]
        files.files["Cargo.toml"][2] = f'version = "{version}"'
        parent = state["main"]
        mark = stream.commit("refs/heads/main", ident, ident, f"chore(release): v{version}\n", [parent],
                             [("CHANGELOG.md", files.files["CHANGELOG.md"]), ("Cargo.toml", files.files["Cargo.toml"])])  # fmt: skip
        state["main"] = f":{mark}"
        releaser = pop.people[rng.choice(pop.staff)]
        stream.tag_at(f"v{version}", mark, _ident(releaser.git_name, releaser.git_emails[0], t + 120, releaser.tz),
                      f"Borealis v{version}\n")  # fmt: skip
        _push(ctx, state, -2, t, [(mark, b.email, b.name, "release")], parent)
        _flush_push(ctx, state)
        _release_events(ctx, rng, releaser.pid, t + 180, version, stream.placeholder(mark))
        return 1
    pr: MergedPull
    if kind == "squash":
        pr = payload  # type: ignore[assignment]
        name, email, tz = _person_ident(rng, pop, pr.author, pr.opened)
        committer = _ident(WEB_FLOW[0], WEB_FLOW[1], t, 0)
        lines = [f"* {_message(rng, pop, None).strip()}" for _ in range(rng.randint(1, 3))]
        co = (
            coder.pick_other(rng, month, pr.author)
            if pr.author >= 0 and rng.random() < 0.08
            else None
        )
        msg = f"{pr.title} (#{pr.number})\n\n" + "\n".join(lines) + "\n"
        if co is not None:
            p = pop.people[co]
            msg += f"\nCo-authored-by: {p.name} <{p.git_emails[0]}>\n"
            pop.tally.add(co, REPO)
        changes = files.change() if pr.author != -1 else _bump(files, rng, pr.title)
        parent = state["main"]
        mark = stream.commit(
            "refs/heads/main", _ident(name, email, t, tz), committer, msg, [parent], changes
        )
        state["main"] = f":{mark}"
        if pr.author >= 0:
            pop.tally.add(pr.author, REPO)
        _push(ctx, state, pr.merger, t, [(mark, email, name, "squash")], parent)
        return 1
    # a merge commit with the branch's commits
    pr, times = payload  # type: ignore[misc]
    overlay: dict[str, list[str]] = {}
    parent = state["main"]
    tip = parent
    branch_marks = []
    login = pop.people[pr.author].login if pr.author >= 0 else "dependabot"
    for bt in times:
        name, email, tz = _person_ident(rng, pop, pr.author, bt)
        ident = _ident(name, email, min(bt, t - 60), tz)
        changes = files.change(overlay) if pr.author != -1 else _bump(files, rng, pr.title, overlay)
        mark = stream.commit(
            f"refs/pull/{pr.number}/head", ident, ident, _message(rng, pop, None), [tip], changes
        )
        tip = f":{mark}"
        branch_marks.append((mark, email, name, "branch"))
        if pr.author >= 0:
            pop.tally.add(pr.author, REPO)
    merger = pop.people[pr.merger]
    m_ident = _ident(merger.git_name, merger.git_emails[0], t, merger.tz)
    committer = _ident(WEB_FLOW[0], WEB_FLOW[1], t, 0)
    msg = f"Merge pull request #{pr.number} from {login}/patch-{pr.number}\n\n{pr.title}\n"
    files.files.update(overlay)
    mark = stream.commit(
        "refs/heads/main", m_ident, committer, msg, [parent, tip], sorted(overlay.items())
    )
    state["main"] = f":{mark}"
    _push(
        ctx,
        state,
        pr.merger,
        t,
        [*branch_marks, (mark, merger.git_emails[0], merger.git_name, "merge")],
        parent,
    )
    _flush_push(ctx, state)
    return len(times) + 1


def _bump(
    files: _Files, rng: random.Random, title: str, overlay: dict | None = None
) -> list[tuple[str, list[str]]]:
    changes = []
    for path in ("Cargo.toml", "Cargo.lock"):
        lines = list((overlay or {}).get(path) or files.files[path])
        pos = int(rng.random() * len(lines))
        lines[pos] = f"# {title}"
        if overlay is not None:
            overlay[path] = lines
        else:
            files.files[path] = lines
        changes.append((path, lines))
    return changes


# -- GH Archive: pushes and releases -------------------------------------------------------


def _push(
    ctx: Context,
    state: dict,
    pid: int,
    t: int,
    commits: list[tuple[int, str, str, str]],
    before: str,
) -> None:
    """Group direct pushes by the same person within three hours into one PushEvent."""
    push = state["push"]
    if push is not None and (
        push["pid"] != pid or t - push["t"] > 3 * HOUR or len(push["commits"]) >= 20
    ):
        _flush_push(ctx, state)
        push = None
    if push is None:
        push = state["push"] = {"pid": pid, "t": t, "commits": [], "before": before}
    push["commits"] += commits
    push["t"] = t


def _flush_push(ctx: Context, state: dict) -> None:
    push = state["push"]
    state["push"] = None
    if not push:
        return
    stream: _Stream = state["stream"]
    pop = ctx.pop
    if push["pid"] == -2:
        b = BOTS["actions"]
        login, gh_id = b.login, b.gh_id
    else:
        p = pop.people[push["pid"]]
        login, gh_id = p.login, p.gh_id
    before = push["before"]
    before_sha = stream.placeholder(int(before[1:])) if before.startswith(":") else "@@MAIN@@"
    commits = [
        {"sha": stream.placeholder(mark), "author": {"email": email, "name": name},
         "message": "Merge pull request" if kind == "merge" else "Update", "distinct": True,
         "url": f"https://api.github.com/repos/{GITHUB_REPO}/commits/{stream.placeholder(mark)}"}
        for mark, email, name, kind in push["commits"]
    ]  # fmt: skip
    t = push["t"]
    digest = int(hashlib.sha256(f"{t}{login}".encode()).hexdigest()[:10], 16)
    ctx.event(t, {"type": "PushEvent", "actor": actor_obj(login, gh_id), "repo": repo_obj(GITHUB_REPO, REPO_ID),
                  "payload": {"repository_id": REPO_ID, "push_id": 6_000_000_000 + digest % 30_000_000_000,
                              "size": len(commits), "distinct_size": len(commits), "ref": "refs/heads/main",
                              "head": commits[-1]["sha"], "before": before_sha, "commits": commits},
                  "public": True, "created_at": iso_z(t), "org": ORG_OBJ})  # fmt: skip


def _release_events(
    ctx: Context, rng: random.Random, pid: int, t: int, version: str, sha: str
) -> None:
    p = ctx.pop.people[pid]
    actor = actor_obj(p.login, p.gh_id)
    repo = repo_obj(GITHUB_REPO, REPO_ID)
    ctx.event(t, {"type": "CreateEvent", "actor": actor, "repo": repo,
                  "payload": {"ref": f"v{version}", "ref_type": "tag", "master_branch": "main",
                              "description": "Stream processing for everyone", "pusher_type": "user"},
                  "public": True, "created_at": iso_z(t), "org": ORG_OBJ})  # fmt: skip
    release_id = 90_000_000 + int(version.replace(".", "")) * 7
    ctx.event(t + 30, {"type": "ReleaseEvent", "actor": actor, "repo": repo,
                       "payload": {"action": "published", "release": {
                           "url": f"https://api.github.com/repos/{GITHUB_REPO}/releases/{release_id}",
                           "html_url": f"https://github.com/{GITHUB_REPO}/releases/tag/v{version}",
                           "id": release_id, "tag_name": f"v{version}", "target_commitish": sha,
                           "name": f"Borealis v{version}", "draft": False, "prerelease": False,
                           "author": actor, "created_at": iso_z(t), "published_at": iso_z(t + 30),
                           "body": " ".join(words.sentences(rng, 2))}},
                       "public": True, "created_at": iso_z(t + 30), "org": ORG_OBJ})  # fmt: skip
    ctx.pop.tally.add(pid, REPO)


# -- marks and the delta -----------------------------------------------------------------


def _scratch_import(repo: Path, stream: Path, marks: Path, tmp: Path) -> None:
    """Import the delta stream into a scratch repository borrowing the base's objects, to
    learn the SHAs ``apply_delta`` will produce (same content, same parents, same SHAs)."""
    scratch = tmp / "git-scratch.git"
    if scratch.exists():
        shutil.rmtree(scratch)
    _git(tmp, "init", "--bare", "-q", "--initial-branch=main", scratch.name)
    (scratch / "objects" / "info" / "alternates").write_text(
        str((repo / "objects").resolve()) + "\n"
    )
    _git(
        scratch, "update-ref", "refs/heads/main", _git(repo, "rev-parse", "refs/heads/main").strip()
    )
    _git(
        scratch,
        "fast-import",
        "--quiet",
        "--done",
        f"--export-marks={marks}",
        stdin=stream.read_bytes(),
    )
    shutil.rmtree(scratch)


class Marks:
    """``@@B<mark>@@`` / ``@@D<mark>@@`` placeholders (base and delta commits) and
    ``@@MAIN@@`` (the base tip) to SHAs. Commits are marked 1, 2, ... in each stream, so
    the SHAs are lists indexed by mark: at scale 10 (900,000 commits) a third of a dict's
    memory, held while the largest GH Archive months are written."""

    def __init__(self, main: bytes, base: list[bytes], delta: list[bytes]) -> None:
        self._main = main
        self._streams = {ord("B"): base, ord("D"): delta}

    def __getitem__(self, placeholder: bytes) -> bytes:
        if placeholder == b"@@MAIN@@":
            return self._main
        return self._streams[placeholder[2]][int(placeholder[3:-2])]


def _read_marks(path: Path) -> list[bytes]:
    """A ``--export-marks`` file (``:<mark> <sha>`` lines) as SHAs indexed by mark."""
    shas: list[bytes] = []
    if not path.exists():
        return shas
    with path.open("rb") as fh:
        for line in fh:
            mark, sha = line.split()
            index = int(mark[1:])
            if index >= len(shas):
                shas.extend([b""] * (index + 1 - len(shas)))
            shas[index] = sha
    return shas


def load_marks(tmp: Path, repo: Path) -> Marks:
    """The placeholders' SHAs (``Marks``) of the base and delta streams' commits."""
    main = _git(repo, "rev-parse", "refs/heads/main").strip().encode()
    return Marks(main, _read_marks(tmp / "git-base.marks"), _read_marks(tmp / "git-delta.marks"))


def apply_delta(out: Path) -> int:
    """Import the delta stream into ``git/borealis.git`` (once); returns the new commit count."""
    repo = Path(out) / REPO_DIR
    stream = Path(out) / DELTA_STREAM
    data = stream.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    marker = repo / APPLIED
    if marker.exists() and marker.read_text().strip() == digest:
        return 0
    before = int(_git(repo, "rev-list", "--count", "--all").strip())
    _git(repo, "fast-import", "--quiet", "--done", stdin=data)
    _git(repo, "pack-refs", "--all", "--prune")
    marker.write_text(digest + "\n")
    return int(_git(repo, "rev-list", "--count", "--all").strip()) - before


__all__ = ["Marks", "apply_delta", "generate", "load_marks"]
