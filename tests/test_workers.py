"""townsquare.workers: ordered results from worker processes, options, failures."""

from __future__ import annotations

import gc
import os
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from townsquare.config import SourceConfig
from townsquare.pipeline import GC_THRESHOLD, fewer_gc_passes, ingest_source
from townsquare.workers import OrderedPool, auto_workers, parse_workers


def slow_square(batch: list[int]) -> list[tuple[int, int]]:
    # later batches finish first: the pool must still return them in input order
    time.sleep(0.02 * (5 - batch[0] % 5))
    return [(n, n * n) for n in batch] + [(-1, os.getpid())]


def fail_on_three(batch: list[int]) -> list[int]:
    if 3 in batch:
        raise ValueError("batch with 3")
    return batch


def test_results_come_back_in_input_order_from_several_processes() -> None:
    batches = [[n, n + 100] for n in range(12)]
    with OrderedPool(3, in_flight=5) as pool:
        results = list(pool.map(slow_square, iter(batches)))
    assert [r[:-1] for r in results] == [[(n, n * n), (n + 100, (n + 100) ** 2)] for n in range(12)]
    pids = {r[-1][1] for r in results}
    assert os.getpid() not in pids and len(pids) >= 2


def test_a_failing_batch_raises_in_the_caller() -> None:
    with OrderedPool(2) as pool, pytest.raises(ValueError, match="batch with 3"):
        list(pool.map(fail_on_three, ([n] for n in range(6))))


def test_stopping_early_cancels_the_rest() -> None:
    with OrderedPool(1, in_flight=2) as pool:
        results = pool.map(slow_square, ([n] for n in range(50)))
        assert next(results)[0] == (0, 0)
        results.close()  # the consumer gave up: queued batches are cancelled
    assert pool._pool is None


def test_workers_option() -> None:
    assert parse_workers(None, "workers") == auto_workers()
    assert parse_workers("auto", "workers") == auto_workers()
    assert parse_workers("0", "workers") == 0
    assert parse_workers(3, "workers") == 3
    for bad in ("-1", "65", "two", 1.5):
        with pytest.raises(ValueError, match="option workers: expected 'auto' or a number"):
            parse_workers(bad, "workers")
    cpus = os.cpu_count() or 1
    assert auto_workers() == (0 if cpus < 2 else min(4, cpus))


def test_fewer_gc_passes_is_scoped() -> None:
    before = gc.get_threshold()
    with fewer_gc_passes(12345):
        assert gc.get_threshold() == (12345, before[1], before[2])
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), fewer_gc_passes(777):
        raise RuntimeError
    assert gc.get_threshold() == before


FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:wfw="http://wellformedweb.org/CommentAPI/"
     xmlns:slash="http://purl.org/rss/1.0/modules/slash/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Blog</title><link>{base}/</link>
  <item><title>First</title><link>{base}/first/</link><guid isPermaLink="false">{base}/?p=1</guid>
    <pubDate>Mon, 05 Jan 2026 10:00:00 +0000</pubDate>
    <wfw:commentRss>{base}/first/feed/</wfw:commentRss><slash:comments>1</slash:comments></item>
</channel></rss>
"""
COMMENTS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
  <title>Comments on: First</title><link>{base}/first/</link>
  <item><title>By: Ana</title><link>{base}/first/#comment-11</link><dc:creator>Ana</dc:creator>
    <pubDate>Mon, 05 Jan 2026 12:00:00 +0000</pubDate><guid isPermaLink="false">{base}/?p=1#comment-11</guid>
    <description>Nice</description></item>
</channel></rss>
"""


def test_a_landing_run_collects_garbage_less_often_while_it_runs(
    httpserver: HTTPServer, tmp_path
) -> None:
    """ingest_source runs the connector's items() under fewer_gc_passes: the feed server (a
    thread of this process) sees the raised threshold when the connector fetches the comment
    feed (the main feed is read before, for the run id), and the old one after the run."""
    seen: dict[str, int] = {}
    base = httpserver.url_for("").rstrip("/")

    def serve(text: str):
        def handler(request: Request) -> Response:
            seen[request.path] = gc.get_threshold()[0]
            return Response(text.format(base=base), content_type="application/rss+xml")

        return handler

    httpserver.expect_request("/feed/").respond_with_handler(serve(FEED))
    httpserver.expect_request("/first/feed/").respond_with_handler(serve(COMMENTS))
    before = gc.get_threshold()
    assert before[0] != GC_THRESHOLD
    source = SourceConfig(type="feed", name="blog", location=f"{base}/feed/")
    result = ingest_source(source, lake=str(tmp_path / "lake"), credentials={})
    assert result.rows == 2  # the post and its comment
    assert seen == {"/feed/": before[0], "/first/feed/": GC_THRESHOLD}
    assert gc.get_threshold() == before
