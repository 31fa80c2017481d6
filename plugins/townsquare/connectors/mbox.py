"""mbox files → ``mail_messages``.

``ctx.location`` is an mbox file or a folder of them. In a folder, the files read
are those named ``*.mbox``, ``*.mbx``, ``*.txt``, ``*.gz`` (any of these
gzip-compressed: ``*.mbox.gz``, ``*.txt.gz``) and files without an extension
(``Inbox``, mutt/Thunderbird style), in name order; hidden files (``.name``) and
other extensions are ignored; sub-folders are not searched. A matching file whose
first non-blank line (decompressed) is not a ``From `` line (a ``README.txt``, an
extension-less notes file) is skipped with a warning naming it; an empty file is
an mbox with no messages yet. A folder with no mbox at all raises
``MboxFormatError``. A single file given as LOCATION is read whatever its name
(and raises ``MboxFormatError`` when it is not an mbox). Gzip is detected by magic
bytes, so a plain file named ``.gz`` (or a gzip file named ``.mbox``) reads fine.

Parsing, dates, ids, duplicates, bad input: see ``townsquare.mail`` (the same code
reads Pipermail archives). In short: every message becomes a row or a
``Rejected`` with a reason (no usable date, a different message reusing a
Message-ID, a truncated last message); exact duplicate copies are dropped; a file
given as LOCATION that is not an mbox raises ``MboxFormatError`` naming it (in a
folder such files are skipped, see above), and a damaged gzip
stream raises ``MboxFormatError`` too (rows before the damage were yielded, but
the runner aborts, so nothing lands).

Options (``ctx.options``)
    ``list_name``: the list name for messages without a ``List-Id`` header
    (default: the file name without its mbox/compression suffixes, e.g.
    ``lumen-dev.mbox.gz`` → ``lumen-dev``).

    ``workers``: worker processes that parse messages while this process splits
    the files and lands the rows (``townsquare.workers``): ``auto`` (default: one
    per CPU, at most 4, none on a single CPU), or a number; ``0`` parses
    in-process. Workers are used only for files of at least
    ``parallel_min_bytes`` (default 32 MiB): starting them costs more than a small
    file takes. Rows, their order, quarantined messages and the state are the same
    either way.

Incremental loads and state
    The state of ``mail_messages`` is ``{"files": {NAME: CURSOR}}`` keyed by file
    name (the folder is flat), where CURSOR is::

        {"size": 123456, "mtime_ns": 1761..., "offset": 120000,
         "prefix_sha256": "…", "messages": 42}

    ``size``/``mtime_ns`` are the file's on disk; ``offset`` is the byte offset
    (in the decompressed stream) after the last message known to be complete,
    ``prefix_sha256`` the SHA-256 of the stream bytes before it, and ``messages``
    the number of messages before it. The last message of a file is known to be
    complete only when the file ends with a blank line after it (the mbox
    terminator): a file being written may stop mid-body; that message still lands
    as a row, but ``offset`` stays at its start. Next run:

    - same size and mtime → the file is skipped without being opened;
    - otherwise the first ``offset`` bytes are hashed: unchanged → reading resumes
      at ``offset`` (an appended mbox lands only its new messages; a last message
      that was truncated or not yet terminated is read again whole, landing again:
      staging dedups on ``message_id``, keeping the latest ingestion); changed →
      the file was rewritten, so it is read from the start with a warning (rows
      landed before are landed again). If the text at ``offset`` is not a
      ``From `` line (the writer had paused after a blank line inside a body),
      the file is read again from the start with a warning.

    Hashing the prefix is much faster than parsing, but it does read the whole
    old part of an appended file. Files that disappear keep their cursor (so a
    file moved away and back is not re-landed). ``ctx.since`` (``--since``) wins
    over the state: every file is read from the start and messages sent before
    ``since`` are skipped. The state is exposed by ``new_state()`` only after
    ``items()`` ran to the end; the runner commits it after the data.

    Duplicate detection spans one run: a resumed file's new part is checked
    against the messages read in this run, not against earlier runs.

``interval_key()`` is a hash of the stored cursors, the files' names, sizes and
mtimes, and ``since``: a retry of the same slice gets the same run id, a run over
changed files a new one.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

from townsquare.connectors.base import Connector, ConnectorContext
from townsquare.mail import (
    ENTITY,
    MboxFormatError,
    MboxSplitter,
    MessageBuilder,
    Parsed,
    RawMessage,
    hash_prefix,
    open_stream,
    parse_batch,
)
from townsquare.records import Item, Rejected
from townsquare.text import parse_since
from townsquare.workers import OrderedPool, parse_workers

log = logging.getLogger(__name__)

MBOX_SUFFIXES = (".mbox", ".mbx", ".txt", ".gz")
_SNIFF_LINES = 1000
"""Blank lines tolerated before the first line when sniffing a folder's files."""
_SNIFF_BYTES = 4096
_STRIP_SUFFIXES = (".gz", ".mbox", ".mbx", ".txt")
PARALLEL_MIN_BYTES = 32 << 20
"""Files smaller than this are parsed in-process (see the ``workers`` option)."""
BATCH_MESSAGES = 500
"""Messages a worker parses per batch."""


