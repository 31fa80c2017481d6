"""End to end: `townsquare demo` lands the samples, builds, checks; then we query the mart.

The expected mart totals are recomputed here straight from the sample WXR with the
standard library (an independent oracle), not copied from the pipeline's output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest

from townsquare.paths import samples_dir

pytestmark = pytest.mark.e2e

WP = "{http://wordpress.org/export/1.2/}"


def _domain(url: str) -> str | None:
    host = urlsplit(url).hostname if url else None
    if not host:
        return None
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


def expected_links_by_site() -> Counter:
    """Approved pingbacks/trackbacks per referring domain, minus links from the blog itself."""
    tree = ET.parse(samples_dir() / "blog" / "lumen-blog.wxr.xml")  # trusted, bundled file
    own = {
        _domain(tree.findtext("channel/link")),
        _domain(tree.findtext(f"channel/{WP}base_site_url")),
    }
    links: Counter = Counter()
    for item in tree.iterfind("channel/item"):
        if item.findtext(f"{WP}post_type") not in ("post", "page"):
            continue
        for c in item.iterfind(f"{WP}comment"):
            if c.findtext(f"{WP}comment_type") not in ("pingback", "trackback"):
                continue
            if c.findtext(f"{WP}comment_approved") != "1":
                continue
            domain = _domain(c.findtext(f"{WP}comment_author_url") or "")
            if domain and domain not in own:
                links[domain] += 1
    return links


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNSQUARE_")}
    proc = subprocess.run(
        [sys.executable, "-m", "townsquare.cli", "demo", "--home", str(home), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_demo_lands_every_sample(demo: dict) -> None:
    by_source = {s["source"]: s["entities"] for s in demo["sources"]}
    assert set(by_source) == {"lumen-blog", "lumen-community", "lumen-releases"}
    # The WXR sample: 25 posts + 2 pages, 240 comments of which 40 are linkbacks.
    assert by_source["lumen-blog"]["blog_posts"] == {"rows": 27, "quarantined": 0}
    assert by_source["lumen-blog"]["trackbacks"] == {"rows": 40, "quarantined": 0}
    assert by_source["lumen-blog"]["blog_comments"]["rows"] == 240
    # The community RSS feed (10 posts) and its comment feed (30 comments).
    assert by_source["lumen-community"]["blog_posts"]["rows"] == 10
    assert by_source["lumen-community"]["blog_comments"]["rows"] == 30
    assert demo["layers"]["staging"]["stg_blog__posts"] == 27 + 10 + 8
    assert demo["build"]["marts"]["fct_inbound_reach_monthly"] > 0


def test_mart_inbound_links_match_the_export(demo: dict) -> None:
    expected = expected_links_by_site()
    with duckdb.connect(demo["warehouse"], read_only=True) as con:
        got = dict(
            con.execute(
                "select referring_domain, sum(inbound_links)::int from marts.fct_inbound_reach_monthly "
                "group by 1 having sum(inbound_links) > 0"
            ).fetchall()
        )
        by_site = dict(
            con.execute(
                "select referring_domain, sum(inbound_links)::int from marts.fct_inbound_reach_by_site "
                "group by 1 having sum(inbound_links) > 0"
            ).fetchall()
        )
    assert got == dict(expected)
    assert by_site == dict(expected)
    assert sum(expected.values()) > 20  # the sample is rich enough to be interesting


def test_no_emails_or_ips_in_the_marts(demo: dict) -> None:
    with duckdb.connect(demo["warehouse"], read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
        assert tables
        for (table,) in tables:
            text = " ".join(
                str(v) for row in con.execute(f"from marts.{table}").fetchall() for v in row
            )
            assert "@" not in text, table
            assert not re.search(r"\b\d{1,3}(\.\d{1,3}){3}\b", text), table
    raw = b"".join(p.read_bytes() for p in Path(demo["lake"]).rglob("*.parquet"))
    assert b"comment_author_IP" not in raw
