"""GH Archive hourly files: ``gharchive/YYYY-MM-DD-H.json.gz`` (the hour not zero-padded).

One compact JSON event a line, in GH Archive's shapes (``id`` as text first, ``type``,
``actor``, ``repo``, ``payload``, ``public``, ``created_at``, ``org``). Ids are unique and
grow with time, as GH Archive's do. The events:

- every action of the GitHub recording again (issues and pull requests opened and
  closed, comments, reviews, review comments, stars), with the same ids and logins, and
  the forks; pushes to ``main`` with the real commit SHAs of the git history; releases;
- the project's other repositories (``borealis-dev/borealis-python``, ``-docs``,
  ``helm-charts``, ``borealis-operator``), which only GH Archive sees;
- noise the ``orgs=borealis-dev`` filter drops: other projects, a near miss
  (``borealis-dev-fan/borealis-tools``), pushes to personal forks.

Only hours with events are written. Delta: ``delta/gharchive/2026-01-01-H.json.gz``.
Land with ``--option orgs=[borealis-dev]`` (``options={"orgs": ["borealis-dev"]}``).
"""

from __future__ import annotations

import gzip
import random
import re
import time
from typing import IO, Any

from townsquare.synth import words
from townsquare.synth.context import GITHUB_ORG, Context
from townsquare.synth.git import REPO_DIR, load_marks
from townsquare.synth.github import ORG_OBJ, REPO_ID, actor_obj, repo_obj, user_obj
from townsquare.synth.population import REPO
from townsquare.synth.timeline import (
    BASE_END,
    BASE_START,
    DELTA_MONTH,
    HOUR,
    delta_count,
    iso_z,
    monthly_counts,
    rng_for,
    scaled,
    times_in_month,
)

EXTRA_EVENTS = 220_000
NOISE_SHARE = 0.2
FIRST_EVENT_ID = 14_000_000_000
IDS_PER_SECOND = 230
EXTRA_REPOS = (
    ("borealis-dev/borealis-python", REPO_ID + 11, 0.4),
    ("borealis-dev/borealis-docs", REPO_ID + 12, 0.25),
    ("borealis-dev/helm-charts", REPO_ID + 13, 0.15),
    ("borealis-dev/borealis-operator", REPO_ID + 14, 0.2),
)
NOISE_REPOS = (
    ("nimbus-labs/nimbus", 512_000_001, "nimbus-labs"),
    ("aurora-stack/aurora", 498_000_002, "aurora-stack"),
    ("borealis-dev-fan/borealis-tools", 733_000_003, None),
)
KINDS = (
    ("WatchEvent", 0.24), ("IssueCommentEvent", 0.25), ("IssuesEvent", 0.12), ("PushEvent", 0.15),
    ("PullRequestEvent", 0.1), ("PullRequestReviewEvent", 0.05), ("ForkEvent", 0.05),
    ("CreateEvent", 0.03), ("DeleteEvent", 0.01),
)  # fmt: skip
_PLACEHOLDER = re.compile(rb"@@(?:[BD]\d+|MAIN)@@")


def generate(ctx: Context) -> None:
    """The other repositories and the noise, then every hour file (with the spooled events)."""
    rng = rng_for(ctx.seed, "gharchive")
    pop = ctx.pop
    sampler = pop.sampler("repo")
    n = scaled(EXTRA_EVENTS, ctx.scale, 10)
    numbers = {name: 0 for name, _, _ in EXTRA_REPOS}
    kinds = [k for k, _ in KINDS]
    kind_w = [w for _, w in KINDS]
    repos = list(EXTRA_REPOS)
    repo_w = [w for _, _, w in EXTRA_REPOS]
    for m, k in enumerate([*monthly_counts(n), delta_count(n)]):
        for t in times_in_month(rng, m, k):
            name, repo_id, _ = rng.choices(repos, weights=repo_w)[0]
            kind = rng.choices(kinds, weights=kind_w)[0]
            pid = (
                rng.choice(pop.staff)
                if kind in ("PushEvent", "CreateEvent", "DeleteEvent") and rng.random() < 0.6
                else sampler.pick(rng, m, flat=kind in ("WatchEvent", "ForkEvent", "IssuesEvent"))
            )
            p = pop.people[pid]
            payload = _payload(rng, kind, name, numbers, p.login, p.gh_id, t)
            ctx.event(t, {"type": kind, "actor": actor_obj(p.login, p.gh_id), "repo": repo_obj(name, repo_id),
                          "payload": payload, "public": True, "created_at": iso_z(t), "org": ORG_OBJ})  # fmt: skip
            pop.tally.add(pid, REPO)
            if rng.random() < NOISE_SHARE:
                _noise(ctx, rng, t + rng.randint(1, 1800), numbers)
    _write_hours(ctx)


