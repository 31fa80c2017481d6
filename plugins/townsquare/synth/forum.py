"""The Discourse forum as a recorded site (``forum/discourse/``), for ``RecordedServer``.

The files are named by ``recorded_name`` (see ``samples/forum/recorded_server.py``), so
the real ``discourse`` connector lands them over HTTP from ``RecordedServer(folder)``:

- ``categories.include_subcategories-true.json``;
- ``latest.json``, ``latest.page-N.json``: 30 topics a page, pinned topics first, then
  newest bumped first; the last page has no ``more_topics_url``;
- ``t__ID.json``: a topic with its first 20 posts inline and the full ``stream``;
  ``t__ID__posts.post_ids-A_B_....json``: the other posts, 20 a chunk;
- ``posts.json`` (+ ``posts.before-N.json``): the newest posts, for incremental runs.

Topic and post ids are dense and follow creation time, as on a real forum. Topic sizes
are heavy-tailed (a few threads run to hundreds of posts, some questions get no answer),
staff answer first often, some topics are closed by a small-action post, two topics are
pinned. Forum users who sign in with GitHub have their GitHub login as username.

Delta: ``delta/forum/discourse/`` holds the files that change on the next day (new
topics, topics bumped by new replies, every ``latest`` page, ``posts.json`` pages back
to the first post of the base); ``apply_delta`` copies them over ``forum/discourse/``.
"""

from __future__ import annotations

import heapq
from array import array
from pathlib import Path
from typing import Any

from townsquare.samples.forum.recorded_server import recorded_name
from townsquare.synth import words
from townsquare.synth.context import Context, dumps
from townsquare.synth.population import FORUM
from townsquare.synth.spool import SortedSpill
from townsquare.synth.timeline import (
    BASE_END,
    BASE_START,
    DAY,
    DELTA_END,
    DELTA_START,
    HOUR,
    allocate,
    delay,
    delta_count,
    iso_ms,
    month_of,
    monthly_counts,
    phase,
    rng_for,
    scaled,
    time_in,
    times_in_month,
)

TOPICS = 18_000
REPLIES_PER_TOPIC = 10.0
PER_PAGE = 30
INLINE = 20
CHUNK = 20
FIRST_TOPIC_ID = 8
FIRST_POST_ID = 11
STAFF_GROUP = {"id": 41, "name": "borealis-team"}
CATEGORIES = (
    (5, "Announcements", "announcements", "0088CC"),
    (6, "Help & Support", "help", "25AAE2"),
    (7, "Development", "dev", "F1592A"),
    (8, "Show & Tell", "show-and-tell", "8C6238"),
    (9, "Ideas", "ideas", "3AB54A"),
)
SUBCATEGORIES = ((10, "Deployment", "deployment", "BF1E2E", 6), (11, "SQL", "sql", "12A89D", 6))
CATEGORY_WEIGHTS = (0.04, 0.45, 0.2, 0.12, 0.1, 0.06, 0.03)
SYSTEM = {"id": -1, "username": "system", "name": "system"}
REGULAR, CLOSE = 1, 3


