"""Mail archives → ``mail_messages`` rows: the streaming mbox splitter and message parser.

Shared by the ``mbox`` and ``pipermail`` connectors. Nothing here does I/O beyond
reading the binary stream it is given.

Splitting (``MboxSplitter``)
    The stream is read in binary, in blocks of ``SPLIT_BLOCK`` bytes cut into lines
    (split after each LF), so memory holds one message and one block whatever the
    file size (``mailbox.mbox`` indexes the whole file first).
    Gzip input is detected by its magic bytes, not by the name (``open_stream``):
    Pipermail serves plain text under ``.txt.gz`` names and the other way round.
    A message starts at a ``From `` line at the start of the stream, or after a
    blank line when the line also looks like an envelope: it carries an asctime
    date such as ``Mon Mar  4 10:00:00 2024`` (standard mbox and Pipermail both
    write one), or, for envelopes without a date, the next line is a well-known
    first header (``Return-Path``, ``Received``, ``From``, ``Date``,
    ``Message-ID``, ``Delivered-To``, ``X-...``). So unquoted body lines (Pipermail
    does not quote them) such as "From the release notes" followed by a URL or
    ``Note: ...`` do not split a message. Bytes in the ``From `` line need not be
    ASCII or UTF-8.
    CRLF and LF line endings may be mixed (CRLF becomes LF). Quoted ``>From ``
    lines are unquoted the mboxrd way (one ``>`` removed from ``>+From `` lines),
    which is also right for mboxo except for lines that were ``>From `` originally.
    A stream whose first non-blank line is not a ``From `` line raises
    ``MboxFormatError`` naming the input. A message is known to be complete when
    another ``From `` line follows it, or, for the last one, when the stream ends
    with a blank line after its body (the mbox terminator); without it (a file
    being written, an archive Mailman is appending to) the last message is still
    yielded, but the ``landed`` offset stays before it so an incremental reader
    reads it again whole next time. When a resume offset turns out not to point at
    a ``From `` line, the splitter warns and re-reads the stream from the start
    (given a ``reopen`` function; else ``MboxResumeError``).

Parsing (``MessageBuilder``)
    ``email.parser.BytesParser`` with the ``compat32`` policy (the ``default``
    policy's header objects are several times slower), then our own decoding. A
    message with plain header blocks (the common case, single-part or multipart)
    skips the email package: ``split_simple``/``simple_body`` reproduce exactly
    what it yields (fields, Content-Type and charset, quoted-printable/base64
    decoding, the feedparser's boundary rules, which parts count) and hand
    anything unusual back to it; ``tests/connectors/test_mail_bodies.py`` compares
    both readings on generated messages. A message the email package itself
    fails on (it has bugs with odd input) is ``Rejected`` ("unparseable
    message ...") instead of aborting the run.

    - Headers: 8-bit bytes without a charset are decoded as UTF-8, else cp1252,
      else Latin-1; RFC 2047 encoded words are decoded with their charset (an
      unknown or lying charset falls back the same way); folding is undone.
    - Subject: decoded and whitespace-normalized (list prefixes such as
      ``[lumen-users]`` are kept).
    - From: ``email.utils.parseaddr``; Pipermail's obfuscation (``jane at
      example.org``) is undone first, every occurrence. No From, or one without an
      address: the message still lands with ``from_name``/``from_email`` null (or
      name only). A display name that is an address or holds one (Pipermail's
      ``jane at example.org (jane at example.org)`` for a sender without a name)
      becomes null, so no address reaches ``from_name``.
    - Body: the ``text/plain`` parts that are not attachments, decoded with their
      charset (falling back as for headers), joined by a blank line; when there is
      none, the ``text/html`` parts through ``townsquare.text.html_to_text``.
      Attachments (``Content-Disposition: attachment``, or a named non-first part)
      are skipped. Line endings are LF, outer whitespace stripped; no text → null.
    - Dates: the ``Date`` header (RFC 2822, ``parsedate_to_datetime``) gives
      ``sent_at`` in UTC and ``sent_utc_offset_minutes`` (``-0000``: UTC, offset
      null), ``date_source`` ``header``. A missing, blank, unparseable or absurd
      Date (before 1970, more than a year from now, out of range such as
      ``31 Dec 9999 23:00 -0500``, or a year written ``0001``) falls back to the
      envelope (``From `` line) asctime date (held to the same bounds), read as
      UTC, offset null, ``date_source`` ``envelope``. Neither → ``Rejected`` ("no
      usable date").
    - Message ids (``message_id``, ``in_reply_to``, ``references``) are stored
      WITHOUT angle brackets: the first ``<...>`` token, else the bare token.
      ``in_reply_to`` is the first id of its header; ``references`` every id in
      order. No usable Message-ID → a deterministic generated id
      ``<sha256 of from, date, subject and body, 32 hex>@generated.invalid`` with
      ``message_id_generated`` true.
    - ``list_name``: the first label of the ``List-Id`` id (Mailman's list name,
      ``<lumen-dev.lists.example.org>`` → ``lumen-dev``) unless the caller fixes
      it (Pipermail), else the caller's fallback (option or file/archive name).
    - Duplicates within a run (Message-ID seen before): a copy with the same
      content (sha256 of from, sent_at, subject and body text: other headers such
      as ``Received`` or ``List-Id`` may differ between copies) is dropped and
      counted (``duplicates_dropped``); a different message reusing the id is
      ``Rejected`` with a reason naming the id. The first in read order wins.
      Memory: one ``int → int`` dict entry per message id.
    - A stream that ends inside a message's headers (no blank line after them) is
      truncated: that message is ``Rejected``, and the splitter's ``landed``
      offset stays before it, so an incremental reader retries it next time.

``raw`` of a row is the envelope line and the header fields (8-bit decoded,
unfolded, encoded words left as they were); the body is in ``body_text``.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import gzip
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import parseaddr, parsedate_to_datetime, unquote
from itertools import pairwise
from typing import IO, Any

from townsquare.records import Item, Rejected, Row, to_json_text
from townsquare.text import html_to_text

log = logging.getLogger(__name__)

ENTITY = "mail_messages"
GZIP_MAGIC = b"\x1f\x8b"
BODY_EXCERPT = 2000
"""Characters of the body kept in ``raw`` of a rejected message."""

_BLANK = (b"\n", b"\r\n")
SPLIT_BLOCK = 1 << 20
"""Bytes ``MboxSplitter`` reads at a time."""
_ASCTIME = re.compile(
    rb"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+"
    rb"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\s+(\d{1,2})\s+"
    rb"(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(?:(?:[A-Za-z]{1,5}|[+-]\d{4})\s+)?(\d{4})\b"
)
_MONTHS = {
    m: i for i, m in enumerate(b"Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)
}
_KNOWN_HEADER = re.compile(
    rb"(?:Return-Path|Received|From|Date|Message-ID|Delivered-To|X-[!-9;-~]+):", re.I
)
_QUOTED_FROM = re.compile(rb"^>(>*From )", re.M)
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)[ \t]+(?==\?)")
_FOLD = re.compile(r"\r?\n[ \t]?")
_WS = re.compile(r"\s+")
_ANGLE_ID = re.compile(r"<([^<>\s]+)>")
_OBFUSCATED = re.compile(r"([\w.+'=-]+) at ([\w-]+(?:\.[\w-]+)+)")
_ADDRESS_LIKE = re.compile(r"[\w.+'=-]+(?:@| at )[\w-]+(?:\.[\w-]+)+")
_WRITTEN_YEAR = re.compile(r"(?<![\d+-])(\d{3,})(?![\d:])")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FUTURE_SLACK = timedelta(days=366)


class MboxFormatError(ValueError):
    """The input is not an mbox (its first line is not a ``From `` line)."""


class MboxResumeError(MboxFormatError):
    """The resume offset does not point at a ``From `` line (raised before any message).

    The bytes before the offset did not change, but no message starts there (an
    earlier run stopped after a blank line inside a body): the input must be read
    again from the start (``MboxSplitter`` does so itself when given ``reopen``).
    """


# --------------------------------------------------------------------------- streams


def open_stream(raw: IO[bytes]) -> IO[bytes]:
    """``raw`` itself, or a gzip reader over it when it starts with the gzip magic bytes.

    ``raw`` must support ``peek`` or ``seek`` (files opened ``rb``, ``BytesIO``).
    """
    peek = getattr(raw, "peek", None)
    if peek is not None:
        head = peek(2)[:2]
    else:
        pos = raw.tell()
        head = raw.read(2)
        raw.seek(pos)
    if head == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


def hash_prefix(stream: IO[bytes], length: int) -> Any | None:
    """Read ``length`` bytes of ``stream``; their running SHA-256, or None if it is shorter.

    The stream is left after those bytes, so an unchanged prefix is not parsed again
    (an appended file resumes there, and the digest goes on over the rest); when the
    digest differs from the stored one the caller reopens the input.
    """
    digest = hashlib.sha256()
    left = length
    while left > 0:
        block = stream.read(min(left, 1 << 20))
        if not block:
            return None
        digest.update(block)
        left -= len(block)
    return digest


# --------------------------------------------------------------------------- splitting


@dataclass(slots=True)
class RawMessage:
    """One message cut out of an mbox stream."""

    envelope: bytes
    """The ``From `` line, without its line ending."""
    data: bytes
    """Header and body: LF line endings, ``>From `` unquoted."""
    start: int
    """Offset of the ``From `` line in the (decompressed) stream."""
    end: int
    complete: bool
    """False when the stream ended inside the headers (a truncated message)."""
    landed: bool = True
    """False for the last message when the stream does not end with a blank line after
    its body (it may still be being written): ``MboxSplitter.landed`` stays before it."""


class MboxSplitter:
    """Splits a binary mbox stream into ``RawMessage``s (see the module docstring).

    ``start`` is the stream offset the reader is at (a message boundary, e.g. where
    an earlier run stopped); ``digest`` the SHA-256 of the bytes before it, if the
    caller hashed them. After iteration, ``landed`` is the offset after the last
    message known to be complete (followed by another ``From `` line, or by a blank
    line at the end of the stream) and ``prefix_sha256()`` the hash of the stream up
    to it: the cursor an incremental reader stores. A resume ``start`` that does not
    point at a ``From `` line raises ``MboxResumeError`` before any message, unless
    ``reopen`` (a function returning the stream again from byte 0) is given: then
    a warning is logged and the whole stream is split (``start`` becomes 0).
    """

    def __init__(
        self,
        stream: IO[bytes],
        label: str,
        *,
        start: int = 0,
        digest: Any = None,
        reopen: Callable[[], IO[bytes]] | None = None,
    ) -> None:
        self.stream = stream
        self.label = label
        self.start = start
        self.landed = start
        self.reopen = reopen
        self._digest = digest if digest is not None else hashlib.sha256()

    def prefix_sha256(self) -> str:
        return str(self._digest.hexdigest())

    def __iter__(self) -> Iterator[RawMessage]:
        try:
            yield from self._split()
        except MboxResumeError as exc:
            # raised before any message was yielded: start over from byte 0
            if self.reopen is None:
                raise
            log.warning("%s; reading it again from the start", exc)
            self.stream = self.reopen()
            self.start = self.landed = 0
            self._digest = hashlib.sha256()
            yield from self._split()

    def _split(self) -> Iterator[RawMessage]:
        """Cut the stream into messages, reading it in blocks of ``SPLIT_BLOCK`` bytes.

        Lines are what iterating over the binary stream gives (split after each LF).
        Boundaries are found with ``bytes.find`` for LF + ``From `` (the candidate
        lines), each then checked as ``_is_envelope`` says; the bytes of a message are
        one slice. The buffer holds the message being cut plus one block.
        """
        read = self.stream.read
        buf = b""
        base = self.start  # the stream offset of buf[0]
        eof = False

        def fill(keep: int) -> int:
            """Drop ``buf[:keep]`` and read a block: the shift of positions, -1 at the end."""
            nonlocal buf, base, eof
            if eof:
                return -1
            block = read(SPLIT_BLOCK)
            if not block:
                eof = True
                return -1
            buf = buf[keep:] + block
            base += keep
            return keep

        def line_end(at: int) -> tuple[int, int]:
            """(the LF ending the line at ``at``, -1 at the end; ``at`` after any shift)."""
            eol = buf.find(b"\n", at)
            while eol < 0:
                shift = fill(at)
                if shift < 0:
                    break
                at -= shift
                eol = buf.find(b"\n", at)
            return eol, at

        # blank lines (and a byte-order mark) before the first envelope
        pos = 0
        while True:
            eol, pos = line_end(pos)
            line = buf[pos:] if eol < 0 else buf[pos : eol + 1]
            if not line:
                return
            if line in _BLANK or (base + pos == 0 and line.strip(b"\xef\xbb\xbf\r\n") == b""):
                self._digest.update(line)
                pos += len(line)
                self.landed = base + pos
                continue
            if not line.lstrip(b"\xef\xbb\xbf").startswith(b"From "):
                if self.start:
                    raise MboxResumeError(
                        f"mbox: {self.label}: the resume offset (byte {self.start}) is not "
                        f"at a 'From ' line, found {line[:60]!r}"
                    )
                where = "" if base + pos == 0 else f" at byte {base + pos}"
                raise MboxFormatError(
                    f"mbox: {self.label} is not an mbox file: expected a 'From ' line"
                    f"{where}, found {line[:60]!r}"
                )
            break

        start = pos  # the envelope of the message being cut
        while True:
            env_end, start = line_end(start)
            env_end = len(buf) if env_end < 0 else env_end + 1
            # the next envelope: a From line after a blank line ("\n" or "\r\n") that
            # is not the envelope itself
            k = env_end - 1
            boundary = -1
            while env_end < len(buf) or not eof:
                q = buf.find(b"\nFrom ", k)
                if q < 0:
                    if eof:
                        break
                    k = max(k, len(buf) - 6)
                    shift = fill(start)
                    if shift >= 0:
                        start, env_end, k = start - shift, env_end - shift, k - shift
                    continue
                blank = (q >= env_end and buf[q - 1] == 10) or (
                    q - 1 >= env_end and buf[q - 2 : q] == b"\n\r"
                )
                if not blank:
                    k = q + 1
                    continue
                eol = buf.find(b"\n", q + 1)
                after = buf.find(b"\n", eol + 1) if eol >= 0 else -1
                if after < 0 and not eof:
                    shift = fill(start)
                    if shift > 0:
                        start, env_end, k = start - shift, env_end - shift, q - shift
                    else:
                        k = q
                    continue
                line = buf[q + 1 :] if eol < 0 else buf[q + 1 : eol + 1]
                nxt = None
                if eol >= 0 and eol + 1 < len(buf):
                    nxt = buf[eol + 1 :] if after < 0 else buf[eol + 1 : after + 1]
                if _ASCTIME.search(line) is not None or (
                    nxt is not None and _KNOWN_HEADER.match(nxt) is not None
                ):
                    boundary = q + 1
                    break
                k = q + 1
            if boundary >= 0:
                yield self._finish(
                    buf[start:env_end], buf[env_end:boundary], base + start, True, True
                )
                start = boundary
                continue
            # the last message: whole when a blank line ends its headers, and another
            # one ends the stream after at least one more line (the mbox terminator)
            rest = buf[env_end:]
            lines = rest.split(b"\n")
            lines = [line + b"\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
            body_at = next((n + 1 for n, line in enumerate(lines) if line in _BLANK), None)
            complete = body_at is not None
            ended = complete and len(lines) > body_at and lines[-1] in _BLANK
            yield self._finish(buf[start:env_end], rest, base + start, complete, ended)
            return

    def _finish(
        self, envelope: bytes, raw: bytes, start: int, complete: bool, ended: bool
    ) -> RawMessage:
        end = start + len(envelope) + len(raw)
        landed = complete and ended
        if landed:
            self._digest.update(envelope)
            self._digest.update(raw)
            self.landed = end
        data = raw.replace(b"\r\n", b"\n") if b"\r" in raw else raw
        if b">From " in data:
            data = _QUOTED_FROM.sub(rb"\1", data)
        return RawMessage(
            envelope=envelope.rstrip(b"\r\n"),
            data=data,
            start=start,
            end=end,
            complete=complete,
            landed=landed,
        )


# --------------------------------------------------------------------------- decoding


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """``data`` as text: ``charset`` if it decodes, else UTF-8, else cp1252, else Latin-1."""
    if charset:
        try:
            return data.decode(_codec(charset))
        except (LookupError, UnicodeDecodeError, ValueError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _codec(charset: str) -> str:
    name = charset.strip().strip("\"'").split("*", 1)[0].lower()
    if name in ("unknown-8bit", "x-unknown", "unknown", "8bit", "default"):
        raise LookupError(name)
    return codecs.lookup(name).name


def header_text(value: str | None) -> str | None:
    """A raw compat32 header value (8-bit bytes as surrogate escapes) → unfolded text."""
    if value is None:
        return None
    if not value.isascii():
        value = decode_bytes(value.encode("ascii", "surrogateescape"))
    return _FOLD.sub(" ", value) if "\n" in value else value


def decode_words(text: str) -> str:
    """Decode RFC 2047 encoded words (``=?utf-8?q?...?=``); whitespace between two is dropped."""
    if "=?" not in text:
        return text
    text = _BETWEEN_WORDS.sub(r"\1", text)
    return _ENCODED_WORD.sub(_decode_word, text)


def _decode_word(match: re.Match[str]) -> str:
    charset, kind, payload = match.group(1), match.group(2).upper(), match.group(3)
    try:
        if kind == "B":
            data = base64.b64decode(payload + "=" * (-len(payload) % 4))
        else:
            data = binascii.a2b_qp(payload.encode("ascii", "replace"), header=True)
    except (binascii.Error, ValueError):
        return match.group(0)
    return decode_bytes(data, charset)


def normalize_space(text: str | None) -> str | None:
    if text is None:
        return None
    return _WS.sub(" ", text).strip() or None


def message_ids(value: str | None) -> list[str]:
    """The message ids in a header value, without angle brackets, in order."""
    if not value:
        return []
    ids = _ANGLE_ID.findall(value)
    if ids:
        return ids
    token = value.strip().strip("<>")
    return [token] if token and not any(c.isspace() or c in "<>" for c in token) else []


def plausible(when: datetime) -> bool:
    """Whether a UTC date is a believable send date: from 1970 to a year from now."""
    return _EPOCH <= when <= datetime.now(UTC) + _FUTURE_SLACK


def parse_date_header(value: str | None) -> tuple[datetime, int | None] | None:
    """An RFC 2822 date → (UTC datetime, original UTC offset in minutes or None).

    None for a missing or unparseable date, and for an implausible one (before 1970,
    more than a year ahead, or a year written out below 1970 such as ``0001``, which
    ``parsedate`` would read as 2001).
    """
    if not value or not value.strip():
        return None
    try:
        when = parsedate_to_datetime(value.strip())
        if when is None:
            return None
        offset = when.utcoffset()
        if offset is None:  # -0000: "UTC, but the local time zone is unknown"
            utc, minutes = when.replace(tzinfo=UTC), None
        else:
            utc, minutes = when.astimezone(UTC), int(offset.total_seconds() // 60)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    year = _WRITTEN_YEAR.search(value)
    if not plausible(utc) or (year is not None and int(year.group(1)) < _EPOCH.year):
        return None
    return utc, minutes


def envelope_date(envelope: bytes) -> datetime | None:
    """The asctime date of a ``From `` line, as UTC (mbox writers use UTC or local time)."""
    m = _ASCTIME.search(envelope)
    if m is None:
        return None
    month, day, hour, minute, second, year = m.groups()
    try:
        when = datetime(
            int(year),
            _MONTHS[month],
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    return when if plausible(when) else None


def deobfuscate(address: str) -> str:
    """``jane at example.org (jane at example.org)`` → ``jane@example.org (jane@example.org)``.

    Pipermail obfuscates every address in a From header, the display name too when
    the sender had none (it repeats the address there).
    """
    if "@" in address or " at " not in address:
        return address
    return _OBFUSCATED.sub(r"\1@\2", address)


def list_name_from_id(list_id: str | None) -> str | None:
    """``Lumen developers <lumen-dev.lists.example.org>`` → ``lumen-dev``."""
    if not list_id:
        return None
    m = _ANGLE_ID.search(list_id)
    ident = m.group(1) if m else list_id.strip()
    return ident.split(".", 1)[0].strip() or None


# --------------------------------------------------------------------------- bodies


def body_text(msg: Message) -> str | None:
    """The message's text: plain parts, else HTML parts as text; attachments skipped."""
    plain: list[str] = []
    html: list[str] = []
    _collect(msg, plain, html, first=True)
    return _joined(plain, html)


