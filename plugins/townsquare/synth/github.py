"""The GitHub repository ``borealis-dev/borealis`` as a recorded REST API (``github/``).

Files are named by ``recorded_name`` and served by ``RecordedServer(page_size=100)``: each
listing is one file (a JSON array, one record a line) served as GitHub does, ``per_page``
records a page with a ``Link: rel="next"`` header to the next. What the real ``github``
connector asks for (``api_url`` = the server's URL):

- ``/repos/borealis-dev/borealis/issues?state=all&sort=updated&direction=asc&per_page=100``:
  issues and pull requests (``pull_request.url`` and ``merged_at`` on PRs; drafts;
  dependabot PRs), oldest update first;
- ``/issues/comments`` and ``/pulls/comments`` (``sort=updated&direction=asc``), and
  ``/pulls/{n}/reviews`` for every pull request (an empty list when it has none);
- ``/stargazers`` in the star media type shape (``starred_at`` + ``user``), oldest first;
- ``/users/{login}`` for every non-bot login seen (name, company as people type it,
  blog, location, public email).

Every API action is also a GH Archive event (spooled for ``gharchive``), with the same
ids, numbers and logins; forks exist only in GH Archive (as on GitHub: the REST
listings of this connector do not read them).

Delta: ``delta/github/`` holds the files that change on the next day: the listings as of
the delta's end, the ``since=`` listings the incremental run asks (GitHub's ``since``
is inclusive: the records updated exactly at the base's watermark come back and are
skipped), the reviews of the pull requests updated that day, the stargazers and the new
profiles. ``apply_delta`` copies them over ``github/``.
"""

from __future__ import annotations

import itertools
import random
import zlib
from pathlib import Path
from typing import Any

from townsquare.connectors.incremental import to_watermark
from townsquare.samples.forum.recorded_server import recorded_name
from townsquare.synth import words
from townsquare.synth.context import GITHUB_ORG, GITHUB_REPO, Context, MergedPull, dumps
from townsquare.synth.population import BOTS, REPO
from townsquare.synth.spool import SortedSpill
from townsquare.synth.timeline import (
    BASE_END,
    BASE_START,
    DAY,
    DELTA_END,
    DELTA_START,
    HOUR,
    TimeIds,
    allocate,
    delay,
    delta_count,
    iso_z,
    month_of,
    monthly_counts,
    phase,
    rng_for,
    scaled,
    time_in,
    times_in_month,
)

ITEMS = 20_000
COMMENTS_PER_ITEM = 2.3
PR_SHARE = 0.6
DEPENDABOT_SHARE = 0.1
STARS = 16_000
FORKS = 4_000
API = "https://api.github.com"
REPO_ID = 612_345_678
ORG_ID = 151_234_000
REPO_PATH = f"/repos/{GITHUB_REPO}"
LISTING = {"state": "all", "sort": "updated", "direction": "asc", "per_page": "100"}
COMMENTS_LISTING = {"sort": "updated", "direction": "asc", "per_page": "100"}
CRATES = ("serde", "tokio", "rdkafka", "arrow", "parquet", "rustls", "clap", "tracing", "prost")


def user_obj(login: str, gh_id: int, kind: str = "User") -> dict[str, Any]:
    return {
        "login": login,
        "id": gh_id,
        "node_id": f"U_kgDO{gh_id:08X}" if kind == "User" else f"BOT_kgDO{gh_id:08X}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{gh_id}?v=4",
        "gravatar_id": "",
        "url": f"{API}/users/{login}",
        "html_url": f"https://github.com/{login}",
        "type": kind,
        "site_admin": False,
    }


def actor_obj(login: str, gh_id: int) -> dict[str, Any]:
    """The GH Archive ``actor``."""
    return {
        "id": gh_id,
        "login": login,
        "display_login": login.removesuffix("[bot]"),
        "gravatar_id": "",
        "url": f"{API}/users/{login}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{gh_id}?",
    }


def repo_obj(name: str, repo_id: int) -> dict[str, Any]:
    return {"id": repo_id, "name": name, "url": f"{API}/repos/{name}"}


ORG_OBJ = {
    "id": ORG_ID,
    "login": GITHUB_ORG,
    "gravatar_id": "",
    "url": f"{API}/orgs/{GITHUB_ORG}",
    "avatar_url": f"https://avatars.githubusercontent.com/u/{ORG_ID}?",
}


