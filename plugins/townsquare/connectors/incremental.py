"""What incremental connectors share: watermarks, a duplicate-resolving spool, dates.

- ``Watermark``: the newest date seen for an entity in a run, capped at the run's start
  and held back when a paged listing shifted (so the next run reads that stretch again).
- ``Spool``: records spooled to a temporary file while listings are read; ``drain()``
  yields each key's newest version once (memory holds one small tuple per key).
- ``parse_gmt`` / ``to_watermark`` / ``stored_time``: ISO dates in and out of state.
"""

from __future__ import annotations

import logging
import pickle
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from townsquare.records import Item
from townsquare.text import parse_since

log = logging.getLogger("townsquare.connectors.incremental")


class Watermark:
    """The newest date seen for an entity, held back when a listing shifted."""

    def __init__(self, start: datetime | None, ceiling: datetime) -> None:
        self.start = start
        self.ceiling = ceiling
        self.seen: datetime | None = None
        self.capped = False
        self.cap: datetime | None = None
        """With ``capped``: do not advance past this (None: do not advance at all)."""

    def see(self, when: datetime | None) -> None:
        if when is not None and when > self.ceiling:
            when = self.ceiling
        if when is not None and (self.seen is None or when > self.seen):
            self.seen = when

    def hold(self, limit: datetime | None, why: str) -> None:
        """Do not advance past ``limit`` this run (None: keep the starting watermark)."""
        if self.capped and (self.cap is None or (limit is not None and limit >= self.cap)):
            return
        self.capped, self.cap = True, limit
        shown = to_watermark(limit) if limit else "where this run started"
        log.warning("%s; the watermark stays at or before %s", why, shown)

    def value(self) -> datetime | None:
        if self.seen is None or (self.capped and self.cap is None):
            return None
        return min(self.seen, self.cap) if self.cap is not None else self.seen


class Spool:
    """Items spooled to a temporary file; ``drain()`` yields each key's newest version.

    Memory holds one small tuple per key; records wait on disk (in memory up to 8 MB).
    """

    def __init__(self, entity: str) -> None:
        self.entity = entity
        # Closed by drain(); lives across the listing, so no with-block.
        self._file = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
        self._winner: dict[str, tuple[Any, int]] = {}
        self._count = 0
        self._keyed = 0

    def add(self, key: str | None, version: Any, items: list[Item]) -> None:
        index = self._count
        self._count += 1
        pickle.dump((key, items), self._file, protocol=pickle.HIGHEST_PROTOCOL)
        if key is None:
            return
        self._keyed += 1
        best = self._winner.get(key)
        if best is None or _not_older(version, best[0]):
            self._winner[key] = (version, index)

    def drain(self) -> Iterator[Item]:
        self._file.seek(0)
        try:
            for index in range(self._count):
                key, items = pickle.load(self._file)
                if key is None or self._winner[key][1] == index:
                    yield from items
        finally:
            self._file.close()
        dropped = self._keyed - len(self._winner)
        if dropped:
            log.info("%s: %d duplicate record(s) dropped, kept the newest", self.entity, dropped)


def _not_older(version: Any, best: Any) -> bool:
    if version is None or best is None:
        return True
    return bool(version >= best)


def parse_gmt(value: Any) -> datetime | None:
    """A WordPress ``*_gmt`` value (ISO 8601 without offset, in UTC) as an aware datetime."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a date string: {value!r}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"not an ISO 8601 date: {value!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def to_watermark(when: datetime) -> str:
    """The form stored in state and sent to WordPress: ``2024-03-05T07:00:00Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stored_time(state: dict[str, dict[str, Any]], entity: str, key: str) -> datetime | None:
    value = state.get(entity, {}).get(key)
    if not value:
        return None
    try:
        return parse_since(str(value))
    except ValueError:
        raise ValueError(
            f"stored state for {entity} has an unreadable {key} {value!r}; "
            f"fix or delete the state file for this source, or pass --since"
        ) from None


def text_or_none(value: Any) -> str | None:
    """A text field: None for null/empty, numbers and the like as their text."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)
