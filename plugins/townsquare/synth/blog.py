"""The project blog as a WordPress WXR 1.2 export, and a community site's RSS 2.0 feeds.

``blog/borealis-blog.wxr.xml`` (source type ``wxr``): posts, a few pages and attachments
(attachments are skipped by the connector, as WordPress exports hold them), comments
with every status (approved, pending, spam, trash), threaded replies, pingbacks and
trackbacks from other sites (a few sites link a lot; some pingbacks come from the blog
itself). ``delta/blog/borealis-blog-2026-01-01.wxr.xml`` is the export of the next day:
the posts published that day and the earlier posts that got comments that day, each
whole (with all its comments), as WordPress exports them.

``blog/community/`` (source type ``feed``): the community site's posts feed (the 10
newest posts) and comments feed (the 30 newest comments), as of the end of the base;
``delta/blog/community/`` the same feeds a day later.
"""

from __future__ import annotations

import random
from array import array
from pathlib import Path
from typing import IO, NamedTuple

from townsquare.synth import words
from townsquare.synth.context import BLOG_URL, COMMUNITY_URL, SITE, Context
from townsquare.synth.population import BLOG, ascii_fold
from townsquare.synth.timeline import (
    BASE_END,
    DAY,
    DELTA_DATE,
    DELTA_END,
    DELTA_START,
    allocate,
    delay,
    delta_count,
    month_of,
    monthly_counts,
    phase,
    rfc822,
    rng_for,
    scaled,
    time_in,
    times_in_month,
    wp_date,
)

POSTS = 2_000
COMMENTS = 28_000
LINKBACKS = 2_500
SITES = 400
SITE_OFFSET = 60  # minutes: the blog's local time is UTC+1 (wp:post_date vs *_gmt)
FEED_POSTS = 10
FEED_COMMENTS = 30

CATEGORIES = ("announcements", "engineering", "releases", "tutorials", "community", "case-studies")
SPAM_NAMES = ("Cheap Hosting", "Best VPN Deals", "SEO Expert", "Crypto Signals", "Casino Bonus")
BLOG_WORDS = ("notes", "journal", "log", "weekly", "blog", "dev", "lab", "digest")


class Comment(NamedTuple):
    t: int
    cid: int
    kind: str  # "" | "pingback" | "trackback"
    status: str  # 1 | 0 | spam | trash
    parent: int
    author: str
    email: str
    url: str
    ip: str
    content: str
    pid: int  # person, -1 for spam and linkbacks