def _payload(
    rng: random.Random,
    kind: str,
    repo: str,
    numbers: dict[str, int],
    login: str,
    gh_id: int,
    t: int,
) -> dict[str, Any]:
    if kind == "WatchEvent":
        return {"action": "started"}
    if kind == "ForkEvent":
        fork = f"{login}/{repo.split('/')[1]}"
        return {"forkee": {"id": 800_000_000 + gh_id % 99_000_000, "name": repo.split("/")[1], "full_name": fork,
                           "private": False, "owner": user_obj(login, gh_id), "html_url": f"https://github.com/{fork}",
                           "fork": True, "created_at": iso_z(t), "public": True}}  # fmt: skip
    if kind == "PushEvent":
        shas = [f"{rng.getrandbits(160):040x}" for _ in range(rng.randint(1, 4))]
        return {"push_id": rng.randint(6 * 10**9, 3 * 10**10), "size": len(shas),
                "distinct_size": len(shas), "ref": "refs/heads/main", "head": shas[-1],
                "before": f"{rng.getrandbits(160):040x}",
                "commits": [{"sha": s, "author": {"email": f"{gh_id}+{login}@users.noreply.github.com", "name": login},
                             "message": words.title(rng, "feature"), "distinct": True,
                             "url": f"https://api.github.com/repos/{repo}/commits/{s}"} for s in shas]}  # fmt: skip
    if kind in ("CreateEvent", "DeleteEvent"):
        ref = f"feature/{words.slug(rng.choice(words.FEATURES))}"
        base = {"ref": ref, "ref_type": "branch", "pusher_type": "user"}
        if kind == "CreateEvent":
            base.update(master_branch="main", description=None)
        return base
    # issues, comments, pull requests, reviews: numbered per repository
    if kind in ("IssuesEvent", "PullRequestEvent") and (numbers[repo] == 0 or rng.random() < 0.7):
        numbers[repo] += 1
        number, action = numbers[repo], "opened"
    else:
        number = 1 + int(rng.random() * max(1, numbers[repo]))
        action = "closed" if kind in ("IssuesEvent", "PullRequestEvent") else "created"
    issue_id = 1_500_000_000 + (hash_int(repo) % 1000) * 1_000_000 + number
    html = f"https://github.com/{repo}/{'pull' if kind.startswith('PullRequest') else 'issues'}/{number}"
    obj = {"url": f"https://api.github.com/repos/{repo}/issues/{number}", "html_url": html, "id": issue_id,
           "number": number, "title": words.title(rng, "bug"), "user": user_obj(login, gh_id),
           "state": "closed" if action == "closed" else "open", "comments": rng.randint(0, 9),
           "created_at": iso_z(t), "updated_at": iso_z(t), "author_association": "NONE",
           "body": words.sentences(rng, 1)[0]}  # fmt: skip
    if kind == "IssuesEvent":
        return {"action": action, "issue": obj}
    if kind == "IssueCommentEvent":
        cid = 2_000_000_000 + rng.getrandbits(30)
        return {"action": "created", "issue": obj,
                "comment": {"url": f"https://api.github.com/repos/{repo}/issues/comments/{cid}",
                            "html_url": f"{html}#issuecomment-{cid}", "id": cid, "user": user_obj(login, gh_id),
                            "created_at": iso_z(t), "updated_at": iso_z(t), "author_association": "NONE",
                            "body": words.sentences(rng, 1, True)[0]}}  # fmt: skip
    merged = action == "closed" and rng.random() < 0.75
    pull = {**obj, "merged": merged, "merged_at": iso_z(t) if merged else None, "draft": False,
            "head": {"ref": f"patch-{number}"}, "base": {"ref": "main"}}  # fmt: skip
    if kind == "PullRequestEvent":
        return {"action": action, "number": number, "pull_request": pull}
    rid = 3_000_000_000 + rng.getrandbits(30)
    return {"action": "created", "review": {"id": rid, "user": user_obj(login, gh_id), "state": "approved",
                                            "submitted_at": iso_z(t), "html_url": f"{html}#pullrequestreview-{rid}"},
            "pull_request": pull}  # fmt: skip


