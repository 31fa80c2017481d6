"""The lake: atomic, idempotent, streaming Parquet landing of raw entities.

Layout (the contract between ingestion and dbt)::

    <lake>/raw/<entity>/source=<slug>/ingest_date=YYYY-MM-DD/<run_id>-<n>.parquet
    <lake>/quarantine/<entity>/source=<slug>/ingest_date=YYYY-MM-DD/<run_id>.parquet
    <lake>/_state/<slug>/<entity>.json
    <lake>/_manifests/<run_id>.json

How a run lands (``LakeRun``):

1. Rows stream into per-entity ``ParquetWriter``s, one record batch at a time, under
   hidden temporary names (``.<run_id>-<n>.parquet.tmp``) that no reader's
   ``*.parquet`` glob matches. Memory holds one batch per entity.
2. ``commit()`` closes and fsyncs every file, renames each into place, removes
   files an earlier attempt of the same run id left behind (so re-running an
   interval replaces it: no duplicates), writes the manifest, and only then the
   state (watermarks). A crash before the rename leaves only hidden temporaries
   (removed by the next run); a crash before the state write leaves the
   watermark where it was, so the retry re-reads the same interval under the same
   deterministic run id and replaces the same files.
3. ``abort()`` removes the temporaries.

Paths go through fsspec, so ``s3://bucket/lake`` works where fsspec's S3
filesystem is installed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import posixpath
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from townsquare.records import to_json_text
from townsquare.schemas import QUARANTINE_SCHEMA, EntitySpec, get_entity

log = logging.getLogger("townsquare.lake")

DEFAULT_BATCH_ROWS = 10_000
DEFAULT_FILE_ROWS = 1_000_000


class LakeError(RuntimeError):
    """A problem writing to or reading from the lake."""


class Lake:
    """A lake root on any fsspec filesystem."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") or "/"
        self.fs, root = fsspec.core.url_to_fs(self.url)
        self.root = root.rstrip("/") if root != "/" else root
        self.is_local = isinstance(self.fs, LocalFileSystem)

    def path(self, *parts: str) -> str:
        return posixpath.join(self.root, *parts)

    def uri(self, path: str) -> str:
        """A path as a URL readers (DuckDB, humans) can use."""
        if self.is_local:
            return path
        protocol = self.fs.protocol[0] if isinstance(self.fs.protocol, tuple) else self.fs.protocol
        return f"{protocol}://{path}"

    # -- layout ---------------------------------------------------------------
    def partition_dir(self, area: str, entity: str, source: str, ingest_date: date) -> str:
        return self.path(area, entity, f"source={source}", f"ingest_date={ingest_date.isoformat()}")

    def state_path(self, source: str, entity: str) -> str:
        return self.path("_state", source, f"{entity}.json")

    def manifest_path(self, run_id: str) -> str:
        return self.path("_manifests", f"{run_id}.json")

    def entity_glob(self, entity: str, source: str = "*") -> str:
        return self.path("raw", entity, f"source={source}", "ingest_date=*", "*.parquet")

    # -- small durable writes ----------------------------------------------------
    def write_bytes_atomic(self, path: str, data: bytes) -> None:
        self.fs.makedirs(posixpath.dirname(path), exist_ok=True)
        tmp = _tmp_name(path)
        with self.fs.open(tmp, "wb") as fh:
            fh.write(data)
            _fsync(fh)
        self.rename(tmp, path)

    def write_json_atomic(self, path: str, obj: Any) -> None:
        text = json.dumps(obj, indent=2, sort_keys=True, default=str)
        self.write_bytes_atomic(path, text.encode("utf-8"))

    def read_json(self, path: str) -> Any | None:
        if not self.fs.exists(path):
            return None
        with self.fs.open(path, "rb") as fh:
            return json.loads(fh.read().decode("utf-8"))

    def rename(self, src: str, dst: str) -> None:
        if self.is_local:
            os.replace(src, dst)
            _fsync_dir(posixpath.dirname(dst))
        else:
            self.fs.mv(src, dst)

    # -- state ---------------------------------------------------------------------
    def read_state(self, source: str, entities: tuple[str, ...] | list[str]) -> dict[str, dict]:
        """The committed cursors of ``source`` per entity ({} where none)."""
        state: dict[str, dict] = {}
        for entity in entities:
            doc = self.read_json(self.state_path(source, entity))
            if doc and isinstance(doc.get("state"), dict):
                state[entity] = doc["state"]
        return state

    def write_state(self, source: str, entity: str, state: dict, run_id: str) -> None:
        doc = {"state": state, "run_id": run_id, "committed_at": datetime.now(UTC).isoformat()}
        self.write_json_atomic(self.state_path(source, entity), doc)

    # -- the identity salt ---------------------------------------------------------------
    def identity_salt_path(self) -> str:
        return self.path("_state", "identity_salt")

    def ensure_identity_salt(self) -> str:
        """The secret salt of the warehouse's pseudonymous ids, created on first use.

        Person and identity ids are salted hashes (the dbt macro ``pseudonym``); with a
        public salt anyone could hash a known address and find the person in the marts.
        $TOWNSQUARE_ID_SALT wins when set; otherwise a random salt is kept with the lake
        (``_state/identity_salt``, created once, never rewritten: changing it changes every
        id), where dbt reads it.
        """
        path = self.identity_salt_path()
        if self.fs.exists(path):
            with self.fs.open(path, "rb") as fh:
                return fh.read().decode("ascii").strip()
        salt = secrets.token_hex(32)
        self.fs.makedirs(posixpath.dirname(path), exist_ok=True)
        if not self.is_local:
            self.write_bytes_atomic(path, salt.encode("ascii"))
            return salt
        tmp = _tmp_name(path)
        with open(tmp, "wb") as fh:
            fh.write(salt.encode("ascii"))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # fails if another process created it first: theirs wins
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        _fsync_dir(posixpath.dirname(path))
        with open(path, "rb") as fh:
            return fh.read().decode("ascii").strip()

    def files(self, entity: str, source: str = "*") -> list[str]:
        return sorted(self.fs.glob(self.entity_glob(entity, source)))