class _Who:
    """Login, id and type of a person or a bot (``pid`` -1 dependabot, -2 actions, -3 CI)."""

    def __init__(self, pop) -> None:
        self.pop = pop
        self.bots = {-1: BOTS["dependabot"], -2: BOTS["actions"], -3: BOTS["ci"]}

    def __call__(self, pid: int) -> tuple[str, int, str]:
        if pid < 0:
            b = self.bots[pid]
            return b.login, b.gh_id, b.type
        p = self.pop.people[pid]
        return p.login, p.gh_id, "User"


def generate(ctx: Context) -> None:
    rng = rng_for(ctx.seed, "github")
    pop = ctx.pop
    who = _Who(pop)
    folder = ctx.out / "github"
    overlay = ctx.out / "delta" / "github"
    folder.mkdir(parents=True, exist_ok=True)
    overlay.mkdir(parents=True, exist_ok=True)
    issue_ids = TimeIds(1_300_000_000, 8)
    comment_ids = TimeIds(750_000_000, 20)
    review_ids = TimeIds(580_000_000, 10)
    counts = ctx.source("github")
    base = {"repo_issues": 0, "repo_comments": 0, "repo_stars": 0, "repo_users": 0}
    delta = {"repo_issues": 0, "repo_comments": 0, "repo_stars": 0, "repo_users": 0}
    new = {"repo_issues": 0, "repo_comments": 0, "repo_stars": 0, "repo_users": 0}
    base_logins: set[int] = set()  # pids (and bot pids) seen in base rows
    delta_logins: set[int] = set()

    spills = {
        "issues": (
            SortedSpill(ctx.tmp / "gh-issues-base"),
            SortedSpill(ctx.tmp / "gh-issues-delta"),
        ),
        "issue_comment": (
            SortedSpill(ctx.tmp / "gh-ic-base"),
            SortedSpill(ctx.tmp / "gh-ic-delta"),
        ),
        "review_comment": (
            SortedSpill(ctx.tmp / "gh-rc-base"),
            SortedSpill(ctx.tmp / "gh-rc-delta"),
        ),
    }
    changed_numbers: set[int] = set()

    n_base = scaled(ITEMS, ctx.scale, 4)
    starts: list[int] = []
    for m, k in enumerate(monthly_counts(n_base)):
        starts += times_in_month(rng, m, k)
    starts += sorted(
        time_in(rng, DELTA_START, DELTA_END - 3 * HOUR) for _ in range(delta_count(n_base))
    )

    # The delta day is busier than a plain day: comments on recent issues and pull requests.
    recent = [i for i, t in enumerate(starts) if BASE_END - 30 * DAY < t <= BASE_END]
    extra: dict[int, int] = {}
    for _ in range(round(0.6 * delta_count(round(n_base * 2.7)))) if recent else ():
        i = rng.choice(recent)
        extra[i] = extra.get(i, 0) + 1

    # Comments per item: heavy-tailed, the base's total fixed by the scale (linear volumes).
    raw = [0.0 if rng.random() < 0.28 else rng.paretovariate(1.5) for _ in starts]
    n_comments = allocate(round(COMMENTS_PER_ITEM * n_base), raw[:n_base])
    n_comments += [min(3, int(r)) for r in raw[n_base:]]

    for index, t0 in enumerate(starts):
        number = index + 1
        item = _plan_item(rng, pop, number, t0, issue_ids, comment_ids, review_ids,
                          n_comments[index], extra.get(index, 0))  # fmt: skip
        _spool_events(ctx, item, who)
        for cut, which in ((BASE_END, 0), (DELTA_END, 1)):
            if item["created"] > cut:
                continue
            updated = _updated(item, cut)
            if which == 1 and updated <= BASE_END:
                continue  # unchanged on the delta day
            record = _issue_record(item, cut, who)
            spills["issues"][which].add((updated, number), dumps(record).encode())
            comments = [c for c in item["comments"] if c["t"] <= cut]
            reviews = [r for r in item["reviews"] if r["t"] <= cut]
            review_comments = [c for r in reviews for c in r["comments"]]
            people = {item["author"], *(c["pid"] for c in comments), *(r["pid"] for r in reviews),
                      *(c["pid"] for c in review_comments)}  # fmt: skip
            if which == 0:
                base["repo_issues"] += 1
                for c in comments:
                    spills["issue_comment"][0].add(
                        (c["t"], c["id"]), dumps(_comment_record(item, c, who)).encode()
                    )
                for c in review_comments:
                    spills["review_comment"][0].add(
                        (c["t"], c["id"]), dumps(_review_comment_record(item, c, who)).encode()
                    )
                base["repo_comments"] += len(comments) + len(reviews) + len(review_comments)
                base_logins |= people
                _tally(pop, item, 0, BASE_END)
            else:
                changed_numbers.add(number)
                delta["repo_issues"] += 1
                new["repo_issues"] += item["created"] > BASE_END
                for c in comments:
                    if c["t"] > BASE_END:
                        spills["issue_comment"][1].add(
                            (c["t"], c["id"]), dumps(_comment_record(item, c, who)).encode()
                        )
                        delta_logins.add(c["pid"])
                for c in review_comments:
                    if c["t"] > BASE_END:
                        spills["review_comment"][1].add(
                            (c["t"], c["id"]), dumps(_review_comment_record(item, c, who)).encode()
                        )
                        delta_logins.add(c["pid"])
                # reviews are read again for every pull request landed by the run
                delta["repo_comments"] += len(reviews)
                new["repo_comments"] += sum(1 for r in reviews if r["t"] > BASE_END)
                delta_logins |= {item["author"], *(r["pid"] for r in reviews)}
                _tally(pop, item, BASE_END, DELTA_END)
            if item["pr"]:
                out = folder if which == 0 else overlay
                body = [_review_record(item, r, who) for r in reviews]
                _write_lines(
                    out / recorded_name(f"{REPO_PATH}/pulls/{number}/reviews", "per_page=100"), body
                )
        if item["pr"] and item["merged"] is not None and phase(item["merged"]) < 2:
            ctx.merged_pulls.append(
                MergedPull(number, item["title"], item["author"], item["merger"], item["created"],
                           item["merged"], item["squash"])
            )  # fmt: skip
        if index % 2000 == 0:
            ctx.say(f"github: {index:,}/{len(starts):,} issues and pull requests")

    # Listings: the base, the full listing as of the delta's end, the since= listings.
    ic_delta = _write_listing(
        folder, overlay, f"{REPO_PATH}/issues", LISTING, spills["issues"], changed_numbers
    )
    comment_rows = 0
    for kind, path in (("issue_comment", "issues/comments"), ("review_comment", "pulls/comments")):
        comment_rows += _write_listing(
            folder, overlay, f"{REPO_PATH}/{path}", COMMENTS_LISTING, spills[kind], set()
        )
    delta["repo_issues"] = ic_delta
    delta["repo_comments"] += comment_rows
    new["repo_comments"] += comment_rows
    for pair in spills.values():
        for spill in pair:
            spill.close()

    # Stargazers and forks.
    stars_base, stars_delta = _stars(ctx, rng, folder, overlay, who)
    base["repo_stars"] = len(stars_base)
    delta["repo_stars"] = new["repo_stars"] = len(stars_delta)
    base_logins |= set(stars_base)
    delta_logins |= set(stars_delta)
    _forks(ctx, rng, who)

    # Profiles: every non-bot login seen (dependabot and actions are bots; the CI is a user).
    base_people = sorted(p for p in base_logins if p >= 0 or p == -3)
    new_people = sorted(p for p in delta_logins - base_logins if p >= 0 or p == -3)
    for pids, out in ((base_people, folder), (new_people, overlay)):
        for pid in pids:
            login, profile = _profile(rng_for(ctx.seed, "github-profile", pid), pop, pid, who)
            (out / recorded_name(f"/users/{login}")).write_text(
                dumps(profile) + "\n", encoding="utf-8"
            )
    base["repo_users"] = len(base_people)
    delta["repo_users"] = new["repo_users"] = len(new_people)
    counts.base.update(base)
    counts.delta.update(delta)
    counts.new.update(new)
    counts.extra["merged_pull_requests"] = len(ctx.merged_pulls)


