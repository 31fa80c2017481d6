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
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

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
        self, folder: Path | str = FORUM, static: Mapping[str, Path | str] | None = None
    ) -> None:
        self.folder = Path(folder).resolve()
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
        parts = urlsplit(target)
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


def demo_site() -> RecordedServer:
    """The demo's local site: the recorded Discourse forum at ``/`` and the Pipermail
    archives under ``/pipermail/`` (e.g. ``/pipermail/lumen-users/``)."""
    return RecordedServer(FORUM, static={"/pipermail/": PIPERMAIL})


def _handler_for(site: RecordedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "RecordedSite/1.0"

        def do_GET(self) -> None:
            site.requests.append(self.path)
            self._send(*site.answer(self.path))

        def do_HEAD(self) -> None:
            self._send(*site.answer(self.path), body=False)

        def _send(self, status: int, data: bytes, content_type: str, body: bool = True) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("%s %s", self.address_string(), format % args)

    return Handler