def looks_like_mbox(path: Path) -> bool:
    """Whether the file's first non-blank line (decompressed) is a ``From `` line.

    An empty (or blank) file is an mbox with no messages yet. A file that cannot be
    sniffed (damaged gzip, unreadable) counts as an mbox, so reading it reports why.
    """
    try:
        with path.open("rb") as fh:
            stream = open_stream(fh)
            for _ in range(_SNIFF_LINES):
                line = stream.readline(_SNIFF_BYTES)
                if not line:
                    return True
                if line.strip(b"\xef\xbb\xbf\r\n") == b"":
                    continue
                return line.lstrip(b"\xef\xbb\xbf").startswith(b"From ")
    except (OSError, EOFError, zlib.error):
        return True
    return False


def mbox_files(location: str) -> list[Path]:
    """The mbox files at ``location``: a file, or a folder's matching files by name.

    In a folder, a matching file whose first non-blank line is not a ``From `` line
    (``README.txt``, an extension-less notes file) is skipped with a warning.
    """
    if "://" in location:
        raise ValueError(
            f"mbox: {location} is a URL; the mbox connector reads local files "
            "(use the 'pipermail' source type for a Mailman archive)"
        )
    path = Path(location).expanduser()
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"mbox: file or folder not found: {path}")
    candidates = sorted(
        p
        for p in path.iterdir()
        if p.is_file()
        and not p.name.startswith(".")
        and (p.suffix == "" or p.name.lower().endswith(MBOX_SUFFIXES))
    )
    if not candidates:
        wanted = ", ".join("*" + s for s in MBOX_SUFFIXES)
        raise FileNotFoundError(f"mbox: no input files ({wanted} or no extension) in folder {path}")
    files = []
    for candidate in candidates:
        if looks_like_mbox(candidate):
            files.append(candidate)
        else:
            log.warning(
                "mbox: skipping %s: not an mbox file (its first line is not a 'From ' line)",
                candidate,
            )
    if not files:
        names = ", ".join(p.name for p in candidates)
        raise MboxFormatError(
            f"mbox: no mbox file in folder {path}: none of {names} starts with a 'From ' line"
        )
    return files


def list_name_from_file(path: Path) -> str:
    """``lumen-dev.mbox.gz`` → ``lumen-dev``."""
    name = path.name
    stripped = True
    while stripped:
        stripped = False
        for suffix in _STRIP_SUFFIXES:
            if name.lower().endswith(suffix) and len(name) > len(suffix):
                name, stripped = name[: -len(suffix)], True
    return name