def _tally(pop, item: dict[str, Any], after: int, cut: int) -> None:
    if after < item["created"] <= cut:
        pop.tally.add(item["author"], REPO)
    for c in item["comments"]:
        if after < c["t"] <= cut:
            pop.tally.add(c["pid"], REPO)
    for r in item["reviews"]:
        if after < r["t"] <= cut:
            pop.tally.add(r["pid"], REPO)
            for c in r["comments"]:
                pop.tally.add(c["pid"], REPO)


# -- planning one issue or pull request -------------------------------------------------


def _plan_item(
    rng: random.Random,
    pop,
    number: int,
    t0: int,
    issue_ids,
    comment_ids,
    review_ids,
    n_comments: int,
    extra: int,
) -> dict[str, Any]:
    month = month_of(t0)
    pr = rng.random() < PR_SHARE
    dependabot = pr and rng.random() < DEPENDABOT_SHARE
    if dependabot:
        author = -1
        crate = rng.choice(CRATES)
        title = f"Bump {crate} from {words.version(rng)} to {words.version(rng)}"
        labels = ["dependencies", "rust"]
        body = f"Bumps [{crate}](https://github.com/example/{crate}). Updates the requirements."
    else:
        author = pop.sampler("code" if pr else "repo").pick(rng, month, flat=not pr)
        kind = "feature" if pr else rng.choice(("bug", "bug", "feature", "question"))
        title = words.title(rng, kind)
        labels = sorted(set(rng.sample(words.LABELS, rng.randint(0, 2))))
        p = pop.people[author]
        text, snippet = words.body(rng, intent_p=0.02 if p.org >= 0 else 0.0)
        body = words.markdown(text, snippet)
    item: dict[str, Any] = {
        "number": number, "id": issue_ids.at(t0), "pr": pr, "author": author, "title": title,
        "labels": labels, "body": body, "created": t0, "comments": [], "reviews": [],
        "closed": None, "merged": None, "merger": -1, "state_reason": None, "squash": False,
        "draft": False,
    }  # fmt: skip
    sampler = pop.sampler("repo")
    # Comments: the first answer often by staff, a bot comment on some pull requests.
    t = t0 + delay(rng, 4 * HOUR, 1.5)
    if pr and not dependabot and rng.random() < 0.15:
        cid = comment_ids.at(t0 + 300)
        item["comments"].append(
            {
                "id": cid,
                "t": t0 + 300,
                "pid": -3,
                "body": f"Benchmark results for #{number}: throughput {rng.randint(-5, 12)}% vs main.",
            }
        )
    for i in range(n_comments):
        if phase(t) == 2:
            break
        if i == 0 and rng.random() < 0.5:
            pid = rng.choice(pop.staff)
        elif author >= 0 and rng.random() < 0.25:
            pid = author
        else:
            pid = sampler.pick_other(rng, month_of(t), author)
        text, snippet = words.body(rng, answer=True, intent_p=0.01)
        item["comments"].append(
            {"id": comment_ids.at(t), "t": t, "pid": pid, "body": words.markdown(text, snippet)}
        )
        t += delay(rng, 10 * HOUR, 1.5)
    for t in sorted(time_in(rng, DELTA_START, DELTA_END) for _ in range(extra)):
        if item["comments"] and t <= item["comments"][-1]["t"]:
            continue
        pid = (
            rng.choice(pop.staff)
            if rng.random() < 0.3
            else sampler.pick_other(rng, month_of(t), author)
        )
        text, snippet = words.body(rng, answer=True)
        item["comments"].append(
            {"id": comment_ids.at(t), "t": t, "pid": pid, "body": words.markdown(text, snippet)}
        )
    last = item["comments"][-1]["t"] if item["comments"] else t0
    if pr:
        n_reviews = (
            0 if rng.random() < 0.3 else 1 + int(rng.paretovariate(2.0)) - 1 + (rng.random() < 0.5)
        )
        rt = t0 + delay(rng, 1 * DAY, 1.3)
        coder = pop.sampler("code")
        for i in range(n_reviews):
            if phase(rt) == 2:
                break
            pid = (
                rng.choice(pop.staff)
                if rng.random() < 0.6
                else coder.pick_other(rng, month_of(rt), author)
            )
            state = (
                "APPROVED"
                if i == n_reviews - 1 and rng.random() < 0.8
                else rng.choice(("COMMENTED", "CHANGES_REQUESTED", "COMMENTED"))
            )
            rid = review_ids.at(rt)
            review = {"id": rid, "t": rt, "pid": pid, "state": state, "comments": [],
                      "body": "" if state == "APPROVED" and rng.random() < 0.6 else words.sentences(rng, 1, True)[0]}  # fmt: skip
            if rng.random() < 0.35:
                for _ in range(int(rng.paretovariate(1.8)) + (rng.random() < 0.3)):
                    review["comments"].append({"id": comment_ids.at(rt), "t": rt, "pid": pid, "review": rid,
                                               "path": rng.choice(words.PATHS), "body": words.sentences(rng, 1, True)[0]})  # fmt: skip
            item["reviews"].append(review)
            last = max(last, rt)
            rt += delay(rng, 14 * HOUR, 1.3)
        roll = rng.random()
        if roll < (0.88 if dependabot else 0.7):
            merged = last + delay(rng, 5 * HOUR, 1.4)
            if phase(merged) < 2:
                item["merged"] = item["closed"] = merged
                item["merger"] = (
                    rng.choice(pop.staff) if rng.random() < 0.85 or author < 0 else author
                )
                item["squash"] = dependabot or rng.random() < 0.35
        elif roll < 0.83:
            closed = last + delay(rng, 3 * DAY, 1.4)
            if phase(closed) < 2:
                item["closed"] = closed
        elif rng.random() < 0.3:
            item["draft"] = True
    else:
        if rng.random() < 0.76:
            closed = last + delay(rng, 1 * DAY, 1.8)
            if phase(closed) < 2:
                item["closed"] = closed
                item["state_reason"] = "completed" if rng.random() < 0.8 else "not_planned"
                item["merger"] = (
                    rng.choice(pop.staff) if rng.random() < 0.7 or author < 0 else author
                )
    return item