def generate(ctx: Context) -> None:
    rng = rng_for(ctx.seed, "forum")
    pop = ctx.pop
    folder = ctx.out / "forum" / "discourse"
    overlay = ctx.out / "delta" / "forum" / "discourse"
    folder.mkdir(parents=True, exist_ok=True)
    overlay.mkdir(parents=True, exist_ok=True)

    # -- plan: topic times, then every post's time (ids follow time across the forum)
    n_base = scaled(TOPICS, ctx.scale, 3)
    starts = [BASE_START + 3600, BASE_START + 7200]  # the two pinned topics
    for m, k in enumerate(monthly_counts(n_base - 2)):
        starts += times_in_month(rng, m, k)
    starts += sorted(
        time_in(rng, DELTA_START, DELTA_END - 4 * HOUR) for _ in range(delta_count(n_base))
    )
    n_topics = len(starts)
    p_topic, p_time, p_kind = array("i"), array("q"), array("b")
    first_post = array("i")
    closed: set[int] = set()
    # Replies per topic: heavy-tailed (some unanswered, a few hundreds long), the base's
    # total fixed by the scale so that volumes stay linear.
    raw = [0.0 if rng.random() < 0.12 else min(300.0, rng.paretovariate(1.3)) for _ in starts]
    n_base_topics = n_base + 0  # the pinned topics are among them
    replies = allocate(round(REPLIES_PER_TOPIC * n_base_topics), raw[:n_base_topics])
    replies += [min(8, int(r)) for r in raw[n_base_topics:]]
    for i, t0 in enumerate(starts):
        first_post.append(len(p_topic))
        times = [t0]
        n_replies = replies[i]
        t = t0 + delay(rng, 3 * HOUR, 1.5)
        for _ in range(n_replies):
            if phase(t) == 2:
                break
            times.append(t)
            t += delay(rng, 6 * HOUR, 1.6)
        kinds = [REGULAR] * len(times)
        if n_replies and rng.random() < 0.1:
            tc = times[-1] + delay(rng, 2 * DAY, 1.0)
            if tc <= BASE_END:
                times.append(tc)
                kinds.append(CLOSE)
                closed.add(i)
        for tt, kk in zip(times, kinds, strict=True):
            p_topic.append(i)
            p_time.append(tt)
            p_kind.append(kk)
    # The delta day is busier than a plain day: replies to recent topics.
    recent = [
        i
        for i in range(n_topics)
        if BASE_END - 45 * DAY < starts[i] <= BASE_END and i not in closed
    ]
    base_posts = sum(1 for t in p_time if t <= BASE_END)
    extra: dict[int, list[int]] = {}
    if recent:
        for _ in range(round(0.6 * delta_count(base_posts))):
            extra.setdefault(rng.choice(recent), []).append(time_in(rng, DELTA_START, DELTA_END))
    if extra:
        p_topic, p_time, p_kind, first_post = _add_extra(n_topics, p_topic, p_time, p_kind, extra)
    n_posts = len(p_topic)
    order = sorted(range(n_posts), key=lambda k: (p_time[k], k))
    post_ids = array("q", bytes(8 * n_posts))
    for rank, k in enumerate(order):
        post_ids[k] = FIRST_POST_ID + rank
    del order
    base_regular = sorted(
        post_ids[k] for k in range(n_posts) if p_time[k] <= BASE_END and p_kind[k] == REGULAR
    )
    base_max_id = max((post_ids[k] for k in range(n_posts) if p_time[k] <= BASE_END), default=0)
    keep_ids = set(base_regular[-60:]) | {
        post_ids[k] for k in range(n_posts) if phase(p_time[k]) == 1 and p_kind[k] == REGULAR
    }

    # -- content, topic by topic
    users: dict[int, dict[str, Any]] = {}
    uid_of: dict[int, int] = {pid: i + 1 for i, pid in enumerate(pop.staff)}
    for pid in pop.staff:
        users[uid_of[pid]] = _user(pop.people[pid], uid_of[pid])
    base_list = SortedSpill(ctx.tmp / "forum-base-list.spill")
    delta_list = SortedSpill(ctx.tmp / "forum-delta-list.spill")
    kept_posts: dict[int, dict[str, Any]] = {}
    counts = ctx.source("forum")
    base = {"forum_topics": 0, "forum_posts": 0}
    delta = {"forum_topics": 0, "forum_posts": 0}
    new = {"forum_topics": 0, "forum_posts": 0}
    sampler = pop.sampler("forum")
    for i in range(n_topics):
        lo = first_post[i]
        hi = first_post[i + 1] if i + 1 < n_topics else n_posts
        topic = _topic(rng, pop, i, starts[i], sampler, uid_of, users)
        posts = []
        for k in range(lo, hi):
            post = _post(
                rng, pop, topic, k - lo + 1, post_ids[k], p_time[k], p_kind[k], posts,
                sampler, uid_of, users,
            )  # fmt: skip
            posts.append(post)
            if post["id"] in keep_ids:
                kept_posts[post["id"]] = post
        for cut, out, spill, tally_from in (
            (BASE_END, folder, base_list, 0),
            (DELTA_END, overlay, delta_list, BASE_END),
        ):
            shown = [p for p in posts if p["_t"] <= cut]
            if not shown:
                continue
            if cut == DELTA_END and not any(
                p["_t"] > BASE_END and p["post_type"] == REGULAR for p in shown
            ):
                continue  # not bumped on the delta day: the base files stay
            entry, detail = _topic_json(topic, shown, users)
            _write_topic(out, topic["id"], detail)
            user_ids = sorted({p["user_id"] for p in shown})
            key = (0 if topic["pinned"] else 1, -_bumped(shown), -topic["id"])
            spill.add(key, (",".join(map(str, user_ids)) + "\n" + dumps(entry)).encode())
            for p in shown:
                if p["_t"] > tally_from and p["_pid"] >= 0:
                    pop.tally.add(p["_pid"], FORUM)
            if cut == BASE_END:
                base["forum_topics"] += 1
                base["forum_posts"] += len(shown)
            else:
                delta["forum_topics"] += 1
                delta["forum_posts"] += len(shown)
                new["forum_topics"] += starts[i] > BASE_END
                new["forum_posts"] += sum(1 for p in shown if p["_t"] > BASE_END)
        if i % 2000 == 0:
            ctx.say(f"forum: {i:,}/{n_topics:,} topics")

    _write_categories(folder)
    _write_latest(folder, base_list, None, users)
    _write_latest(overlay, delta_list, base_list, users)
    base_list.close()
    delta_list.close()
    _write_posts_json(
        folder, [kept_posts[i] for i in sorted(base_regular[-50:], reverse=True)], None
    )
    delta_posts = sorted(kept_posts, reverse=True)
    _write_posts_json(overlay, [kept_posts[i] for i in delta_posts], base_max_id)
    counts.base.update(base)
    counts.delta.update(delta)
    counts.new.update(new)
    counts.extra.update({"users": len(users), "base_max_post_id": base_max_id, "pinned_topics": 2})