def _joined(plain: list[str], html: list[str]) -> str | None:
    """``body_text`` from the decoded text/plain and text/html parts, in order."""
    if plain:
        text = "\n\n".join(p for p in plain if p)
    elif html:
        text = html_to_text("\n".join(html)) or ""
    else:
        return None
    text = text.replace("\r\n", "\n").strip()
    return text or None


def _collect(part: Message, plain: list[str], html: list[str], first: bool) -> None:
    # str(): compat32 returns a Header object for a value with 8-bit bytes (a raw UTF-8
    # filename), which has no .split
    disposition = str(part.get("Content-Disposition") or "").split(";", 1)[0].strip().lower()
    if disposition == "attachment" or (not first and part.get_filename()):
        return
    if part.is_multipart():
        children = part.get_payload()
        if isinstance(children, list):
            for n, child in enumerate(children):
                if isinstance(child, Message):
                    _collect(child, plain, html, first=first and n == 0)
        return
    ctype = part.get_content_type()
    if ctype not in ("text/plain", "text/html"):
        return
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, TypeError, AssertionError):
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        payload = raw.encode("ascii", "surrogateescape") if isinstance(raw, str) else b""
    try:
        charset = part.get_content_charset()
    except (ValueError, LookupError, TypeError):
        charset = None
    text = decode_bytes(payload, charset)
    (plain if ctype == "text/plain" else html).append(text)