def _updated(item: dict[str, Any], cut: int) -> int:
    times = [item["created"]]
    times += [c["t"] for c in item["comments"] if c["t"] <= cut]
    times += [r["t"] for r in item["reviews"] if r["t"] <= cut]
    if item["closed"] is not None and item["closed"] <= cut:
        times.append(item["closed"])
    return max(times)


def _association(pop, pid: int) -> str:
    if pid < 0:
        return "NONE" if pid != -3 else "MEMBER"
    p = pop.people[pid]
    if p.staff:
        return "MEMBER"
    return "CONTRIBUTOR" if p.coder else "NONE"


def _issue_record(item: dict[str, Any], cut: int, who: _Who) -> dict[str, Any]:
    number = item["number"]
    login, gh_id, kind = who(item["author"])
    closed = item["closed"] if item["closed"] is not None and item["closed"] <= cut else None
    merged = item["merged"] if item["merged"] is not None and item["merged"] <= cut else None
    url = f"{API}{REPO_PATH}/issues/{number}"
    html = f"https://github.com/{GITHUB_REPO}/{'pull' if item['pr'] else 'issues'}/{number}"
    record: dict[str, Any] = {
        "url": url,
        "repository_url": f"{API}{REPO_PATH}",
        "comments_url": f"{url}/comments",
        "html_url": html,
        "id": item["id"],
        "node_id": f"{'PR' if item['pr'] else 'I'}_kwDOJH{item['id']:08X}",
        "number": number,
        "title": item["title"],
        "user": user_obj(login, gh_id, kind),
        "labels": [{"id": 5_000_000 + zlib.crc32(n.encode()) % 1_000_000, "name": n,
                    "color": "ededed", "default": False} for n in item["labels"]],
        "state": "closed" if closed else "open",
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": sum(1 for c in item["comments"] if c["t"] <= cut),
        "created_at": iso_z(item["created"]),
        "updated_at": iso_z(_updated(item, cut)),
        "closed_at": iso_z(closed) if closed else None,
        "author_association": _association(who.pop, item["author"]),
        "active_lock_reason": None,
        "body": item["body"],
        "state_reason": (item["state_reason"] if closed else None) if not item["pr"] else None,
        "timeline_url": f"{url}/timeline",
        "performed_via_github_app": None,
    }  # fmt: skip
    if item["pr"]:
        record["draft"] = item["draft"] and not closed
        record["pull_request"] = {
            "url": f"{API}{REPO_PATH}/pulls/{number}",
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "merged_at": iso_z(merged) if merged else None,
        }
    return record


