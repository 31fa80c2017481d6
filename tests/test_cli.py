"""The `townsquare` command as scripts call it: a real subprocess, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

TOWNSQUARE = [sys.executable, "-m", "townsquare.cli"]

WXR = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:wfw="http://wellformedweb.org/CommentAPI/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>Tiny</title>
  <link>https://tiny.example.org</link>
  <wp:wxr_version>1.2</wp:wxr_version>
  <wp:base_site_url>https://tiny.example.org</wp:base_site_url>
  <item>
    <title>Hello</title>
    <link>https://tiny.example.org/hello/</link>
    <dc:creator><![CDATA[admin]]></dc:creator>
    <content:encoded><![CDATA[<p>Hi &amp; welcome</p>]]></content:encoded>
    <wp:post_id>7</wp:post_id>
    <wp:post_date_gmt>2026-01-05 10:00:00</wp:post_date_gmt>
    <wp:post_name>hello</wp:post_name>
    <wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type>
    <wp:comment>
      <wp:comment_id>1</wp:comment_id>
      <wp:comment_author><![CDATA[Ana]]></wp:comment_author>
      <wp:comment_author_email>ana@corp.example.com</wp:comment_author_email>
      <wp:comment_author_IP>203.0.113.9</wp:comment_author_IP>
      <wp:comment_date_gmt>2026-01-06 11:00:00</wp:comment_date_gmt>
      <wp:comment_content><![CDATA[Nice]]></wp:comment_content>
      <wp:comment_approved>1</wp:comment_approved>
      <wp:comment_parent>0</wp:comment_parent>
    </wp:comment>
    <wp:comment>
      <wp:comment_id>2</wp:comment_id>
      <wp:comment_author><![CDATA[Other Blog]]></wp:comment_author>
      <wp:comment_author_url>https://other.example.net/linking-post/</wp:comment_author_url>
      <wp:comment_date_gmt>2026-01-07 12:00:00</wp:comment_date_gmt>
      <wp:comment_content><![CDATA[<strong>Linking post</strong> we wrote about hello]]></wp:comment_content>
      <wp:comment_approved>1</wp:comment_approved>
      <wp:comment_type>pingback</wp:comment_type>
      <wp:comment_parent>0</wp:comment_parent>
    </wp:comment>
    <wp:comment>
      <wp:comment_id>3</wp:comment_id>
      <wp:comment_author><![CDATA[No Date]]></wp:comment_author>
      <wp:comment_content><![CDATA[lost in time]]></wp:comment_content>
      <wp:comment_approved>1</wp:comment_approved>
    </wp:comment>
  </item>
</channel>
</rss>
"""


def cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("TOWNSQUARE_LAKE", None)
    return subprocess.run(
        [*TOWNSQUARE, *args], cwd=cwd, capture_output=True, text=True, env=full_env, timeout=300
    )


@pytest.fixture
def wxr(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.xml"
    path.write_text(WXR)
    return path


def test_ingest_json_contract_and_idempotent_rerun(tmp_path: Path, wxr: Path) -> None:
    lake = tmp_path / "lake"
    proc = cli(
        "ingest",
        "wxr",
        str(wxr),
        "--name",
        "tiny",
        "--lake",
        str(lake),
        "--threshold",
        "0.5",
        "--json",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["source"] == "tiny"
    assert out["type"] == "wxr"
    assert out["entities"] == {
        "blog_posts": {"rows": 1, "quarantined": 0},
        "blog_comments": {"rows": 2, "quarantined": 1},  # comment 3 has no date
        "trackbacks": {"rows": 1, "quarantined": 0},
    }
    assert out["run_id"].startswith("tiny-")
    assert len(out["files"]) == 3 and all(Path(f).exists() for f in out["files"])
    assert "landing wxr" in proc.stderr  # progress goes to stderr, JSON alone on stdout

    again = cli(
        "ingest",
        "wxr",
        str(wxr),
        "--name",
        "tiny",
        "--lake",
        str(lake),
        "--threshold",
        "0.5",
        "--json",
        cwd=tmp_path,
    )
    assert json.loads(again.stdout)["run_id"] == out["run_id"]
    rows = duckdb.execute(
        f"select count(*) from read_parquet('{lake}/raw/blog_comments/*/*/*.parquet')"
    ).fetchall()[0][0]
    assert rows == 2
    all_text = b"".join(p.read_bytes() for p in lake.rglob("*") if p.is_file())
    assert b"203.0.113.9" not in all_text


def test_ingest_over_threshold_fails_with_one_line(tmp_path: Path, wxr: Path) -> None:
    lake = tmp_path / "lake"
    proc = cli("ingest", "wxr", str(wxr), "--name", "tiny", "--lake", str(lake), cwd=tmp_path)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last == (
        "townsquare: error: blog_comments: 1 of 3 rows (33.3%) failed row-level checks, "
        "over the 5.0% threshold; nothing landed, bad rows are in quarantine"
    )
    assert not list((lake / "raw").rglob("*.parquet")) if (lake / "raw").exists() else True
    assert list((lake / "quarantine").rglob("*.parquet"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["ingest", "wxr", "x.xml", "--name", "a"],
            "townsquare: error: x.xml: no such file or folder",
        ),
        (
            ["ingest", "github", "acme/app", "acme/lib", "--name", "a"],
            "townsquare: error: github takes one LOCATION, got 2",
        ),
        (["ingest", "wxr", "{wxr}", "--name", "Bad Name"], "ingest: name: expected a slug"),
        (
            ["ingest", "gopher", "{wxr}", "--name", "a"],
            "ingest: type: expected one of crm, discourse, feed, gharchive, git, github, mbox, "
            "pipermail, wordpress, wxr (got 'gopher')",
        ),
        (
            ["ingest", "wxr", "{wxr}", "--name", "a", "--since", "last tuesday"],
            "townsquare: error: --since: not an ISO 8601 date or time: 'last tuesday'",
        ),
        (
            ["build", "--config", "missing.yml"],
            "townsquare: error: missing.yml: config file not found",
        ),
    ],
)
def test_errors_are_one_line_and_nonzero(
    tmp_path: Path, wxr: Path, args: list[str], message: str
) -> None:
    proc = cli(*[a.replace("{wxr}", str(wxr)) for a in args], cwd=tmp_path)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert message in lines[0]


def test_unsafe_xml_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<rss><channel><title>&b;</title>'
        "</channel></rss>"
    )
    proc = cli(
        "ingest", "wxr", str(bomb), "--name", "bomb", "--lake", str(tmp_path / "lake"), cwd=tmp_path
    )
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("townsquare: error:")
    assert "entity declarations and external entities are not accepted" in last
    assert not (tmp_path / "lake" / "raw").exists() or not list(
        (tmp_path / "lake" / "raw").rglob("*.parquet")
    )