def hash_int(text: str) -> int:
    return sum((i + 1) * ord(c) for i, c in enumerate(text))


def _noise(ctx: Context, rng: random.Random, t: int, numbers: dict[str, int]) -> None:
    name, repo_id, org = rng.choice(NOISE_REPOS)
    login = f"user{rng.randint(1000, 99999)}"
    gh_id = 200_000_000 + rng.randint(0, 9_999_999)
    kind = rng.choice(("WatchEvent", "IssueCommentEvent", "PushEvent", "IssuesEvent"))
    numbers.setdefault(name, 0)
    event: dict[str, Any] = {"type": kind, "actor": actor_obj(login, gh_id), "repo": repo_obj(name, repo_id),
                             "payload": _payload(rng, kind, name, numbers, login, gh_id, t),
                             "public": True, "created_at": iso_z(t)}  # fmt: skip
    if org:
        event["org"] = {"id": repo_id + 1, "login": org, "gravatar_id": "",
                        "url": f"https://api.github.com/orgs/{org}",
                        "avatar_url": f"https://avatars.githubusercontent.com/u/{repo_id + 1}?"}  # fmt: skip
    ctx.event(t, event, kept=False)


def _write_hours(ctx: Context) -> None:
    marks = load_marks(ctx.tmp, ctx.out / REPO_DIR)
    base_dir = ctx.out / "gharchive"
    delta_dir = ctx.out / "delta" / "gharchive"
    base_dir.mkdir(parents=True, exist_ok=True)
    delta_dir.mkdir(parents=True, exist_ok=True)
    last_id = FIRST_EVENT_ID
    files = {"base": 0, "delta": 0}
    current: tuple[int, IO[bytes], Any] | None = None

    def close() -> None:
        if current is not None:
            current[2].close()
            current[1].close()

    def sub(match: re.Match[bytes]) -> bytes:
        return marks[match.group()]

    for month, records in ctx.events.months():
        for t, _, data in records:
            hour = t // HOUR
            if current is None or current[0] != hour:
                close()
                g = time.gmtime(hour * HOUR)
                name = f"{g.tm_year:04d}-{g.tm_mon:02d}-{g.tm_mday:02d}-{g.tm_hour}.json.gz"
                folder = delta_dir if t > BASE_END else base_dir
                files["delta" if t > BASE_END else "base"] += 1
                fh = (folder / name).open("wb")
                current = (
                    hour,
                    fh,
                    gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=6),
                )
            last_id = max(last_id + 1, FIRST_EVENT_ID + (t - BASE_START) * IDS_PER_SECOND)
            if b"@@" in data:
                data = _PLACEHOLDER.sub(sub, data)
            current[2].write(b'{"id":"%d",' % last_id + data[1:] + b"\n")
        if month % 12 == 11 or month == DELTA_MONTH:
            ctx.say(f"gharchive: month {month + 1}/61 written")
    close()
    counts = ctx.source("gharchive")
    counts.base["repo_events"] = ctx.gharchive["base"]
    counts.delta["repo_events"] = counts.new["repo_events"] = ctx.gharchive["delta"]
    counts.extra.update(
        {
            "hour_files": files["base"],
            "delta_hour_files": files["delta"],
            "events_filtered_out": ctx.gharchive["base_other"],
            "delta_events_filtered_out": ctx.gharchive["delta_other"],
            "orgs": [GITHUB_ORG],
        }
    )


__all__ = ["generate"]