def _comment_record(item: dict[str, Any], c: dict[str, Any], who: _Who) -> dict[str, Any]:
    login, gh_id, kind = who(c["pid"])
    html = f"https://github.com/{GITHUB_REPO}/{'pull' if item['pr'] else 'issues'}/{item['number']}"
    return {
        "url": f"{API}{REPO_PATH}/issues/comments/{c['id']}",
        "html_url": f"{html}#issuecomment-{c['id']}",
        "issue_url": f"{API}{REPO_PATH}/issues/{item['number']}",
        "id": c["id"],
        "node_id": f"IC_kwDOJH{c['id']:08X}",
        "user": user_obj(login, gh_id, kind),
        "created_at": iso_z(c["t"]),
        "updated_at": iso_z(c["t"]),
        "author_association": _association(who.pop, c["pid"]),
        "body": c["body"],
        "performed_via_github_app": None,
    }


def _review_record(item: dict[str, Any], r: dict[str, Any], who: _Who) -> dict[str, Any]:
    login, gh_id, kind = who(r["pid"])
    html = f"https://github.com/{GITHUB_REPO}/pull/{item['number']}"
    return {
        "id": r["id"],
        "node_id": f"PRR_kwDOJH{r['id']:08X}",
        "user": user_obj(login, gh_id, kind),
        "body": r["body"],
        "state": r["state"],
        "html_url": f"{html}#pullrequestreview-{r['id']}",
        "pull_request_url": f"{API}{REPO_PATH}/pulls/{item['number']}",
        "author_association": _association(who.pop, r["pid"]),
        "submitted_at": iso_z(r["t"]),
        "commit_id": f"{(r['id'] * 2654435761) % (1 << 160):040x}",
    }


