"""Great Expectations gates: raw landings (row-level, per record batch) and marts.

The suites live in ``expectations/<entity>.json`` in Great Expectations' suite format.
They are generated from the schema registry (``townsquare expectations --write``) so
the gate and the schema cannot drift; a test checks the committed files are current.

Row-level expectations carry ``meta.row_level = true`` and ``meta.reason``: rows
they flag go to quarantine with that reason. Any other failed expectation fails
the whole batch. Great Expectations is imported lazily (it takes seconds).

The marts are checked before publishing (``check_marts``): one hand-written suite per
mart table (``expectations/marts/<table>.json``), then the query checks
(``expectations/marts/checks/<name>.json``: a suite plus ``meta.query``, SQL whose result
the suite validates: orphan keys, totals that reconcile with staging, marts that agree).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from townsquare.paths import expectations_dir
from townsquare.schemas import ENTITIES, EntitySpec

log = logging.getLogger("townsquare.quality")

URL_REGEX = r"^https?://[^\s/?#@]+(?::[0-9]+)?(?:[/?#][^\s]*)?$"
EARLIEST = "1990-01-01T00:00:00+00:00"
FUTURE_SLACK = timedelta(days=1)


class QualityGateError(RuntimeError):
    """A batch or a mart failed its quality gate."""


# -- suites ----------------------------------------------------------------------------


def _exp(type_: str, reason: str | None = None, **kwargs: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if reason:
        meta = {"row_level": True, "reason": reason}
    return {"type": type_, "kwargs": kwargs, "meta": meta}


def suite_for(spec: EntitySpec) -> dict[str, Any]:
    """The landing suite of a raw entity, as Great Expectations suite JSON."""
    exps: list[dict[str, Any]] = [
        _exp("expect_table_columns_to_match_set", column_set=spec.data_columns, exact_match=True)
    ]
    required = list(dict.fromkeys([*spec.key, *spec.required]))
    for col in required:
        exps.append(_exp("expect_column_values_to_not_be_null", f"{col} is missing", column=col))
    if len(spec.key) == 1:
        exps.append(
            _exp(
                "expect_column_values_to_be_unique",
                f"duplicate {spec.key[0]} in batch",
                column=spec.key[0],
            )
        )
    else:
        exps.append(
            _exp(
                "expect_compound_columns_to_be_unique",
                "duplicate key in batch",
                column_list=list(spec.key),
            )
        )
    for col in spec.timestamps:
        exps.append(
            _exp(
                "expect_column_values_to_be_between",
                f"{col} is before 1990 or in the future",
                column=col,
                min_value=EARLIEST,
                max_value={"$PARAMETER": "latest_timestamp"},
            )
        )
    for col in spec.urls:
        exps.append(
            _exp(
                "expect_column_values_to_match_regex",
                f"{col} is not an absolute http(s) URL",
                column=col,
                regex=URL_REGEX,
            )
        )
    return {
        "name": f"raw_{spec.name}",
        "expectations": exps,
        "meta": {
            "generated_by": "townsquare expectations --write",
            "entity": spec.name,
            "note": "Row-level expectations (meta.row_level) quarantine the rows they flag; "
            "any other failure fails the batch.",
        },
    }


def suite_path(entity: str) -> Path:
    return expectations_dir() / f"raw_{entity}.json"


def write_suites(directory: Path | None = None) -> list[Path]:
    directory = directory or expectations_dir()
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in ENTITIES.values():
        path = directory / f"raw_{spec.name}.json"
        path.write_text(json.dumps(suite_for(spec), indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


def stale_suites(directory: Path | None = None) -> list[str]:
    """Names of committed suites that differ from what the registry generates."""
    directory = directory or expectations_dir()
    stale = []
    for spec in ENTITIES.values():
        path = directory / f"raw_{spec.name}.json"
        if not path.exists() or json.loads(path.read_text()) != suite_for(spec):
            stale.append(path.name)
    return stale


def load_suite_json(entity: str) -> dict[str, Any]:
    path = suite_path(entity)
    if not path.exists():
        raise QualityGateError(
            f"no expectation suite for {entity} at {path}; run `townsquare expectations --write`"
        )
    return json.loads(path.read_text())


# -- Great Expectations runtime -------------------------------------------------------------


@cache
def _gx() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations._docs_decorators").setLevel(logging.WARNING)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    return gx


@cache
def _context() -> Any:
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return ctx


def warm_up() -> None:
    """Import Great Expectations and create its context now (about 8 s, once per process)
    rather than inside the first landing's gate."""
    _context()


