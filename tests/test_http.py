"""HttpClient against a real local HTTP server: retries, Retry-After, backoff, errors, masking."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from email.utils import formatdate

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from townsquare.http import HttpClient, HttpError, parse_retry_after, redact_url


class Sleeps(list[float]):
    """Stands in for time.sleep: records each requested wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    """A server that answers requests concurrently (a slow handler does not block the next)."""
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def _slow(seconds: float) -> object:
    def handler(request: Request) -> Response:
        time.sleep(seconds)
        return Response('{"late": true}', content_type="application/json")

    return handler


def test_get_joins_base_url_sends_user_agent_and_params(
    httpserver: HTTPServer, sleeps: Sleeps
) -> None:
    httpserver.expect_request(
        "/blog/wp-json/wp/v2/posts",
        query_string={"page": "2", "per_page": "100"},
        headers={"User-Agent": "townsquare/0.1.0"},
    ).respond_with_json([{"id": 1}])
    client = HttpClient(httpserver.url_for("/blog/"), sleep=sleeps)

    response = client.get("/wp-json/wp/v2/posts", params={"page": 2, "per_page": 100})

    assert response.json() == [{"id": 1}]
    assert sleeps == []
    assert len(httpserver.log) == 1


def test_429_waits_for_retry_after_seconds_then_succeeds(
    httpserver: HTTPServer, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_oneshot_request("/limited").respond_with_data(
        "Too Many Requests", status=429, headers={"Retry-After": "2"}
    )
    httpserver.expect_request("/limited").respond_with_json({"ok": True})
    client = HttpClient(sleep=sleeps)

    with caplog.at_level(logging.WARNING, logger="townsquare.http"):
        response = client.get(httpserver.url_for("/limited"))

    assert response.json() == {"ok": True}
    assert sleeps == [2.0]
    assert len(httpserver.log) == 2
    [record] = [r for r in caplog.records if r.name == "townsquare.http"]
    assert record.levelno == logging.WARNING
    assert "last status 429" not in record.getMessage()
    assert "status 429; retrying in 2.00s (attempt 2 of 6)" in record.getMessage()


def test_503_retry_after_http_date_is_honoured(httpserver: HTTPServer, sleeps: Sleeps) -> None:
    retry_at = formatdate(time.time() + 30, usegmt=True)
    httpserver.expect_oneshot_request("/busy").respond_with_data(
        "Service Unavailable", status=503, headers={"Retry-After": retry_at}
    )
    httpserver.expect_request("/busy").respond_with_data("fine")

    response = HttpClient(sleep=sleeps).get(httpserver.url_for("/busy"))

    assert response.text == "fine"
    assert len(sleeps) == 1
    # HTTP-dates have whole seconds, so the wait is 29-30 s (minus test run time).
    assert 27.0 <= sleeps[0] <= 30.0


def test_retry_after_beyond_max_backoff_is_capped_with_a_warning(
    httpserver: HTTPServer, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_oneshot_request("/limited").respond_with_data(
        "", status=429, headers={"Retry-After": "3600"}
    )
    httpserver.expect_request("/limited").respond_with_data("ok")

    with caplog.at_level(logging.WARNING, logger="townsquare.http"):
        HttpClient(max_backoff=5, sleep=sleeps).get(httpserver.url_for("/limited"))

    assert sleeps == [5.0]
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        "Retry-After: 3600" in m and "waiting max_backoff=5s instead" in m for m in messages
    ), messages


def test_500_is_retried_with_backoff_then_succeeds(
    httpserver: HTTPServer, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_oneshot_request("/flaky").respond_with_data("oops", status=500)
    httpserver.expect_request("/flaky").respond_with_json([1, 2])

    with caplog.at_level(logging.WARNING, logger="townsquare.http"):
        response = HttpClient(backoff=1.0, sleep=sleeps).get(httpserver.url_for("/flaky"))

    assert response.json() == [1, 2]
    assert len(sleeps) == 1
    assert 0.5 <= sleeps[0] <= 1.0  # first backoff: 1 s with jitter (half to all of it)
    assert any("status 500; retrying in" in r.getMessage() for r in caplog.records)


def test_persistent_500_gives_up_after_max_retries(httpserver: HTTPServer, sleeps: Sleeps) -> None:
    httpserver.expect_request("/down").respond_with_data("Internal Server Error", status=500)
    url = httpserver.url_for("/down")

    with pytest.raises(HttpError) as info:
        HttpClient(max_retries=2, backoff=1.0, sleep=sleeps).get(url)

    err = info.value
    assert str(err).startswith(f"gave up after 3 attempts: last status 500 from {url}; ")
    assert "try again later" in str(err)
    assert "\n" not in str(err)
    assert err.status == 500
    assert err.url == url
    assert len(httpserver.log) == 3
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0
    assert 1.0 <= sleeps[1] <= 2.0  # exponential: doubles each retry


def test_backoff_never_exceeds_max_backoff(httpserver: HTTPServer, sleeps: Sleeps) -> None:
    httpserver.expect_request("/down").respond_with_data("", status=502)

    with pytest.raises(HttpError):
        HttpClient(max_retries=3, backoff=10, max_backoff=4, sleep=sleeps).get(
            httpserver.url_for("/down")
        )

    assert len(sleeps) == 3
    assert all(2.0 <= s <= 4.0 for s in sleeps), sleeps


def test_timeout_is_retried_then_succeeds(threaded_server: HTTPServer, sleeps: Sleeps) -> None:
    threaded_server.expect_oneshot_request("/slow").respond_with_handler(_slow(0.4))
    threaded_server.expect_request("/slow").respond_with_json({"fast": True})

    response = HttpClient(timeout=0.1, sleep=sleeps).get(threaded_server.url_for("/slow"))

    assert response.json() == {"fast": True}
    assert len(sleeps) == 1


def test_persistent_timeout_gives_up_with_clear_error(
    threaded_server: HTTPServer, sleeps: Sleeps
) -> None:
    threaded_server.expect_request("/slow").respond_with_handler(_slow(0.4))
    url = threaded_server.url_for("/slow")

    started = time.monotonic()
    with pytest.raises(HttpError) as info:
        HttpClient(timeout=0.1, max_retries=1, sleep=sleeps).get(url)

    assert str(info.value).startswith(
        f"gave up after 2 attempts: last error ReadTimeout (no answer within the timeout) from {url}"
    )
    assert info.value.status is None
    assert len(sleeps) == 1
    assert time.monotonic() - started < 0.4  # the client's timeout, not the server's delay


def test_connection_refused_is_retried_then_gives_up(sleeps: Sleeps) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/nothing-listens-here"

    with pytest.raises(HttpError) as info:
        HttpClient(max_retries=2, sleep=sleeps).get(url)

    assert str(info.value).startswith(
        f"gave up after 3 attempts: last error ConnectionError (could not connect or the "
        f"connection broke) from {url}"
    )
    assert len(sleeps) == 2


def test_401_fails_at_once_and_hints_at_credentials(httpserver: HTTPServer, sleeps: Sleeps) -> None:
    httpserver.expect_request("/private").respond_with_json(
        {
            "code": "incorrect_password",
            "message": "The provided password is an invalid application password.",
        },
        status=401,
    )
    url = httpserver.url_for("/private")

    with pytest.raises(HttpError) as info:
        HttpClient(auth=("editor", "s3cret pass"), sleep=sleeps).get(url)

    message = str(info.value)
    assert message.startswith(
        f"HTTP 401 UNAUTHORIZED from {url}: access denied: check the credentials"
    )
    assert "incorrect_password" in message
    assert "s3cret" not in message
    assert info.value.status == 401
    assert sleeps == []
    assert len(httpserver.log) == 1


def test_404_fails_at_once_and_hints_at_the_location(
    httpserver: HTTPServer, sleeps: Sleeps
) -> None:
    httpserver.expect_request("/missing").respond_with_data("no", status=404)

    with pytest.raises(HttpError) as info:
        HttpClient(sleep=sleeps).get(httpserver.url_for("/missing"))

    assert "HTTP 404 NOT FOUND" in str(info.value)
    assert "check the source location (URL)" in str(info.value)
    assert sleeps == []


def test_credentials_are_sent_but_never_logged(
    httpserver: HTTPServer, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_request(
        "/api", headers={"Authorization": "Bearer tok-123-secret"}
    ).respond_with_data("", status=503)
    client = HttpClient(
        headers={"Authorization": "Bearer tok-123-secret"}, max_retries=1, sleep=sleeps
    )

    with caplog.at_level(logging.DEBUG, logger="townsquare.http"), pytest.raises(HttpError) as info:
        client.get(httpserver.url_for("/api"), params={"access_token": "qs-456-secret", "q": "x"})

    assert len(httpserver.log) == 2  # the header reached the server (the matcher required it)
    # Our own records (the test server and urllib3 log request lines themselves).
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("townsquare"))
    assert "'Authorization': '***'" in logged
    assert "access_token=***" in logged
    for text in (logged, str(info.value)):
        assert "tok-123" not in text
        assert "qs-456" not in text


def test_relative_url_without_base_url_is_a_clear_error() -> None:
    with pytest.raises(HttpError, match="needs a base_url"):
        HttpClient().get("/wp-json/wp/v2/posts")


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None
    assert parse_retry_after(None) is None


def test_redact_url_masks_user_info_and_secret_parameters() -> None:
    assert (
        redact_url("https://bob:pw@example.org/x?token=abc&page=2")
        == "https://***@example.org/x?token=***&page=2"
    )
    assert redact_url("https://example.org/x?page=2") == "https://example.org/x?page=2"
