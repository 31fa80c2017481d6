"""WxrConnector against real WXR files (hand-written fixtures and the bundled sample)."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from townsquare.connectors.base import ConnectorContext
from townsquare.connectors.wxr import WxrConnector, WxrFormatError, html_to_text
from townsquare.records import Item, Rejected, Row, to_json_text
from townsquare.xmlsafe import MalformedXMLError, UnsafeXMLError, iter_elements

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "blog"
SAMPLES = Path(__file__).resolve().parents[2] / "plugins" / "townsquare" / "samples" / "blog"
WXR12 = FIXTURES / "wxr12-https.xml"


def connector(location: Path | str, since: str | None = None, **options: Any) -> WxrConnector:
    return WxrConnector(
        ConnectorContext(name="test", location=str(location), since=since, options=options)
    )


def collect(location: Path | str, since: str | None = None) -> list[Item]:
    return list(connector(location, since).items())


def rows(items: list[Item], entity: str) -> list[dict[str, Any]]:
    return [i.values for i in items if isinstance(i, Row) and i.entity == entity]


def by_id(items: list[Item], entity: str, key: str) -> dict[str, dict[str, Any]]:
    return {v[key]: v for v in rows(items, entity)}


def rejected(items: list[Item]) -> list[Rejected]:
    return [i for i in items if isinstance(i, Rejected)]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --------------------------------------------------------------------------- WXR 1.2, https namespace


def test_wxr12_https_namespace_post_values() -> None:
    items = collect(WXR12)
    posts = by_id(items, "blog_posts", "post_id")
    assert posts["101"] == {
        "post_id": "101",
        "site_url": "https://harbor.example.org",
        "post_type": "post",
        "status": "publish",
        "title": "Release 2.0 & beyond",
        "slug": "release-2-0",
        "url": "https://harbor.example.org/2026/03/release-2-0/",
        "author_name": "Mara Quill",
        "author_login": "mara",
        "published_at": utc(2026, 3, 10, 11, 30),
        "modified_at": utc(2026, 3, 12, 8, 0),
        "content_text": "Café & bar talk: the 2.0 release. Second’s paragraph…",
        "categories": ["Releases", "News & Events"],
        "tags": ["rust", "performance"],
        "comment_count": 4,
        "comments_feed_url": None,
    }
    assert rejected(items) == []


def test_pages_are_kept_and_attachments_and_menu_items_skipped() -> None:
    c = connector(WXR12)
    items = list(c.items())
    posts = by_id(items, "blog_posts", "post_id")
    assert sorted(posts) == ["101", "102", "105"]
    assert posts["102"]["post_type"] == "page"
    assert posts["102"]["author_name"] == "Devon Ash"
    assert posts["102"]["content_text"] == "About Harbor is a storage engine."
    assert dict(c.skipped) == {"attachment": 1, "nav_menu_item": 1}
    # the comment on the attachment is skipped with it
    assert "299" not in by_id(items, "blog_comments", "comment_id")


def test_comments_types_statuses_and_threading() -> None:
    comments = by_id(collect(WXR12), "blog_comments", "comment_id")
    got = {cid: (c["comment_type"], c["status"], c["parent_id"]) for cid, c in comments.items()}
    assert got == {
        "201": ("comment", "approved", None),
        "202": ("comment", "approved", "201"),  # no <wp:comment_type> element at all
        "203": ("pingback", "approved", None),
        "204": ("trackback", "approved", None),
        "205": ("comment", "spam", None),  # empty <wp:comment_type>
        "206": ("comment", "pending", None),
        "207": ("comment", "trash", None),
    }
    ana = comments["201"]
    assert ana["post_id"] == "101"
    assert ana["post_url"] == "https://harbor.example.org/2026/03/release-2-0/"
    assert ana["author_name"] == "Ana Pereira"
    assert ana["author_email"] == "ana@quarry.example.com"
    assert ana["author_url"] == "https://ana.example.net"
    assert ana["published_at"] == utc(2026, 3, 10, 13, 0)
    assert ana["content_text"] == "Great & fast! Posted from [redacted-ip], by the way."
    assert comments["206"]["author_url"] is None


def test_pingbacks_and_trackbacks_become_trackback_rows() -> None:
    trackbacks = by_id(collect(WXR12), "trackbacks", "trackback_id")
    assert trackbacks == {
        "203": {
            "trackback_id": "203",
            "kind": "pingback",
            "source_url": "https://www.weekly.example.com/issue-42/",
            "source_domain": "weekly.example.com",
            "target_post_id": "101",
            "target_url": "https://harbor.example.org/2026/03/release-2-0/",
            "blog_name": "Rustacean Weekly",
            "title": None,
            "excerpt": "[…] Harbor 2.0 is out […]",
            "received_at": utc(2026, 3, 11, 7, 45),
            "origin": "wxr",
        },
        "204": {
            "trackback_id": "204",
            "kind": "trackback",
            "source_url": "https://opsdigest.example.net/2026/03/links/",
            "source_domain": "opsdigest.example.net",
            "target_post_id": "101",
            "target_url": "https://harbor.example.org/2026/03/release-2-0/",
            "blog_name": "Ops Digest",
            "title": "Links for March",
            "excerpt": "Harbor 2.0 lands with a new <storage> engine",
            "received_at": utc(2026, 3, 12, 18, 20),
            "origin": "wxr",
        },
    }


def test_commenter_ip_never_appears_in_values_or_raw() -> None:
    items = collect(WXR12)
    ips = [
        "203.0.113.77",
        "2001:db8::1f",
        "192.0.2.10",
        "192.0.2.11",
        "198.51.100.99",
        "198.51.100.7",
        "198.51.100.8",
        "198.51.100.23",  # inside akismet_history meta
    ]
    text = WXR12.read_text()
    assert all(ip in text for ip in ips)  # the fixture does contain them
    serialized = "\n".join(
        to_json_text(i.raw) + json.dumps(getattr(i, "values", {}), default=str) for i in items
    )
    for ip in ips:
        assert ip not in serialized
    assert "comment_author_IP" not in serialized
    assert "akismet_as_submitted" not in serialized
    raw_201 = next(
        i.raw for i in items if isinstance(i, Row) and i.values.get("comment_id") == "201"
    )
    assert raw_201["wp:commentmeta"] == [
        {"key": "akismet_history", "value": "checked by akismet; proxy [redacted-ip] seen"}
    ]
    assert raw_201["wp:comment_author_email"] == "ana@quarry.example.com"


def test_post_raw_keeps_original_fields() -> None:
    items = collect(WXR12)
    raw = next(i.raw for i in items if isinstance(i, Row) and i.values.get("post_id") == "101")
    assert raw["wp:post_name"] == "release-2-0"
    assert raw["guid"] == "https://harbor.example.org/?p=101"
    assert raw["category"][1] == {
        "domain": "category",
        "nicename": "news-events",
        "name": "News &amp; Events",
    }
    assert raw["wp:postmeta"] == [{"key": "_edit_last", "value": "1"}]


def test_zero_gmt_date_falls_back_to_local_minus_observed_offset() -> None:
    post = by_id(collect(WXR12), "blog_posts", "post_id")["105"]
    # post_date 2026-04-01 09:15:00 local; earlier records show local = GMT + 1h
    assert post["published_at"] == utc(2026, 4, 1, 8, 15)
    assert post["modified_at"] == utc(2026, 4, 2, 8, 15)
    assert post["status"] == "draft"
    assert post["slug"] is None
    assert post["author_name"] == "ghost"  # login not among <wp:author>: the login
    assert post["content_text"] == "Plans for 3.0"


# --------------------------------------------------------------------------- WXR 1.0 and 1.1


def test_wxr10_http_namespace_and_old_category_format() -> None:
    items = collect(FIXTURES / "wxr10.xml")
    [post] = rows(items, "blog_posts")
    assert post["post_id"] == "7"
    assert post["site_url"] == "http://oldblog.example.com"
    assert post["categories"] == ["Uncategorized"]
    assert post["tags"] == ["first"]
    assert post["author_name"] == "admin"
    assert post["published_at"] == utc(2009, 5, 1, 8, 0)
    assert post["modified_at"] is None
    comments = by_id(items, "blog_comments", "comment_id")
    assert comments["1"]["comment_type"] == "comment"
    assert comments["1"]["content_text"] == (
        "Hi, this is a comment. To delete a comment, just log in and view the post's comments."
    )
    assert comments["1"]["author_email"] is None
    # zero GMT date: local 2009-05-02 12:00 minus the +2h seen on earlier records
    assert comments["2"]["published_at"] == utc(2009, 5, 2, 10, 0)
    assert comments["2"]["parent_id"] == "1"
    assert comments["3"]["comment_type"] == "pingback"
    # a pingback without a source URL cannot be a trackbacks row: quarantined
    [bad] = rejected(items)
    assert (bad.entity, bad.native_id) == ("trackbacks", "3")
    assert "no source URL" in bad.reason
    assert rows(items, "trackbacks") == []
    assert "10.1.2.3" not in json.dumps([to_json_text(i.raw) for i in items])


def test_wxr11_rejects_bad_items_and_undated_comments() -> None:
    items = collect(FIXTURES / "wxr11.xml")
    bad = [(r.entity, r.native_id, r.reason) for r in rejected(items)]
    assert bad == [
        (
            "blog_posts",
            "http://midblog.example.net/blog/2013/02/lost-id/",
            "WXR item without <wp:post_id>",
        ),
        (
            "blog_comments",
            "32",
            "comment 32 has no usable date (comment_date_gmt='', comment_date='')",
        ),
        (
            "blog_comments",
            "33",
            "comment 33 has no usable date "
            "(comment_date_gmt='0000-00-00 00:00:00', comment_date='yesterday')",
        ),
    ]
    [post] = rows(items, "blog_posts")
    assert post["post_id"] == "12"
    assert post["author_name"] == "Sam O'Neil"
    assert post["site_url"] == "http://midblog.example.net/blog"  # base_blog_url wins
    comments = by_id(items, "blog_comments", "comment_id")
    assert sorted(comments) == ["31", "34"]
    # the comment of the item without id still lands, linked by URL only
    assert comments["31"]["post_id"] is None
    assert comments["31"]["post_url"] == "http://midblog.example.net/blog/2013/02/lost-id/"


# --------------------------------------------------------------------------- damaged and hostile files


def test_truncated_file_yields_items_before_the_damage_then_raises(tmp_path: Path) -> None:
    data = WXR12.read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[: data.index(b"<wp:post_type><![CDATA[page]]>")])
    got: list[Item] = []
    with pytest.raises(MalformedXMLError) as err:
        got.extend(connector(cut).items())
    assert [i.entity for i in got] == ["blog_posts"] + ["blog_comments"] * 3 + [
        "trackbacks",
        "blog_comments",
        "trackbacks",
    ] + ["blog_comments"] * 3
    assert isinstance(err.value.line, int) and err.value.line > 200
    assert str(cut) in str(err.value)
    assert "malformed XML at line" in str(err.value)


def test_truncated_gzip_raises_malformed(tmp_path: Path) -> None:
    packed = gzip.compress(WXR12.read_bytes())
    damaged = tmp_path / "export.xml.gz"
    damaged.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(MalformedXMLError, match="gzip"):
        list(connector(damaged).items())


@pytest.mark.parametrize(
    ("name", "entity_name"),
    [
        ("billion-laughs.wxr.xml", "lol"),
        ("xxe.wxr.xml", "xxe"),
        ("xxe-parameter.wxr.xml", "remote"),
    ],
)
def test_entity_declarations_are_refused_before_any_row(name: str, entity_name: str) -> None:
    got: list[Item] = []
    with pytest.raises(UnsafeXMLError) as err:
        got.extend(connector(FIXTURES / name).items())
    assert got == []
    assert isinstance(err.value, ValueError)
    assert f"name='{entity_name}'" in str(err.value)
    assert "root:" not in str(err.value)  # nothing of /etc/passwd


def test_plain_rss_is_not_mistaken_for_wxr() -> None:
    with pytest.raises(WxrFormatError, match="not a WordPress export"):
        list(connector(FIXTURES / "plain-rss-not-wxr.xml").items())


def test_forbidden_control_characters_are_dropped(tmp_path: Path) -> None:
    data = (FIXTURES / "wxr10.xml").read_bytes().replace(b"This is your", b"This\x0b is\x1b your")
    path = tmp_path / "ctrl.xml"
    path.write_bytes(data)
    [post] = rows(collect(path), "blog_posts")
    assert post["content_text"].startswith("Welcome to WordPress. This is your first post.")


def test_missing_location_and_url_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        connector(tmp_path / "nope.xml")
    with pytest.raises(FileNotFoundError, match=r"wxr: no input files \(\*\.xml"):
        connector(tmp_path)
    with pytest.raises(ValueError, match="is a URL"):
        connector("https://blog.example.com/export.xml")
    with pytest.raises(ValueError, match="--since"):
        connector(WXR12, since="last tuesday")


# --------------------------------------------------------------------------- gzip, folders, since, keys


def test_gzip_export_reads_like_the_plain_file(tmp_path: Path) -> None:
    gz = tmp_path / "harbor.xml.gz"
    gz.write_bytes(gzip.compress(WXR12.read_bytes()))
    plain = [(i.entity, getattr(i, "values", None)) for i in collect(WXR12)]
    packed = [(i.entity, getattr(i, "values", None)) for i in collect(gz)]
    assert packed == plain
    assert len(packed) == 12


def test_folder_of_exports(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "wxr10.xml", tmp_path / "a-old.xml")
    (tmp_path / "b-harbor.xml.gz").write_bytes(gzip.compress(WXR12.read_bytes()))
    (tmp_path / "notes.txt").write_text("not an export")
    items = collect(tmp_path)
    assert [p["post_id"] for p in rows(items, "blog_posts")] == ["7", "101", "102", "105"]
    assert len(rows(items, "blog_comments")) == 3 + 7


def test_since_filters_posts_and_comments() -> None:
    items = collect(WXR12, since="2026-03-11")
    # post 101 was published before but modified after; page 102 is older
    assert sorted(by_id(items, "blog_posts", "post_id")) == ["101", "105"]
    assert sorted(by_id(items, "blog_comments", "comment_id")) == [
        "203",
        "204",
        "205",
        "206",
        "207",
    ]
    assert sorted(by_id(items, "trackbacks", "trackback_id")) == ["203", "204"]
    later = collect(WXR12, since="2026-03-14T09:30:00Z")
    assert sorted(by_id(later, "blog_comments", "comment_id")) == ["206", "207"]
    assert sorted(by_id(later, "blog_posts", "post_id")) == ["105"]


def test_interval_key_follows_file_contents(tmp_path: Path) -> None:
    a = tmp_path / "a" / "export.xml"
    b = tmp_path / "b" / "export.xml"
    a.parent.mkdir()
    b.parent.mkdir()
    shutil.copy(WXR12, a)
    shutil.copy(WXR12, b)
    key = connector(a).interval_key()
    assert key == connector(a).interval_key()
    assert key == connector(b).interval_key()  # same bytes, same key
    assert re.fullmatch(r"wxr-sha256:[0-9a-f]{64}\|since:", key)
    b.write_bytes(b.read_bytes().replace(b"Thanks Ana!", b"Thanks, Ana!"))
    assert connector(b).interval_key() != key
    assert connector(a, since="2026-01-01").interval_key() != key
    c = connector(a)
    list(c.items())
    assert c.new_state() == {"blog_posts": {"last_file_sha256": key.split(":")[1].split("|")[0]}}


def test_post_types_option(tmp_path: Path) -> None:
    c = connector(WXR12, post_types="post, attachment")
    items = list(c.items())
    assert sorted(by_id(items, "blog_posts", "post_id")) == ["101", "103", "105"]
    assert "299" in by_id(items, "blog_comments", "comment_id")
    assert dict(c.skipped) == {"page": 1, "nav_menu_item": 1}


def test_iter_elements_streams_and_clears(tmp_path: Path) -> None:
    path = tmp_path / "doc.xml"
    path.write_text(
        "<root><head><title>top</title></head>"
        + "".join(
            f"<item><title>{i}</title><sub><item>nested</item></sub></item>" for i in range(5)
        )
        + "<deep><deeper><title>too deep</title></deeper></deep></root>"
    )
    seen = []
    for elem in iter_elements(path, {"item", "title"}, max_depth=2):
        seen.append((elem.tag, elem.findtext("title") or elem.text, len(elem)))
    assert seen == [("title", "top", 0)] + [("item", str(i), 2) for i in range(5)]
    kept = list(iter_elements(path, {"item"}))
    assert all(len(e) == 0 and e.text is None for e in kept)  # cleared once passed


def test_html_to_text() -> None:
    assert html_to_text(None) is None
    assert html_to_text("  plain\n\ttext  ") == "plain text"
    assert html_to_text("<p>a</p><p>b</p><style>p{}</style>x&amp;y&#8217;s") == "a b x&y’s"
    assert html_to_text("<b>bold</b>face &lt;tag&gt;") == "boldface <tag>"


# --------------------------------------------------------------------------- the bundled sample


def test_bundled_wxr_sample_facts() -> None:
    c = connector(SAMPLES / "lumen-blog.wxr.xml")
    items = list(c.items())
    assert rejected(items) == []
    assert dict(c.skipped) == {"attachment": 3, "nav_menu_item": 1}
    posts = rows(items, "blog_posts")
    assert Counter((p["post_type"], p["status"]) for p in posts) == {
        ("post", "publish"): 24,
        ("post", "draft"): 1,
        ("page", "publish"): 2,
    }
    comments = rows(items, "blog_comments")
    assert len(comments) == 240
    assert Counter(c["comment_type"] for c in comments) == {
        "comment": 200,
        "pingback": 30,
        "trackback": 10,
    }
    assert Counter(c["status"] for c in comments) == {
        "approved": 226,
        "spam": 8,
        "pending": 4,
        "trash": 2,
    }
    assert sum(1 for c in comments if c["parent_id"]) == 48
    community = [
        c
        for c in comments
        if c["comment_type"] == "comment"
        and c["status"] != "spam"
        and not c["author_email"].endswith("@lumen.example.org")
    ]
    assert len(community) == 174
    assert len({c["author_email"] for c in community}) == 60
    staff = [c for c in comments if (c["author_email"] or "").endswith("@lumen.example.org")]
    assert len(staff) == 18 and all(c["parent_id"] for c in staff)
    trackbacks = rows(items, "trackbacks")
    assert len(trackbacks) == 40
    sites = Counter(t["source_domain"] for t in trackbacks)
    assert len(sites) == 12
    assert sites.most_common(2) == [
        ("embeddedweekly.example.com", 9),
        ("hackerdigest.example.net", 6),
    ]
    assert all(utc(2025, 9, 1) < c["published_at"] < utc(2026, 11, 1) for c in comments)
    draft = next(p for p in posts if p["status"] == "draft")
    assert draft["title"] == "Roadmap for Lumen 1.1"
    assert draft["published_at"] == utc(2026, 10, 18, 13, 56)  # 15:56 CEST in the file
    ids = {c["comment_id"] for c in comments}
    assert all(c["parent_id"] in ids for c in comments if c["parent_id"])


def test_bundled_wxr_sample_leaks_no_ip() -> None:
    path = SAMPLES / "lumen-blog.wxr.xml"
    ips = set(re.findall(r"<wp:comment_author_IP><!\[CDATA\[(.*?)\]\]>", path.read_text()))
    assert len(ips) > 50
    blob = "\n".join(
        to_json_text(i.raw) + json.dumps(getattr(i, "values", {}), default=str)
        for i in collect(path)
    )
    assert [ip for ip in ips if ip in blob] == []


def test_bundled_samples_match_their_generator(tmp_path: Path) -> None:
    from townsquare.samples.blog.generate import generate

    files = generate(tmp_path)
    for path in files.values():
        committed = SAMPLES / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), committed
    assert sum(p.stat().st_size for p in files.values()) < 1_000_000
