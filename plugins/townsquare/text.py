"""Text helpers every connector shares: HTML to plain text, ``--since``, local input files."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

_WS = re.compile(r"\s+")
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template"})
_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    ]
)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str | None) -> str | None:
    """HTML → plain text: tags (and script/style bodies) removed, entities unescaped,
    whitespace (including no-break spaces) collapsed to single spaces."""
    if markup is None:
        return None
    if "<" not in markup and "&" not in markup:
        return _WS.sub(" ", markup).strip()
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return _WS.sub(" ", "".join(parser.parts)).strip()


def parse_since(since: str | None) -> datetime | None:
    """``--since`` as an aware UTC datetime (a date or ISO 8601 time; naive means UTC)."""
    if not since:
        return None
    try:
        value = datetime.fromisoformat(since.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--since: not an ISO 8601 date or time: {since!r} "
            "(e.g. 2026-01-31 or 2026-01-31T12:00:00Z)"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local_files(location: str, suffixes: tuple[str, ...], kind: str) -> list[Path]:
    """The input files at ``location``: the file itself, or a folder's files with
    one of ``suffixes`` in name order. ``kind`` names the connector in errors."""
    path = Path(location).expanduser()
    if path.is_dir():
        files = sorted(
            p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(suffixes)
        )
        if not files:
            wanted = ", ".join("*" + s for s in suffixes)
            raise FileNotFoundError(f"{kind}: no input files ({wanted}) in folder {path}")
        return files
    if path.is_file():
        return [path]
    raise FileNotFoundError(f"{kind}: file or folder not found: {path}")


def sha256_files(paths: list[Path], chunk: int = 1 << 20) -> str:
    """SHA-256 over the names and bytes of ``paths`` (streamed)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as fh:
            while block := fh.read(chunk):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()
