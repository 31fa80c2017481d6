"""Publishing the checked marts for BI tools: a read-only DuckDB snapshot plus Parquet per mart.

Layout of the publish folder (``$TOWNSQUARE_PUBLISH``, default beside the warehouse)::

    releases/<release_id>/townsquare.duckdb   read-only snapshot (schema ``marts`` + ``_townsquare``)
    releases/<release_id>/parquet/<mart>.parquet
    releases/<release_id>/docs/index.html     dbt docs (one static file), when generated
    releases/<release_id>/release.json        id, time, row counts, files
    current -> releases/<release_id>          flipped atomically (rename of a symlink)
    townsquare.duckdb -> current/townsquare.duckdb   stable paths for BI tools
    parquet -> current/parquet
    docs -> current/docs
    dashboard.html                            rendered from ``current`` after each publish

A release is staged in a hidden folder, made complete and durable (fsync), renamed into
``releases/`` and only then made ``current`` by one ``rename(2)``: a reader opens either the
old release or the new one, never a mix, and a failure before the flip leaves ``current`` as it
was. Releases are immutable; the last ``keep`` stay on disk, so readers holding an older one
keep working (and on POSIX an open file outlives its deletion anyway).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Progress = Callable[[str], None]

SNAPSHOT = "townsquare.duckdb"
"""Not marts.duckdb: its catalog would be called marts, making `marts.fct_x` ambiguous."""
PARQUET = "parquet"
DOCS = "docs"
CURRENT = "current"
RELEASES = "releases"
DASHBOARD = "dashboard.html"
RELEASE_JSON = "release.json"
META_SCHEMA = "_townsquare"
STABLE_LINKS = (SNAPSHOT, PARQUET, DOCS)
STORAGE_VERSION = "v1.1.0"
"""The snapshot's on-disk format: readable by DuckDB 1.1 and later (BI drivers, the DuckDB
CLI), not only by the 2.0 that writes it (its default format needs 2.0 to read)."""


class PublishError(RuntimeError):
    """Publishing failed; nothing was published and the previous release stays current."""


@dataclass
class Release:
    release_id: str
    published_at: str
    """ISO 8601, UTC."""
    path: str
    """The release folder."""
    marts: dict[str, int] = field(default_factory=dict)
    """Row counts per mart."""
    files: dict[str, int] = field(default_factory=dict)
    """Bytes per file, relative to the release folder."""
    source_warehouse: str = ""
    seconds: float = 0.0

    @property
    def snapshot(self) -> str:
        return str(Path(self.path) / SNAPSHOT)

    @property
    def parquet_dir(self) -> str:
        return str(Path(self.path) / PARQUET)

    @property
    def docs(self) -> str | None:
        index = Path(self.path) / DOCS / "index.html"
        return str(index) if index.exists() else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        data["snapshot"] = self.snapshot
        data["docs"] = self.docs
        return data


def new_release_id(now: datetime | None = None) -> str:
    """Sortable by time: ``20261123T230501123456Z-1a2b3c``."""
    now = now or datetime.now(UTC)
    return f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{secrets.token_hex(3)}"


def current_release(publish_dir: str | os.PathLike[str]) -> Release | None:
    """The release ``current`` points at, or None before the first publish."""
    current = Path(publish_dir) / CURRENT
    if not current.is_symlink() and not current.exists():
        return None
    target = current.resolve()
    info = target / RELEASE_JSON
    if not info.exists():
        raise PublishError(f"{current} points at {target}, which has no {RELEASE_JSON}")
    data = json.loads(info.read_text())
    return Release(
        release_id=data["release_id"],
        published_at=data["published_at"],
        path=str(target),
        marts=data.get("marts", {}),
        files=data.get("files", {}),
        source_warehouse=data.get("source_warehouse", ""),
    )


def releases(publish_dir: str | os.PathLike[str]) -> list[str]:
    """Release ids on disk, oldest first."""
    root = Path(publish_dir) / RELEASES
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


@contextlib.contextmanager
def publish_lock(publish_dir: Path) -> Iterator[None]:
    """One publisher at a time per publish folder (the CLI and a DAG run may race)."""
    publish_dir.mkdir(parents=True, exist_ok=True)
    with open(publish_dir / ".publish.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def publish(
    warehouse: str,
    publish_dir: str | os.PathLike[str],
    *,
    schema: str = "marts",
    docs_file: str | None = None,
    checked: dict[str, str] | None = None,
    keep: int = 3,
    progress: Progress | None = None,
) -> Release:
    """Copy the marts of ``schema`` in ``warehouse`` into a new release and make it current.

    ``checked``: the fingerprints (``quality.mart_fingerprints``) the mart checks saw. Only
    those tables are published (a table no suite checked, e.g. one a removed dbt model left
    behind, is not), and each copy must have the same fingerprint: a warehouse changed
    since the checks publishes nothing. Without it, every table of ``schema`` is copied.
    ``docs_file``: dbt's ``static_index.html`` (one self-contained page), published as
    ``docs/index.html``. ``keep``: how many releases stay on disk (at least 1, the current).
    Raises PublishError; then nothing changed for readers.
    """
    started = time.monotonic()
    say = progress or (lambda _m: None)
    root = Path(publish_dir).resolve()
    if not Path(warehouse).exists():
        raise PublishError(f"the warehouse {warehouse} does not exist: build it first")
    with publish_lock(root):
        (root / RELEASES).mkdir(exist_ok=True)
        _remove_abandoned_stages(root)
        release_id = new_release_id()
        stage = root / RELEASES / f".staging-{release_id}"
        stage.mkdir()
        try:
            say(f"publishing release {release_id} to {root}")
            published_at = datetime.now(UTC)
            marts = _write_snapshot(
                warehouse, stage, schema, release_id, published_at, checked, say
            )
            if docs_file:
                (stage / DOCS).mkdir()
                shutil.copyfile(docs_file, stage / DOCS / "index.html")
            files = {
                str(p.relative_to(stage)): p.stat().st_size
                for p in sorted(stage.rglob("*"))
                if p.is_file()
            }
            release = Release(
                release_id=release_id,
                published_at=published_at.isoformat(),
                path=str(root / RELEASES / release_id),
                marts=marts,
                files=files,
                source_warehouse=str(Path(warehouse).resolve()),
            )
            info = release.to_json()
            for key in ("path", "seconds", "snapshot", "docs"):
                info.pop(key)
            (stage / RELEASE_JSON).write_text(json.dumps(info, indent=2) + "\n")
            _make_read_only_and_durable(stage)
            os.rename(stage, release.path)
            _fsync_dir(root / RELEASES)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        _flip_current(root, release_id)
        _ensure_stable_links(root, say)
        pruned = _prune(root, keep)
        if pruned:
            say(f"removed {len(pruned)} old release(s): {', '.join(pruned)}")
    release.seconds = time.monotonic() - started
    say(
        f"published {len(marts)} marts ({sum(marts.values())} rows) as {root / SNAPSHOT} "
        f"and {root / PARQUET}/ in {release.seconds:.1f}s"
    )
    return release


def _write_snapshot(
    warehouse: str,
    stage: Path,
    schema: str,
    release_id: str,
    published_at: datetime,
    checked: dict[str, str] | None = None,
    say: Progress | None = None,
) -> dict[str, int]:
    import duckdb

    from townsquare.quality import mart_fingerprints

    snapshot = stage / SNAPSHOT
    (stage / PARQUET).mkdir()
    con = duckdb.connect(str(snapshot), config={"storage_compatibility_version": STORAGE_VERSION})
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"attach {_literal(str(Path(warehouse).resolve()))} as wh (read_only)")
        tables = [
            (name, comment)
            for name, comment in con.execute(
                "select table_name, comment from duckdb_tables() "
                "where database_name = 'wh' and schema_name = ? order by table_name",
                [schema],
            ).fetchall()
        ]
        if not tables:
            raise PublishError(f"the warehouse {warehouse} has no tables in schema {schema!r}")
        if checked is not None:
            missing = sorted(set(checked) - {name for name, _ in tables})
            if missing:
                raise PublishError(f"checked marts missing from the warehouse: {missing}")
            for name, _ in tables:
                if name not in checked and say:
                    say(f"not publishing {schema}.{name}: no mart suite checked it")
            tables = [(name, comment) for name, comment in tables if name in checked]
        con.execute("create schema marts")
        marts: dict[str, int] = {}
        for name, comment in tables:
            con.execute(
                f"create table marts.{_ident(name)} as from wh.{_ident(schema)}.{_ident(name)}"
            )
            if comment:
                con.execute(f"comment on table marts.{_ident(name)} is {_literal(comment)}")
            for column, col_comment in con.execute(
                "select column_name, comment from duckdb_columns() where database_name = 'wh' "
                "and schema_name = ? and table_name = ? and comment is not null",
                [schema, name],
            ).fetchall():
                con.execute(
                    f"comment on column marts.{_ident(name)}.{_ident(column)} "
                    f"is {_literal(col_comment)}"
                )
            marts[name] = con.execute(f"select count(*) from marts.{_ident(name)}").fetchall()[0][0]
        con.execute("detach wh")
        if checked is not None:
            copied = mart_fingerprints(con, "marts", list(marts))
            changed = sorted(t for t in marts if copied[t] != checked[t])
            if changed:
                raise PublishError(
                    "the warehouse changed after the mart checks (another build?): "
                    f"{', '.join(changed)} differ from what was checked; nothing published"
                )
        con.execute(f"create schema {META_SCHEMA}")
        con.execute(
            f"create table {META_SCHEMA}.release as select ? as release_id, "
            "cast(? as timestamptz) as published_at, ? as source_warehouse",
            [release_id, published_at.isoformat(), str(Path(warehouse).resolve())],
        )
        con.execute(
            f"comment on table {META_SCHEMA}.release is "
            "'The release this snapshot is: id and publish time (UTC).'"
        )
        con.execute(
            f"create table {META_SCHEMA}.marts as select * from (values "
            + ", ".join(f"({_literal(n)}, {c})" for n, c in marts.items())
            + ") as t (table_name, row_count)"
        )
        for name in marts:
            target = stage / PARQUET / f"{name}.parquet"
            con.execute(
                f"copy marts.{_ident(name)} to {_literal(str(target))} (format parquet, "
                f"compression zstd, kv_metadata {{townsquare_release: {_literal(release_id)}}})"
            )
        con.execute("checkpoint")
    finally:
        con.close()
    wal = Path(f"{snapshot}.wal")
    if wal.exists():
        raise PublishError(f"the snapshot {snapshot} kept a write-ahead log after checkpoint")
    return marts


def _make_read_only_and_durable(stage: Path) -> None:
    read_only = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
    for path in sorted(stage.rglob("*"), reverse=True):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
            path.chmod(read_only)
        else:
            _fsync_dir(path)
    _fsync_dir(stage)


def _flip_current(root: Path, release_id: str) -> None:
    link = root / CURRENT
    tmp = root / f".{CURRENT}-{release_id}"
    os.symlink(f"{RELEASES}/{release_id}", tmp)
    os.replace(tmp, link)
    _fsync_dir(root)


def _ensure_stable_links(root: Path, say: Progress) -> None:
    for name in STABLE_LINKS:
        path = root / name
        if path.is_symlink():
            continue
        if path.exists():
            say(f"warning: {path} exists and is not a link to {CURRENT}/{name}; left alone")
            continue
        os.symlink(f"{CURRENT}/{name}", path)
    _fsync_dir(root)


def _prune(root: Path, keep: int) -> list[str]:
    ids = releases(root)
    current = os.readlink(root / CURRENT).rsplit("/", 1)[-1]
    old = [r for r in ids[: max(0, len(ids) - max(keep, 1))] if r != current]
    for release_id in old:
        _rmtree(root / RELEASES / release_id)
    return old


def _remove_abandoned_stages(root: Path) -> None:
    """Half-staged releases of a publisher that crashed (we hold the lock: none is live)."""
    for path in (root / RELEASES).glob(".staging-*"):
        _rmtree(path)
    for path in root.glob(f".{CURRENT}-*"):
        path.unlink(missing_ok=True)


def _rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