def _add_extra(
    n_topics: int,
    p_topic: array,
    p_time: array,
    p_kind: array,
    extra: dict[int, list[int]],
) -> tuple[array, array, array, array]:
    """Insert the delta day's extra replies into their topics (keeping posts in time order)."""
    t2, ti2, k2, first = array("i"), array("q"), array("b"), array("i")
    k = 0
    n = len(p_topic)
    for i in range(n_topics):
        first.append(len(t2))
        rows = []
        while k < n and p_topic[k] == i:
            rows.append((p_time[k], p_kind[k]))
            k += 1
        head, rest = rows[:1], rows[1:]
        rest += [(t, REGULAR) for t in extra.get(i, [])]
        for t, kind in head + sorted(rest):
            t2.append(i)
            ti2.append(t)
            k2.append(kind)
    return t2, ti2, k2, first


def _user(p, uid: int) -> dict[str, Any]:
    trust = (
        4 if p.staff else 0 if p.weight < 1.5 else 1 if p.weight < 3 else 2 if p.weight < 15 else 3
    )
    user: dict[str, Any] = {
        "id": uid,
        "username": p.forum_username,
        "name": p.name,
        "avatar_template": f"/letter_avatar_proxy/v4/letter/{p.forum_username[0]}/3be4ac/{{size}}.png",
        "trust_level": trust,
    }
    if p.staff:
        user.update(admin=uid == 1, moderator=True, primary_group_name=STAFF_GROUP["name"])
    return user


def _uid(pop, pid: int, uid_of: dict[int, int], users: dict[int, dict[str, Any]]) -> int:
    uid = uid_of.get(pid)
    if uid is None:
        uid = uid_of[pid] = len(uid_of) + 1
        users[uid] = _user(pop.people[pid], uid)
    return uid


def _topic(rng, pop, i, t0, sampler, uid_of, users) -> dict[str, Any]:
    pinned = i < 2
    cat = rng.choices(
        (5, 6, 7, 8, 9, 10, 11), weights=CATEGORY_WEIGHTS
    )[0] if not pinned else 5  # fmt: skip
    if pinned or cat == 5:
        author = pop.staff[i % len(pop.staff)]
        kind = "announcement"
    else:
        author = sampler.pick(rng, month_of(t0), flat=rng.random() < 0.75)
        kind = {6: "question", 10: "question", 11: "question", 7: "bug", 9: "feature"}.get(
            cat, "blog"
        )
    title = (
        ("Welcome to the Borealis forum", "Read this first: how to ask a good question")[i]
        if pinned
        else words.title(rng, kind)
    )
    return {
        "id": FIRST_TOPIC_ID + i,
        "title": title,
        "slug": words.slug(title),
        "category_id": cat,
        "tags": sorted(set(rng.sample(words.TAGS, rng.randint(0, 3)))),
        "pinned": pinned,
        "author": author,
        "uid": _uid(pop, author, uid_of, users),
        "views_factor": rng.randint(6, 40),
        "t0": t0,
    }