def _review_comment_record(item: dict[str, Any], c: dict[str, Any], who: _Who) -> dict[str, Any]:
    login, gh_id, kind = who(c["pid"])
    html = f"https://github.com/{GITHUB_REPO}/pull/{item['number']}"
    return {
        "url": f"{API}{REPO_PATH}/pulls/comments/{c['id']}",
        "pull_request_review_id": c["review"],
        "id": c["id"],
        "node_id": f"PRRC_kwDOJH{c['id']:08X}",
        "path": c["path"],
        "user": user_obj(login, gh_id, kind),
        "body": c["body"],
        "created_at": iso_z(c["t"]),
        "updated_at": iso_z(c["t"]),
        "html_url": f"{html}#discussion_r{c['id']}",
        "pull_request_url": f"{API}{REPO_PATH}/pulls/{item['number']}",
        "author_association": _association(who.pop, c["pid"]),
    }


# -- GH Archive events of an item -----------------------------------------------------


def _spool_events(ctx: Context, item: dict[str, Any], who: _Who) -> None:
    repo = repo_obj(GITHUB_REPO, REPO_ID)

    def event(t: int, kind: str, pid: int, payload: dict[str, Any]) -> None:
        login, gh_id, _ = who(pid)
        ctx.event(t, {"type": kind, "actor": actor_obj(login, gh_id), "repo": repo,
                      "payload": payload, "public": True, "created_at": iso_z(t), "org": ORG_OBJ})  # fmt: skip

    def issue_at(t: int) -> dict[str, Any]:
        record = _issue_record(item, t, who)
        record.pop("timeline_url", None)
        record.pop("performed_via_github_app", None)
        return record

    def pull_at(t: int) -> dict[str, Any]:
        rec = issue_at(t)
        merged = item["merged"] is not None and item["merged"] <= t
        return {
            "url": f"{API}{REPO_PATH}/pulls/{item['number']}", "id": item["id"] + 7,
            "node_id": rec["node_id"], "html_url": rec["html_url"], "number": item["number"],
            "state": rec["state"], "locked": False, "title": item["title"], "user": rec["user"],
            "body": item["body"], "created_at": rec["created_at"], "updated_at": rec["updated_at"],
            "closed_at": rec["closed_at"], "merged_at": iso_z(item["merged"]) if merged else None,
            "draft": rec.get("draft", False), "head": {"label": f"{rec['user']['login']}:patch-{item['number']}",
            "ref": f"patch-{item['number']}"}, "base": {"label": f"{GITHUB_ORG}:main", "ref": "main"},
            "author_association": rec["author_association"], "merged": merged,
            "comments": rec["comments"], "review_comments": sum(len(r["comments"]) for r in item["reviews"] if r["t"] <= t),
            "commits": 1 + item["number"] % 4, "additions": 3 + item["number"] % 200,
            "deletions": item["number"] % 60, "changed_files": 1 + item["number"] % 7,
        }  # fmt: skip

    t0 = item["created"]
    if item["pr"]:
        event(
            t0,
            "PullRequestEvent",
            item["author"],
            {"action": "opened", "number": item["number"], "pull_request": pull_at(t0)},
        )
    else:
        event(t0, "IssuesEvent", item["author"], {"action": "opened", "issue": issue_at(t0)})
    for c in item["comments"]:
        event(
            c["t"],
            "IssueCommentEvent",
            c["pid"],
            {
                "action": "created",
                "issue": issue_at(c["t"]),
                "comment": _comment_record(item, c, who),
            },
        )
    for r in item["reviews"]:
        review = _review_record(item, r, who)
        review["state"] = review["state"].lower()
        for c in r["comments"]:
            event(
                c["t"],
                "PullRequestReviewCommentEvent",
                c["pid"],
                {
                    "action": "created",
                    "comment": _review_comment_record(item, c, who),
                    "pull_request": pull_at(c["t"]),
                },
            )
        event(
            r["t"],
            "PullRequestReviewEvent",
            r["pid"],
            {"action": "created", "review": review, "pull_request": pull_at(r["t"])},
        )
    if item["closed"] is not None:
        t = item["closed"]
        if item["pr"]:
            event(t, "PullRequestEvent", item["merger"] if item["merged"] else item["author"] if item["author"] >= 0 else item["merger"],
                  {"action": "closed", "number": item["number"], "pull_request": pull_at(t)})  # fmt: skip
        else:
            event(t, "IssuesEvent", item["merger"], {"action": "closed", "issue": issue_at(t)})


