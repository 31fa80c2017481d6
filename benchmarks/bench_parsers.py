"""Throughput and peak memory of the blog file parsers (WXR and feeds) and of landing.

Generates a large WXR export (default 200,000 comments on 20,000 posts) and a large
RSS feed (default 20,000 items) in a temporary folder, then runs
``WxrConnector.items()`` and ``FeedConnector.items()`` over them, each in a fresh
subprocess so ``ru_maxrss`` (peak resident memory) belongs to that parser alone.
The ``land`` rows run the whole ``ingest_source`` path on the WXR files: parsing,
coercion, the Great Expectations row gate per 10,000-row batch and Parquet writes.

    .venv/bin/python benchmarks/bench_parsers.py [--comments N] [--feed-items N]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from measure import count_items, measure, peak_rss_mib

COMMENTS_PER_POST = 10
PINGBACK_EVERY = 10  # one comment in ten is a pingback (→ also a trackbacks row)


def write_wxr(path: Path, comments: int) -> None:
    posts = max(1, comments // COMMENTS_PER_POST)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    cid = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
            'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
            "<title>Bench</title><link>https://bench.example.org</link>\n"
            "<wp:wxr_version>1.2</wp:wxr_version>\n"
            "<wp:base_site_url>https://bench.example.org</wp:base_site_url>\n"
            "<wp:base_blog_url>https://bench.example.org</wp:base_blog_url>\n"
        )
        for p in range(1, posts + 1):
            when = start + timedelta(hours=p)
            out.write(
                f"<item><title>Post {p}</title><link>https://bench.example.org/{p}/</link>"
                f"<dc:creator><![CDATA[admin]]></dc:creator>"
                f'<guid isPermaLink="false">https://bench.example.org/?p={p}</guid>'
                f"<content:encoded><![CDATA[<p>Body of post {p} with <b>markup</b> &amp; "
                f"entities&nbsp;here.</p>\n<p>Second paragraph.</p>]]></content:encoded>"
                f"<wp:post_id>{p}</wp:post_id>"
                f"<wp:post_date><![CDATA[{when:%Y-%m-%d %H:%M:%S}]]></wp:post_date>"
                f"<wp:post_date_gmt><![CDATA[{when:%Y-%m-%d %H:%M:%S}]]></wp:post_date_gmt>"
                f"<wp:post_name><![CDATA[post-{p}]]></wp:post_name>"
                f"<wp:status><![CDATA[publish]]></wp:status>"
                f"<wp:post_type><![CDATA[post]]></wp:post_type>"
                f'<category domain="category" nicename="news"><![CDATA[News]]></category>'
                f'<category domain="post_tag" nicename="bench"><![CDATA[bench]]></category>\n'
            )
            for k in range(COMMENTS_PER_POST):
                cid += 1
                if cid > comments:
                    break
                cwhen = when + timedelta(minutes=k + 1)
                ping = cid % PINGBACK_EVERY == 0
                out.write(
                    f"<wp:comment><wp:comment_id>{cid}</wp:comment_id>"
                    f"<wp:comment_author><![CDATA[Person {cid % 5000}]]></wp:comment_author>"
                    f"<wp:comment_author_email><![CDATA[p{cid % 5000}@example.com]]></wp:comment_author_email>"
                    f"<wp:comment_author_url>https://site{cid % 300}.example.net/post-{cid}/</wp:comment_author_url>"
                    f"<wp:comment_author_IP><![CDATA[198.51.100.{cid % 250}]]></wp:comment_author_IP>"
                    f"<wp:comment_date><![CDATA[{cwhen:%Y-%m-%d %H:%M:%S}]]></wp:comment_date>"
                    f"<wp:comment_date_gmt><![CDATA[{cwhen:%Y-%m-%d %H:%M:%S}]]></wp:comment_date_gmt>"
                    f"<wp:comment_content><![CDATA[<p>Comment {cid}: this is a reasonably "
                    f"sized comment with <a href='https://example.com'>a link</a> &amp; an "
                    f"entity.</p>]]></wp:comment_content>"
                    f"<wp:comment_approved><![CDATA[1]]></wp:comment_approved>"
                    f"<wp:comment_type><![CDATA[{'pingback' if ping else 'comment'}]]></wp:comment_type>"
                    f"<wp:comment_parent>{cid - 1 if k else 0}</wp:comment_parent>"
                    f"<wp:comment_user_id>0</wp:comment_user_id></wp:comment>\n"
                )
            out.write("</item>\n")
        out.write("</channel>\n</rss>\n")


def write_feed(path: Path, items: int) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:slash="http://purl.org/rss/1.0/modules/slash/" '
            'xmlns:wfw="http://wellformedweb.org/CommentAPI/">\n<channel>'
            "<title>Bench feed</title><link>https://feed.example.org</link>\n"
        )
        for i in range(1, items + 1):
            when = start + timedelta(minutes=i)
            out.write(
                f"<item><title>Item {i}</title><link>https://feed.example.org/{i}/</link>"
                f"<dc:creator><![CDATA[Author {i % 50}]]></dc:creator>"
                f"<pubDate>{when:%a, %d %b %Y %H:%M:%S} +0000</pubDate>"
                f"<category><![CDATA[News]]></category>"
                f'<guid isPermaLink="false">https://feed.example.org/?p={i}</guid>'
                f"<description><![CDATA[Summary of item {i}.]]></description>"
                f"<content:encoded><![CDATA[<p>Body of item {i} with <b>markup</b> &amp; "
                f"entities&nbsp;here.</p>]]></content:encoded>"
                f"<wfw:commentRss>https://feed.example.org/{i}/feed/</wfw:commentRss>"
                f"<slash:comments>{i % 7}</slash:comments></item>\n"
            )
        out.write("</channel></rss>\n")


def land_child(path: str) -> dict[str, float]:
    """Runs in the subprocess: the whole landing path (parse, coerce, GX gate, Parquet)."""
    from townsquare.config import SourceConfig
    from townsquare.pipeline import ingest_source
    from townsquare.quality import _context

    _context()  # import Great Expectations before the baseline: its ~270 MB is fixed cost
    baseline = peak_rss_mib()
    with tempfile.TemporaryDirectory(prefix="bench-lake-") as lake:
        source = SourceConfig(type="wxr", name="bench", location=path)
        t0 = time.perf_counter()
        result = ingest_source(source, lake=lake, credentials={})
        seconds = time.perf_counter() - t0
    return {
        "rows": result.rows,
        "seconds": seconds,
        "baseline_mib": baseline,
        "peak_mib": peak_rss_mib(),
    }


def run_child(kind: str, path: str) -> dict[str, float]:
    """Runs in the subprocess: iterate one connector and report rows, time, memory."""
    from townsquare.connectors.base import ConnectorContext

    if kind == "land":
        return land_child(path)

    if kind == "wxr":
        from townsquare.connectors.wxr import WxrConnector as Cls
    else:
        from townsquare.connectors.feed import FeedConnector as Cls  # type: ignore[assignment]
    baseline = peak_rss_mib()
    conn = Cls(ConnectorContext(name="bench", location=path, options={"follow_comments": False}))
    return count_items(conn.items(), baseline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--comments", type=int, default=200_000)
    parser.add_argument("--feed-items", type=int, default=20_000)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(*args.child)))
        return

    with tempfile.TemporaryDirectory(prefix="bench-parsers-") as tmp:
        wxr = Path(tmp) / "big.wxr.xml"
        feed = Path(tmp) / "big.rss.xml"
        small_wxr = Path(tmp) / "small.wxr.xml"
        t0 = time.perf_counter()
        write_wxr(wxr, args.comments)
        write_wxr(small_wxr, max(10, args.comments // 20))
        write_feed(feed, args.feed_items)
        print(f"generated inputs in {time.perf_counter() - t0:.1f}s")
        cases = [
            (f"wxr  ({args.comments // 20:,} comments)", "wxr", small_wxr),
            (f"wxr  ({args.comments:,} comments)", "wxr", wxr),
            (f"feed ({args.feed_items:,} items)", "feed", feed),
            (f"land wxr ({args.comments // 20:,})", "land", small_wxr),
            (f"land wxr ({args.comments:,})", "land", wxr),
        ]
        header = f"{'input':<28}{'MiB':>8}{'rows':>10}{'seconds':>9}{'rows/s':>10}{'peak RSS MiB':>14}{'over baseline':>15}"
        print(header)
        print("-" * len(header))
        for label, kind, path in cases:
            r = measure(__file__, kind, path)
            size = os.path.getsize(path) / 2**20
            print(
                f"{label:<28}{size:>8.1f}{int(r['rows']):>10,}{r['seconds']:>9.2f}"
                f"{r['rows'] / r['seconds']:>10,.0f}{r['peak_mib']:>14.1f}"
                f"{r['peak_mib'] - r['baseline_mib']:>15.1f}"
            )


if __name__ == "__main__":
    main()
