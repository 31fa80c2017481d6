"""FeedConnector against real RSS/Atom files and a real local HTTP server."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from townsquare.connectors.base import ConnectorContext
from townsquare.connectors.feed import FeedConnector, FeedError
from townsquare.http import HttpError
from townsquare.records import Item, Rejected, Row
from townsquare.xmlsafe import UnsafeXMLError, decode_xml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "blog"
SAMPLES = Path(__file__).resolve().parents[2] / "plugins" / "townsquare" / "samples" / "blog"


def connector(location: Path | str, since: str | None = None, **options: Any) -> FeedConnector:
    return FeedConnector(
        ConnectorContext(name="test", location=str(location), since=since, options=options)
    )


def rows(items: list[Item], entity: str) -> list[dict[str, Any]]:
    return [i.values for i in items if isinstance(i, Row) and i.entity == entity]


def rejected(items: list[Item]) -> list[Rejected]:
    return [i for i in items if isinstance(i, Rejected)]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --------------------------------------------------------------------------- post feeds


def test_rss_post_feed() -> None:
    items = list(connector(FIXTURES / "posts.rss.xml").items())
    posts = rows(items, "blog_posts")
    assert [p["post_id"] for p in posts] == [
        "https://harbor.example.org/?p=101",
        "https://harbor.example.org/undated-notes/",
        "https://harbor.example.org/?p=88",
    ]
    assert posts[0] == {
        "post_id": "https://harbor.example.org/?p=101",
        "site_url": "https://harbor.example.org",
        "post_type": "feed_item",
        "status": "publish",
        "title": "Release 2.0 & beyond",
        "slug": None,
        "url": "https://harbor.example.org/2026/03/release-2-0/",
        "author_name": "Mara Quill",
        "author_login": None,
        "published_at": utc(2026, 3, 10, 11, 30),  # 12:30 +0100
        "modified_at": None,
        "content_text": "Café & bar talk: the 2.0 release.",
        "categories": ["Releases", "rust"],
        "tags": None,
        "comment_count": 4,
        "comments_feed_url": "https://harbor.example.org/2026/03/release-2-0/feed/",
    }
    undated = posts[1]
    assert undated["published_at"] is None and undated["modified_at"] is None
    assert undated["comment_count"] == 0
    assert rejected(items) == []
    assert rows(items, "blog_comments") == []


def test_atom_feed() -> None:
    posts = rows(list(connector(FIXTURES / "atom.xml").items()), "blog_posts")
    assert [(p["title"], p["published_at"], p["modified_at"]) for p in posts] == [
        ("Vec<T> tricks & more", utc(2026, 2, 1, 7, 0), utc(2026, 2, 3, 10, 0)),
        # no <published>: the <updated> date stands in
        ("Only updated", utc(2026, 1, 15, 8, 30), utc(2026, 1, 15, 8, 30)),
    ]
    first = posts[0]
    assert first["post_id"] == "tag:tidepool.example.net,2026:/posts/vec-tricks"
    assert first["url"] == "https://tidepool.example.net/posts/vec-tricks/"
    assert first["site_url"] == "https://tidepool.example.net/"
    assert first["author_name"] == "Rin Takahashi"
    assert first["categories"] == ["rust", "perf"]
    assert first["content_text"] == "Three small tricks. More soon."
    assert posts[1]["author_name"] is None


def test_since_filters_feed_items() -> None:
    items = list(connector(FIXTURES / "posts.rss.xml", since="2026-01-01").items())
    # the undated item is kept: nothing says it is old
    assert [p["post_id"] for p in rows(items, "blog_posts")] == [
        "https://harbor.example.org/?p=101",
        "https://harbor.example.org/undated-notes/",
    ]
    comments = list(connector(FIXTURES / "comments-site.rss.xml", since="2026-01-01").items())
    assert [c["author_name"] for c in rows(comments, "blog_comments")] == ["Ana Pereira"]


# --------------------------------------------------------------------------- comment feeds


def test_comment_feed_for_one_post() -> None:
    items = list(connector(FIXTURES / "comments-on-post.rss.xml").items())
    comments = rows(items, "blog_comments")
    assert comments[0] == {
        "comment_id": "https://harbor.example.org/?p=101#comment-202",
        "post_id": "https://harbor.example.org/?p=101",
        "post_url": "https://harbor.example.org/2026/03/release-2-0/",
        "parent_id": None,
        "comment_type": "comment",
        "status": "approved",
        "author_name": "Mara Quill",
        "author_email": None,
        "author_url": None,
        "published_at": utc(2026, 3, 10, 14, 5),
        "content_text": "In reply to Ana Pereira. Thanks Ana!",
    }
    assert comments[1]["comment_id"] == "https://harbor.example.org/?p=101#comment-201"
    assert comments[1]["content_text"] == "Great & fast!"
    [undated] = rejected(items)
    assert undated.entity == "blog_comments"
    assert undated.native_id == "https://harbor.example.org/?p=101#comment-209"
    assert "no date" in undated.reason
    assert rows(items, "blog_posts") == []


def test_site_comment_feed_takes_author_from_title() -> None:
    comments = rows(list(connector(FIXTURES / "comments-site.rss.xml").items()), "blog_comments")
    assert [(c["author_name"], c["post_url"], c["post_id"]) for c in comments] == [
        (
            "Quinn Baker",
            "https://harbor.example.org/2025/11/retro-1-9/",
            "https://harbor.example.org/?p=88",
        ),
        (
            "Ana Pereira",
            "https://harbor.example.org/2026/03/release-2-0/",
            "https://harbor.example.org/?p=101",
        ),
    ]


def test_feed_kind_option_overrides_detection() -> None:
    items = list(connector(FIXTURES / "comments-site.rss.xml", feed_kind="posts").items())
    assert len(rows(items, "blog_posts")) == 2
    with pytest.raises(ValueError, match="feed_kind"):
        connector(FIXTURES / "posts.rss.xml", feed_kind="everything")


# --------------------------------------------------------------------------- encodings

FEED_TEXT = (
    '<?xml version="1.0" encoding="{enc}"?>\n'
    '<rss version="2.0"><channel><title>Zoë’s café</title><link>https://zoe.example.net/</link>'
    "<item><title>Naïve “quotes” — €5</title><link>https://zoe.example.net/1</link>"
    "<guid>https://zoe.example.net/1</guid><pubDate>Mon, 02 Feb 2026 10:00:00 +0000</pubDate>"
    "<description>Ünïcödé façade</description></item></channel></rss>\n"
)


def _one_post(path: Path) -> dict[str, Any]:
    [post] = rows(list(connector(path).items()), "blog_posts")
    return post


@pytest.mark.parametrize(
    ("codec", "declared"),
    [
        ("utf-16-le", "UTF-16"),
        ("utf-16-be", "UTF-16"),
        ("utf-16-le", "UTF-8"),  # the declaration lies; the NUL bytes do not
    ],
)
def test_utf16_without_bom(tmp_path: Path, codec: str, declared: str) -> None:
    data = FEED_TEXT.format(enc=declared).encode(codec)
    assert not data.startswith((b"\xff\xfe", b"\xfe\xff"))
    path = tmp_path / "utf16.xml"
    path.write_bytes(data)
    post = _one_post(path)
    assert post["title"] == "Naïve “quotes” — €5"
    assert post["content_text"] == "Ünïcödé façade"
    assert post["published_at"] == utc(2026, 2, 2, 10, 0)


@pytest.mark.parametrize(
    ("declaration", "codec"),
    [
        ('<?xml version="1.0" encoding="windows-1252"?>', "cp1252"),
        ('<?xml version="1.0"?>', "cp1252"),  # undeclared: XML says UTF-8, bytes say otherwise
        ('<?xml version="1.0" encoding="UTF-8"?>', "cp1252"),  # a lying declaration
        ('<?xml version="1.0" encoding="ISO-8859-1"?>', "utf-8"),  # lies the other way
    ],
)
def test_single_byte_and_lying_encodings(tmp_path: Path, declaration: str, codec: str) -> None:
    text = FEED_TEXT.split("\n", 1)[1]
    path = tmp_path / "feed.xml"
    path.write_bytes(declaration.encode() + b"\n" + text.encode(codec))
    post = _one_post(path)
    assert post["title"] == "Naïve “quotes” — €5"
    assert post["content_text"] == "Ünïcödé façade"


def test_real_latin1_feed(tmp_path: Path) -> None:
    path = tmp_path / "latin1.xml"
    path.write_bytes(
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<rss version="2.0"><channel>'
        b"<title>Caf\xe9</title><link>https://cafe.example.com/</link>"
        b"<item><title>Cr\xe8me br\xfbl\xe9e</title><guid>https://cafe.example.com/1</guid></item>"
        b"</channel></rss>"
    )
    assert _one_post(path)["title"] == "Crème brûlée"


def test_utf8_declared_as_latin1_is_not_turned_into_mojibake(tmp_path: Path) -> None:
    # every byte here is valid windows-1252 too, so only the UTF-8 check can tell
    # (feedparser repairs some mojibake itself, hence the check on decode_xml too)
    path = tmp_path / "lying.xml"
    path.write_bytes(
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<rss version="2.0"><channel>'
        b"<title>Cafe</title><link>https://cafe.example.com/</link>"
        + "<item><title>Crème brûlée</title><guid>https://cafe.example.com/1</guid></item>".encode()
        + b"</channel></rss>"
    )
    assert _one_post(path)["title"] == "Crème brûlée"
    assert decode_xml(path.read_bytes())[1] == "utf-8"


def test_decode_xml_reports_the_encoding_it_used() -> None:
    assert decode_xml("<a>é</a>".encode("utf-16-be")) == ("<a>é</a>", "utf-16-be")
    assert decode_xml(b"\xef\xbb\xbf<a/>") == ("<a/>", "utf-8")
    assert decode_xml(b"<a>\x93x\x94</a>") == ("<a>“x”</a>", "cp1252")
    assert decode_xml("<a>é</a>".encode(), http_charset="iso-8859-1") == ("<a>é</a>", "utf-8")


# --------------------------------------------------------------------------- hostile and broken feeds


@pytest.mark.parametrize("name", ["billion-laughs.rss.xml", "quadratic-blowup.rss.xml"])
def test_entity_declarations_are_refused(name: str) -> None:
    got: list[Item] = []
    with pytest.raises(UnsafeXMLError, match="refused unsafe XML"):
        got.extend(connector(FIXTURES / name).items())
    assert got == []


def test_doctype_without_entities_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "rss091.xml"
    path.write_text(
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"\n'
        ' "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        '<rss version="0.91"><channel><title>Old school</title>'
        "<link>https://old.example.com/</link><description>d</description><language>en</language>"
        "<item><title>Still here</title><link>https://old.example.com/1</link></item>"
        "</channel></rss>\n"
    )
    [post] = rows(list(connector(path).items()), "blog_posts")
    assert (post["title"], post["post_id"]) == ("Still here", "https://old.example.com/1")


def test_html_page_is_a_clear_error() -> None:
    with pytest.raises(FeedError, match="not a readable feed"):
        list(connector(FIXTURES / "not-a-feed.html").items())


def test_malformed_feed_with_entries_is_read_leniently_and_warned(tmp_path: Path) -> None:
    path = tmp_path / "sloppy.rss"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Fish & chips weekly</title><link>https://fish.example.com/</link>"
        "<item><title>Fish & chips</title><guid>https://fish.example.com/1</guid>"
        "<pubDate>Tue, 03 Mar 2026 12:00:00 GMT</pubDate></item></channel></rss>",
        encoding="utf-8",
    )
    c = connector(path)
    [post] = rows(list(c.items()), "blog_posts")
    assert post["title"] == "Fish & chips"
    assert len(c.warnings) == 1 and "read leniently" in c.warnings[0]


def test_item_without_any_id_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "noid.xml"
    path.write_text(
        '<rss version="2.0"><channel><title>T</title><link>https://t.example.com/</link>'
        "<item><title>Orphan</title><description>no link, no guid</description></item>"
        "</channel></rss>"
    )
    [bad] = list(connector(path).items())
    assert isinstance(bad, Rejected) and bad.entity == "blog_posts"
    assert "no post id" in bad.reason


def test_missing_location(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="feed: file or folder not found"):
        connector(tmp_path / "missing.xml")
    with pytest.raises(FileNotFoundError, match=r"feed: no input files \(\*\.xml"):
        connector(tmp_path)


# --------------------------------------------------------------------------- folders and keys


def test_folder_of_feeds_and_interval_key(tmp_path: Path) -> None:
    for name in ("posts.rss.xml", "comments-on-post.rss.xml", "atom.xml"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    c = connector(tmp_path)
    items = list(c.items())
    assert len(rows(items, "blog_posts")) == 3 + 2
    assert len(rows(items, "blog_comments")) == 2
    key = c.interval_key()
    assert key == connector(tmp_path).interval_key()
    assert key != connector(tmp_path, since="2026-01-01").interval_key()
    atom = tmp_path / "atom.xml"
    atom.write_text(atom.read_text().replace("More soon.", "More later."))
    assert connector(tmp_path).interval_key() != key


# --------------------------------------------------------------------------- over HTTP

MAIN_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:wfw="http://wellformedweb.org/CommentAPI/"
     xmlns:slash="http://purl.org/rss/1.0/modules/slash/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Local Blog</title>
  <link>{base}/</link>
  <item>
    <title>First</title><link>{base}/first/</link><guid isPermaLink="false">{base}/?p=1</guid>
    <pubDate>Mon, 05 Jan 2026 10:00:00 +0000</pubDate>
    <wfw:commentRss>{base}/first/feed/</wfw:commentRss><slash:comments>2</slash:comments>
  </item>
  <item>
    <title>Second</title><link>{base}/second/</link><guid isPermaLink="false">{base}/?p=2</guid>
    <pubDate>Tue, 06 Jan 2026 10:00:00 +0000</pubDate>
    <wfw:commentRss>{base}/second/feed/</wfw:commentRss><slash:comments>1</slash:comments>
  </item>
  <item>
    <title>Quiet</title><link>{base}/quiet/</link><guid isPermaLink="false">{base}/?p=3</guid>
    <pubDate>Wed, 07 Jan 2026 10:00:00 +0000</pubDate>
    <wfw:commentRss>{base}/quiet/feed/</wfw:commentRss><slash:comments>0</slash:comments>
  </item>
  <item>
    <title>Elsewhere</title><link>{base}/elsewhere/</link><guid isPermaLink="false">{base}/?p=4</guid>
    <pubDate>Thu, 08 Jan 2026 10:00:00 +0000</pubDate>
    <wfw:commentRss>http://intranet.example.invalid/feed/</wfw:commentRss><slash:comments>3</slash:comments>
  </item>
</channel>
</rss>
"""
FIRST_COMMENTS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
  <title>Comments on: First</title><link>{base}/first/</link>
  <item><title>By: Ana</title><link>{base}/first/#comment-11</link><dc:creator>Ana</dc:creator>
    <pubDate>Mon, 05 Jan 2026 12:00:00 +0000</pubDate><guid isPermaLink="false">{base}/?p=1#comment-11</guid>
    <description>Nice</description></item>
  <item><title>By: Ben</title><link>{base}/first/#comment-12</link><dc:creator>Ben</dc:creator>
    <pubDate>Mon, 05 Jan 2026 13:00:00 +0000</pubDate><guid isPermaLink="false">{base}/?p=1#comment-12</guid>
    <description>Agreed</description></item>