def _tmp_name(path: str) -> str:
    head, tail = posixpath.split(path)
    return posixpath.join(head, f".{tail}.{os.getpid()}.tmp")


def _fsync(fh: Any) -> None:
    """fsync a local file handle (fsspec wraps it); a no-op for object stores."""
    fh.flush()
    inner = getattr(fh, "f", fh)
    with contextlib.suppress(AttributeError, OSError, ValueError):
        os.fsync(inner.fileno())


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- coercion -----------------------------------------------------------------------


class CoercionError(ValueError):
    pass


def _coerce(value: Any, typ: pa.DataType, name: str) -> Any:
    if value is None:
        return None
    if pa.types.is_string(typ):
        if isinstance(value, str):
            return value
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        if isinstance(value, int | float | bool):
            return str(value)
        raise CoercionError(f"column {name}: expected text, got {type(value).__name__}")
    if pa.types.is_timestamp(typ):
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise CoercionError(f"column {name}: timestamp without a time zone ({value})")
            return value.astimezone(UTC)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise CoercionError(
                    f"column {name}: not an ISO 8601 timestamp: {value!r}"
                ) from None
            return _coerce(parsed, typ, name)
        raise CoercionError(f"column {name}: expected a timestamp, got {type(value).__name__}")
    if pa.types.is_integer(typ):
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise CoercionError(f"column {name}: expected an integer, got {value!r}") from None
    if pa.types.is_boolean(typ):
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise CoercionError(f"column {name}: expected true or false, got {value!r}")
    if pa.types.is_list(typ):
        if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
            raise CoercionError(f"column {name}: expected a list, got {type(value).__name__}")
        return [_coerce(v, typ.value_type, name) for v in value if v is not None]
    return value


def _coercer(typ: pa.DataType, name: str) -> Callable[[Any], Any]:
    """``_coerce`` for one column, with the type tests done once: values that already have
    the column's Python type (nearly all of them) return at once."""
    if pa.types.is_string(typ):
        exact: type = str
    elif pa.types.is_integer(typ):
        exact = int
    elif pa.types.is_boolean(typ):
        exact = bool
    elif pa.types.is_timestamp(typ):

        def timestamp(value: Any) -> Any:
            if type(value) is datetime and value.tzinfo is UTC:
                return value
            return _coerce(value, typ, name)

        return timestamp
    elif pa.types.is_list(typ) and pa.types.is_string(typ.value_type):

        def strings(value: Any) -> Any:
            if type(value) is list and all(type(v) is str for v in value):
                return value
            return _coerce(value, typ, name)

        return strings
    else:
        return lambda value: _coerce(value, typ, name)

    def coerce(value: Any) -> Any:
        if value is None or type(value) is exact:
            return value
        return _coerce(value, typ, name)

    return coerce


