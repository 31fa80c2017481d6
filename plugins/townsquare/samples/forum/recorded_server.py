"""Serve a recorded JSON site (a folder of answers) over real HTTP on 127.0.0.1.

The demo lands the bundled Discourse forum through the real connector and HTTP
client with no network: ``RecordedServer`` binds 127.0.0.1 on a free port, serves in
a background thread (``ThreadingHTTPServer``) and, as a context manager, returns the
base URL::

    server = RecordedServer()            # the bundled forum: samples/forum/discourse
    with server as base_url:
        ingest_source(SourceConfig(type="discourse", name="forum", location=base_url), ...)
    server.requests                      # every request path (with its query), in order

A request is answered with the file ``recorded_name(path, query)`` from the folder
(``200 application/json``), or a Discourse-style JSON 404 when there is none. Only
GET (and HEAD) are served; nothing outside the folder is ever read.

Paged listings (``RecordedServer(folder, page_size=100)``, as ``townsquare synth`` serves
GitHub): a request with ``per_page`` is answered from the file recorded without a
``page`` parameter, when that file is a JSON array written one record a line (``[``,
then a record a line, ``,`` between them, then ``]``). Pages hold
``N = min(per_page, page_size)`` records: page ``page=K`` (1 when absent) holds records
``(K-1)*N`` to ``K*N``, and a ``Link: <...page=K+1>; rel="next"`` header is sent while
records remain, as GitHub's REST API pages. The file is never read whole:
the byte offsets of its record lines are indexed once and a page reads only its lines,
so a listing of millions of records is served in constant memory.

Static mounts (``static={"/pipermail/": folder}``) serve plain files as a web server
would: a request path under the prefix maps to the same relative path in the folder
(``index.html`` for a path ending in ``/``), typed by suffix (``.html`` text/html,
``.gz`` application/x-gzip, ``.txt`` text/plain). The demo serves the bundled
Pipermail archive this way, beside the recorded Discourse forum (``demo_site()``).

File names (``recorded_name``)
    The URL path without its leading ``/`` and without a ``.json`` suffix, ``/``
    replaced by ``__`` (``index`` for ``/``); then, when there is a query, ``.`` and
    its parameters sorted by name (a repeated name keeps its values' order), each
    as ``name-value`` with ``[]`` dropped from the name and repeated values joined
    by ``_``, parameters joined by ``.``; then ``.json``. Names and values are
    percent-encoded apart from letters, digits and ``-_.~``. Examples::

        /latest.json                              latest.json
        /latest.json?page=1                       latest.page-1.json
        /t/42.json                                t__42.json
        /t/42/posts.json?post_ids[]=7&post_ids[]=9  t__42__posts.post_ids-7_9.json
        /categories.json?include_subcategories=true categories.include_subcategories-true.json
        /posts.json?before=120                    posts.before-120.json
"""

from __future__ import annotations

import json
import logging
import threading
from array import array
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

log = logging.getLogger("townsquare.samples.recorded_server")

FORUM = Path(__file__).resolve().parent / "discourse"
PIPERMAIL = Path(__file__).resolve().parent / "pipermail"
CONTENT_TYPES = {
    ".html": "text/html; charset=us-ascii",
    ".gz": "application/x-gzip",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json; charset=utf-8",
}
NOT_FOUND = {
    "errors": ["The requested URL or resource could not be found."],
    "error_type": "not_found",
}


def recorded_name(path: str, query: str = "") -> str:
    """The file that answers ``path`` + ``query`` (see the module docstring)."""
    stem = unquote(path).strip("/").removesuffix(".json")
    stem = stem.replace("/", "__") or "index"
    params: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(name.removesuffix("[]"), []).append(value)
    parts = [
        f"{_enc(name)}-{'_'.join(_enc(v) for v in values)}"
        for name, values in sorted(params.items())
    ]
    return ".".join([_enc(stem, safe="_"), *parts]) + ".json"


def write_recording(out: Path, files: Mapping[str, Any]) -> list[Path]:
    """Write a recorded site: ``files`` maps ``recorded_name``s to JSON bodies.

    Files of an earlier recording that are no longer in ``files`` are removed, so the
    folder holds exactly this recording. Compact JSON, one file a response.
    """
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.json"):
        if old.name not in files:
            old.unlink()
    written = []
    for name, body in sorted(files.items()):
        path = out / name
        path.write_text(
            json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
        )
        written.append(path)
    return written


def _enc(text: str, safe: str = "") -> str:
    return quote(text, safe=safe)