def generate(ctx: Context) -> None:
    rng = rng_for(ctx.seed, "blog")
    pop = ctx.pop
    blog_dir = ctx.out / "blog"
    delta_dir = ctx.out / "delta" / "blog"
    blog_dir.mkdir(parents=True, exist_ok=True)
    delta_dir.mkdir(parents=True, exist_ok=True)
    counts = ctx.source("blog")

    # Authors: the staff and a few guest authors (heavy blog people).
    staff = pop.staff
    blog_people = [p for p in pop.people if p.channels & BLOG and not p.staff]
    blog_people.sort(key=lambda p: (-p.weight, p.pid))
    guests = [p.pid for p in blog_people[: max(2, scaled(12, ctx.scale))]]
    authors = staff + guests
    logins = {pid: ascii_fold(pop.people[pid].first) + str(i) for i, pid in enumerate(authors)}

    # Plan: post times (base by month, delta on the delta day), comments per post.
    n_base = scaled(POSTS, ctx.scale, 2)
    n_delta = delta_count(n_base)
    times: list[int] = []
    for m, k in enumerate(monthly_counts(n_base)):
        times += times_in_month(rng, m, k)
    times += sorted(time_in(rng, DELTA_START, DELTA_END - 6 * 3600) for _ in range(n_delta))
    n_posts = len(times)
    popularity = [rng.paretovariate(1.3) for _ in range(n_posts)]
    n_comments = scaled(COMMENTS, ctx.scale)
    n_links = scaled(LINKBACKS, ctx.scale)
    per_post = allocate(n_comments, popularity[:n_base]) + [0] * n_delta
    links_per_post = allocate(n_links, popularity[:n_base]) + [0] * n_delta
    delta_comments = delta_count(n_comments + n_links)
    recent = list(range(max(0, n_base - 8), n_posts))
    extra = allocate(delta_comments, [3.0 if i >= n_base else 1.0 for i in recent])
    delta_extra = dict(zip(recent, extra, strict=True))

    sites = _sites(rng, max(3, scaled(SITES, ctx.scale)))
    site_cum = array("d")
    total = 0.0
    for i in range(len(sites)):
        total += 1.0 / (i + 1) ** 1.1
        site_cum.append(total)

    # Comment ids follow comment time across the blog (WordPress numbers them as they come).
    plans: list[list[tuple[int, str]]] = []
    all_times = array("q")
    for i, t0 in enumerate(times):
        plan = [(t0 + delay(rng, 1.5 * DAY, 1.5), "") for _ in range(per_post[i])]
        plan += [
            (t0 + delay(rng, 3 * DAY, 1.3), "pingback" if rng.random() < 0.7 else "trackback")
            for _ in range(links_per_post[i])
        ]
        plan += [
            (time_in(rng, max(t0 + 60, DELTA_START), DELTA_END), "")
            for _ in range(delta_extra.get(i, 0))
        ]
        plan = sorted(p for p in plan if phase(p[0]) < 2)
        plans.append(plan)
        all_times.extend(t for t, _ in plan)
    order = sorted(range(len(all_times)), key=lambda k: (all_times[k], k))
    ids = array("q", bytes(8 * len(all_times)))
    for rank, k in enumerate(order):
        ids[k] = rank + 1
    del order

    wxr = blog_dir / "borealis-blog.wxr.xml"
    wxr_delta = delta_dir / f"borealis-blog-{DELTA_DATE}.wxr.xml"
    base = {"blog_posts": 0, "blog_comments": 0, "trackbacks": 0}
    delta = {"blog_posts": 0, "blog_comments": 0, "trackbacks": 0}
    new = {"blog_posts": 0, "blog_comments": 0, "trackbacks": 0}
    skipped = 0
    with wxr.open("w", encoding="utf-8") as out, wxr_delta.open("w", encoding="utf-8") as dout:
        _header(out, pop, authors, logins, BASE_END)
        _header(dout, pop, authors, logins, DELTA_END)
        post_id = 0
        cursor = 0
        for i, t0 in enumerate(times):
            post_id += 1
            author = authors[0] if rng.random() < 0.3 else rng.choice(authors)
            kind = "page" if rng.random() < 0.02 else "post"
            title = words.title(rng, "blog")
            comments: list[Comment] = []
            for t, ckind in plans[i]:
                cid = ids[cursor]
                cursor += 1
                comments.append(_comment(rng, pop, t, cid, ckind, comments, sites, site_cum, t0))
            post = _post_xml(rng, post_id, t0, author, logins, kind, title)
            pt0 = phase(t0)
            if pt0 == 0:
                base_comments = [c for c in comments if c.t <= BASE_END]
                out.write(_item(post, base_comments))
                base["blog_posts"] += 1
                base["blog_comments"] += len(base_comments)
                base["trackbacks"] += sum(1 for c in base_comments if c.kind)
                pop.tally.add(author, BLOG)
                for c in base_comments:
                    if c.pid >= 0:
                        pop.tally.add(c.pid, BLOG)
            late = [c for c in comments if c.t > BASE_END]
            if pt0 == 1 or late:
                out_comments = comments
                dout.write(_item(post, out_comments))
                delta["blog_posts"] += 1
                delta["blog_comments"] += len(out_comments)
                delta["trackbacks"] += sum(1 for c in out_comments if c.kind)
                new["blog_posts"] += pt0 == 1
                new["blog_comments"] += len(late)
                new["trackbacks"] += sum(1 for c in late if c.kind)
                if pt0 == 1:
                    pop.tally.add(author, BLOG)
                for c in late:
                    if c.pid >= 0:
                        pop.tally.add(c.pid, BLOG)
            # WordPress exports the media library too: the connector skips attachments.
            if pt0 == 0 and rng.random() < 0.05:
                post_id += 1
                skipped += 1
                out.write(_attachment(post_id, post_id - 1, t0, logins[author]))
            if i % 500 == 0:
                ctx.say(f"blog: {i:,}/{n_posts:,} posts")
        out.write(_FOOTER)
        dout.write(_FOOTER)
    counts.base.update(base)
    counts.delta.update(delta)
    counts.new.update(new)
    counts.extra["attachments_skipped"] = skipped

    _community(ctx)