class MboxConnector(Connector):
    """Reads mbox files incrementally (see the module docstring)."""

    type: ClassVar[str] = "mbox"
    entities: ClassVar[tuple[str, ...]] = (ENTITY,)

    def __init__(self, ctx: ConnectorContext) -> None:
        super().__init__(ctx)
        self.files = mbox_files(ctx.location)
        self.since = parse_since(ctx.since)
        self.list_name: str | None = ctx.options.get("list_name") or None
        stored = self._state.get(ENTITY, {}).get("files")
        self._cursors: dict[str, dict[str, Any]] = dict(stored) if isinstance(stored, dict) else {}
        self.builder = MessageBuilder(since=self.since)
        self.workers = parse_workers(ctx.options.get("workers"), "workers")
        try:
            self.parallel_min_bytes = int(ctx.options.get("parallel_min_bytes", PARALLEL_MIN_BYTES))
        except (TypeError, ValueError):
            raise ValueError(
                "option parallel_min_bytes: expected a number of bytes, got "
                f"{ctx.options.get('parallel_min_bytes')!r}"
            ) from None
        self._pool: OrderedPool | None = None
        self.skipped_files: list[str] = []
        self._new: dict[str, dict[str, Any]] = {}
        self._complete = False

    # -- the connector contract -------------------------------------------------

    def interval_key(self) -> str:
        parts = [repr(sorted(self._cursors.items()))]
        for path in self.files:
            st = path.stat()
            parts.append(f"{path.name}:{st.st_size}:{st.st_mtime_ns}")
        parts.append(self.ctx.since or "")
        return "mbox:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    def items(self) -> Iterator[Item]:
        self._complete = False
        self._new = {}
        try:
            for path in self.files:
                yield from self._file_items(path)
        finally:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
        if self.builder.duplicates_dropped:
            log.info(
                "mbox: dropped %d identical duplicate messages", self.builder.duplicates_dropped
            )
        if self.builder.skipped_since:
            log.info("mbox: skipped %d messages sent before --since", self.builder.skipped_since)
        self._complete = True

    def new_state(self) -> dict[str, dict[str, Any]]:
        """The file cursors to commit: updated only once ``items()`` has run to the end."""
        if self._complete:
            self._state[ENTITY] = {"files": {**self._cursors, **self._new}}
        return self._state

    # -- one file ---------------------------------------------------------------

    def _file_items(self, path: Path) -> Iterator[Item]:
        st = path.stat()
        cursor = None if self.since else self._cursors.get(path.name)
        if cursor and cursor.get("size") == st.st_size and cursor.get("mtime_ns") == st.st_mtime_ns:
            self.skipped_files.append(path.name)
            log.info("mbox: %s unchanged since the last run; skipped", path)
            return
        fallback = self.list_name or list_name_from_file(path)
        archive = str(path.resolve())
        handles = [path.open("rb")]

        def reopen() -> IO[bytes]:
            handles.append(path.open("rb"))
            return open_stream(handles[-1])

        try:
            stream = open_stream(handles[0])
            start, digest, earlier = self._resume(path, stream, cursor)
            if start == 0 and earlier:
                stream = reopen()
            splitter = MboxSplitter(stream, str(path), start=start, digest=digest, reopen=reopen)
            landed = [0]

            def counted() -> Iterator[RawMessage]:
                for raw in splitter:
                    landed[0] += raw.landed
                    yield raw

            for parsed in self._parsed(counted(), archive, fallback, st.st_size):
                item = self.builder.accept(parsed)
                if item is not None:
                    yield item
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise MboxFormatError(f"mbox: {path}: damaged gzip stream ({exc})") from None
        finally:
            for handle in handles:
                handle.close()
        # splitter.start is 0 again when the resume offset was wrong and it re-read the file
        count = landed[0] + (int(cursor.get("messages", 0)) if cursor and splitter.start else 0)
        self._new[path.name] = {
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "offset": splitter.landed,
            "prefix_sha256": splitter.prefix_sha256(),
            "messages": count,
        }

    def _parsed(
        self, raws: Iterator[RawMessage], archive: str, fallback: str, size: int
    ) -> Iterator[Parsed | Rejected]:
        """The messages read, in order: in worker processes for a large file."""
        if self.workers < 1 or size < self.parallel_min_bytes:
            for raw in raws:
                yield self.builder.parse(raw, archive, fallback_list=fallback)
            return
        if self._pool is None:
            log.info("mbox: parsing in %d worker processes", self.workers)
            self._pool = OrderedPool(self.workers)
        batches = ((batch, archive, fallback, None) for batch in _batched(raws, BATCH_MESSAGES))
        for results in self._pool.map(parse_batch, batches):
            yield from results

    def _resume(
        self, path: Path, stream: Any, cursor: dict[str, Any] | None
    ) -> tuple[int, Any, bool]:
        """(start offset, digest of the bytes before it, whether bytes were consumed)."""
        offset = int((cursor or {}).get("offset") or 0)
        expected = (cursor or {}).get("prefix_sha256")
        if offset <= 0 or not expected:
            return 0, None, False
        digest = hash_prefix(stream, offset)
        if digest is not None and digest.hexdigest() == expected:
            log.info("mbox: %s: resuming after byte %d (already landed)", path, offset)
            return offset, digest, True
        log.warning(
            "mbox: %s changed before byte %d (rewritten, not appended): reading it again "
            "from the start; messages landed before are landed again",
            path,
            offset,
        )
        return 0, None, True


def _batched(items: Iterator[RawMessage], size: int) -> Iterator[list[RawMessage]]:
    batch: list[RawMessage] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
