"""What connectors yield: typed rows for an entity, or rejected input with a reason."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(slots=True)
class Row:
    """One record of a raw entity.

    ``values`` holds the entity's typed columns (see ``townsquare.schemas``); the
    lake adds the lineage columns. ``raw`` is the original record, serialised to JSON
    text by the lake (never containing IP addresses).
    """

    entity: str
    values: dict[str, Any]
    raw: Any = None


@dataclass(slots=True)
class Rejected:
    """Input that could not become a row: lands in quarantine with ``reason``."""

    entity: str
    reason: str
    raw: Any = None
    native_id: str | None = None


Item = Row | Rejected


def to_json_text(obj: Any) -> str | None:
    """Serialise a raw record to JSON text (bytes decoded, datetimes in ISO 8601)."""
    if obj is None:
        return None
    if isinstance(obj, str):
        return obj
    return json.dumps(obj, ensure_ascii=False, default=_json_default, sort_keys=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def utcnow() -> datetime:
    return datetime.now(UTC)