</channel></rss>
"""


def _serve_blog(httpserver: HTTPServer) -> str:
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/feed/").respond_with_data(
        MAIN_FEED.format(base=base), content_type="application/rss+xml; charset=UTF-8"
    )
    httpserver.expect_request("/first/feed/").respond_with_data(
        FIRST_COMMENTS.format(base=base), content_type="application/rss+xml; charset=UTF-8"
    )
    httpserver.expect_request("/second/feed/").respond_with_data("gone", status=404)
    httpserver.expect_request("/quiet/feed/").respond_with_data("unexpected", status=500)
    return base


def _paths(httpserver: HTTPServer) -> list[str]:
    return [request.path for request, _ in httpserver.log]


def test_feed_url_follows_comment_feeds(httpserver: HTTPServer) -> None:
    base = _serve_blog(httpserver)
    c = connector(f"{base}/feed/", max_retries=0)
    key = c.interval_key()
    items = list(c.items())
    assert [p["title"] for p in rows(items, "blog_posts")] == [
        "First",
        "Second",
        "Quiet",
        "Elsewhere",
    ]
    comments = rows(items, "blog_comments")
    assert [(x["comment_id"], x["post_id"], x["post_url"], x["author_name"]) for x in comments] == [
        (f"{base}/?p=1#comment-11", f"{base}/?p=1", f"{base}/first/", "Ana"),
        (f"{base}/?p=1#comment-12", f"{base}/?p=1", f"{base}/first/", "Ben"),
    ]
    [missing] = rejected(items)
    assert missing.entity == "blog_comments"
    assert missing.native_id == f"{base}/second/feed/"
    assert "404" in missing.reason
    # the main feed is fetched once (interval_key and items share it); a post with
    # slash:comments 0 is not followed, nor a comment feed on another host
    assert _paths(httpserver) == ["/feed/", "/first/feed/", "/second/feed/"]
    assert any("another host" in w for w in c.warnings)
    assert key == connector(f"{base}/feed/").interval_key()


def test_follow_comments_off(httpserver: HTTPServer) -> None:
    base = _serve_blog(httpserver)
    items = list(connector(f"{base}/feed/", follow_comments=False).items())
    assert len(rows(items, "blog_posts")) == 4
    assert rows(items, "blog_comments") == []
    assert _paths(httpserver) == ["/feed/"]


def test_http_charset_is_used_when_the_declaration_is_silent(httpserver: HTTPServer) -> None:
    body = FEED_TEXT.split("\n", 1)[1].encode("cp1252")
    httpserver.expect_request("/latin.xml").respond_with_data(
        b'<?xml version="1.0"?>\n' + body, content_type="text/xml; charset=windows-1252"
    )
    [post] = rows(list(connector(httpserver.url_for("/latin.xml")).items()), "blog_posts")
    assert post["title"] == "Naïve “quotes” — €5"


def test_feed_url_server_error_is_a_clear_exception(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed/").respond_with_data("down", status=503)
    c = connector(httpserver.url_for("/feed/"), max_retries=1, backoff=0.01)
    with pytest.raises(HttpError, match="gave up after 2 attempts"):
        list(c.items())
    assert _paths(httpserver) == ["/feed/", "/feed/"]


def test_unsafe_feed_over_http_is_refused(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed/").respond_with_data(
        (FIXTURES / "billion-laughs.rss.xml").read_bytes(), content_type="application/rss+xml"
    )
    with pytest.raises(UnsafeXMLError):
        list(connector(httpserver.url_for("/feed/")).items())


# --------------------------------------------------------------------------- the bundled samples


def test_bundled_community_feeds() -> None:
    c = connector(SAMPLES / "community", follow_comments=False)
    items = list(c.items())
    assert rejected(items) == []
    assert c.warnings == []
    posts = rows(items, "blog_posts")
    comments = rows(items, "blog_comments")
    assert len(posts) == 10
    assert len(comments) == 30
    assert {p["site_url"] for p in posts} == {"https://community.lumen.example.org"}
    # the comment feed's guids point at the post feed's guids
    post_ids = {p["post_id"] for p in posts}
    assert {x["post_id"] for x in comments} == post_ids
    assert sum(p["comment_count"] for p in posts) == 30
    assert all(x["published_at"] is not None for x in comments)


def test_bundled_releases_atom() -> None:
    posts = rows(list(connector(SAMPLES / "lumen-releases.atom.xml").items()), "blog_posts")
    assert [p["title"] for p in posts] == [
        "Lumen 1.0.1",
        "Lumen 1.0.0",
        "Lumen 0.9.0",
        "Lumen 0.8.0",
        "Lumen 0.7.0",
        "Lumen 0.6.0",
        "Lumen 0.5.0",
        "Lumen 0.4.0",
    ]
    assert all(p["categories"] == ["release"] for p in posts)
    assert json.dumps([p["published_at"].isoformat() for p in posts]) == json.dumps(
        sorted((p["published_at"].isoformat() for p in posts), reverse=True)
    )