class RecordedServer:
    """A recorded folder served on ``127.0.0.1:<free port>`` from a background thread."""

    def __init__(
        self,
        folder: Path | str = FORUM,
        static: Mapping[str, Path | str] | None = None,
        page_size: int | None = None,
    ) -> None:
        if page_size is not None and page_size < 1:
            raise ValueError(f"page_size must be at least 1 (got {page_size})")
        self.folder = Path(folder).resolve()
        self.page_size = page_size
        self._lines: dict[Path, tuple[float, int, array]] = {}
        self._lines_lock = threading.Lock()
        self.static = {prefix: Path(f).resolve() for prefix, f in (static or {}).items()}
        for root in [self.folder, *self.static.values()]:
            if not root.is_dir():
                raise FileNotFoundError(f"recorded site folder not found: {root}")
        self.requests: list[str] = []
        self.url = ""
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="recorded-site", daemon=True
        )
        self._thread.start()
        log.debug("serving %s at %s", self.folder, self.url)
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def answer(self, target: str) -> tuple[int, bytes, str]:
        """Status, body and content type for a request target (``/path?query``)."""
        status, data, content_type, _ = self.respond(target)
        return status, data, content_type

    def respond(self, target: str) -> tuple[int, bytes, str, dict[str, str]]:
        """``answer`` plus the extra headers (``Link`` on a paged listing)."""
        parts = urlsplit(target)
        if self.page_size is not None:
            paged = self._page(parts.path, parts.query, self.page_size)
            if paged is not None:
                return paged
        status, data, content_type = self._file(parts)
        return status, data, content_type, {}

    def _file(self, parts: Any) -> tuple[int, bytes, str]:
        for prefix, root in self.static.items():
            if parts.path.startswith(prefix):
                relative = unquote(parts.path[len(prefix) :])
                path = (
                    (root / relative / "index.html")
                    if relative.endswith("/") or not relative
                    else root / relative
                )
                path = path.resolve()
                if path.is_relative_to(root) and path.is_file():
                    return (
                        200,
                        path.read_bytes(),
                        CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
                    )
                return 404, b"<html><body>Not Found</body></html>", CONTENT_TYPES[".html"]
        path = self.folder / recorded_name(parts.path, parts.query)
        if path.parent != self.folder or not path.is_file():
            return 404, json.dumps(NOT_FOUND).encode(), CONTENT_TYPES[".json"]
        return 200, path.read_bytes(), CONTENT_TYPES[".json"]

    def _page(
        self, path: str, query: str, page_size: int
    ) -> tuple[int, bytes, str, dict[str, str]] | None:
        """Page ``page`` of a listing recorded one record a line, or None (not paged)."""
        params = parse_qsl(query, keep_blank_values=True)
        values = dict(params)
        if "per_page" not in values:
            return None
        try:
            per_page = int(values["per_page"])
            page = int(values.get("page", "1"))
        except ValueError:
            return None
        if per_page < 1 or page < 1:
            return None
        rest = [(k, v) for k, v in params if k != "page"]
        file = self.folder / recorded_name(path, urlencode(rest))
        if file.parent != self.folder or not file.is_file():
            return None
        offsets = self._record_lines(file)
        if offsets is None:
            return None
        size = min(per_page, page_size)
        first = (page - 1) * size
        last = min(first + size, len(offsets) - 1)
        records: list[bytes] = []
        if first < last:
            with file.open("rb") as f:
                f.seek(offsets[first])
                chunk = f.read(offsets[last] - offsets[first])
            records = [line.rstrip(b"\r\n").removesuffix(b",") for line in chunk.splitlines()]
        headers = {}
        if first + size < len(offsets) - 1:
            following = urlencode([*rest, ("page", str(page + 1))])
            headers["Link"] = f'<{self.url}{path}?{following}>; rel="next"'
        body = b"[" + b",".join(records) + b"]"
        return 200, body, CONTENT_TYPES[".json"], headers

    def _record_lines(self, file: Path) -> array | None:
        """Byte offsets of the record lines of a one-record-a-line JSON array, plus the
        offset where the records end; None when the file is not written that way."""
        stat = file.stat()
        with self._lines_lock:
            known = self._lines.get(file)
            if known is not None and known[:2] == (stat.st_mtime, stat.st_size):
                return known[2]
            offsets = array("Q")
            with file.open("rb") as f:
                head = f.readline()
                if head.strip() == b"[]":
                    offsets.append(len(head))
                elif head.rstrip(b"\r\n") != b"[":
                    return None
                else:
                    at = len(head)
                    for line in f:
                        if line.rstrip(b"\r\n") == b"]":
                            break
                        offsets.append(at)
                        at += len(line)
                    else:
                        return None  # no closing bracket: not one record a line
                    offsets.append(at)
            self._lines[file] = (stat.st_mtime, stat.st_size, offsets)
            return offsets


def demo_site() -> RecordedServer:
    """The demo's local site: the recorded Discourse forum at ``/`` and the Pipermail
    archives under ``/pipermail/`` (e.g. ``/pipermail/lumen-users/``)."""
    return RecordedServer(FORUM, static={"/pipermail/": PIPERMAIL})


def _handler_for(site: RecordedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "RecordedSite/1.0"

        def do_GET(self) -> None:
            site.requests.append(self.path)
            self._send(*site.respond(self.path))

        def do_HEAD(self) -> None:
            self._send(*site.respond(self.path), body=False)

        def _send(
            self,
            status: int,
            data: bytes,
            content_type: str,
            headers: dict[str, str],
            body: bool = True,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("%s %s", self.address_string(), format % args)

    return Handler