def _post(
    rng, pop, topic, number, post_id, t, kind, earlier, sampler, uid_of, users
) -> dict[str, Any]:
    month = month_of(t)
    if kind == CLOSE:
        pid = rng.choice(pop.staff) if rng.random() < 0.5 else -1
        text, snippet, reply_to = "", None, None
    else:
        if number == 1:
            pid = topic["author"]
        elif number == 2 and rng.random() < 0.45:
            pid = rng.choice(pop.staff)
        elif rng.random() < 0.22:
            pid = topic["author"]
        elif rng.random() < 0.1:
            pid = rng.choice(pop.staff)
        else:
            pid = sampler.pick_other(rng, month, topic["author"])
        p = pop.people[pid]
        text, snippet = words.body(rng, answer=number > 1, intent_p=0.04 if p.org >= 0 else 0.0)
        reply_to = (
            rng.randint(1, number - 1)
            if number > 2 and rng.random() < 0.3
            else (1 if number == 2 else None)
        )
    if pid < 0:
        user = SYSTEM
        uid = -1
    else:
        uid = _uid(pop, pid, uid_of, users)
        user = users[uid]
    likes = int(rng.paretovariate(1.5)) - 1 if kind == REGULAR and rng.random() < 0.5 else 0
    staff = bool(user.get("moderator")) or uid == -1
    return {
        "id": post_id,
        "name": user["name"],
        "username": user["username"],
        "avatar_template": user.get("avatar_template", "/images/discourse-logo-sketch-small.png"),
        "created_at": iso_ms(t),
        "cooked": (
            f"<p>Closed on {iso_ms(t)[:10]}.</p>" if kind == CLOSE else words.cooked(text, snippet)
        ),
        "post_number": number,
        "post_type": kind,
        "updated_at": iso_ms(t),
        "reply_count": 0,
        "reply_to_post_number": reply_to,
        "quote_count": 0,
        "incoming_link_count": 0,
        "reads": rng.randint(1, 40),
        "readers_count": rng.randint(0, 30),
        "score": round(rng.random() * 10, 1),
        "yours": False,
        "topic_id": topic["id"],
        "topic_slug": topic["slug"],
        "display_username": user["name"],
        "primary_group_name": user.get("primary_group_name"),
        "flair_name": None,
        "version": 1,
        "can_edit": False,
        "user_title": "Borealis team" if staff and uid > 0 else None,
        "bookmarked": False,
        "actions_summary": [{"id": 2, "count": likes}] if likes else [],
        "moderator": staff,
        "admin": bool(user.get("admin")),
        "staff": staff,
        "user_id": uid,
        "hidden": False,
        "trust_level": user.get("trust_level", 4),
        "deleted_at": None,
        "user_deleted": False,
        "edit_reason": None,
        "wiki": False,
        "action_code": "closed.enabled" if kind == CLOSE else None,
        "_t": t,
        "_pid": pid,
        "_title": topic["title"],
        "_cat": topic["category_id"],
    }


def _bumped(shown: list[dict[str, Any]]) -> int:
    return max(p["_t"] for p in shown if p["post_type"] == REGULAR)


def _public(post: dict[str, Any], replies: int) -> dict[str, Any]:
    out = {k: v for k, v in post.items() if not k.startswith("_")}
    out["reply_count"] = replies
    if out["action_code"] is None:
        del out["action_code"]
    return out