@cache
def _batch_definition(name: str) -> Any:
    ctx = _context()
    ds = ctx.data_sources.add_pandas(f"townsquare_{name}")
    asset = ds.add_dataframe_asset(name)
    return asset.add_batch_definition_whole_dataframe("batch")


def _suite_object(doc: dict[str, Any]) -> Any:
    gx = _gx()
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    exps = [
        ExpectationConfiguration(
            type=e["type"], kwargs=e["kwargs"], meta=e.get("meta") or {}
        ).to_domain_obj()
        for e in doc["expectations"]
    ]
    return gx.ExpectationSuite(name=doc["name"], expectations=exps, meta=doc.get("meta") or {})


@cache
def _raw_suite(entity: str) -> Any:
    return _suite_object(load_suite_json(entity))


def _validate(batch_name: str, df: Any, suite: Any, params: dict[str, Any]) -> Any:
    batch = _batch_definition(batch_name).get_batch(batch_parameters={"dataframe": df})
    return batch.validate(
        suite, result_format={"result_format": "COMPLETE"}, expectation_parameters=params
    )


class RawGate:
    """The landing gate: plugs into ``LakeRun(gate=...)``; runs once per record batch."""

    def __init__(self, now: datetime | None = None) -> None:
        latest = (now or datetime.now(UTC)) + FUTURE_SLACK
        self.params = {"latest_timestamp": latest.isoformat()}

    def __call__(self, spec: EntitySpec, rows: list[dict[str, Any]]) -> dict[int, str]:
        import pandas as pd

        suite = _raw_suite(spec.name)
        df = pd.DataFrame.from_records(rows, columns=spec.data_columns)
        for col in spec.timestamps:
            df[col] = pd.to_datetime(df[col], utc=True)
        result = _validate(f"raw_{spec.name}", df, suite, self.params)
        bad: dict[int, str] = {}
        fatal: list[str] = []
        for res in result.results:
            if res.success:
                continue
            cfg = res.expectation_config
            meta = cfg.meta or {}
            if meta.get("row_level"):
                indices = (res.result or {}).get("unexpected_index_list") or []
                for idx in indices:
                    i = int(idx["index"] if isinstance(idx, dict) else idx)
                    bad[i] = f"{bad[i]}; {meta['reason']}" if i in bad else meta["reason"]
                if not indices and res.exception_info.get("raised_exception"):
                    fatal.append(
                        f"{cfg.type} raised: {res.exception_info.get('exception_message')}"
                    )
            else:
                fatal.append(f"{cfg.type} {dict(cfg.kwargs)} failed")
        if fatal:
            raise QualityGateError(f"{spec.name}: batch failed its suite: {'; '.join(fatal)}")
        return bad


def check_quarantine_threshold(entity: str, rows: int, quarantined: int, threshold: float) -> None:
    total = rows + quarantined
    share = quarantined / total if total else 0.0
    if share > threshold:
        raise QualityGateError(
            f"{entity}: {quarantined} of {total} rows ({share:.1%}) failed row-level checks, "
            f"over the {threshold:.1%} threshold; nothing landed, bad rows are in quarantine"
        )


# -- marts -----------------------------------------------------------------------------------

# a schema-qualified relation named in a check's SQL (the warehouse's dbt schemas and seeds)
RELATION_REGEX = re.compile(r"\b(marts|staging|intermediate|main)\.([A-Za-z_][A-Za-z0-9_]*)\b")
SAMPLE_ROWS = 3
# expectation kwargs that say nothing about the check (left out of failure messages)
_QUIET_KWARGS = {"batch_id", "result_format", "include_config", "catch_exceptions"}


def mart_suites() -> list[dict[str, Any]]:
    """The hand-written mart suites in ``expectations/marts/*.json``."""
    return [
        json.loads(p.read_text()) for p in sorted((expectations_dir() / "marts").glob("*.json"))
    ]


def mart_checks() -> dict[str, dict[str, Any]]:
    """The query checks in ``expectations/marts/checks/<name>.json``, by name.

    A check is a suite document whose ``meta.query`` is SQL run on the warehouse; its
    expectations validate the query's result and ``meta.note`` says which invariant that is
    (orphan keys, totals that reconcile with staging, marts that agree with each other).
    ``meta.requires`` lists the relations the check needs: when one does not exist (a model
    that was not built) the check fails saying so. ``meta.skip_if_empty`` lists upstream
    relations: when all of them are empty (a source family nobody configured) the check is
    skipped.
    """
    folder = expectations_dir() / "marts" / "checks"
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def check_relations(doc: dict[str, Any]) -> list[str]:
    """The relations a check needs: ``meta.requires``, ``meta.skip_if_empty`` and every
    schema-qualified relation its query names."""
    meta = doc.get("meta") or {}
    named = [f"{schema}.{table}" for schema, table in RELATION_REGEX.findall(meta["query"])]
    return list(
        dict.fromkeys([*(meta.get("requires") or []), *(meta.get("skip_if_empty") or []), *named])
    )


