"""Disk spools: how the generator writes in time order without holding a source in memory.

``MonthSpool``: records bucketed by month in small temporary files, read back one month
at a time sorted by (time, sequence). Used where items are generated thread by thread
but must be written chronologically (mbox archives, GH Archive hours).

``SortedSpill``: records appended to one temporary file with a sort key each; only the
keys and offsets stay in memory, and the records are read back in key order (GitHub
listings sorted by ``updated_at``, the Discourse topic list sorted by ``bumped_at``).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from townsquare.synth.timeline import month_of

_HEAD = struct.Struct("<qqI")
_FLUSH = 256 * 1024


class MonthSpool:
    """Records ``(t, seq, bytes)`` by month; ``months()`` yields each month sorted."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.name = name
        folder.mkdir(parents=True, exist_ok=True)
        self._buffers: dict[int, bytearray] = {}
        self._written: set[int] = set()
        self.count = 0

    def _path(self, month: int) -> Path:
        return self.folder / f"{self.name}-{month:03d}.spool"

    def add(self, t: int, seq: int, data: bytes) -> None:
        month = month_of(t)
        buf = self._buffers.get(month)
        if buf is None:
            buf = self._buffers[month] = bytearray()
        buf += _HEAD.pack(t, seq, len(data))
        buf += data
        self.count += 1
        if len(buf) >= _FLUSH:
            self._flush(month)

    def _flush(self, month: int) -> None:
        buf = self._buffers.get(month)
        if buf:
            with self._path(month).open("ab") as fh:
                fh.write(buf)
            self._written.add(month)
            buf.clear()

    def months(self) -> Iterator[tuple[int, SortedMonth]]:
        """``(month, records)`` in month order, each month's records sorted; files removed."""
        for month in list(self._buffers):
            self._flush(month)
        for month in sorted(self._written):
            path = self._path(month)
            data = path.read_bytes()
            path.unlink()
            index = []
            pos, end = 0, len(data)
            while pos < end:
                t, seq, n = _HEAD.unpack_from(data, pos)
                pos += _HEAD.size
                index.append((t, seq, pos, n))
                pos += n
            index.sort()
            yield month, SortedMonth(data, index)
        self._written.clear()
        self._buffers.clear()


class SortedMonth:
    """A month's records ``(t, seq, data)`` in (t, seq) order, sliced from the month's spool
    file as they are read: the month is held once (the last months of GH Archive at scale
    10 are a few hundred MB), not once more as a record each."""

    def __init__(self, data: bytes, index: list[tuple[int, int, int, int]]) -> None:
        self._data = data
        self._index = index

    def __len__(self) -> int:
        return len(self._index)

    def __iter__(self) -> Iterator[tuple[int, int, bytes]]:
        data = self._data
        for t, seq, pos, n in self._index:
            yield t, seq, data[pos : pos + n]


class SortedSpill:
    """Records with sort keys in one temporary file; read back in key order."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fh = path.open("w+b")
        self._index: list[tuple[Any, int, int]] = []
        self._end = 0

    def __len__(self) -> int:
        return len(self._index)

    def add(self, key: Any, data: bytes) -> None:
        self._fh.write(data)
        self._index.append((key, self._end, len(data)))
        self._end += len(data)

    def keys(self) -> list[Any]:
        return sorted(k for k, _, _ in self._index)

    def sorted(self) -> Iterator[tuple[Any, bytes]]:
        self._fh.flush()
        for key, offset, length in sorted(self._index, key=lambda r: r[0]):
            self._fh.seek(offset)
            yield key, self._fh.read(length)
        self._fh.seek(self._end)

    def close(self) -> None:
        self._fh.close()
        self.path.unlink(missing_ok=True)