# -- writing listings -------------------------------------------------------------------


def _write_lines(path: Path, records: list[Any]) -> None:
    with path.open("w", encoding="utf-8") as out:
        _lines(out, (dumps(r).encode() for r in records))


def _lines(out: Any, chunks: Any) -> int:
    """A JSON array, one record a line; returns how many records."""
    n = 0
    out.write("[")
    for data in chunks:
        out.write(",\n" if n else "\n")
        out.write(data.decode() if isinstance(data, bytes) else data)
        n += 1
    out.write("\n]\n" if n else "]\n")
    return n


def _write_listing(
    folder: Path,
    overlay: Path,
    path: str,
    params: dict[str, str],
    spills: tuple[SortedSpill, SortedSpill],
    changed: set[int],
) -> int:
    """The base listing, the delta's full listing and its ``since`` listing.

    Returns how many records the delta's ``since`` listing lands (the boundary records
    of the base come back but are skipped as seen).
    """
    base_spill, delta_spill = spills
    query = "&".join(f"{k}={v}" for k, v in params.items())
    base_keys = base_spill.keys()
    with (folder / recorded_name(path, query)).open("w", encoding="utf-8") as out:
        _lines(out, (d for _, d in base_spill.sorted()))
    with (overlay / recorded_name(path, query)).open("w", encoding="utf-8") as out:
        _lines(
            out,
            itertools.chain(
                (d for k, d in base_spill.sorted() if k[1] not in changed),
                (d for _, d in delta_spill.sorted()),
            ),
        )
    if not base_keys:
        return len(delta_spill)
    watermark = base_keys[-1][0]
    since = {**params, "since": to_watermark(_utc(watermark))}
    since_query = "&".join(f"{k}={v}" for k, v in since.items())
    boundary = [d for k, d in base_spill.sorted() if k[0] == watermark and k[1] not in changed]
    with (overlay / recorded_name(path, since_query)).open("w", encoding="utf-8") as out:
        _lines(out, itertools.chain(boundary, (d for _, d in delta_spill.sorted())))
    return len(delta_spill)


def _utc(t: int):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC)


# -- stars, forks, profiles -------------------------------------------------------------


def _stars(
    ctx: Context, rng: random.Random, folder: Path, overlay: Path, who: _Who
) -> tuple[list[int], list[int]]:
    pop = ctx.pop
    sampler = pop.sampler("repo")
    starred: set[int] = set()
    base: list[tuple[int, int]] = []
    delta: list[tuple[int, int]] = []
    n = scaled(STARS, ctx.scale, 3)
    months = [*monthly_counts(n), delta_count(n)]
    repo = repo_obj(GITHUB_REPO, REPO_ID)
    for m, k in enumerate(months):
        for t in times_in_month(rng, m, k):
            for attempt in range(12):
                if attempt < 4:
                    pid = sampler.pick(rng, m, flat=True)
                else:  # anyone active that month who has not starred yet
                    ids = sampler.tables[m][0]
                    pid = ids[int(rng.random() * len(ids))]
                if pid not in starred:
                    starred.add(pid)
                    (base if t <= BASE_END else delta).append((t, pid))
                    pop.tally.add(pid, REPO)
                    login, gh_id, _ = who(pid)
                    ctx.event(t, {"type": "WatchEvent", "actor": actor_obj(login, gh_id), "repo": repo,
                                  "payload": {"action": "started"}, "public": True,
                                  "created_at": iso_z(t), "org": ORG_OBJ})  # fmt: skip
                    break

    def record(t: int, pid: int) -> str:
        login, gh_id, kind = who(pid)
        return dumps({"starred_at": iso_z(t), "user": user_obj(login, gh_id, kind)})

    name = recorded_name(f"{REPO_PATH}/stargazers", "per_page=100")
    with (folder / name).open("w", encoding="utf-8") as out:
        _lines(out, (record(t, pid) for t, pid in base))
    with (overlay / name).open("w", encoding="utf-8") as out:
        _lines(out, (record(t, pid) for t, pid in base + delta))
    return [pid for _, pid in base], [pid for _, pid in delta]


