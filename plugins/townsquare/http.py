"""The HTTP client every HTTP connector uses: retries, backoff, Retry-After, clear errors.

``HttpClient.get`` returns the response for any status below 400. It retries
connection errors, timeouts, 5xx and 429 with exponential backoff plus jitter,
honours ``Retry-After`` on 429 and 503 (capped at ``max_backoff``) and gives up
after ``max_retries`` retries with an ``HttpError`` saying what happened. Other
4xx statuses raise ``HttpError`` at once. Credentials never reach the logs:
headers are logged with ``Authorization`` (and other secret headers) masked,
and URLs with user info or secret query parameters are masked too.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from townsquare import __version__

log = logging.getLogger("townsquare.http")

USER_AGENT = f"townsquare/{__version__}"
MASK = "***"

_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "api-key", "api-username", "x-api-key"}
)
_SECRET_PARAMS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "client_secret",
        "key",
        "password",
        "secret",
        "sig",
        "signature",
        "token",
    }
)
# Failures worth another attempt: the network, the server timing out or dropping the body.
_TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
_jitter = random.Random()


class HttpError(RuntimeError):
    """An HTTP request failed for good. ``str(err)`` is one line: what happened, what to do.

    ``status`` is the last HTTP status (None when no response came back), ``url``
    the request URL with credentials masked, ``response`` the last response if any.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        url: str | None = None,
        response: requests.Response | None = None,
    ) -> None:
        super().__init__(" ".join(message.split()))
        self.status = status
        self.url = url
        self.response = response


class HttpClient:
    """A ``requests.Session`` with retries, backoff and clear errors.

    ``max_retries`` counts retries after the first attempt (so at most
    ``max_retries + 1`` requests). Backoff before retry *n* is
    ``backoff * 2**(n-1)`` capped at ``max_backoff``, with jitter (between half
    and all of it). ``sleep`` is injectable so tests can record the waits.
    Relative URLs are appended to ``base_url`` (keeping its path).
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float = 30,
        max_retries: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60,
        headers: dict | None = None,
        auth: Any = None,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        if headers:
            self.session.headers.update(headers)
        self.session.auth = auth

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def url_for(self, url: str) -> str:
        """``url`` if absolute, else ``base_url`` + ``url``."""
        if urlsplit(url).scheme in ("http", "https"):
            return url
        if not self.base_url:
            raise HttpError(f"relative URL {url!r} needs a base_url; pass an absolute http(s) URL")
        return f"{self.base_url}/{url.lstrip('/')}"

    def get(self, url: str, params: Any = None, headers: Any = None) -> requests.Response:
        """GET ``url``; retry transient failures; raise ``HttpError`` when it cannot succeed."""
        target = self.url_for(url)
        shown = redact_url(_with_params(target, params))
        attempts = self.max_retries + 1
        last = "no attempt made"
        status: int | None = None
        response: requests.Response | None = None
        for attempt in range(1, attempts + 1):
            if log.isEnabledFor(logging.DEBUG):
                sent = {**self.session.headers, **(headers or {})}
                log.debug("GET %s headers=%s", shown, redact_headers(sent))
            try:
                response = self.session.get(
                    target, params=params, headers=headers, timeout=self.timeout
                )
            except requests.exceptions.SSLError as exc:
                raise HttpError(
                    f"TLS error from {shown}: {_describe(exc)}; check the URL and the server certificate",
                    url=shown,
                ) from exc
            except _TRANSIENT as exc:
                status, response = None, None
                last = f"last error {_describe(exc)}"
                delay = self._backoff_delay(attempt)
            except requests.RequestException as exc:
                raise HttpError(
                    f"GET {shown} failed: {_describe(exc)}; check the URL", url=shown
                ) from exc
            else:
                status = response.status_code
                if status < 400:
                    return response
                if status != 429 and status < 500:
                    raise HttpError(
                        _client_error_message(response, shown),
                        status=status,
                        url=shown,
                        response=response,
                    )
                last = f"last status {status}"
                delay = None
                if status in (429, 503):
                    delay = self._retry_after(response.headers.get("Retry-After"), shown)
                if delay is None:
                    delay = self._backoff_delay(attempt)
                response.close()
            if attempt == attempts:
                break
            log.warning(
                "GET %s: %s; retrying in %.2fs (attempt %d of %d)",
                shown,
                last.removeprefix("last "),
                delay,
                attempt + 1,
                attempts,
            )
            self._sleep(delay)
        hint = (
            "the server is rate-limiting; lower the request rate or try again later"
            if status == 429
            else "the server may be down or overloaded; try again later or raise max_retries"
        )
        raise HttpError(
            f"gave up after {attempts} attempts: {last} from {shown}; {hint}",
            status=status,
            url=shown,
            response=response,
        )

    def _backoff_delay(self, attempt: int) -> float:
        base = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return base / 2 + _jitter.uniform(0, base / 2)

    def _retry_after(self, value: str | None, shown: str) -> float | None:
        delay = parse_retry_after(value)
        if delay is not None and delay > self.max_backoff:
            log.warning(
                "GET %s: server asked to wait %.0fs (Retry-After: %s); waiting max_backoff=%ss instead",
                shown,
                delay,
                value,
                self.max_backoff,
            )
            delay = float(self.max_backoff)
        return delay


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def json_body(response: requests.Response, expected: type, hint: str) -> Any:
    """The response's JSON body when it is a ``list`` or ``dict`` as ``expected``; else an
    ``HttpError`` naming the URL, the content type that came instead and ``hint`` (what
    the location should be)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, expected):
        kind = response.headers.get("Content-Type", "unknown content type")
        url = redact_url(response.url)
        shape = "a JSON list" if expected is list else "a JSON object"
        raise HttpError(
            f"{url} did not return {shape} ({kind}): {hint}",
            status=response.status_code,
            url=url,
            response=response,
        )
    return body


def redact_url(url: str) -> str:
    """``url`` with user info and secret query parameters replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in _SECRET_PARAMS for k, _ in pairs):
            query = urlencode(
                [(k, MASK if k.lower() in _SECRET_PARAMS else v) for k, v in pairs], safe="*"
            )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_headers(headers: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``headers`` safe to log: credentials replaced by ``***``."""
    return {k: (MASK if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()}


def _with_params(url: str, params: Any) -> str:
    if not params:
        return url
    prepared = requests.Request("GET", url, params=params).prepare().url
    return prepared or url


def _describe(exc: BaseException) -> str:
    kind = type(exc).__name__
    if isinstance(exc, requests.Timeout):
        return f"{kind} (no answer within the timeout)"
    if isinstance(exc, requests.ConnectionError):
        return f"{kind} (could not connect or the connection broke)"
    return f"{kind} ({str(exc)[:200]})"


def _client_error_message(response: requests.Response, shown: str) -> str:
    status = response.status_code
    head = f"HTTP {status} {response.reason or ''}".strip() + f" from {shown}"
    detail = _error_detail(response)
    if status in (401, 403):
        hint = (
            "access denied: check the credentials configured for this source "
            "(credentials.conn_id or credentials.env) and their permissions"
        )
    elif status == 404:
        hint = "not found: check the source location (URL) and that the API is enabled"
    else:
        hint = "the server rejected the request: check the source configuration"
    return f"{head}: {hint}" + (f" (server said: {detail})" if detail else "")


def _error_detail(response: requests.Response) -> str:
    """A short one-line summary of an error body (JSON ``code``/``message`` when present)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [str(body[k]) for k in ("code", "message", "error") if body.get(k)]
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        parts.append(str(errors[0]))
    text = " ".join(" - ".join(parts).split())
    return text[:200]
