"""The benchmark's figures as the issue's targets and as a markdown report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from townsquare.bench import BenchResult, StepResult

INGEST_VS_PERCEVAL = 5.0
"""Townsquare's ingest must be at least this many times Perceval's items/s."""
INCREMENTAL_SHARE = 0.10
"""An incremental build with ~1% new data may take at most this share of a full build."""
COSMOS_RATIO = 1.3
"""The transform DAG through Cosmos may take at most this many times a plain dbt build."""
PEAK_MIB = 2048
"""Peak RSS of any Townsquare step (Perceval's are not ours)."""
PERCEVAL_PAIRS = (("mbox", "mail"), ("git", "git"))
"""Perceval backend, synth source key: the same data for both tools."""


def _num(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:,.{digits}f}"


def targets(result: BenchResult) -> list[dict[str, Any]]:
    """Every target with what was measured; ``met`` is None when it was not measured."""
    out: list[dict[str, Any]] = []
    for kind, key in PERCEVAL_PAIRS:
        theirs = result.step(f"perceval:{kind}")
        ours = _ingest_for(result, theirs.extra.get("compare") if theirs else None, key)
        ratio = ours.rate / theirs.rate if ours and theirs and ours.rate and theirs.rate else None
        ceiling = _git_ceiling(result) if kind == "git" else None
        note = ""
        if ceiling and theirs and theirs.rate and ceiling.rate:
            note = (
                f"git alone, run as the connector runs it (git log --numstat, two "
                f"processes a batch), writes {ceiling.rate / theirs.rate:.2f}x Perceval's "
                "items/s: no reader of git's diff stats can go faster that way"
            )
        out.append({
            "target": f"ingest {kind}: at least {INGEST_VS_PERCEVAL:g}x Perceval's items/s",
            "measured": ratio,
            "unit": "x",
            "met": None if ratio is None else ratio >= INGEST_VS_PERCEVAL,
            "note": note,
        })  # fmt: skip
    full, inc = result.step("dbt:full"), result.step("dbt:incremental")
    share = inc.seconds / full.seconds if full and inc else None
    out.append({
        "target": f"incremental build (1% new data): at most {INCREMENTAL_SHARE:.0%} of the "
        f"full build (target set at scale 10; measured at scale {result.scale:g})",
        "measured": share,
        "unit": "share",
        "met": None if share is None else share <= INCREMENTAL_SHARE,
    })  # fmt: skip
    plain, cosmos = result.step("dbt:plain"), result.step("dbt:cosmos")
    ratio = cosmos.wall_seconds / plain.wall_seconds if plain and cosmos else None
    out.append({
        "target": f"transform DAG through Cosmos: at most {COSMOS_RATIO:g}x a plain dbt build",
        "measured": ratio,
        "unit": "x",
        "met": None if ratio is None else ratio <= COSMOS_RATIO,
    })  # fmt: skip
    ours_steps = [s for s in result.steps if not s.name.startswith("perceval:")]
    peak = max(ours_steps, key=lambda s: s.peak_rss_mib, default=None)
    out.append({
        "target": f"peak memory of any step under {PEAK_MIB:,} MiB"
        + (f" (largest: {peak.name})" if peak else ""),
        "measured": peak.peak_rss_mib if peak else None,
        "unit": "MiB",
        "met": None if peak is None else peak.peak_rss_mib < PEAK_MIB,
    })  # fmt: skip
    out.append({
        "target": f"full build at scale {result.scale:g} finishes",
        "measured": full.seconds if full else None,
        "unit": "s",
        "met": None if full is None else True,
    })  # fmt: skip
    return out


def _git_ceiling(result: BenchResult) -> StepResult | None:
    return next((s for s in result.steps if s.name.startswith("git_log:")), None)


def _ingest_for(result: BenchResult, name: str | None, key: str) -> StepResult | None:
    if name:
        return result.step(f"ingest:{name}")
    return result.step(f"ingest:synth-{key}")


def render_markdown(result: BenchResult) -> str:
    m = result.machine
    lines = [
        f"# townsquare bench: scale {result.scale:g}, seed {result.seed}",
        "",
        f"{result.started}; {m.get('cpus')} CPUs, {_num((m.get('memory_mib') or 0) / 1024, 0)}"
        f" GiB, Python {m.get('python')}; whole run {_num(result.seconds / 60)} min. "
        "Seconds are inside each step's process, after its imports; wall is the whole "
        "child process. Peak RSS is the step's process (and the processes it waited for).",
        "",
        "| step | items | seconds | items/s | wall s | peak RSS MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in result.steps:
        lines.append(
            f"| {s.name} | {'' if s.items is None else f'{s.items:,}'} | {_num(s.seconds)} | "
            f"{_num(s.rate, 0)} | {_num(s.wall_seconds)} | {_num(s.peak_rss_mib, 0)} |"
        )
    compare = [
        (kind, result.step(f"perceval:{kind}"), _ingest_for(result, None, key))
        for kind, key in PERCEVAL_PAIRS
    ]
    if any(theirs for _, theirs, _ in compare):
        lines += [
            "",
            "## Ingest against Perceval (same files)",
            "",
            "| data | Townsquare items/s | Perceval items/s | ratio |",
            "| --- | ---: | ---: | ---: |",
        ]
        for kind, theirs, ours in compare:
            if theirs and ours and ours.rate and theirs.rate:
                lines.append(
                    f"| {kind} | {ours.rate:,.0f} | {theirs.rate:,.0f} | "
                    f"{ours.rate / theirs.rate:.1f}x |"
                )
        ceiling = _git_ceiling(result)
        git_ours = _ingest_for(result, None, "git")
        if ceiling and ceiling.rate and git_ours and git_ours.rate:
            lines += [
                "",
                f"git itself (`git log --numstat` as the connector runs it, output thrown "
                f"away) writes {ceiling.rate:,.0f} commits/s; Townsquare's git ingest runs at "
                f"{git_ours.rate / ceiling.rate:.0%} of that.",
            ]
    limits = [s for s in result.steps if s.name.startswith("landing_limit:")]
    if limits:
        lines += [
            "",
            "## Parse overhead: ingest against pyarrow alone writing the parsed rows",
            "",
            "| source | ingest rows/s | pyarrow-only rows/s | ingest time / write time |",
            "| --- | ---: | ---: | ---: |",
        ]
        for limit in limits:
            name = limit.name.split(":", 1)[1]
            ours = result.step(f"ingest:{name}")
            if ours and ours.rate and limit.rate:
                lines.append(
                    f"| {name} | {ours.rate:,.0f} | {limit.rate:,.0f} | "
                    f"{limit.rate / ours.rate:.1f}x |"
                )
    builds = [s for s in (result.step("dbt:full"), result.step("dbt:incremental")) if s]
    if any(s.extra.get("node_seconds") for s in builds):
        lines += [
            "",
            "## Where a build's time goes (node seconds; dbt runs 2 threads)",
            "",
            "| build | wall s | models | data tests | unit tests | seeds | slowest nodes |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for s in builds:
            kinds = s.extra.get("node_seconds") or {}
            slowest = ", ".join(f"{n} {t:.1f}" for n, t in (s.extra.get("slowest_nodes") or [])[:5])
            lines.append(
                f"| {s.name} | {_num(s.seconds)} | {_num(kinds.get('model'))} | "
                f"{_num(kinds.get('test'))} | {_num(kinds.get('unit_test'))} | "
                f"{_num(kinds.get('seed'))} | {slowest} |"
            )
    lines += ["", "## Targets", "", "| target | measured | met | note |",
              "| --- | ---: | --- | --- |"]  # fmt: skip
    for t in targets(result):
        value = t["measured"]
        shown = (
            "not measured"
            if value is None
            else f"{value:.1%}"
            if t["unit"] == "share"
            else f"{value:,.2f}{t['unit']}"
            if t["unit"] == "x"
            else f"{value:,.0f} {t['unit']}"
        )
        met = {True: "yes", False: "**no**", None: "n/a"}[t["met"]]
        lines.append(f"| {t['target']} | {shown} | {met} | {t.get('note', '')} |")
    if result.skipped:
        lines += ["", "Skipped: " + "; ".join(f"{k}: {v}" for k, v in result.skipped.items())]
    return "\n".join(lines) + "\n"