class _Complex:
    """Marker: the message needs the email package (``simple_body``)."""


_COMPLEX = _Complex()
_FIELD = r"[!-9;-~]+:[^\n]*(?:\n[ \t][^\n]*)*"
_PLAIN_HEAD = re.compile(f"{_FIELD}(?:\n{_FIELD})*")
"""Header fields (a name of printable ASCII but ``:``, then continuation lines)."""
_FIELD_BREAK = re.compile(r"\n(?![ \t])")
_MULTI = re.compile(r"[ \t\n]*(?:multipart|message)/[^/;]*(?:;|$)", re.I)
"""A Content-Type value ``Message.get_content_maintype`` reads as multipart or message."""
_UUENCODE = ("x-uuencode", "uuencode", "uue", "x-uue")


def split_simple(data: bytes) -> tuple[list[tuple[str, str]], dict[str, str], bytes] | None:
    """Header fields and body of a message with a plain header block, or None.

    Returns (fields as compat32 stores them: name and raw value with folding kept,
    the first value of each lower-cased name, the body bytes): exactly what
    ``email``'s feedparser produces, without its per-line machinery. None when the
    header block is not plain (no header/body separator, no headers, a CR, a
    ``From `` line, a continuation first or a line that is not a field): the
    caller then uses the email package.
    """
    end = data.find(b"\n\n")
    if end <= 0 or data[:1] == b"\n":
        return None
    head = data[:end].decode("ascii", "surrogateescape")
    if "\r" in head or _PLAIN_HEAD.fullmatch(head) is None:
        return None
    fields: list[tuple[str, str]] = []
    first: dict[str, str] = {}
    for text in _FIELD_BREAK.split(head):
        name, _, value = text.partition(":")
        value = value.lstrip(" \t")
        fields.append((name, value))
        first.setdefault(name.lower(), value)
    return fields, first, data[end + 2 :]