# -- writers --------------------------------------------------------------------------


@dataclass
class Part:
    tmp: str
    final: str
    rows: int


class _ParquetStream:
    """Streams record batches to hidden temporary parts, rolling over at ``file_rows``."""

    def __init__(
        self,
        lake: Lake,
        directory: str,
        stem: str,
        schema: pa.Schema,
        file_rows: int,
        single_file: bool = False,
    ) -> None:
        self.lake, self.directory, self.stem, self.schema = lake, directory, stem, schema
        self.file_rows = file_rows
        self.single_file = single_file
        self.parts: list[Part] = []
        self._writer: pq.ParquetWriter | None = None
        self._fh: Any = None

    def _open(self) -> None:
        n = len(self.parts)
        name = f"{self.stem}.parquet" if self.single_file else f"{self.stem}-{n}.parquet"
        final = posixpath.join(self.directory, name)
        tmp = posixpath.join(self.directory, f".{name}.tmp")
        self.lake.fs.makedirs(self.directory, exist_ok=True)
        self._fh = self.lake.fs.open(tmp, "wb")
        self._writer = pq.ParquetWriter(self._fh, self.schema, compression="zstd")
        self.parts.append(Part(tmp=tmp, final=final, rows=0))

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        if self._writer is None or (not self.single_file and self.parts[-1].rows >= self.file_rows):
            self._close_current()
            self._open()
        assert self._writer is not None
        self._writer.write_batch(batch)
        self.parts[-1].rows += batch.num_rows

    def _close_current(self) -> None:
        if self._writer is not None:
            self._writer.close()
            _fsync(self._fh)
            self._fh.close()
            self._writer = None
            self._fh = None

    def close(self) -> list[Part]:
        self._close_current()
        return self.parts

    def discard(self) -> None:
        with contextlib.suppress(Exception):
            self._close_current()
        for part in self.parts:
            with contextlib.suppress(FileNotFoundError):
                self.lake.fs.rm(part.tmp)


RowGate = Callable[[EntitySpec, list[dict[str, Any]]], dict[int, str]]
"""Row-level quality rules: given a batch of rows, the indices to quarantine with reasons."""