# -- WXR --------------------------------------------------------------------------


def _cdata(text: str) -> str:
    return f"<![CDATA[{text}]]>"


def _header(out: IO[str], pop, authors: list[int], logins: dict[int, str], now: int) -> None:
    out.write(
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        "<!-- This is a WordPress eXtended RSS file generated by WordPress as an export of your site. -->\n"
        f'<!-- generator="WordPress/6.8.1" created="{wp_date(now)[:16]}" -->\n'
        '<rss version="2.0"\n'
        '\txmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"\n'
        '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
        '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
        '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '\txmlns:wp="http://wordpress.org/export/1.2/"\n>\n\n<channel>\n'
        "\t<title>Borealis Blog</title>\n"
        f"\t<link>{BLOG_URL}</link>\n"
        "\t<description>News and engineering notes from the Borealis stream processor</description>\n"
        f"\t<pubDate>{rfc822(now)}</pubDate>\n\t<language>en-US</language>\n"
        "\t<wp:wxr_version>1.2</wp:wxr_version>\n"
        f"\t<wp:base_site_url>{SITE}</wp:base_site_url>\n"
        f"\t<wp:base_blog_url>{BLOG_URL}</wp:base_blog_url>\n\n"
    )
    for i, pid in enumerate(authors, 1):
        p = pop.people[pid]
        email = p.work if p.staff else p.blog_email
        out.write(
            f"\t<wp:author><wp:author_id>{i}</wp:author_id>"
            f"<wp:author_login>{_cdata(logins[pid])}</wp:author_login>"
            f"<wp:author_email>{_cdata(email)}</wp:author_email>"
            f"<wp:author_display_name>{_cdata(words.html_escape(p.name))}</wp:author_display_name>"
            f"<wp:author_first_name>{_cdata(p.first)}</wp:author_first_name>"
            f"<wp:author_last_name>{_cdata(p.last)}</wp:author_last_name></wp:author>\n"
        )
    for i, cat in enumerate(CATEGORIES, 2):
        out.write(
            f"\t<wp:category><wp:term_id>{i}</wp:term_id>"
            f"<wp:category_nicename>{_cdata(cat)}</wp:category_nicename>"
            f"<wp:category_parent>{_cdata('')}</wp:category_parent>"
            f"<wp:cat_name>{_cdata(cat.replace('-', ' ').capitalize())}</wp:cat_name></wp:category>\n"
        )
    for i, tag in enumerate(words.TAGS, 100):
        out.write(
            f"\t<wp:tag><wp:term_id>{i}</wp:term_id><wp:tag_slug>{_cdata(tag)}</wp:tag_slug>"
            f"<wp:tag_name>{_cdata(tag)}</wp:tag_name></wp:tag>\n"
        )
    out.write("\n")


_FOOTER = "</channel>\n</rss>\n"