def simple_body(first: dict[str, str], body: bytes) -> str | _Complex | None:
    """``body_text`` of a message from its raw header values and body bytes.

    The same result as ``body_text`` over the message the email package parses
    (compat32 semantics: the first header of a name counts; Content-Type defaults to
    text/plain; quoted-printable and base64 decoded as
    ``Message.get_payload(decode=True)`` does; the feedparser's multipart rules, see
    ``_multipart_parts``); ``_COMPLEX`` when the email package is needed (message/*,
    multipart/digest, uuencode, 8-bit or quoted-escape parameter values, RFC 2231
    parameters, a part whose header block is not plain, a multipart body the
    feedparser would read with a defect: no start or close boundary, adjacent
    boundary lines, a CR).
    """
    plain: list[str] = []
    html: list[str] = []
    if not _simple_collect(first, body, plain, html, True, 0):
        return _COMPLEX
    return _joined(plain, html)


_MAX_DEPTH = 8
"""Multipart nesting the fast path follows; deeper messages go to the email package."""


def _simple_collect(
    first: dict[str, str],
    body: bytes,
    plain: list[str],
    html: list[str],
    is_first: bool,
    depth: int,
) -> bool:
    """``_collect`` over a part given as raw header values and body; False: too complex."""
    disposition = first.get("content-disposition")
    ctype_value = first.get("content-type")
    cte_value = first.get("content-transfer-encoding")
    for value in (disposition, ctype_value, cte_value):
        if value is not None and not value.isascii():
            return False
    if disposition and disposition.split(";", 1)[0].strip().lower() == "attachment":
        return True
    if not is_first:
        found = _filename(disposition, ctype_value)
        if found is _COMPLEX:
            return False
        if found:
            return True
    if ctype_value is None:
        ctype = "text/plain"
    else:
        ctype = ctype_value.partition(";")[0].strip().lower()
        if ctype.count("/") != 1:
            ctype = "text/plain"
    if ctype.startswith("multipart/"):
        if ctype == "multipart/digest" or depth >= _MAX_DEPTH:
            return False
        assert ctype_value is not None
        parts = _multipart_parts(ctype_value, body)
        if parts is None:
            return False
        for n, (part_first, part_body) in enumerate(parts):
            if not _simple_collect(
                part_first, part_body, plain, html, is_first and n == 0, depth + 1
            ):
                return False
        return True
    if ctype.startswith("message/"):
        return False
    if ctype not in ("text/plain", "text/html"):
        return True
    charset = _param(ctype_value, "charset") if ctype_value is not None else None
    if isinstance(charset, _Complex):
        return False
    cte = (cte_value or "").lower()
    if cte == "quoted-printable":
        payload = binascii.a2b_qp(body)
    elif cte == "base64":
        payload = _b64decode(b"".join(body.splitlines()))
    elif cte in _UUENCODE:
        return False
    else:
        payload = body
    text = decode_bytes(payload, charset.lower() if charset is not None else None)
    (plain if ctype == "text/plain" else html).append(text)
    return True