def _topic_json(
    topic: dict[str, Any], shown: list[dict[str, Any]], users: dict[int, dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    regular = [p for p in shown if p["post_type"] == REGULAR]
    bumped = _bumped(shown)
    closed = any(p["post_type"] == CLOSE for p in shown)
    counts: dict[int, int] = {}
    for p in regular:
        counts[p["user_id"]] = counts.get(p["user_id"], 0) + 1
    frequent = sorted(
        (uid for uid in counts if uid not in (topic["uid"], regular[-1]["user_id"])),
        key=lambda uid: (-counts[uid], uid),
    )[:3]
    posters = [{"extras": None, "description": "Original Poster", "user_id": topic["uid"],
                "primary_group_id": _group(users, topic["uid"])}]  # fmt: skip
    posters += [
        {"extras": None, "description": "Frequent Poster", "user_id": uid,
         "primary_group_id": _group(users, uid)}
        for uid in frequent
    ]  # fmt: skip
    if regular[-1]["user_id"] != topic["uid"]:
        posters.append({"extras": "latest", "description": "Most Recent Poster",
                        "user_id": regular[-1]["user_id"],
                        "primary_group_id": _group(users, regular[-1]["user_id"])})  # fmt: skip
    likes = sum(p["actions_summary"][0]["count"] for p in regular if p["actions_summary"])
    entry = {
        "id": topic["id"],
        "title": topic["title"],
        "fancy_title": words.html_escape(topic["title"]),
        "slug": topic["slug"],
        "posts_count": len(regular),
        "reply_count": len(regular) - 1,
        "highest_post_number": shown[-1]["post_number"],
        "image_url": None,
        "created_at": iso_ms(topic["t0"]),
        "last_posted_at": iso_ms(bumped),
        "bumped": True,
        "bumped_at": iso_ms(bumped),
        "archetype": "regular",
        "unseen": False,
        "pinned": topic["pinned"],
        "unpinned": None,
        "visible": True,
        "closed": closed,
        "archived": False,
        "bookmarked": None,
        "liked": None,
        "tags": topic["tags"],
        "tags_descriptions": {},
        "views": len(regular) * topic["views_factor"],
        "like_count": likes,
        "has_summary": len(regular) > 50,
        "last_poster_username": regular[-1]["username"],
        "category_id": topic["category_id"],
        "pinned_globally": topic["id"] == FIRST_TOPIC_ID,
        "featured_link": None,
        "posters": posters,
    }
    replies: dict[int, int] = {}
    for p in shown:
        if p["reply_to_post_number"]:
            replies[p["reply_to_post_number"]] = replies.get(p["reply_to_post_number"], 0) + 1
    public = [_public(p, replies.get(p["post_number"], 0)) for p in shown]
    created_by = users[topic["uid"]]
    detail = {
        **{k: v for k, v in entry.items() if k not in ("posters", "bumped", "bumped_at", "unseen",
                                                     "liked", "has_summary", "last_poster_username")},
        "word_count": 40 * len(shown),
        "deleted_at": None,
        "user_id": topic["uid"],
        "draft_key": f"topic_{topic['id']}",
        "current_post_number": 1,
        "chunk_size": INLINE,
        "participant_count": len(counts),
        "details": {
            "can_edit": False,
            "notification_level": 1,
            "participants": [
                {"id": uid, "username": users[uid]["username"], "name": users[uid]["name"],
                 "post_count": n}
                for uid, n in sorted(counts.items())[:24]
            ],
            "created_by": {k: created_by[k] for k in ("id", "username", "name", "avatar_template")},
            "last_poster": {k: users[regular[-1]["user_id"]][k] for k in ("id", "username", "name", "avatar_template")}
            if regular[-1]["user_id"] > 0
            else SYSTEM,
        },
        "post_stream": {"posts": public, "stream": [p["id"] for p in shown]},
    }  # fmt: skip
    return entry, detail


def _group(users: dict[int, dict[str, Any]], uid: int) -> int | None:
    return STAFF_GROUP["id"] if users.get(uid, {}).get("primary_group_name") else None


def _write_topic(folder: Path, topic_id: int, detail: dict[str, Any]) -> None:
    stream = detail["post_stream"]
    posts = stream["posts"]
    inline, rest = posts[:INLINE], posts[INLINE:]
    stream["posts"] = inline
    _write(folder / recorded_name(f"/t/{topic_id}.json"), detail)
    for start in range(0, len(rest), CHUNK):
        chunk = rest[start : start + CHUNK]
        query = "&".join(f"post_ids[]={p['id']}" for p in chunk)
        name = recorded_name(f"/t/{topic_id}/posts.json", query)
        _write(folder / name, {"post_stream": {"posts": chunk}, "id": topic_id})


def _write(path: Path, body: Any) -> None:
    path.write_text(dumps(body) + "\n", encoding="utf-8")


def _write_categories(folder: Path) -> None:
    subs = {
        parent: [
            {"id": cid, "name": name, "color": color, "text_color": "FFFFFF", "slug": slug,
             "parent_category_id": parent, "read_restricted": False}
            for cid, name, slug, color, p in SUBCATEGORIES
            if p == parent
        ]
        for parent in {p for *_, p in SUBCATEGORIES}
    }  # fmt: skip
    categories = [
        {"id": cid, "name": name, "color": color, "text_color": "FFFFFF", "slug": slug,
         "position": i, "description": f"{name} for the Borealis community.",
         "read_restricted": False, "subcategory_ids": [s["id"] for s in subs.get(cid, [])],
         "subcategory_list": subs.get(cid, [])}
        for i, (cid, name, slug, color) in enumerate(CATEGORIES)
    ]  # fmt: skip
    body = {"category_list": {"can_create_category": False, "can_create_topic": False,
                              "categories": categories}}  # fmt: skip
    _write(folder / recorded_name("/categories.json", "include_subcategories=true"), body)


def _write_latest(
    folder: Path,
    spill: SortedSpill,
    base: SortedSpill | None,
    users: dict[int, dict[str, Any]],
) -> None:
    """Every ``latest`` page; with ``base`` its entries that ``spill`` does not supersede join in."""
    if base is None:
        entries: Any = spill.sorted()
    else:
        delta_entries = list(spill.sorted())
        superseded = {-key[2] for key, _ in delta_entries}
        kept = ((k, d) for k, d in base.sorted() if -k[2] not in superseded)
        entries = heapq.merge(delta_entries, kept, key=lambda kd: kd[0])

    def flush(rows: list[tuple[list[int], str]], number: int, more: bool) -> None:
        uids = sorted({u for ids, _ in rows for u in ids if u > 0})
        topic_list: dict[str, Any] = {
            "can_create_topic": False,
            "per_page": PER_PAGE,
            "top_tags": list(words.TAGS[:5]),
        }
        if more:
            topic_list["more_topics_url"] = f"/latest?page={number + 1}"
        head = dumps({"users": [users[u] for u in uids], "primary_groups": [STAFF_GROUP],
                      "flair_groups": []})  # fmt: skip
        topics = "[" + ",".join(text for _, text in rows) + "]"
        text = (
            head[:-1] + ',"topic_list":' + dumps(topic_list)[:-1] + ',"topics":' + topics + "}}\n"
        )
        name = recorded_name("/latest.json", f"page={number}" if number else "")
        (folder / name).write_text(text, encoding="utf-8")

    held: list[tuple[list[int], str]] | None = None
    page: list[tuple[list[int], str]] = []
    number = 0
    for _, data in entries:
        ids_line, _, text = data.decode().partition("\n")
        page.append(([int(x) for x in ids_line.split(",") if x], text))
        if len(page) == PER_PAGE:
            if held is not None:
                flush(held, number, True)
                number += 1
            held, page = page, []
    if held is not None:
        flush(held, number, bool(page))
        number += 1
    if page or number == 0:
        flush(page, number, False)


def _write_posts_json(folder: Path, posts: list[dict[str, Any]], stop_at: int | None) -> None:
    """``/posts.json`` pages (50 posts, newest first); with ``stop_at`` until a page reaches it."""
    rows = [_latest_post(p) for p in posts]
    before: int | None = None
    i = 0
    while True:
        page = rows[i : i + 50]
        name = recorded_name("/posts.json", f"before={before}" if before else "")
        _write(folder / name, {"latest_posts": page})
        if not page or stop_at is None or any(p["id"] <= stop_at for p in page):
            return
        before = page[-1]["id"] - 1
        i += 50


def _latest_post(post: dict[str, Any]) -> dict[str, Any]:
    out = _public(post, 0)
    out["topic_title"] = post["_title"]
    out["topic_html_title"] = words.html_escape(post["_title"])
    out["category_id"] = post["_cat"]
    return out


__all__ = ["generate"]
