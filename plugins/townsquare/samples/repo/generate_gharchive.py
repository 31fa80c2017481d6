"""Generate the bundled GH Archive samples for ``townsquare demo`` (deterministic, offline).

The story continues the blog samples (``townsquare.samples.blog.generate``): *Lumen*,
the fictional embedded time-series database, lives at ``github.com/lumen-db/lumen``.
Lumen 1.0.0 is released on 2026-09-14 (its Atom entry says 05:19 UTC); the three
hourly files ``gharchive/2026-09-14-{5,6,7}.json.gz`` hold that morning's public
GitHub events, in GH Archive's shape (one compact JSON event per line, the keys in
GH Archive's order: id, type, actor, repo, payload, public, created_at, org).

- ``lumen-db/lumen`` (the org ``lumen-db``): the release, pushes by the staff,
  stars, forks, issues, pull requests and comments by the blog's commenters;
- ``lumen-db/lumen-go`` (the Go client, same org): kept by an ``orgs: [lumen-db]``
  filter, dropped by ``repos: [lumen-db/lumen]``;
- other people's repositories (forks of Lumen under user accounts, unrelated
  projects): dropped by either filter.

People: the blog's staff (``STAFF``) and its commenters (``Generator().people``).
GitHub logins are derived from names, as the blog's commenters' GitHub URLs are:
first name plus the first three letters of the last name, lower-cased and
ASCII-folded (``Omar Wendt`` → ``omarwen``). Commit authors use GitHub noreply
addresses (``<id>+<login>@users.noreply.github.com``), staff their own.

Run ``python -m townsquare.samples.repo.generate_gharchive`` to rewrite the files.
Output depends only on the constants below and ``SEED`` (gzip headers carry no
name and no time).

Facts the tests may check (they follow from the constants): see ``EXPECTED``.

The event builders (``actor``, ``repo``, ``org``, ``payload``, ``event``,
``dumps``) are also used by ``benchmarks/bench_gharchive.py``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import unicodedata
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from townsquare.samples.blog.generate import STAFF, Generator

SEED = 20261004
HERE = Path(__file__).resolve().parent
OUT = HERE / "gharchive"
API = "https://api.github.com"
WEB = "https://github.com"

ORG = ("lumen-db", 151_234_567)
LUMEN = ("lumen-db/lumen", 781_234_567)
LUMEN_GO = ("lumen-db/lumen-go", 781_234_990)
OTHERS = (
    ("nimbus-io/nimbus", 612_045_118),
    ("kestrel-dev/kestrel", 598_771_203),
    ("ferrous-ts/ferrous", 702_331_845),
)
HOURS = tuple(datetime(2026, 9, 14, h, tzinfo=UTC) for h in (5, 6, 7))
RELEASE_AT = datetime(2026, 9, 14, 5, 19, 4, tzinfo=UTC)
FIRST_EVENT_ID = 52_118_000_000
EVENTS_PER_HOUR = (44, 38, 30)
"""Events of lumen-db/lumen per hour (the other repositories' events come on top)."""
OTHER_PER_HOUR = 14
GO_PER_HOUR = 4

WORDS = (
    "lumen",
    "compaction",
    "wal",
    "segment",
    "retention",
    "query",
    "index",
    "shard",
    "arm",
    "build",
    "flush",
    "timestamp",
    "delta",
    "gorilla",
    "chunk",
    "cache",
    "sensor",
    "edge",
    "replica",
    "snapshot",
    "the",
    "a",
    "of",
    "to",
    "and",
    "with",
    "on",
)
ISSUE_TITLES = (
    "1.0.0: segfault when the WAL directory is on tmpfs",
    "Docs: upgrade guide from 0.9 misses the retention flag",
    "Compaction stalls on ARMv7 with 1.0.0",
    "Feature request: downsampling rollups in LQL",
    "Build fails on musl: missing __builtin_ctzll",
    "Query planner ignores time predicates on joins",
    "Release artifacts: checksums file is missing",
    "Python bindings: wheels for aarch64",
)
PR_TITLES = (
    "Fix WAL open on tmpfs (O_DIRECT fallback)",
    "docs: add the retention flag to the 0.9 → 1.0 upgrade guide",
    "ci: publish SHA256SUMS with the release artifacts",
    "compaction: yield between segments on 32-bit targets",
    "build: portable ctz for musl",
)
COMMIT_MESSAGES = (
    "Release 1.0.0",
    "Bump version to 1.0.1-dev",
    "changelog: 1.0.0",
    "wal: fall back to buffered I/O when O_DIRECT is refused",
    "docs: fix the LQL time bucket example",
    "ci: cache the cross toolchains",
)

EXPECTED = {
    "files": ("2026-09-14-5.json.gz", "2026-09-14-6.json.gz", "2026-09-14-7.json.gz"),
    "lumen_events": sum(EVENTS_PER_HOUR),
    "lumen_db_events": sum(EVENTS_PER_HOUR) + GO_PER_HOUR * len(HOURS),
    "all_events": sum(EVENTS_PER_HOUR) + (GO_PER_HOUR + OTHER_PER_HOUR) * len(HOURS),
}


# -- event builders (shared with the benchmark) -------------------------------------------


def login_for(name: str) -> str:
    """GitHub login from a name: first name + 3 letters of the last, ASCII lower case."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    parts = [p for p in folded.replace("-", " ").split() if p.isalnum()]
    return parts[0] + (parts[-1][:3] if len(parts) > 1 else "")


def user_id(login: str) -> int:
    """A stable fictional GitHub user id for ``login``."""
    return 1_000_000 + int(hashlib.sha256(login.encode()).hexdigest()[:8], 16) % 90_000_000


def actor(login: str) -> dict[str, Any]:
    uid = user_id(login)
    return {
        "id": uid,
        "login": login,
        "display_login": login,
        "gravatar_id": "",
        "url": f"{API}/users/{login}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?",
    }


def repo(name: str, rid: int) -> dict[str, Any]:
    return {"id": rid, "name": name, "url": f"{API}/repos/{name}"}


def org(login: str, oid: int) -> dict[str, Any]:
    return {
        "id": oid,
        "login": login,
        "gravatar_id": "",
        "url": f"{API}/orgs/{login}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{oid}?",
    }


def _user(login: str) -> dict[str, Any]:
    uid = user_id(login)
    return {
        "login": login,
        "id": uid,
        "node_id": f"U_kgDO{uid:08X}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "html_url": f"{WEB}/{login}",
        "type": "User",
        "site_admin": False,
    }


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def _issue(
    rng: random.Random,
    repo_name: str,
    number: int,
    title: str,
    author: str,
    when: datetime,
    body_words: int,
    *,
    pull: bool = False,
) -> dict[str, Any]:
    kind = "pull" if pull else "issues"
    issue: dict[str, Any] = {
        "url": f"{API}/repos/{repo_name}/issues/{number}",
        "html_url": f"{WEB}/{repo_name}/{kind}/{number}",
        "id": 2_400_000_000 + number * 7919 % 100_000_000,
        "number": number,
        "title": title,
        "user": _user(author),
        "labels": [{"name": rng.choice(("bug", "docs", "enhancement", "build"))}],
        "state": "open",
        "locked": False,
        "comments": rng.randrange(0, 6),
        "created_at": _stamp(when),
        "updated_at": _stamp(when),
        "closed_at": None,
        "author_association": "NONE",
        "body": text(rng, body_words),
    }
    if pull:
        issue.update(
            {
                "draft": False,
                "merged": False,
                "head": {"ref": f"fix-{number}", "sha": _sha(rng), "label": f"{author}:fix"},
                "base": {
                    "ref": "main",
                    "sha": _sha(rng),
                    "label": f"{repo_name.split('/')[0]}:main",
                },
                "commits": rng.randrange(1, 4),
                "additions": rng.randrange(1, 200),
                "deletions": rng.randrange(0, 80),
                "changed_files": rng.randrange(1, 9),
            }
        )
    return issue


def payload(
    kind: str,
    rng: random.Random,
    *,
    repo_name: str,
    login: str,
    when: datetime,
    number: int = 1,
    title: str = "",
    body_words: int = 40,
    commits: list[tuple[str, str, str]] | None = None,
    action: str | None = None,
    tag: str = "v1.0.0",
) -> dict[str, Any]:
    """A GH Archive payload of event type ``kind`` (the fields GitHub sends, trimmed).

    ``commits``: (name, email, message) per commit of a PushEvent.
    """
    if kind == "PushEvent":
        commits = commits or [(login, f"{user_id(login)}+{login}@users.noreply.github.com", "Fix")]
        shas = [_sha(rng) for _ in commits]
        return {
            "push_id": 20_000_000_000 + rng.randrange(10**9),
            "size": len(commits),
            "distinct_size": len(commits),
            "ref": "refs/heads/main",
            "head": shas[-1],
            "before": _sha(rng),
            "commits": [
                {
                    "sha": sha,
                    "author": {"email": email, "name": name},
                    "message": message,
                    "distinct": True,
                    "url": f"{API}/repos/{repo_name}/commits/{sha}",
                }
                for sha, (name, email, message) in zip(shas, commits, strict=True)
            ],
        }
    if kind == "WatchEvent":
        return {"action": "started"}
    if kind == "ForkEvent":
        fork = f"{login}/{repo_name.split('/')[1]}"
        return {
            "forkee": {
                "id": 800_000_000 + rng.randrange(10**8),
                "name": repo_name.split("/")[1],
                "full_name": fork,
                "private": False,
                "owner": _user(login),
                "html_url": f"{WEB}/{fork}",
                "fork": True,
                "created_at": _stamp(when),
                "default_branch": "main",
                "public": True,
            }
        }
    if kind == "IssuesEvent":
        issue = _issue(rng, repo_name, number, title, login, when, body_words)
        return {"action": action or "opened", "issue": issue}
    if kind == "PullRequestEvent":
        pr = _issue(rng, repo_name, number, title, login, when, body_words, pull=True)
        return {"action": action or "opened", "number": number, "pull_request": pr}
    if kind == "IssueCommentEvent":
        issue = _issue(rng, repo_name, number, title, login, when, 12)
        comment = {
            "id": 3_100_000_000 + rng.randrange(10**8),
            "html_url": f"{WEB}/{repo_name}/issues/{number}#issuecomment-1",
            "user": _user(login),
            "created_at": _stamp(when),
            "updated_at": _stamp(when),
            "author_association": "CONTRIBUTOR",
            "body": text(rng, body_words),
        }
        return {"action": action or "created", "issue": issue, "comment": comment}
    if kind == "ReleaseEvent":
        return {
            "action": "published",
            "release": {
                "tag_name": tag,
                "name": f"Lumen {tag.lstrip('v')}",
                "html_url": f"{WEB}/{repo_name}/releases/tag/{tag}",
                "draft": False,
                "prerelease": False,
                "author": _user(login),
                "published_at": _stamp(when),
                "body": text(rng, body_words),
            },
        }
    if kind == "CreateEvent":
        return {
            "ref": tag,
            "ref_type": "tag",
            "master_branch": "main",
            "description": "An embedded time-series database",
            "pusher_type": "user",
        }
    raise ValueError(f"no payload builder for {kind}")


def event(
    event_id: int,
    kind: str,
    when: datetime,
    who: dict[str, Any],
    where: dict[str, Any],
    body: dict[str, Any],
    owner: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One GH Archive event, keys in GH Archive's order (``org`` only for org repos)."""
    ev: dict[str, Any] = {
        "id": str(event_id),
        "type": kind,
        "actor": who,
        "repo": where,
        "payload": body,
        "public": True,
        "created_at": _stamp(when),
    }
    if owner is not None:
        ev["org"] = owner
    return ev


def dumps(ev: dict[str, Any]) -> str:
    """Compact, as GH Archive writes it."""
    return json.dumps(ev, ensure_ascii=False, separators=(",", ":"))


# -- the sample ---------------------------------------------------------------------------


def people() -> tuple[list[str], list[str]]:
    """(staff logins, community logins) from the blog's people."""
    staff = [login_for(name) for _login, name, _email in STAFF]
    community = [login_for(p.name) for p in Generator().people]
    return staff, list(dict.fromkeys(community))


def hour_events(
    rng: random.Random, hour: datetime, index: int, next_id: int
) -> tuple[list[dict[str, Any]], int]:
    staff, community = people()
    staff_emails = {login_for(name): (name, email) for _l, name, email in STAFF}
    planned: list[tuple[datetime, str, str, dict[str, Any], dict[str, Any] | None, dict]] = []
    lumen, lumen_go, the_org = repo(*LUMEN), repo(*LUMEN_GO), org(*ORG)

    def at() -> datetime:
        return hour + timedelta(seconds=rng.randrange(3600))

    # lumen-db/lumen
    kinds = ["WatchEvent"] * 10 + ["ForkEvent"] * 3 + ["IssuesEvent"] * 3
    kinds += ["PullRequestEvent"] * 2 + ["IssueCommentEvent"] * 5 + ["PushEvent"] * 2
    for n in range(EVENTS_PER_HOUR[index]):
        kind = rng.choice(kinds)
        when = at()
        if index == 0 and n == 0:
            kind, when = "ReleaseEvent", RELEASE_AT
        elif index == 0 and n == 1:
            kind, when = "CreateEvent", RELEASE_AT - timedelta(seconds=40)
        elif index == 0 and n == 2:
            kind, when = "PushEvent", RELEASE_AT - timedelta(seconds=55)
        login = rng.choice(staff) if kind in ("PushEvent", "ReleaseEvent", "CreateEvent") else None
        login = login or rng.choice(community[:40])
        if kind == "PushEvent":
            name, email = staff_emails[login]
            message = COMMIT_MESSAGES[0] if index == 0 and n == 2 else rng.choice(COMMIT_MESSAGES)
            body = payload(
                kind,
                rng,
                repo_name=LUMEN[0],
                login=login,
                when=when,
                commits=[(name, email, message)],
            )
        else:
            is_pr = kind == "PullRequestEvent"
            titles = PR_TITLES if is_pr else ISSUE_TITLES
            number = 400 + rng.randrange(len(titles)) + (20 if is_pr else 0)
            body = payload(
                kind,
                rng,
                repo_name=LUMEN[0],
                login=login,
                when=when,
                number=number,
                title=titles[(number - 400) % len(titles)],
                body_words=rng.randrange(8, 30),
            )
        planned.append((when, kind, login, lumen, the_org, body))
    # lumen-db/lumen-go: kept by the org filter only
    for _ in range(GO_PER_HOUR):
        when, login = at(), rng.choice(community[:40])
        body = payload("WatchEvent", rng, repo_name=LUMEN_GO[0], login=login, when=when)
        planned.append((when, "WatchEvent", login, lumen_go, the_org, body))
    # other repositories: users' forks of Lumen and unrelated projects
    for _ in range(OTHER_PER_HOUR):
        when, login = at(), rng.choice(community)
        if rng.random() < 0.3:
            where = repo(f"{login}/lumen", 800_000_000 + user_id(login) % 10**8)
            body = payload("PushEvent", rng, repo_name=where["name"], login=login, when=when)
            planned.append((when, "PushEvent", login, where, None, body))
            continue
        name, rid = rng.choice(OTHERS)
        kind = rng.choice(("WatchEvent", "IssuesEvent", "IssueCommentEvent"))
        title = f"{text(rng, 5)[:-1]}"
        body = payload(
            kind, rng, repo_name=name, login=login, when=when, title=title, body_words=12
        )
        owner = org(name.split("/")[0], 150_000_000 + rid % 10**6)
        planned.append((when, kind, login, repo(name, rid), owner, body))
    planned.sort(key=lambda p: p[0])  # GH Archive files are in time order, ids increasing
    events = []
    for when, kind, login, where, owner, body in planned:
        events.append(event(next_id, kind, when, actor(login), where, body, owner))
        next_id += rng.randrange(1, 40)
    return events, next_id


def generate(out: Path = OUT) -> dict[str, Path]:
    rng = random.Random(SEED)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    next_id = FIRST_EVENT_ID
    for index, hour in enumerate(HOURS):
        events, next_id = hour_events(rng, hour, index, next_id)
        data = "".join(dumps(ev) + "\n" for ev in events).encode("utf-8")
        path = out / f"{hour:%Y-%m-%d}-{hour.hour}.json.gz"
        path.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
        files[path.name] = path
    return files


def summary(out: Path = OUT) -> Counter[str]:
    """Event counts per repository over the sample files."""
    counts: Counter[str] = Counter()
    for path in sorted(out.glob("*.json.gz")):
        for line in gzip.decompress(path.read_bytes()).splitlines():
            counts[json.loads(line)["repo"]["name"]] += 1
    return counts


if __name__ == "__main__":
    for name, path in generate().items():
        print(f"{path.stat().st_size:>8}  {name}")
    print(dict(summary()))