def _multipart_parts(ctype_value: str, body: bytes) -> list[tuple[dict[str, str], bytes]] | None:
    """The parts of a multipart body as (first raw header values, body), or None.

    The email feedparser's reading (compat32): the boundary is the ``boundary``
    parameter unquoted and right-stripped; a boundary line is ``--BOUNDARY`` at the
    start of a line, then ``--`` for the close boundary, then only spaces and tabs;
    the text before the first boundary line (preamble) and after the close boundary
    (epilogue) is not a part; the line ending before a boundary line belongs to the
    boundary. None (the email package decides) when the boundary is missing or
    empty, the body holds a CR, no part opens before the close boundary, two
    boundary lines are adjacent (an empty part: the feedparser swallows the second
    line, even a close one), the close boundary is missing, or a part's header
    block is not plain (a part without headers, a blank first line, is text/plain).
    """
    found = _param(ctype_value, "boundary")
    if found is None or isinstance(found, _Complex):
        return None
    boundary = unquote(found).rstrip()
    if not boundary or b"\r" in body:
        return None
    sep = b"\n--" + boundary.encode("ascii")
    text = b"\n" + body  # every line now follows a "\n"; offsets below are into text
    marks: list[tuple[int, int]] = []  # (start of the boundary line, start of the next)
    at = text.find(sep)
    closed = False
    while at >= 0:
        eol = text.find(b"\n", at + 1)
        line_end = len(text) if eol < 0 else eol
        rest = text[at + len(sep) : line_end]
        close = rest.startswith(b"--")
        if not (rest[2:] if close else rest).strip(b" \t"):
            if close and not marks:
                return None
            marks.append((at + 1, line_end + 1))
            if close:
                closed = True
                break
        at = text.find(sep, line_end)
    if not closed:
        return None
    parts = []
    for (_, start), (end, _) in pairwise(marks):
        part = text[start : end - 1]
        if part[:1] == b"\n":  # no header block: text/plain, the body after the blank line
            parts.append(({}, part[1:]))
            continue
        simple = split_simple(part)
        if simple is None:
            return None
        _, first, part_body = simple
        parts.append((first, part_body))
    return parts