class EntityWriter:
    """Buffers one entity's rows into record batches and streams them to parts."""

    def __init__(self, run: LakeRun, spec: EntitySpec) -> None:
        self.run, self.spec = run, spec
        self.rows = 0
        self.quarantined = 0
        self.duplicates = 0
        self.reasons: dict[str, int] = {}
        self._buffer: list[dict[str, Any]] = []
        self._raw: list[str | None] = []
        # 64-bit hashes of the keys seen in this run (about 80 bytes a row, not the keys)
        self._seen: set[int] = set()
        self._coercers = [(f.name, _coercer(f.type, f.name)) for f in spec.fields]
        lake, source, d = run.lake, run.source, run.ingest_date
        self._data = _ParquetStream(
            lake,
            lake.partition_dir("raw", spec.name, source, d),
            run.run_id,
            spec.schema,
            run.file_rows,
        )
        self._quarantine = _ParquetStream(
            lake,
            lake.partition_dir("quarantine", spec.name, source, d),
            run.run_id,
            QUARANTINE_SCHEMA,
            run.file_rows,
            single_file=True,
        )
        self._q_buffer: list[dict[str, Any]] = []

    # -- intake -------------------------------------------------------------------
    def add(self, values: dict[str, Any], raw: Any = None) -> bool:
        """Add a row; returns False if it went to quarantine instead."""
        raw_text = to_json_text(raw)
        native_id = _native_id(self.spec, values)
        try:
            row = {name: coerce(values.get(name)) for name, coerce in self._coercers}
        except CoercionError as exc:
            self.reject(str(exc), raw_text, native_id)
            return False
        missing = [k for k in self.spec.key if row.get(k) in (None, "")]
        if missing:
            self.reject(f"missing key column {', '.join(missing)}", raw_text, native_id)
            return False
        key = hash(tuple(row[k] for k in self.spec.key))
        if key in self._seen:
            self.duplicates += 1
            self.reject(f"duplicate id in batch: {native_id}", raw_text, native_id)
            return False
        self._seen.add(key)
        self._buffer.append(row)
        self._raw.append(raw_text)
        if len(self._buffer) >= self.run.batch_rows:
            self.flush()
        return True

    def reject(self, reason: str, raw: Any = None, native_id: str | None = None) -> None:
        self.quarantined += 1
        short = reason.split(":")[0]
        self.reasons[short] = self.reasons.get(short, 0) + 1
        self._q_buffer.append({"native_id": native_id, "reason": reason, "raw": to_json_text(raw)})
        if len(self._q_buffer) >= self.run.batch_rows:
            self._flush_quarantine()

    # -- output ----------------------------------------------------------------------
    def flush(self) -> None:
        if self._buffer and self.run.gate is not None:
            bad = self.run.gate(self.spec, self._buffer)
            if bad:
                keep_rows, keep_raw = [], []
                for i, (row, raw) in enumerate(zip(self._buffer, self._raw, strict=True)):
                    if i in bad:
                        self.reject(bad[i], raw, _native_id(self.spec, row))
                    else:
                        keep_rows.append(row)
                        keep_raw.append(raw)
                self._buffer, self._raw = keep_rows, keep_raw
        if self._buffer:
            n = len(self._buffer)
            cols: dict[str, list[Any]] = {
                "source": [self.run.source] * n,
                "ingested_at": [self.run.ingested_at] * n,
                "run_id": [self.run.run_id] * n,
            }
            for f in self.spec.fields:
                cols[f.name] = [r[f.name] for r in self._buffer]
            cols["raw"] = self._raw
            self._data.write(pa.RecordBatch.from_pydict(cols, schema=self.spec.schema))
            self.rows += n
        self._buffer, self._raw = [], []

    def _flush_quarantine(self) -> None:
        if not self._q_buffer:
            return
        n = len(self._q_buffer)
        cols = {
            "source": [self.run.source] * n,
            "ingested_at": [self.run.ingested_at] * n,
            "run_id": [self.run.run_id] * n,
            "native_id": [q["native_id"] for q in self._q_buffer],
            "reason": [q["reason"] for q in self._q_buffer],
            "raw": [q["raw"] for q in self._q_buffer],
        }
        self._quarantine.write(pa.RecordBatch.from_pydict(cols, schema=QUARANTINE_SCHEMA))
        self._q_buffer = []

    def close(self) -> tuple[list[Part], list[Part]]:
        self.flush()
        self._flush_quarantine()
        return self._data.close(), self._quarantine.close()

    def discard(self) -> None:
        self._data.discard()
        self._quarantine.discard()


def _native_id(spec: EntitySpec, values: dict[str, Any]) -> str | None:
    parts = [values.get(k) for k in spec.key]
    if all(p is None for p in parts):
        return None
    return "/".join("" if p is None else str(p) for p in parts)


@dataclass
class EntityResult:
    rows: int = 0
    quarantined: int = 0
    files: list[str] = field(default_factory=list)
    quarantine_files: list[str] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def quarantine_share(self) -> float:
        total = self.rows + self.quarantined
        return self.quarantined / total if total else 0.0