def _forks(ctx: Context, rng: random.Random, who: _Who) -> None:
    """Forks (GH Archive only) and pushes to them (other repositories: filtered out)."""
    pop = ctx.pop
    sampler = pop.sampler("repo")
    n = scaled(FORKS, ctx.scale)
    repo = repo_obj(GITHUB_REPO, REPO_ID)
    months = [*monthly_counts(n), delta_count(n)]
    for m, k in enumerate(months):
        for t in times_in_month(rng, m, k):
            pid = sampler.pick(rng, m, flat=True)
            login, gh_id, _ = who(pid)
            fork_name = f"{login}/borealis"
            fork_id = 700_000_000 + (gh_id % 100_000_000)
            forkee = {
                "id": fork_id, "node_id": f"R_kgDO{fork_id:08X}", "name": "borealis",
                "full_name": fork_name, "private": False, "owner": user_obj(login, gh_id),
                "html_url": f"https://github.com/{fork_name}", "description": "Stream processing for everyone",
                "fork": True, "url": f"{API}/repos/{fork_name}", "created_at": iso_z(t),
                "updated_at": iso_z(t), "pushed_at": iso_z(t), "default_branch": "main", "public": True,
            }  # fmt: skip
            ctx.event(t, {"type": "ForkEvent", "actor": actor_obj(login, gh_id), "repo": repo,
                          "payload": {"forkee": forkee}, "public": True, "created_at": iso_z(t),
                          "org": ORG_OBJ})  # fmt: skip
            pop.tally.add(pid, REPO)
            if rng.random() < 0.3:  # a push to the fork: not the project's
                tp = t + delay(rng, 2 * DAY, 1.0)
                sha = f"{rng.getrandbits(160):040x}"
                ctx.event(tp, {"type": "PushEvent", "actor": actor_obj(login, gh_id),
                               "repo": repo_obj(fork_name, fork_id),
                               "payload": {"repository_id": fork_id, "push_id": rng.randint(10**10, 3 * 10**10),
                                           "size": 1, "distinct_size": 1, "ref": "refs/heads/main", "head": sha,
                                           "before": f"{rng.getrandbits(160):040x}",
                                           "commits": [{"sha": sha, "author": {"email": pop.people[pid].git_emails[0] if pop.people[pid].coder else pop.people[pid].personal, "name": pop.people[pid].name},
                                                        "message": "Local changes", "distinct": True,
                                                        "url": f"{API}/repos/{fork_name}/commits/{sha}"}]},
                               "public": True, "created_at": iso_z(tp)}, kept=False)  # fmt: skip


def _profile(rng: random.Random, pop, pid: int, who: _Who) -> tuple[str, dict[str, Any]]:
    login, gh_id, kind = who(pid)
    if pid < 0:
        name, company, blog, location, email, bio = (
            "Borealis CI",
            "@borealis-dev",
            "",
            "",
            "",
            "CI account",
        )
        created = BASE_START - 400 * DAY
    else:
        p = pop.people[pid]
        name = p.name if rng.random() < 0.8 else None
        company = p.company or None
        blog = p.blog_url or ""
        location = p.location or None
        email = p.public_email or None
        bio = rng.choice(
            (None, None, "Data engineer", "Streaming all the things", "OSS enthusiast")
        )
        created = BASE_START - int(rng.random() * 3000 * DAY) + p.m0 * 30 * DAY
    profile = {
        **user_obj(login, gh_id, kind),
        "name": name,
        "company": company,
        "blog": blog,
        "location": location,
        "email": email,
        "hireable": None,
        "bio": bio,
        "twitter_username": None,
        "public_repos": rng.randint(0, 80),
        "public_gists": rng.randint(0, 10),
        "followers": int(rng.paretovariate(1.2)) - 1,
        "following": rng.randint(0, 50),
        "created_at": iso_z(min(created, BASE_END - DAY)),
        "updated_at": iso_z(BASE_END - rng.randint(1, 300) * DAY),
    }
    return login, profile