def _post_xml(
    rng: random.Random,
    post_id: int,
    t: int,
    author: int,
    logins: dict[int, str],
    kind: str,
    title: str,
) -> str:
    slug = words.slug(title)
    day = wp_date(t)[:10].replace("-", "/")
    link = f"{BLOG_URL}/{day}/{slug}/" if kind == "post" else f"{BLOG_URL}/{slug}/"
    paragraphs = words.sentences(rng, rng.randint(3, 8))
    content = "\n\n".join(
        f"<!-- wp:paragraph -->\n<p>{words.html_escape(s)}</p>\n<!-- /wp:paragraph -->"
        for s in paragraphs
    )
    if rng.random() < 0.4:
        content += f'\n\n<!-- wp:code -->\n<pre class="wp-block-code"><code>{words.html_escape(words.code(rng))}</code></pre>\n<!-- /wp:code -->'
    modified = t + (delay(rng, 2 * DAY, 1.0) if rng.random() < 0.3 else 0)
    modified = min(modified, BASE_END if t <= BASE_END else DELTA_END)
    cats = "".join(
        f'\t\t<category domain="category" nicename="{c}">{_cdata(c.replace("-", " ").capitalize())}</category>\n'
        for c in {rng.choice(CATEGORIES)}
    )
    tags = "".join(
        f'\t\t<category domain="post_tag" nicename="{tg}">{_cdata(tg)}</category>\n'
        for tg in sorted(set(rng.sample(words.TAGS, rng.randint(0, 3))))
    )
    return (
        "\t<item>\n"
        f"\t\t<title>{_cdata(words.html_escape(title))}</title>\n"
        f"\t\t<link>{link}</link>\n"
        f"\t\t<pubDate>{rfc822(t)}</pubDate>\n"
        f"\t\t<dc:creator>{_cdata(logins[author])}</dc:creator>\n"
        f'\t\t<guid isPermaLink="false">{SITE}/?p={post_id}</guid>\n'
        "\t\t<description></description>\n"
        f"\t\t<content:encoded>{_cdata(content)}</content:encoded>\n"
        f"\t\t<excerpt:encoded>{_cdata('')}</excerpt:encoded>\n"
        f"\t\t<wp:post_id>{post_id}</wp:post_id>\n"
        f"\t\t<wp:post_date>{_cdata(wp_date(t + SITE_OFFSET * 60))}</wp:post_date>\n"
        f"\t\t<wp:post_date_gmt>{_cdata(wp_date(t))}</wp:post_date_gmt>\n"
        f"\t\t<wp:post_modified>{_cdata(wp_date(modified + SITE_OFFSET * 60))}</wp:post_modified>\n"
        f"\t\t<wp:post_modified_gmt>{_cdata(wp_date(modified))}</wp:post_modified_gmt>\n"
        "\t\t<wp:comment_status><![CDATA[open]]></wp:comment_status>\n"
        "\t\t<wp:ping_status><![CDATA[open]]></wp:ping_status>\n"
        f"\t\t<wp:post_name>{_cdata(slug)}</wp:post_name>\n"
        "\t\t<wp:status><![CDATA[publish]]></wp:status>\n"
        "\t\t<wp:post_parent>0</wp:post_parent>\n\t\t<wp:menu_order>0</wp:menu_order>\n"
        f"\t\t<wp:post_type>{_cdata(kind)}</wp:post_type>\n"
        "\t\t<wp:post_password><![CDATA[]]></wp:post_password>\n\t\t<wp:is_sticky>0</wp:is_sticky>\n"
        f"{cats}{tags}"
        "\t\t<wp:postmeta><wp:meta_key><![CDATA[_edit_last]]></wp:meta_key>"
        "<wp:meta_value><![CDATA[1]]></wp:meta_value></wp:postmeta>\n"
    )


def _item(post: str, comments: list[Comment]) -> str:
    parts = [post]
    for c in comments:
        parts.append(
            "\t\t<wp:comment>\n"
            f"\t\t\t<wp:comment_id>{c.cid}</wp:comment_id>\n"
            f"\t\t\t<wp:comment_author>{_cdata(c.author)}</wp:comment_author>\n"
            f"\t\t\t<wp:comment_author_email>{_cdata(c.email)}</wp:comment_author_email>\n"
            f"\t\t\t<wp:comment_author_url>{c.url}</wp:comment_author_url>\n"
            f"\t\t\t<wp:comment_author_IP>{_cdata(c.ip)}</wp:comment_author_IP>\n"
            f"\t\t\t<wp:comment_date>{_cdata(wp_date(c.t + SITE_OFFSET * 60))}</wp:comment_date>\n"
            f"\t\t\t<wp:comment_date_gmt>{_cdata(wp_date(c.t))}</wp:comment_date_gmt>\n"
            f"\t\t\t<wp:comment_content>{_cdata(c.content)}</wp:comment_content>\n"
            f"\t\t\t<wp:comment_approved>{_cdata(c.status)}</wp:comment_approved>\n"
            f"\t\t\t<wp:comment_type>{_cdata(c.kind)}</wp:comment_type>\n"
            f"\t\t\t<wp:comment_parent>{c.parent}</wp:comment_parent>\n"
            f"\t\t\t<wp:comment_user_id>0</wp:comment_user_id>\n"
            + (
                "\t\t\t<wp:commentmeta><wp:meta_key><![CDATA[akismet_result]]></wp:meta_key>"
                "<wp:meta_value><![CDATA[false]]></wp:meta_value></wp:commentmeta>\n"
                if c.status == "1" and not c.kind
                else ""
            )
            + "\t\t</wp:comment>\n"
        )
    parts.append("\t</item>\n")
    return "".join(parts)


