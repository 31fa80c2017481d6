"""Safe parsing of untrusted XML (feeds, WXR exports, XML-RPC bodies).

Policy: a document that declares entities (internal or external, general or
parameter) or references an external entity is refused with ``UnsafeXMLError``
before any of its content is used. That covers "billion laughs", quadratic
blow-up and XXE. A DOCTYPE without entity declarations is allowed (RSS 0.91
feeds carry one). Well-formedness errors, including a truncated document, raise
``MalformedXMLError`` with the line and column expat reports.

Parsing is streaming: ``iter_elements`` yields the elements of interest and
clears them once the caller moves on, so memory stays flat on huge files.
"""

from __future__ import annotations

import codecs
import re
import xml.parsers.expat
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as defused_et
from defusedxml import DefusedXmlException

__all__ = [
    "MalformedXMLError",
    "UnsafeXMLError",
    "decode_xml",
    "iter_elements",
    "local_name",
    "namespace_of",
    "screen_xml",
    "to_utf8_document",
]


class UnsafeXMLError(ValueError):
    """The document declares entities or references external ones: refused unparsed."""


class MalformedXMLError(ValueError):
    """The document is not well-formed XML (for example truncated)."""

    def __init__(
        self, message: str, line: int | None = None, column: int | None = None, source: str = ""
    ) -> None:
        where = f" at line {line}, column {column}" if line is not None else ""
        prefix = f"{source}: " if source else ""
        super().__init__(f"{prefix}malformed XML{where}: {message}")
        self.line = line
        self.column = column
        self.source = source


Source = str | Path | IO[bytes]


def _source_label(source: Source) -> str:
    if isinstance(source, str | Path):
        return str(source)
    return str(getattr(source, "name", "") or "<stream>")


def _unsafe(exc: DefusedXmlException, label: str) -> UnsafeXMLError:
    return UnsafeXMLError(
        f"{label}: refused unsafe XML ({exc}); entity declarations and external "
        "entities are not accepted from untrusted sources"
    )


def _malformed(exc: ParseError, label: str) -> MalformedXMLError:
    line, column = getattr(exc, "position", (None, None))
    message = str(exc)
    # expat appends ": line X, column Y" itself; keep only the reason
    message = re.sub(r":\s*line \d+, column \d+$", "", message)
    return MalformedXMLError(message, line, column, label)


def _tag_matcher(tags: Collection[str]) -> Callable[[str], bool]:
    """``{ns}name`` matches exactly, ``{*}name`` in any namespace, ``name`` without one."""
    exact = {t for t in tags if not t.startswith("{*}")}
    any_ns = {t[3:] for t in tags if t.startswith("{*}")}
    cache: dict[str, bool] = {}

    def match(tag: str) -> bool:
        hit = cache.get(tag)
        if hit is None:
            hit = tag in exact or (bool(any_ns) and local_name(tag) in any_ns)
            cache[tag] = hit
        return hit

    return match


def local_name(tag: str) -> str:
    """``{http://ns}name`` → ``name``."""
    return tag.rsplit("}", 1)[-1] if tag[:1] == "{" else tag


def namespace_of(tag: str) -> str:
    """``{http://ns}name`` → ``http://ns`` (``""`` without a namespace)."""
    return tag[1:].split("}", 1)[0] if tag[:1] == "{" else ""


def iter_elements(
    source: Source, tags: Collection[str], *, max_depth: int | None = None
) -> Iterator[Element]:
    """Stream the outermost elements whose tag is in ``tags``, complete with children.

    ``source`` is a path or a binary file object (for example ``gzip.open(...)``).
    Tags use ElementTree's Clark notation; ``{*}name`` matches ``name`` in any
    namespace. Only elements at depth <= ``max_depth`` match (the root has depth 0).
    Each yielded element is cleared and detached once the caller asks for the next
    one, and unmatched elements are dropped as they close, so memory is bounded by
    the largest matched element, not the document.

    Raises ``UnsafeXMLError`` on entity declarations or external entities (before
    anything is yielded: a DTD must precede the root element) and
    ``MalformedXMLError`` when the document is not well-formed or ends early; the
    elements completed before the error have been yielded by then.
    """
    label = _source_label(source)
    matches = _tag_matcher(tags)
    path: list[Element] = []  # open elements outside any match (ancestors)
    depth_in_match = 0
    parser = defused_et.iterparse(
        str(source) if isinstance(source, Path) else source,
        events=("start", "end"),
        forbid_dtd=False,
        forbid_entities=True,
        forbid_external=True,
    )
    try:
        for event, elem in parser:
            if event == "start":
                if depth_in_match:
                    depth_in_match += 1
                elif (max_depth is None or len(path) <= max_depth) and matches(elem.tag):
                    depth_in_match = 1
                else:
                    path.append(elem)
                continue
            if depth_in_match:
                depth_in_match -= 1
                if depth_in_match:
                    continue
                yield elem
            else:
                path.pop()
            elem.clear()
            if path:
                path[-1].remove(elem)
    except DefusedXmlException as exc:
        raise _unsafe(exc, label) from None
    except ParseError as exc:
        raise _malformed(exc, label) from None