def _relation_exists(con: Any, relation: str) -> bool:
    schema, _, table = relation.partition(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


def _has_rows(con: Any, relation: str) -> bool:
    schema, _, table = relation.partition(".")
    return bool(con.execute(f'select exists (select 1 from "{schema}"."{table}")').fetchall()[0][0])


def _without_row_minimum_if_no_upstream(con: Any, doc: dict[str, Any]) -> dict[str, Any]:
    """A mart may be empty when none of its upstream relations (``meta.upstream``) has rows.

    A suite's row-count minimum says "this mart must not come out empty"; for a source family
    nobody configured (no forum, say) an empty mart is right, so that one expectation is
    dropped. Any other expectation still applies.
    """
    upstream = doc.get("meta", {}).get("upstream") or []
    if not upstream:
        return doc
    for relation in upstream:
        if _relation_exists(con, relation) and _has_rows(con, relation):
            return doc
    log.info("%s: no upstream rows (%s), so it may be empty", doc["meta"]["table"], upstream)
    kept = [e for e in doc["expectations"] if e["type"] != "expect_table_row_count_to_be_between"]
    return {**doc, "expectations": kept}


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _table_failures(table: str, result: Any) -> list[str]:
    failures = []
    for res in result.results:
        if not res.success:
            cfg = res.expectation_config
            column = cfg.kwargs.get("column") or cfg.kwargs.get("column_list") or ""
            observed = (res.result or {}).get("observed_value")
            sample = (res.result or {}).get("partial_unexpected_list")
            detail = f" observed {observed}" if observed is not None else ""
            detail += f" e.g. {sample[:3]}" if sample else ""
            error = (res.exception_info or {}).get("exception_message")
            detail += f" raised {error}" if error else ""
            failures.append(f"{table}: {cfg.type} {column}{detail}".rstrip())
    return failures


def _check_table(con: Any, schema: str, doc: dict[str, Any]) -> tuple[int | None, list[str]]:
    """One mart table against its suite: (expectations evaluated, failures)."""
    import duckdb
    import pandas as pd

    table = doc["meta"]["table"]
    if not _relation_exists(con, f"{schema}.{table}"):
        return None, [f"{table}: mart table {schema}.{table} does not exist"]
    try:  # an upstream staging view whose lake files are gone fails here
        doc = _without_row_minimum_if_no_upstream(con, doc)
        df = con.execute(f'select * from "{schema}"."{table}"').df()
    except duckdb.Error as exc:
        return None, [f"{table}: could not be checked: {_first_line(exc)}"]
    for col, typ in con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall():
        if typ == "DATE":  # compare dates like timestamps, against ISO strings
            df[col] = pd.to_datetime(df[col], utc=True)
    result = _validate(f"mart_{table}", df, _suite_object(doc), {})
    return len(result.results), _table_failures(table, result)


def _exception_messages(info: Any) -> list[str]:
    """Error messages in a GX result's exception_info (flat, or one entry per metric)."""
    if not isinstance(info, dict):
        return []
    if info.get("exception_message"):
        return [str(info["exception_message"])]
    return [m for value in info.values() for m in _exception_messages(value)]


def _value(value: Any) -> str:
    import pandas as pd

    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return "null"
    if isinstance(value, pd.Timestamp) and value == value.normalize() and value.tz is None:
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _columns_of(kwargs: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for key, value in kwargs.items():
        if key in ("column", "column_A", "column_B") and isinstance(value, str):
            names.append(value)
        elif key in ("column_list", "column_set") and isinstance(value, list):
            names += [v for v in value if isinstance(v, str)]
    return names


def _sample(df: Any, indices: list[int], columns: list[str]) -> str:
    """The first rows of a query result (those an expectation flagged, else the first ones)
    as ``column=value`` pairs, rows split by `` | ``: ``columns`` only when given."""
    rows = df.iloc[indices[:SAMPLE_ROWS]] if indices else df.head(SAMPLE_ROWS)
    shown = [c for c in df.columns if c in columns] if columns else list(df.columns)
    text = " | ".join(
        " ".join(f"{column}={_value(row[column])}" for column in shown)
        for _, row in rows.iterrows()
    )
    return text.replace(";", ",")  # failures are joined with "; "


def _check_failures(name: str, df: Any, result: Any) -> list[str]:
    # the sample of a failure shows the result's key columns (those no expectation tests)
    # and the columns of the failed expectation
    tested = {c for res in result.results for c in _columns_of(res.expectation_config.kwargs)}
    keys = [c for c in df.columns if c not in tested]
    failures = []
    for res in result.results:
        if res.success:
            continue
        cfg = res.expectation_config
        args = ", ".join(
            f"{key}={value}"
            for key, value in cfg.kwargs.items()
            if key not in _QUIET_KWARGS and value is not None
        )
        expectation = f"{cfg.type}({args})"
        errors = _exception_messages(res.exception_info)
        if errors:
            failures.append(f"check {name}: {expectation} raised {errors[0]}")
            continue
        outcome = res.result or {}
        indices = [
            int(i["index"] if isinstance(i, dict) else i)
            for i in outcome.get("unexpected_index_list") or []
        ]
        if indices:
            detail = f"failed on {len(indices)} of {len(df)} rows"
        elif outcome.get("observed_value") is not None:
            detail = f"failed, observed {outcome['observed_value']}"
        else:
            detail = "failed"
        columns = [*keys, *_columns_of(cfg.kwargs)]
        sample = _sample(df, indices, columns) if len(df) else "(no rows)"
        failures.append(f"check {name}: {expectation} {detail}: {sample}")
    return failures


def _run_check(con: Any, name: str, doc: dict[str, Any]) -> tuple[int | None, list[str]]:
    """One query check: (expectations evaluated, or None when not run, and failures)."""
    import duckdb

    meta = doc.get("meta") or {}
    if not meta.get("query"):
        return None, [f"check {name}: no meta.query"]
    missing = [r for r in check_relations(doc) if not _relation_exists(con, r)]
    if missing:
        return None, [
            f"check {name}: needs {', '.join(missing)}, which does not exist "
            "(a model that was not built?)"
        ]
    upstream = meta.get("skip_if_empty") or []
    try:  # a staging view whose lake files are gone fails here
        if upstream and not any(_has_rows(con, relation) for relation in upstream):
            log.info("check %s: skipped, no rows in %s", name, ", ".join(upstream))
            return 0, []
        df = con.execute(meta["query"]).df()
    except duckdb.Error as exc:
        return None, [f"check {name}: query failed: {_first_line(exc)}"]
    result = _validate(f"check_{name}", df, _suite_object(doc), {})
    return len(result.results), _check_failures(name, df, result)


def mart_fingerprints(con: Any, schema: str, tables: list[str]) -> dict[str, str]:
    """Row count and an order-independent hash of every row, per table: what was checked,
    so publishing can prove it copies exactly that (see townsquare.publish)."""
    out = {}
    for table in tables:
        rows, digest = con.execute(
            f'select count(*), coalesce(sum(hash(t)::hugeint), 0) from "{schema}"."{table}" as t'
        ).fetchall()[0]
        out[table] = f"{rows}:{digest}"
    return out


def check_marts(
    warehouse: str, schema: str = "marts", fingerprints: dict[str, str] | None = None
) -> dict[str, int]:
    """Validate every mart that has a suite, then run the query checks; raises
    QualityGateError listing every failure (one per failed expectation).

    Returns the number of expectations evaluated per mart and per check (``checks/<name>``;
    0 for a skipped check). The table suites read ``schema``; the checks' SQL names its
    relations itself (``marts.``, ``staging.``, ``intermediate.``). Staging and intermediate
    models are tables written by the same build, so files landing after ``dbt build`` do
    not make a staging total differ from its mart.

    ``fingerprints``: filled with ``mart_fingerprints`` of every mart that has a suite, read
    on the same connection as the checks (the set a publish may copy).
    """
    import duckdb

    failures: list[str] = []
    evaluated: dict[str, int] = {}
    with duckdb.connect(warehouse, read_only=True) as con:
        if fingerprints is not None:
            present = {
                name
                for (name,) in con.execute(
                    "select table_name from duckdb_tables() where schema_name = ?", [schema]
                ).fetchall()
            }
            suites = [doc["meta"]["table"] for doc in mart_suites()]
            fingerprints.update(mart_fingerprints(con, schema, [t for t in suites if t in present]))
        for doc in mart_suites():
            count, failed = _check_table(con, schema, doc)
            if count is not None:
                evaluated[doc["meta"]["table"]] = count
            failures += failed
        for name, doc in mart_checks().items():
            started = time.monotonic()
            count, failed = _run_check(con, name, doc)
            if count is not None:
                log.info(
                    "check %s: %d expectations in %.2fs", name, count, time.monotonic() - started
                )
                evaluated[f"checks/{name}"] = count
            failures += failed
    if failures:
        raise QualityGateError("mart checks failed: " + "; ".join(failures))
    return evaluated
