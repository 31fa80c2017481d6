"""Land one source into the lake: connector → quality gate → atomic commit → state."""

from __future__ import annotations

import gc
import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from townsquare.config import SourceConfig
from townsquare.connectors.base import ConnectorContext
from townsquare.connectors.registry import connector_class
from townsquare.lake import EntityResult, Lake, LakeRun, clean_temporaries
from townsquare.quality import RawGate, check_quarantine_threshold
from townsquare.records import Rejected, Row

log = logging.getLogger("townsquare.pipeline")

Progress = Callable[[str], None]


@dataclass
class IngestResult:
    source: str
    type: str
    run_id: str
    entities: dict[str, EntityResult] = field(default_factory=dict)
    seconds: float = 0.0
    manifest: str | None = None

    @property
    def files(self) -> list[str]:
        return [f for r in self.entities.values() for f in r.files]

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.entities.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "type": self.type,
            "entities": {
                name: {"rows": r.rows, "quarantined": r.quarantined}
                for name, r in sorted(self.entities.items())
            },
            "files": self.files,
            "quarantine_files": [f for r in self.entities.values() for f in r.quarantine_files],
            "run_id": self.run_id,
            "seconds": round(self.seconds, 3),
        }


def make_run_id(source: SourceConfig, interval_key: str) -> str:
    """Deterministic per source and interval: a retry of the same slice replaces it."""
    digest = hashlib.sha256(
        "\x1f".join([source.type, source.name, source.location, interval_key]).encode()
    ).hexdigest()[:16]
    return f"{source.name}-{digest}"


GC_THRESHOLD = 50_000
"""Allocations between young-generation garbage collections during a run (Python's
default is 700)."""


@contextmanager
def fewer_gc_passes(threshold: int = GC_THRESHOLD) -> Iterator[None]:
    """Run the cyclic garbage collector less often while a run allocates millions of rows.

    A run creates and drops millions of small dicts, tuples and lists, almost none in
    reference cycles (plain reference counting frees them). At Python's default
    threshold the collector runs every 700 allocations, and its older-generation
    passes walk every live object, which in an ingest worker includes Great
    Expectations' several hundred MB of imports: that cost about a quarter of the mbox
    connector's time with parse workers (their results are unpickled in this process).
    The old thresholds come back when the run ends.
    """
    old = gc.get_threshold()
    gc.set_threshold(threshold, old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def ingest_source(
    source: SourceConfig,
    *,
    lake: str,
    run_id: str | None = None,
    since: str | None = None,
    quarantine_threshold: float = 0.05,
    progress: Progress | None = None,
    gate: bool = True,
    credentials: dict[str, str] | None = None,
    context: dict[str, Any] | None = None,
    progress_every: int = 10_000,
) -> IngestResult:
    """Land ``source`` into ``lake``; returns the counts. Raises on failure.

    Nothing is visible until every entity's files are complete and the quality gate
    passed; the cursors advance only after the data commit.
    """
    started = time.monotonic()
    say = progress or (lambda _msg: None)
    the_lake = Lake(lake)
    cls = connector_class(source.type)
    removed = clean_temporaries(the_lake, source.name, max_age_seconds=3600)
    if removed:
        log.info(
            "removed %d temporary files left by an interrupted run of %s", removed, source.name
        )
    state = the_lake.read_state(source.name, cls.entities)
    # `since` (the command line) re-reads from that date now; a source's configured `since`
    # only says where its first landing starts: once it has state, runs are incremental
    # (applied every run, it would make every scheduled run re-read from that date)
    if not since and source.since and not any(state.values()):
        since = source.since
    ctx = ConnectorContext(
        name=source.name,
        location=source.location,
        state=state,
        since=since,
        options=dict(source.options),
        credentials=credentials if credentials is not None else source.credentials.resolve(),
    )
    connector = cls(ctx)
    run_id = run_id or make_run_id(source, connector.interval_key())
    say(f"{source.name}: landing {source.type} from {source.location} (run {run_id})")
    run = LakeRun(the_lake, source.name, run_id, gate=RawGate() if gate else None)
    with run, fewer_gc_passes():
        for seen, item in enumerate(connector.items(), 1):
            if isinstance(item, Row):
                run.writer(item.entity).add(item.values, item.raw)
            elif isinstance(item, Rejected):
                run.writer(item.entity).reject(item.reason, item.raw, item.native_id)
            else:  # pragma: no cover - a connector bug
                raise TypeError(
                    f"connector yielded {type(item).__name__}, expected Row or Rejected"
                )
            if seen % progress_every == 0:
                say(f"{source.name}: {seen:,} records read")
        for entity in cls.entities:
            run.writer(entity)  # every entity gets a manifest entry, even with no rows
        results = run.finish()
        interval = {"state_before": state, "since": ctx.since}
        extra = {"type": source.type, "location": source.location, **(context or {})}
        try:
            for entity, r in results.items():
                check_quarantine_threshold(entity, r.rows, r.quarantined, quarantine_threshold)
        except Exception:
            run.commit(interval=interval, extra={**extra, "error": "quality gate"}, data=False)
            raise
        results = run.commit(connector.new_state(), interval=interval, extra=extra)
    # the salt of the warehouse's pseudonymous ids lives with the data (created once)
    the_lake.ensure_identity_salt()
    result = IngestResult(
        source=source.name,
        type=source.type,
        run_id=run_id,
        entities=results,
        seconds=time.monotonic() - started,
        manifest=the_lake.uri(the_lake.manifest_path(run_id)),
    )
    for entity, r in sorted(results.items()):
        say(f"{source.name}: {entity}: {r.rows:,} rows, {r.quarantined:,} quarantined")
    return result


def adhoc_source(
    source_type: str, location: str, name: str, options: dict | None = None
) -> SourceConfig:
    """A SourceConfig for ``townsquare ingest`` (no config file), validated the same way."""
    return SourceConfig(type=source_type, name=name, location=location, options=options or {})
