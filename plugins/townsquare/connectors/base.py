"""The connector contract shared by every source type."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from townsquare.records import Item


@dataclass
class ConnectorContext:
    """What a connector gets from the runner.

    ``state`` holds the cursors/watermarks committed by the previous successful run,
    keyed by entity (``{}`` on the first run). ``since`` is an explicit lower bound
    from the user (``--since``) which, when set, wins over the stored state.
    """

    name: str
    location: str
    state: dict[str, dict[str, Any]] = field(default_factory=dict)
    since: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)


class Connector:
    """Base class: subclasses set ``type``/``entities`` and implement ``items()``.

    ``items()`` streams records; it must not hold the whole input in memory.
    After ``items()`` is exhausted, ``new_state()`` returns the cursors to commit
    (the runner writes them only after the data is durably in the lake).
    """

    type: ClassVar[str]
    entities: ClassVar[tuple[str, ...]]

    def __init__(self, ctx: ConnectorContext) -> None:
        self.ctx = ctx
        self._state: dict[str, dict[str, Any]] = {k: dict(v) for k, v in ctx.state.items()}

    def items(self) -> Iterator[Item]:
        raise NotImplementedError

    def new_state(self) -> dict[str, dict[str, Any]]:
        return self._state

    def interval_key(self) -> str:
        """Identifies the slice of the source this run covers (deterministic run ids)."""
        return repr(sorted((k, sorted(v.items())) for k, v in self.ctx.state.items())) + (
            self.ctx.since or ""
        )
