"""The benchmark's steps, each run in a child process of its own.

``python -m townsquare.bench.steps STEP JSON-ARGS`` runs one step and prints its result
as JSON on the last line of stdout. A step in a fresh interpreter means its peak
resident memory (``ru_maxrss`` of the process, and of the processes it waited for, such
as ``git log``) belongs to that step alone. Timings are taken inside the step, after
its imports, and the parent also records each child's wall time (interpreter start and imports
included): the orchestration comparison uses that, since imports and DAG parsing are
part of what orchestration costs.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Step = Callable[[dict[str, Any]], dict[str, Any]]
STEPS: dict[str, Step] = {}


def step(fn: Step) -> Step:
    STEPS[fn.__name__] = fn
    return fn


def peak_rss_mib() -> float:
    """Peak RSS (MiB) of this process and of the children it waited for (Linux: KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


@step
def synth(args: dict[str, Any]) -> dict[str, Any]:
    from townsquare.synth import generate

    result = generate(args["scale"], args["out"], seed=args["seed"], progress=_say)
    rows = sum(n for spec in result.sources.values() for n in spec["base"]["rows"].values())
    return {"seconds": result.seconds, "items": rows, "files": result.files, "bytes": result.bytes}


@step
def ingest(args: dict[str, Any]) -> dict[str, Any]:
    """Land one source (a ``SourceConfig`` as a dict) into the lake.

    Great Expectations is imported first (``import_seconds``), as a long-running worker
    would have it: the timing is the landing (parse, gate, Parquet, commit), as Perceval's
    is its ``fetch()`` after its imports.
    """
    from townsquare.config import SourceConfig
    from townsquare.pipeline import ingest_source
    from townsquare.quality import warm_up

    source = SourceConfig(**args["source"])
    t0 = time.perf_counter()
    warm_up()
    import_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = ingest_source(
        source, lake=args["lake"], credentials={}, progress=_say, progress_every=100_000
    )
    seconds = time.perf_counter() - t0
    entities = {name: r.rows for name, r in result.entities.items()}
    quarantined = sum(r.quarantined for r in result.entities.values())
    return {
        "seconds": seconds,
        "items": result.rows + quarantined,
        "entities": entities,
        "quarantined": quarantined,
        "files": result.files,
        "import_seconds": import_seconds,
    }


@step
def landing_limit(args: dict[str, Any]) -> dict[str, Any]:
    """pyarrow alone writing rows a connector already parsed (read back from its files).

    The landed files are read in batches and turned into Python rows (dicts, what a
    connector yields) untimed; only ``RecordBatch.from_pylist`` + ``ParquetWriter``
    (zstd, as the lake writes) are timed.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    scratch = Path(args["scratch"])
    scratch.mkdir(parents=True, exist_ok=True)
    rows = 0
    seconds = 0.0
    for n, path in enumerate(args["files"]):
        source = pq.ParquetFile(path)
        target = scratch / f"{n}.parquet"
        writer = pq.ParquetWriter(target, source.schema_arrow, compression="zstd")
        for batch in source.iter_batches(batch_size=args.get("batch_rows", 5_000)):
            parsed = batch.to_pylist()
            t0 = time.perf_counter()
            writer.write_batch(pa.RecordBatch.from_pylist(parsed, schema=batch.schema))
            seconds += time.perf_counter() - t0
            rows += len(parsed)
        t0 = time.perf_counter()
        writer.close()
        seconds += time.perf_counter() - t0
        target.unlink()
    shutil.rmtree(scratch, ignore_errors=True)
    return {"seconds": seconds, "items": rows}


@step
def git_log(args: dict[str, Any]) -> dict[str, Any]:
    """git alone: the git commands the git connector runs over the same repository and refs
    (``git rev-list``, then per batch of SHAs ``git log --no-walk --numstat``, two processes
    at once for a large batch), their output read and thrown away. A git reader that
    reports diff stats and runs git this way cannot go faster: this is that ceiling."""
    from townsquare.connectors.git import (
        LOG_ARGS,
        LOG_BATCH,
        LOG_SPLIT_MIN,
        REF_PREFIXES,
        DrainedCommand,
        Git,
        sha_batches,
    )

    git = Git(repository=Path(args["repository"]))
    listing = git.run("for-each-ref", "--format=%(objectname)", *REF_PREFIXES)
    tips = b"".join(t + b"\n" for t in sorted(set(listing.split())))
    log_args = [*LOG_ARGS, "--no-walk=unsorted", "--numstat"]
    t0 = time.perf_counter()
    commits = 0
    for batch in git.stream("rev-list", "--stdin", stdin=tips, reader=sha_batches(LOG_BATCH)):
        middle = len(batch) // 2 if len(batch) >= 2 * LOG_SPLIT_MIN else len(batch)
        halves = [half for half in (batch[:middle], batch[middle:]) if half]
        runs = [DrainedCommand(git, log_args, b"".join(sha + b"\n" for sha in h)) for h in halves]
        try:
            for run in runs:
                while block := run.read():
                    commits += block.count(b"\x1e")  # the record separator opens every commit
                run.check_exit()
        finally:
            for run in runs:
                run.close()
    return {"seconds": time.perf_counter() - t0, "items": commits}


@step
def dbt(args: dict[str, Any]) -> dict[str, Any]:
    """One in-process ``dbt`` command (``args["command"]``) against lake + warehouse."""
    from townsquare.build import run_dbt

    t0 = time.perf_counter()
    result = run_dbt(
        args["command"],
        lake=args["lake"],
        warehouse=args["warehouse"],
        target_path=args["target_path"],
        progress=_say if args.get("verbose") else None,
    )
    seconds = time.perf_counter() - t0
    results = result.result.results
    timings = sorted(((r.node.name, round(r.execution_time, 2)) for r in results),
                     key=lambda kv: -kv[1])  # fmt: skip
    by_kind: dict[str, float] = {}
    for r in results:
        kind = str(r.node.resource_type)
        by_kind[kind] = round(by_kind.get(kind, 0.0) + r.execution_time, 2)
    return {
        "seconds": seconds,
        "items": len(timings),
        "slowest_nodes": timings[:8],
        "node_seconds": dict(sorted(by_kind.items())),
    }


@step
def airflow_setup(args: dict[str, Any]) -> dict[str, Any]:
    """Migrate the benchmark's Airflow metadata DB and create the pool (not timed)."""
    from townsquare import orchestration as orch

    orch.configure_airflow(Path(args["airflow_home"]))
    orch.ensure_airflow_db()
    orch.ensure_pool()
    return {"seconds": 0.0}


@step
def cosmos(args: dict[str, Any]) -> dict[str, Any]:
    """The ``transform`` DAG's dbt task (Cosmos ``DbtBuildLocalOperator``) by ``dag.test()``.

    ``seconds`` is ``dag.test()`` alone; the parent also times the whole child (Airflow's
    imports and parsing ``dags/`` included) as the step's wall time.
    """
    from townsquare import orchestration as orch

    orch.configure_airflow(Path(args["airflow_home"]))
    with orch.stdout_to_stderr(), orch.env_defaults(orch.EMBEDDED_DBT_ENV):
        dag = orch.load_dags()[orch.TRANSFORM_DAG_ID]
        subset = dag.partial_subset(
            task_ids=[orch.DBT_GROUP_ID], include_upstream=False, include_downstream=False
        )
        run = orch.run_dag(subset, _say)
    if run["state"] != "success":
        raise RuntimeError(f"transform DAG (dbt task) ended {run['state']}: {run['tasks']}")
    return {"seconds": run["seconds"], "items": len(run["tasks"])}


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    name, raw = argv
    args = json.loads(raw)
    os.environ.setdefault("DO_NOT_TRACK", "1")
    result = STEPS[name](args)
    result["peak_rss_mib"] = peak_rss_mib()
    sys.stdout.flush()
    print(json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover - run as a child by townsquare.bench
    raise SystemExit(main(sys.argv[1:]))