class LakeRun:
    """One landing of one source: open writers, then ``commit()`` or ``abort()``."""

    def __init__(
        self,
        lake: Lake | str,
        source: str,
        run_id: str,
        *,
        ingested_at: datetime | None = None,
        gate: RowGate | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        file_rows: int = DEFAULT_FILE_ROWS,
    ) -> None:
        self.lake = lake if isinstance(lake, Lake) else Lake(lake)
        self.source = source
        self.run_id = run_id
        self.ingested_at = (ingested_at or datetime.now(UTC)).astimezone(UTC)
        self.ingest_date = self.ingested_at.date()
        self.gate = gate
        self.batch_rows = batch_rows
        self.file_rows = file_rows
        self.writers: dict[str, EntityWriter] = {}
        self._finished: dict[str, tuple[list[Part], list[Part]]] | None = None
        self._closed = False

    def writer(self, entity: str) -> EntityWriter:
        if entity not in self.writers:
            self.writers[entity] = EntityWriter(self, get_entity(entity))
        return self.writers[entity]

    def finish(self) -> dict[str, EntityResult]:
        """Flush and close every file (still hidden); returns the final counts."""
        if self._finished is None:
            try:
                self._finished = {name: w.close() for name, w in self.writers.items()}
            except BaseException:
                self.abort()
                raise
        return {
            name: EntityResult(rows=w.rows, quarantined=w.quarantined, reasons=dict(w.reasons))
            for name, w in self.writers.items()
        }

    def commit(
        self,
        state: dict[str, dict] | None = None,
        *,
        interval: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        data: bool = True,
    ) -> dict[str, EntityResult]:
        """Make the run's files visible, then write the manifest, then the state.

        With ``data=False`` only the quarantine files are published (a failed
        quality gate keeps the evidence but lands no data and no state).
        """
        if self._closed:
            raise LakeError("run already committed or aborted")
        results = self.finish()
        closed = self._finished or {}
        self._closed = True
        lake = self.lake
        for name, (data_parts, q_parts) in closed.items():
            publish = data_parts if data else []
            for part in publish:
                lake.rename(part.tmp, part.final)
                results[name].files.append(lake.uri(part.final))
            if not data:
                for part in data_parts:
                    with contextlib.suppress(FileNotFoundError):
                        lake.fs.rm(part.tmp)
            for part in q_parts:
                lake.rename(part.tmp, part.final)
                results[name].quarantine_files.append(lake.uri(part.final))
            keep = {p.final for p in publish} | {p.final for p in q_parts}
            self._remove_stale(name, keep, data)
        manifest = {
            "run_id": self.run_id,
            "source": self.source,
            "ingested_at": self.ingested_at.isoformat(),
            "ingest_date": self.ingest_date.isoformat(),
            "status": "committed" if data else "rejected",
            "interval": interval or {},
            "entities": {
                name: {
                    "rows": r.rows,
                    "quarantined": r.quarantined,
                    "reasons": r.reasons,
                    "files": r.files,
                    "quarantine_files": r.quarantine_files,
                    "schema_hash": get_entity(name).schema_hash,
                }
                for name, r in results.items()
            },
            **(extra or {}),
        }
        lake.write_json_atomic(lake.manifest_path(self.run_id), manifest)
        if data and state:
            for entity, entity_state in state.items():
                lake.write_state(self.source, entity, entity_state, self.run_id)
        return results

    def _remove_stale(self, entity: str, keep: set[str], data: bool) -> None:
        """Remove files an earlier attempt of this run id wrote (any ingest date)."""
        lake = self.lake
        patterns = [
            lake.path(
                "quarantine",
                entity,
                f"source={self.source}",
                "ingest_date=*",
                f"{self.run_id}.parquet",
            )
        ]
        if data:
            patterns.append(
                lake.path(
                    "raw",
                    entity,
                    f"source={self.source}",
                    "ingest_date=*",
                    f"{self.run_id}-*.parquet",
                )
            )
        for pattern in patterns:
            for path in lake.fs.glob(pattern):
                if path not in keep and _same_run(path, self.run_id):
                    log.info("replacing %s from an earlier attempt of run %s", path, self.run_id)
                    lake.fs.rm(path)

    def abort(self) -> None:
        for w in self.writers.values():
            w.discard()
        self._closed = True

    def __enter__(self) -> LakeRun:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if not self._closed:
            self.abort()


def _same_run(path: str, run_id: str) -> bool:
    name = posixpath.basename(path)
    if name == f"{run_id}.parquet":
        return True
    rest = name.removeprefix(f"{run_id}-").removesuffix(".parquet")
    return name.startswith(f"{run_id}-") and rest.isdigit()


def clean_temporaries(lake: Lake, source: str, max_age_seconds: float = 0) -> int:
    """Remove hidden temporaries a crashed run of ``source`` left behind; returns how many.

    Only ``source``'s partitions are touched: other sources may be landing right now.
    """
    removed = 0
    now = datetime.now(UTC).timestamp()
    patterns = [
        lake.path(area, "*", f"source={source}", "ingest_date=*", ".*.tmp")
        for area in ("raw", "quarantine")
    ]
    patterns.append(lake.path("_state", source, ".*.tmp"))
    for pattern in patterns:
        for path in lake.fs.glob(pattern):
            if max_age_seconds:
                with contextlib.suppress(Exception):
                    mtime = lake.fs.modified(path).timestamp()
                    if now - mtime < max_age_seconds:
                        continue
            with contextlib.suppress(FileNotFoundError):
                lake.fs.rm(path)
                removed += 1
    return removed