def _attachment(post_id: int, parent: int, t: int, login: str) -> str:
    name = f"diagram-{post_id}"
    return (
        "\t<item>\n"
        f"\t\t<title>{_cdata(name)}</title>\n"
        f"\t\t<link>{BLOG_URL}/{name}/</link>\n"
        f"\t\t<pubDate>{rfc822(t)}</pubDate>\n"
        f"\t\t<dc:creator>{_cdata(login)}</dc:creator>\n"
        f'\t\t<guid isPermaLink="false">{SITE}/wp-content/uploads/{name}.png</guid>\n'
        "\t\t<description></description>\n\t\t<content:encoded><![CDATA[]]></content:encoded>\n"
        f"\t\t<wp:post_id>{post_id}</wp:post_id>\n"
        f"\t\t<wp:post_date>{_cdata(wp_date(t + SITE_OFFSET * 60))}</wp:post_date>\n"
        f"\t\t<wp:post_date_gmt>{_cdata(wp_date(t))}</wp:post_date_gmt>\n"
        f"\t\t<wp:post_name>{_cdata(name)}</wp:post_name>\n"
        "\t\t<wp:status><![CDATA[inherit]]></wp:status>\n"
        f"\t\t<wp:post_parent>{parent}</wp:post_parent>\n"
        "\t\t<wp:post_type><![CDATA[attachment]]></wp:post_type>\n"
        f"\t\t<wp:attachment_url>{_cdata(f'{SITE}/wp-content/uploads/{name}.png')}</wp:attachment_url>\n"
        "\t</item>\n"
    )