class _StopScreening(Exception):
    pass


def screen_xml(data: bytes, label: str = "<document>") -> None:
    """Refuse ``data`` if its prolog declares entities or references external ones.

    Only the prolog is examined (entities can only be declared in the DTD, which
    precedes the root element), so this is cheap on large documents. Malformed
    documents are tolerated here (lenient parsers may still read them) unless
    the part before the root element mentions ``<!ENTITY``.
    """

    def refuse(*_args: object) -> None:
        raise UnsafeXMLError(
            f"{label}: refused unsafe XML (entity declaration or external entity); "
            "entity declarations are not accepted from untrusted sources"
        )

    def external_ref(*_args: object) -> int:
        refuse()
        return 0

    def stop(*_args: object) -> None:
        raise _StopScreening

    parser = xml.parsers.expat.ParserCreate()
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = external_ref
    parser.StartElementHandler = stop
    try:
        parser.Parse(data, True)
    except _StopScreening:
        return
    except xml.parsers.expat.ExpatError:
        first_element = re.search(rb"<[A-Za-z_]", data)
        head = data[: first_element.start()] if first_element else data
        if re.search(rb"<!ENTITY", head, re.IGNORECASE):
            refuse()


_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it shares the prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_DECL_TEXT = re.compile(r"^\s*<\?xml[^>]*\?>")
_SINGLE_BYTE_LATIN = {"latin_1", "iso8859_1", "cp1252", "ascii", "iso8859_15"}


def _nul_pattern_encoding(head: bytes) -> str | None:
    """UTF-16/32 without a BOM, told by where the NUL bytes of ASCII characters fall."""
    if len(head) < 4 or 0 not in head:
        return None
    nul = tuple(b == 0 for b in head)
    return {
        (True, True, True, False): "utf-32-be",
        (False, True, True, True): "utf-32-le",
        (True, False, True, False): "utf-16-be",
        (False, True, False, True): "utf-16-le",
    }.get(nul)  # type: ignore[arg-type]


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip()).name.replace("-", "_")
    except LookupError:
        return None


def _utf8_with_non_ascii(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not data.isascii()


def decode_xml(data: bytes, http_charset: str | None = None) -> tuple[str, str]:
    """Decode an XML document whatever its encoding claims; returns (text, encoding).

    Order: a byte-order mark; the NUL-byte pattern of ``<`` in UTF-16/32 without
    a BOM (XML 1.0 appendix F); then the HTTP charset and the XML declaration,
    each used only if the bytes really decode with it. Declarations lie in the
    wild, so: a declared single-byte Latin encoding loses to bytes that are valid
    UTF-8 and contain non-ASCII sequences (mojibake otherwise); a declared UTF-16
    loses when the bytes are ASCII-compatible; ISO-8859-1 is read as windows-1252
    (as browsers do, curly quotes live in 0x80-0x9F). Last resort: UTF-8, then
    windows-1252, then Latin-1 (which cannot fail). A leading BOM is removed.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(enc, "replace"), enc
    nul_enc = _nul_pattern_encoding(data[:4])
    if nul_enc:
        return data.decode(nul_enc, "replace"), nul_enc
    declared = _DECL.match(data[:1024])
    candidates = [_codec(http_charset), _codec(declared.group(1).decode() if declared else None)]
    looks_utf8 = _utf8_with_non_ascii(data)
    tried: list[str] = []
    for enc in candidates:
        if enc is None or enc in tried:
            continue
        tried.append(enc)
        if enc.startswith(("utf_16", "utf_32")):
            continue  # an ASCII-compatible document cannot be UTF-16/32
        if enc in _SINGLE_BYTE_LATIN and looks_utf8:
            return data.decode("utf-8"), "utf-8"
        if enc in ("latin_1", "iso8859_1"):
            enc = "cp1252"
        try:
            return data.decode(enc), enc.replace("_", "-")
        except UnicodeDecodeError:
            continue
    for enc in ("utf-8", "cp1252"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def to_utf8_document(text: str) -> bytes:
    """Re-encode decoded XML text as UTF-8 with a declaration that says so."""
    text = text.lstrip("\ufeff")
    m = _DECL_TEXT.match(text)
    if m:
        text = text[m.end() :]
    return ('<?xml version="1.0" encoding="utf-8"?>' + text).encode("utf-8", "replace")