def _filename(disposition: str | None, ctype_value: str | None) -> str | _Complex | None:
    """``Message.get_filename()`` (Content-Disposition's filename, else Content-Type's name)."""
    found = _param(disposition, "filename") if disposition is not None else None
    if found is None and ctype_value is not None:
        found = _param(ctype_value, "name")
    if found is None or isinstance(found, _Complex):
        return found
    return unquote(found).strip()


def _param(value: str, name: str) -> str | _Complex | None:
    """``Message.get_param(name)`` of a plain header value (unquoted), or None if absent."""
    if "\\" in value or "*" in value:
        return _COMPLEX
    pieces = value.split(";")
    if '"' in value and any(piece.count('"') % 2 for piece in pieces):
        return _COMPLEX
    for piece in pieces:
        key, sep, param = piece.partition("=")
        if key.strip().lower() == name:
            return unquote(param.strip()) if sep else ""
    return None


def _b64decode(encoded: bytes) -> bytes:
    """Base64 as ``Message.get_payload(decode=True)`` decodes it (lenient, never raises)."""
    pad_err = len(encoded) % 4
    try:
        return base64.b64decode(
            encoded + (b"==="[: 4 - pad_err] if pad_err else b""), validate=True
        )
    except binascii.Error:
        pass
    try:
        return base64.b64decode(encoded, validate=False)
    except binascii.Error:
        pass
    try:
        return base64.b64decode(encoded + b"==", validate=False)
    except binascii.Error:
        return encoded