def _sites(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """Referring sites: (name, base URL); the first ones link the most."""
    out = []
    used: set[str] = set()
    for _ in range(n):
        a, b = rng.choice(words.NOUNS).replace(" ", "-"), rng.choice(BLOG_WORDS)
        host = f"{a}-{b}.example.net"
        while host in used:
            host = f"{a}-{b}{rng.randint(2, 99)}.example.{rng.choice(('net', 'org', 'com'))}"
        used.add(host)
        www = "www." if rng.random() < 0.3 else ""
        out.append((f"{a.capitalize()} {b.capitalize()}", f"https://{www}{host}"))
    return out


def _ip(rng: random.Random) -> str:
    net = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
    return f"{net}.{rng.randint(1, 254)}"


def _comment(
    rng: random.Random,
    pop,
    t: int,
    cid: int,
    kind: str,
    earlier: list[Comment],
    sites: list[tuple[str, str]],
    site_cum: array,
    post_t: int,
) -> Comment:
    if kind:
        if rng.random() < 0.08:
            name, base = "Borealis Blog", BLOG_URL
        else:
            from bisect import bisect_right

            k = min(bisect_right(site_cum, rng.random() * site_cum[-1]), len(sites) - 1)
            name, base = sites[k]
        title = words.title(rng, "blog")
        url = f"{base}/{wp_date(t)[:7].replace('-', '/')}/{words.slug(title)}/"
        excerpt = words.html_escape(words.sentences(rng, 1)[0])
        if kind == "pingback":
            content = f"[&#8230;] {excerpt} [&#8230;]"
        else:
            content = f"<strong>{words.html_escape(title)}</strong> {excerpt}"
        status = "1" if rng.random() < 0.85 else rng.choice(("spam", "0"))
        return Comment(
            t, cid, kind, status, 0, f"{title} &#8211; {name}", "", url, _ip(rng), content, -1
        )
    roll = rng.random()
    if roll < 0.12:  # spam
        name = rng.choice(SPAM_NAMES)
        slug = words.slug(name)
        return Comment(
            t, cid, "", "spam", 0, name, f"{slug}{rng.randint(1, 999)}@spam.example.com",
            f"https://{slug}.example.com/?ref={cid}", _ip(rng), f"Great post! Visit {name} for more.", -1,
        )  # fmt: skip
    status = "0" if roll < 0.15 else "trash" if roll < 0.16 else "1"
    month = month_of(t)
    parent = 0
    if earlier and rng.random() < 0.2:
        candidates = [c for c in earlier if not c.kind and c.status == "1"]
        if candidates:
            parent = rng.choice(candidates).cid
    if parent and rng.random() < 0.6:
        pid = rng.choice(pop.staff)
    else:
        pid = pop.sampler("blog").pick(rng, month, flat=rng.random() < 0.7)
    p = pop.people[pid]
    email = p.work if p.staff else p.blog_email
    text, _ = words.body(rng, answer=bool(parent), intent_p=0.03 if p.org >= 0 else 0.0)
    name = p.name if rng.random() < 0.9 else p.first
    return Comment(
        t, cid, "", status, parent, name, email, p.blog_url, _ip(rng), words.html_escape(text), pid
    )


# -- the community site's feeds ------------------------------------------------------


def _community(ctx: Context) -> None:
    """The community site: posts every few days; feeds hold the newest items only."""
    rng = rng_for(ctx.seed, "community")
    pop = ctx.pop
    counts = ctx.source("community")
    start = BASE_END - 120 * DAY
    posts: list[tuple[int, int, int, str]] = []  # (t, post id, author, title)
    t = start
    post_id = 400
    while True:
        t += int(rng.uniform(1.5, 5.5) * DAY)
        if t > BASE_END:
            break
        post_id += rng.randint(1, 4)
        posts.append(
            (
                t,
                post_id,
                rng.choice([*pop.staff, pop.sampler("blog").pick(rng, month_of(t))]),
                words.title(rng, "blog"),
            )
        )
    for _ in range(max(1, round(FEED_POSTS * 0.2))):
        post_id += 1
        posts.append(
            (
                time_in(rng, DELTA_START, DELTA_END - 8 * 3600),
                post_id,
                rng.choice(pop.staff),
                words.title(rng, "blog"),
            )
        )
    posts.sort()
    comments: list[tuple[int, int, int, int, str]] = []  # (t, comment id, post index, pid, text)
    cid = 900
    for i, (pt, _, _, _) in enumerate(posts):
        for _ in range(min(12, int(rng.paretovariate(1.2)) - 1 + (3 if phase(pt) else 0))):
            ct = pt + delay(rng, 8 * 3600, 1.2)
            if phase(ct) == 2:
                continue
            comments.append(
                (
                    ct,
                    0,
                    i,
                    pop.sampler("blog").pick(rng, month_of(ct), flat=True),
                    words.body(rng)[0],
                )
            )
    comments.sort()
    numbered = []
    for ct, _, i, pid, text in comments:
        cid += rng.randint(1, 3)
        numbered.append((ct, cid, i, pid, text))
    comments = numbered

    base_dir = ctx.out / "blog" / "community"
    delta_dir = ctx.out / "delta" / "blog" / "community"
    seen_posts: set[int] = set()
    seen_comments: set[int] = set()
    for folder, cut, key in ((base_dir, BASE_END, "base"), (delta_dir, DELTA_END, "delta")):
        folder.mkdir(parents=True, exist_ok=True)
        shown = [p for p in posts if p[0] <= cut][-FEED_POSTS:][::-1]
        shown_c = [c for c in comments if c[0] <= cut][-FEED_COMMENTS:][::-1]
        n_comments = {
            i: sum(1 for c in comments if c[2] == i and c[0] <= cut) for i in range(len(posts))
        }
        _write_feeds(folder, cut, posts, shown, shown_c, n_comments, pop)
        rows = {"blog_posts": len(shown), "blog_comments": len(shown_c)}
        if key == "base":
            counts.base.update(rows)
            seen_posts = {p[1] for p in shown}
            seen_comments = {c[1] for c in shown_c}
            for p in shown:
                pop.tally.add(p[2], BLOG)
            for c in shown_c:
                pop.tally.add(c[3], BLOG)
        else:
            counts.delta.update(rows)
            new_p = [p for p in shown if p[1] not in seen_posts]
            new_c = [c for c in shown_c if c[1] not in seen_comments]
            counts.new.update({"blog_posts": len(new_p), "blog_comments": len(new_c)})
            for p in new_p:
                pop.tally.add(p[2], BLOG)
            for c in new_c:
                pop.tally.add(c[3], BLOG)


def _write_feeds(
    folder: Path,
    now: int,
    posts: list[tuple[int, int, int, str]],
    shown: list[tuple[int, int, int, str]],
    shown_c: list[tuple[int, int, int, int, str]],
    n_comments: dict[int, int],
    pop,
) -> None:
    head = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"\n'
        '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
        '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
        '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '\txmlns:atom="http://www.w3.org/2005/Atom"\n'
        '\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n'
        '\txmlns:slash="http://purl.org/rss/1.0/modules/slash/"\n\t>\n<channel>\n'
    )
    index = {p[1]: i for i, p in enumerate(posts)}
    items = []
    for t, post_id, author, title in shown:
        slug = words.slug(title)
        link = f"{COMMUNITY_URL}/{wp_date(t)[:10].replace('-', '/')}/{slug}/"
        text = words.html_escape(title)
        items.append(
            "\t<item>\n"
            f"\t\t<title>{text}</title>\n\t\t<link>{link}</link>\n"
            f"\t\t<comments>{link}#respond</comments>\n"
            f"\t\t<dc:creator>{_cdata(pop.people[author].name)}</dc:creator>\n"
            f"\t\t<pubDate>{rfc822(t)}</pubDate>\n"
            f"\t\t<category>{_cdata('Community')}</category>\n"
            f'\t\t<guid isPermaLink="false">{COMMUNITY_URL}/?p={post_id}</guid>\n'
            f"\t\t<description>{_cdata(text + ': notes from the Borealis community. [&#8230;]')}</description>\n"
            f"\t\t<content:encoded>{_cdata('<p>' + text + '.</p>')}</content:encoded>\n"
            f"\t\t<wfw:commentRss>{link}feed/</wfw:commentRss>\n"
            f"\t\t<slash:comments>{n_comments[index[post_id]]}</slash:comments>\n\t</item>\n"
        )
    (folder / "borealis-community.rss.xml").write_text(
        head + "\t<title>Borealis Community</title>\n"
        f'\t<atom:link href="{COMMUNITY_URL}/feed/" rel="self" type="application/rss+xml" />\n'
        f"\t<link>{COMMUNITY_URL}</link>\n"
        "\t<description>Stories, projects and events from Borealis users</description>\n"
        f"\t<lastBuildDate>{rfc822(now)}</lastBuildDate>\n\t<language>en-US</language>\n"
        + "".join(items)
        + "</channel>\n</rss>\n",
        encoding="utf-8",
    )
    items = []
    for t, cid, i, pid, text in shown_c:
        _, post_id, _, title = posts[i]
        slug = words.slug(title)
        link = (
            f"{COMMUNITY_URL}/{wp_date(posts[i][0])[:10].replace('-', '/')}/{slug}/#comment-{cid}"
        )
        name = pop.people[pid].name
        items.append(
            "\t<item>\n"
            f"\t\t<title>Comment on {words.html_escape(title)} by {words.html_escape(name)}</title>\n"
            f"\t\t<link>{link}</link>\n"
            f"\t\t<dc:creator>{_cdata(name)}</dc:creator>\n"
            f"\t\t<pubDate>{rfc822(t)}</pubDate>\n"
            f'\t\t<guid isPermaLink="false">{COMMUNITY_URL}/?p={post_id}#comment-{cid}</guid>\n'
            f"\t\t<description>{_cdata(words.html_escape(text))}</description>\n"
            f"\t\t<content:encoded>{_cdata('<p>' + words.html_escape(text) + '</p>')}</content:encoded>\n"
            "\t</item>\n"
        )
    (folder / "borealis-community-comments.rss.xml").write_text(
        head + "\t<title>Comments for Borealis Community</title>\n"
        f'\t<atom:link href="{COMMUNITY_URL}/comments/feed/" rel="self" type="application/rss+xml" />\n'
        f"\t<link>{COMMUNITY_URL}</link>\n"
        "\t<description>Stories, projects and events from Borealis users</description>\n"
        f"\t<lastBuildDate>{rfc822(now)}</lastBuildDate>\n"
        + "".join(items)
        + "</channel>\n</rss>\n",
        encoding="utf-8",
    )


__all__ = ["generate"]
