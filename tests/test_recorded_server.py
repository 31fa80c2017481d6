"""RecordedServer's paged listings: GitHub-style pages with Link headers, over real HTTP."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import requests

from townsquare.samples.forum.recorded_server import RecordedServer, recorded_name

LISTING = "/repos/o/r/issues"
QUERY = "state=all&per_page=100"


def _write_lines(path: Path, records: list[dict]) -> None:
    """A JSON array, one record a line (as townsquare synth writes its listings)."""
    lines = ",\n".join(json.dumps(r, separators=(",", ":")) for r in records)
    path.write_text("[\n" + lines + "\n]\n" if records else "[]\n", encoding="utf-8")


def _follow(url: str) -> tuple[list[list[dict]], list[str]]:
    """Every page of a listing, following Link rel="next"; the page bodies and URLs."""
    pages, urls = [], []
    while url:
        response = requests.get(url, timeout=10)
        assert response.status_code == 200
        pages.append(response.json())
        urls.append(url)
        url = response.links.get("next", {}).get("url", "")
    return pages, urls


def test_a_listing_is_served_in_pages_with_link_headers(tmp_path: Path) -> None:
    records = [{"number": n, "title": f"issue, {n}\n[x]"} for n in range(1, 251)]
    _write_lines(tmp_path / recorded_name(LISTING, QUERY), records)
    with RecordedServer(tmp_path, page_size=100) as url:
        pages, urls = _follow(f"{url}{LISTING}?{QUERY}")
    assert [len(p) for p in pages] == [100, 100, 50]
    assert [r for p in pages for r in p] == records
    assert urls[1].endswith("state=all&per_page=100&page=2")
    assert urls[2].endswith("page=3")


def test_pages_are_no_larger_than_the_page_size(tmp_path: Path) -> None:
    records = [{"id": n} for n in range(30)]
    _write_lines(tmp_path / recorded_name(LISTING, QUERY), records)
    with RecordedServer(tmp_path, page_size=7) as url:
        pages, _ = _follow(f"{url}{LISTING}?{QUERY}")
        beyond = requests.get(f"{url}{LISTING}?{QUERY}&page=9", timeout=10)
    assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
    assert [r for p in pages for r in p] == records
    assert beyond.json() == [] and "Link" not in beyond.headers


def test_a_query_with_since_finds_its_recording(tmp_path: Path) -> None:
    query = "since=2024-01-02T03:04:05Z&per_page=100"
    _write_lines(tmp_path / recorded_name(LISTING, query), [{"id": 1}, {"id": 2}])
    with RecordedServer(tmp_path, page_size=1) as url:
        pages, _ = _follow(f"{url}{LISTING}?{query}")
    assert pages == [[{"id": 1}], [{"id": 2}]]


def test_empty_and_single_line_recordings_are_served_whole(tmp_path: Path) -> None:
    _write_lines(tmp_path / recorded_name(LISTING, QUERY), [])
    compact = [{"id": n} for n in range(5)]
    (tmp_path / recorded_name("/repos/o/r/pulls", QUERY)).write_text(json.dumps(compact))
    with RecordedServer(tmp_path, page_size=2) as url:
        empty = requests.get(f"{url}{LISTING}?{QUERY}", timeout=10)
        whole = requests.get(f"{url}/repos/o/r/pulls?{QUERY}", timeout=10)
        missing = requests.get(f"{url}/repos/o/r/stargazers?per_page=100", timeout=10)
    assert empty.json() == [] and "Link" not in empty.headers
    assert whole.json() == compact and "Link" not in whole.headers
    assert missing.status_code == 404


def test_a_rewritten_recording_is_indexed_again(tmp_path: Path) -> None:
    path = tmp_path / recorded_name(LISTING, QUERY)
    _write_lines(path, [{"id": n} for n in range(3)])
    with RecordedServer(tmp_path, page_size=2) as url:
        before, _ = _follow(f"{url}{LISTING}?{QUERY}")
        _write_lines(path, [{"id": n, "v": 2} for n in range(5)])
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        after, _ = _follow(f"{url}{LISTING}?{QUERY}")
    assert [r["id"] for p in before for r in p] == [0, 1, 2]
    assert [r for p in after for r in p] == [{"id": n, "v": 2} for n in range(5)]


def test_unpaged_server_answers_only_recorded_queries(tmp_path: Path) -> None:
    records = [{"id": n} for n in range(150)]
    _write_lines(tmp_path / recorded_name(LISTING, QUERY), records)
    with RecordedServer(tmp_path) as url:
        whole = requests.get(f"{url}{LISTING}?{QUERY}", timeout=10)
        second = requests.get(f"{url}{LISTING}?{QUERY}&page=2", timeout=10)
    assert whole.json() == records and "Link" not in whole.headers
    assert second.status_code == 404


def test_page_size_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="page_size must be at least 1"):
        RecordedServer(tmp_path, page_size=0)