# --------------------------------------------------------------------------- rows


def _hash64(text: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    )


@dataclass(slots=True)
class Parsed:
    """A message read into a row, before the run-wide checks (``MessageBuilder.accept``)."""

    values: dict[str, Any]
    raw: dict[str, Any] | str
    """The raw record (``Row.raw``), or its JSON text when read in a worker process."""
    key: int
    """64-bit hash of the message id."""
    content: int
    """64-bit hash of from, sent_at, subject and body: tells copies from conflicts."""


@dataclass
class MessageBuilder:
    """Turns ``RawMessage``s into ``mail_messages`` rows (see the module docstring).

    One builder per run: it remembers the message ids it has yielded so duplicates
    are dropped or rejected. ``since`` drops rows sent before it (after the
    duplicate check, so the outcome does not depend on ``since``).
    """

    since: datetime | None = None
    duplicates_dropped: int = 0
    skipped_since: int = 0
    _seen: dict[int, int] = field(default_factory=dict)
    _parser: BytesParser = field(default_factory=lambda: BytesParser(policy=compat32))

    def build(
        self,
        raw: RawMessage,
        archive_url: str,
        *,
        fallback_list: str | None = None,
        fixed_list: str | None = None,
    ) -> Item | None:
        """A Row, a Rejected, or None (an identical duplicate, or sent before ``since``)."""
        return self.accept(
            self.parse(raw, archive_url, fallback_list=fallback_list, fixed_list=fixed_list)
        )

    def accept(self, parsed: Parsed | Rejected) -> Item | None:
        """The run-wide checks, in read order: duplicate message ids, then ``since``."""
        if isinstance(parsed, Rejected):
            return parsed
        values = parsed.values
        seen = self._seen.get(parsed.key)
        if seen is not None:
            if seen == parsed.content:
                self.duplicates_dropped += 1
                return None
            record = json.loads(parsed.raw) if isinstance(parsed.raw, str) else parsed.raw
            return Rejected(
                ENTITY,
                f"duplicate Message-ID {values['message_id']} with different content "
                "(the first message with this id was kept)",
                _with_excerpt(record, values["body_text"]),
                native_id=values["message_id"],
            )
        self._seen[parsed.key] = parsed.content
        if self.since is not None and values["sent_at"] < self.since:
            self.skipped_since += 1
            return None
        return Row(ENTITY, values, parsed.raw)

    def parse(
        self,
        raw: RawMessage,
        archive_url: str,
        *,
        fallback_list: str | None = None,
        fixed_list: str | None = None,
    ) -> Parsed | Rejected:
        """The message read on its own (no run state): a ``Parsed`` row or a Rejected."""
        simple = split_simple(raw.data)
        text: str | _Complex | None = _COMPLEX
        if simple is not None:
            raw_headers, first_raw, body = simple
            text = simple_body(first_raw, body)
        if text is _COMPLEX:
            try:
                ctype = simple[1].get("content-type", "") if simple is not None else ""
                if ctype.isascii() and _MULTI.match(ctype):
                    # a plain header block: _parse would parse it twice
                    msg = self._parser.parsebytes(raw.data)
                else:
                    msg = self._parse(raw.data)
                raw_headers = list(msg.raw_items())
                text = body_text(msg)
            except Exception as exc:  # the email package has its own bugs
                return self._unparseable(raw, archive_url, exc)
        assert not isinstance(text, _Complex)
        headers = [[name, header_text(value) or ""] for name, value in raw_headers]
        first: dict[str, str] = {}  # the first value of each name, as compat32's get()
        for name, value in headers:
            first.setdefault(name.lower(), value)
        envelope = decode_bytes(raw.envelope)
        record: dict[str, Any] = {
            "envelope": envelope,
            "headers": headers,
            "archive_url": archive_url,
            "offset": raw.start,
        }
        subject = normalize_space(decode_words(first.get("subject", "")))
        ids = message_ids(first.get("message-id"))
        native = ids[0] if ids else None
        if not raw.complete:
            return Rejected(
                ENTITY,
                f"truncated message at the end of {archive_url} (byte {raw.start}): "
                "the input ends inside its headers",
                _with_excerpt(record, text),
                native_id=native,
            )
        date_value = first.get("date")
        parsed = parse_date_header(date_value)
        date_source = "header"
        if parsed is None:
            when = envelope_date(raw.envelope)
            if when is None:
                return Rejected(
                    ENTITY,
                    f"no usable date: Date header {date_value!r} and envelope {envelope!r}",
                    _with_excerpt(record, text),
                    native_id=native,
                )
            parsed, date_source = (when, None), "envelope"
        sent_at, offset = parsed
        from_raw = first.get("from")
        from_name, from_email = _address(from_raw)
        generated = native is None
        if native is None:
            basis = "\x1f".join(
                [from_raw or "", date_value or envelope, first.get("subject", ""), text or ""]
            )
            native = hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:32]
            native += "@generated.invalid"
        content = _hash64(
            "\x1f".join([from_email or "", sent_at.isoformat(), subject or "", text or ""])
        )
        in_reply_to = message_ids(first.get("in-reply-to"))
        list_name = fixed_list or list_name_from_id(first.get("list-id")) or fallback_list
        return Parsed(
            {
                "message_id": native,
                "message_id_generated": generated,
                "list_name": list_name,
                "archive_url": archive_url,
                "from_name": from_name,
                "from_email": from_email,
                "subject": subject,
                "sent_at": sent_at,
                "sent_utc_offset_minutes": offset,
                "date_source": date_source,
                "in_reply_to": in_reply_to[0] if in_reply_to else None,
                "references": message_ids(first.get("references")),
                "body_text": text,
            },
            record,
            key=_hash64(native),
            content=content,
        )

    def _parse(self, data: bytes) -> Message:
        """Parse the header block alone; the body is parsed only for multipart messages.

        The feedparser reads a body line by line even when it is one text part; a
        single-part body is handed over as the payload instead (what the full parse
        would produce), which makes parsing about twice as fast.
        """
        end = 0 if data[:1] == b"\n" else data.find(b"\n\n")
        if end < 0:
            return self._parser.parsebytes(data)
        msg = self._parser.parsebytes(data[: end + 1], headersonly=True)
        try:
            # non-empty: a line that is not a header field ended the headers early
            leftover = bool(msg.get_payload())
        except (TypeError, LookupError, ValueError):
            # compat32 decodes an 8-bit leftover with the charset parameter, which
            # fails for an RFC 2231 ``charset*=`` (a tuple)
            leftover = True
        if leftover or msg.get_content_maintype() in ("multipart", "message"):
            return self._parser.parsebytes(data)
        msg.set_payload(data[end + (1 if end == 0 else 2) :].decode("ascii", "surrogateescape"))
        return msg

    def _unparseable(self, raw: RawMessage, archive_url: str, exc: Exception) -> Rejected:
        data = raw.data
        head = data[: data.find(b"\n\n") if b"\n\n" in data else len(data)]
        record: dict[str, Any] = {
            "envelope": decode_bytes(raw.envelope),
            "headers_text": decode_bytes(head),
            "archive_url": archive_url,
            "offset": raw.start,
            "body_excerpt": decode_bytes(data[len(head) :])[:BODY_EXCERPT],
        }
        return Rejected(
            ENTITY,
            f"unparseable message at byte {raw.start} of {archive_url}: "
            f"{type(exc).__name__}: {exc}",
            record,
        )


_SIMPLE_ADDRESS = re.compile(
    r'^\s*"?([^"<>,;:@()\\]*?)"?\s*<([^<>\s"(),;:@]+@[^<>\s"(),;:@]+)>\s*$'
)


def _address(value: str | None) -> tuple[str | None, str | None]:
    if not value or not value.strip():
        return None, None
    simple = _SIMPLE_ADDRESS.match(value)
    if simple is not None:
        return _display_name(decode_words(simple.group(1))), simple.group(2)
    name, email = parseaddr(deobfuscate(value))
    email = email.strip()
    if "@" not in email:
        # garbage: keep the text as the name (what a reader would see), no address
        shown = normalize_space(decode_words(name)) or normalize_space(decode_words(value))
        return (shown if shown and any(c.isalnum() for c in shown) else None), None
    return _display_name(decode_words(name)), email


def _display_name(name: str) -> str | None:
    """The display name, or None when there is none or it is an address in disguise.

    Pipermail repeats the address as the name when the sender had none
    (``jane at example.org (jane at example.org)``); such a name, or any name that
    holds an address (``jane@example.org``, ``jane at example.org``), is dropped so
    no address leaks through ``from_name``.
    """
    shown = normalize_space(name)
    if shown is None or _ADDRESS_LIKE.search(shown) is not None:
        return None
    return shown


def _with_excerpt(record: dict[str, Any], text: str | None) -> dict[str, Any]:
    return {**record, "body_excerpt": (text or "")[:BODY_EXCERPT]}


_BATCH_BUILDER = MessageBuilder()


def parse_batch(
    batch: tuple[list[RawMessage], str, str | None, str | None],
) -> list[Parsed | Rejected]:
    """``MessageBuilder.parse`` over (raw messages, archive, fallback list, fixed list).

    Run in a worker process (``townsquare.workers``): raw records come back as JSON
    text, which is what the lake stores and cheaper to send between processes.
    """
    raws, archive_url, fallback_list, fixed_list = batch
    out: list[Parsed | Rejected] = []
    for raw in raws:
        parsed = _BATCH_BUILDER.parse(
            raw, archive_url, fallback_list=fallback_list, fixed_list=fixed_list
        )
        parsed.raw = to_json_text(parsed.raw)
        out.append(parsed)
    return out
