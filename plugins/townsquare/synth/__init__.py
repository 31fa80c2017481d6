"""``townsquare synth``: a synthetic community at any size, every source in its real format.

``generate(scale, out, seed)`` writes, for the invented project *Borealis* (GitHub
``borealis-dev/borealis``; every name, domain and address is invented, under
``.example``/``.test``):

====================  =============  ===========================================  ==================
source (manifest key)  type           base LOCATION (relative to OUT)              delta LOCATION
====================  =============  ===========================================  ==================
blog                  ``wxr``        ``blog/borealis-blog.wxr.xml``               ``delta/blog/borealis-blog-2026-01-01.wxr.xml``
community             ``feed``       ``blog/community`` (posts + comments feed)   ``delta/blog/community``
forum                 ``discourse``  served: ``RecordedServer(OUT/forum/discourse)``  the same, after ``apply_delta``
mail                  ``mbox``       ``mail`` (two lists)                         ``delta/mail``
git                   ``git``        ``git/borealis.git`` (bare)                  the same, after ``apply_delta``
github                ``github``     ``borealis-dev/borealis``, served:            the same, after ``apply_delta``
                                     ``RecordedServer(OUT/github)`` (``api_url``)
gharchive             ``gharchive``  ``gharchive`` (``orgs=[borealis-dev]``)      ``delta/gharchive``
crm                   ``crm``        ``crm``                                      ``delta/crm``
====================  =============  ===========================================  ==================

Scale 1 is about a million landed rows over 2021-01-01..2025-12-31 (linear in
``scale``); the delta is the next day, 2026-01-01, about 1% of the volume.
``OUT/manifest.json`` holds the scale, seed, span, per source the type, name, locations
and options, and the rows the connectors must land: ``base`` (first landing), ``delta``
(the second landing, re-landed rows included) and ``new`` (keys the delta adds), plus
the people statistics (heavy tail, multi-channel share, organizations, conversion).

How to land the base, then the delta (what ``townsquare bench`` does; the same source
NAME for both landings, so the connectors run incrementally from their state)::

    from townsquare.pipeline import ingest_source
    from townsquare.synth import apply_delta, generate, serve, source_configs

    generate(1.0, out, seed=42)
    with serve(out) as urls:                        # RecordedServer for forum and GitHub
        for source in source_configs(out, "base", urls):
            ingest_source(source, lake=lake, credentials={})
    apply_delta(out)                                # forum/GitHub files updated, git import
    with serve(out) as urls:
        for source in source_configs(out, "delta", urls):
            ingest_source(source, lake=lake, credentials={})

Or by hand: ``townsquare ingest TYPE LOCATION --name NAME`` with the manifest's values
(``sources.<key>.type``, ``.name``, ``.base.location`` / ``.delta.location``,
``.options``); for ``forum`` and ``github`` serve the folder first
(``RecordedServer(OUT/forum/discourse)`` → LOCATION is its URL, option
``public_url=https://forum.borealis.example``; ``RecordedServer(OUT/github)`` → LOCATION
``borealis-dev/borealis``, option ``api_url`` its URL). ``apply_delta(out)`` copies
``delta/forum/discourse/*`` over ``forum/discourse/`` and ``delta/github/*`` over
``github/``, and imports ``delta/git/borealis.fastimport`` into ``git/borealis.git`` as
new commits on top of ``main``; it is idempotent. The file sources' delta files sit in
``delta/`` under new names (the mbox and GH Archive connectors key their state by file
name), and the CRM delta is the next day's full export.

Realism: heavy-tailed activity per person (``population``), people in several channels
under different addresses and usernames, staff who answer first, bots (dependabot,
GitHub Actions, a CI account), organizations with a few business users each and
about one business organization in a hundred paying. Deterministic for a seed: every
source has its own ``random.Random`` derived from the seed; nothing reads the clock.
Streaming: files are written as they are generated; memory stays small.

Note for the warehouse: the freemail domains are invented too (``population.FREEMAIL``)
and are not in the ``freemail_domains`` seed; the manifest lists them
(``identity.freemail_domains``), with the staff domain and the forum's GitHub
username namespace, for a bench that wants the seeds to know them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from townsquare.synth import blog, crm, forum, gharchive, git, github, mail, population
from townsquare.synth.context import FORUM_URL, GITHUB_ORG, GITHUB_REPO, Context
from townsquare.synth.spool import MonthSpool
from townsquare.synth.timeline import BASE_END, BASE_START, DELTA_END, DELTA_START, iso_z

MANIFEST = "manifest.json"
MANAGED = ("blog", "forum", "mail", "git", "github", "gharchive", "crm", "delta", ".tmp", MANIFEST)
SOURCES: dict[str, dict[str, Any]] = {
    "blog": {"type": "wxr", "base": "blog/borealis-blog.wxr.xml",
             "delta": "delta/blog/borealis-blog-2026-01-01.wxr.xml"},
    "community": {"type": "feed", "base": "blog/community", "delta": "delta/blog/community",
                  "options": {"follow_comments": False}},
    "forum": {"type": "discourse", "serve": "forum/discourse", "options": {"public_url": FORUM_URL}},
    "mail": {"type": "mbox", "base": "mail", "delta": "delta/mail"},
    "git": {"type": "git", "base": git.REPO_DIR, "delta": git.REPO_DIR, "options": {"repo": GITHUB_REPO}},
    "github": {"type": "github", "serve": "github", "location": GITHUB_REPO},
    "gharchive": {"type": "gharchive", "base": "gharchive", "delta": "delta/gharchive",
                  "options": {"orgs": [GITHUB_ORG]}},
    "crm": {"type": "crm", "base": "crm", "delta": "delta/crm"},
}  # fmt: skip
GENERATOR_VERSION = 1
"""Bumped when the same scale and seed write different data (``townsquare bench`` then
regenerates instead of reusing an earlier output)."""

GENERATORS: tuple[tuple[str, Callable[[Context], None]], ...] = (
    ("blog", blog.generate),
    ("forum", forum.generate),
    ("mail", mail.generate),
    ("github", github.generate),
    ("git", git.generate),
    ("gharchive", gharchive.generate),
    ("crm", crm.generate),
)


@dataclass
class SynthResult:
    out: str
    scale: float
    seed: int
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    people: dict[str, Any] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def base_rows(self) -> int:
        return sum(sum(s["base"]["rows"].values()) for s in self.sources.values())

    @property
    def delta_rows(self) -> int:
        return sum(sum(s["delta"]["rows"].values()) for s in self.sources.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "out": self.out,
            "scale": self.scale,
            "seed": self.seed,
            "base_rows": self.base_rows,
            "delta_rows": self.delta_rows,
            "sources": self.sources,
            "people": self.people,
            "files": self.files,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }

    def render(self) -> str:
        lines = [f"Synthetic community: scale {self.scale:g}, seed {self.seed} -> {self.out}", ""]
        lines.append(
            f"  {'source':<11} {'type':<10} {'base rows':>11} {'delta rows':>11} {'new':>9} {'seconds':>8}"
        )
        for key, s in self.sources.items():
            lines.append(
                f"  {key:<11} {s['type']:<10} {sum(s['base']['rows'].values()):>11,} "
                f"{sum(s['delta']['rows'].values()):>11,} {sum(s['new'].values()):>9,} "
                f"{self.timings.get(key, 0.0):>8.1f}"
            )
        lines.append(f"  {'total':<22} {self.base_rows:>11,} {self.delta_rows:>11,}")
        p = self.people
        lines += [
            "",
            f"People: {p.get('people_seen', 0):,} seen of {p.get('population', 0):,}; top 10% do "
            f"{p.get('top_10pct_share', 0):.0%} of {p.get('activities', 0):,} activities; "
            f"{p.get('multi_channel_share', 0):.0%} in 2+ channels",
            f"Files: {self.files:,}, {self.bytes / 1e6:,.1f} MB; {self.seconds:.1f} s",
        ]
        return "\n".join(lines)


def generate(
    scale: float,
    out: str | Path,
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
) -> SynthResult:
    """Write the synthetic community for ``scale`` into ``out`` (see the module docstring).

    ``out`` must be empty, missing, or an earlier synth output (which is replaced).
    """
    if scale <= 0:
        raise ValueError(f"synth: scale must be positive (got {scale})")
    started = time.monotonic()
    say = progress or (lambda _m: None)
    root = Path(out).resolve()
    _prepare(root)
    tmp = root / ".tmp"
    tmp.mkdir(parents=True)
    say(f"synth: population for scale {scale:g}, seed {seed}")
    t = time.monotonic()
    pop = population.build(scale, seed)
    ctx = Context(
        out=root, scale=scale, seed=seed, pop=pop, tmp=tmp, say=say,
        events=MonthSpool(tmp / "events", "events"),
    )  # fmt: skip
    timings = {"population": time.monotonic() - t}
    for key, run in GENERATORS:
        t = time.monotonic()
        say(f"synth: {key}")
        run(ctx)
        timings[key] = time.monotonic() - t
    shutil.rmtree(tmp)
    manifest = _manifest(ctx)
    (root / MANIFEST).write_text(
        json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    files, size = _tree_size(root)
    result = SynthResult(
        out=str(root), scale=scale, seed=seed, sources=manifest["sources"],
        people=manifest["people"], files=files, bytes=size,
        seconds=time.monotonic() - started, timings=timings,
    )  # fmt: skip
    say(f"synth: done in {result.seconds:.1f}s")
    return result


def _prepare(root: Path) -> None:
    if root.exists() and any(root.iterdir()):
        if not (root / MANIFEST).exists() and not (root / ".tmp").exists():
            raise FileExistsError(
                f"synth: {root} is not empty and holds no synth output ({MANIFEST}); "
                "choose an empty or new folder"
            )
        for name in MANAGED:
            path = root / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    root.mkdir(parents=True, exist_ok=True)


def _manifest(ctx: Context) -> dict[str, Any]:
    sources: dict[str, Any] = {}
    for key, spec in SOURCES.items():
        counts = ctx.counts[key]
        options = dict(spec.get("options", {}))
        entry: dict[str, Any] = {"type": spec["type"], "name": f"synth-{key}"}
        if "serve" in spec:
            # served over HTTP by RecordedServer(OUT/<serve>): "{url}" is its URL
            entry["serve"] = spec["serve"]
            base_location = delta_location = spec.get("location", "{url}")
            if key == "github":
                options["api_url"] = "{url}"
        else:
            base_location, delta_location = spec["base"], spec["delta"]
        entry["options"] = options
        entry["base"] = {"location": base_location, "rows": counts.base}
        entry["delta"] = {"location": delta_location, "rows": counts.delta}
        entry["new"] = counts.new
        entry["extra"] = counts.extra
        sources[key] = entry
    stats = ctx.pop.tally.stats(ctx.pop) if ctx.pop.tally else {}
    return {
        "generator": "townsquare.synth",
        "version": GENERATOR_VERSION,
        "scale": ctx.scale,
        "seed": ctx.seed,
        "span": {
            "base_start": iso_z(BASE_START),
            "base_end": iso_z(BASE_END),
            "delta_start": iso_z(DELTA_START),
            "delta_end": iso_z(DELTA_END),
        },
        "project": {"name": "Borealis", "github": GITHUB_REPO, "forum_public_url": FORUM_URL},
        "totals": {
            "base_rows": sum(sum(s["base"]["rows"].values()) for s in sources.values()),
            "delta_rows": sum(sum(s["delta"]["rows"].values()) for s in sources.values()),
            "new_rows": sum(sum(s["new"].values()) for s in sources.values()),
        },
        "sources": sources,
        "people": stats,
        "population": ctx.pop.stats(),
        "identity": {
            "freemail_domains": list(population.FREEMAIL),
            "staff_domain": population.STAFF_DOMAIN,
            "username_namespaces": [
                {"channel": "forum", "source": "synth-forum", "namespace": "github"}
            ],
            "bots": sorted(b.login for b in population.BOTS.values()),
        },
        "landing": (
            "Land every source's base location with its name, call "
            "townsquare.synth.apply_delta(OUT), then land every source's delta location "
            "with the same name. 'serve' sources: serve OUT/<serve> with RecordedServer and "
            "put its URL where '{url}' stands."
        ),
    }


def _tree_size(root: Path) -> tuple[int, int]:
    files = size = 0
    for dirpath, _, names in os.walk(root):
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(dirpath, name))
    return files, size


def read_manifest(out: str | Path) -> dict[str, Any]:
    return json.loads((Path(out) / MANIFEST).read_text(encoding="utf-8"))


def apply_delta(out: str | Path) -> dict[str, int]:
    """Turn OUT's served folders and git repository into the state after the delta day.

    Copies ``delta/forum/discourse/*`` over ``forum/discourse/`` and ``delta/github/*``
    over ``github/``; imports ``delta/git/borealis.fastimport`` into ``git/borealis.git``
    (once: a second call changes nothing). Returns what it did.
    """
    root = Path(out)
    done = {}
    for overlay, target in (
        ("delta/forum/discourse", "forum/discourse"),
        ("delta/github", "github"),
    ):
        copied = 0
        for path in sorted((root / overlay).iterdir()):
            shutil.copyfile(path, root / target / path.name)
            copied += 1
        done[target] = copied
    done["git_commits"] = git.apply_delta(root)
    return done


@contextlib.contextmanager
def serve(out: str | Path, page_size: int = 100) -> Iterator[dict[str, str]]:
    """Serve the recorded forum and GitHub folders; yields ``{"forum": url, "github": url}``.

    GitHub listings are served ``page_size`` records a page (GitHub's largest page is 100),
    each with a ``Link`` header to the next.
    """
    from townsquare.samples.forum.recorded_server import RecordedServer

    root = Path(out)
    with (
        RecordedServer(root / "forum" / "discourse") as forum_url,
        RecordedServer(root / "github", page_size=page_size) as gh_url,
    ):
        yield {"forum": forum_url, "github": gh_url}


def source_configs(out: str | Path, phase: str, urls: dict[str, str] | None = None) -> list[Any]:
    """``SourceConfig``s for every source of OUT's manifest (``phase``: ``base`` or ``delta``).

    ``urls`` (from ``serve``) is needed for the served sources (forum, github).
    """
    from townsquare.config import SourceConfig

    if phase not in ("base", "delta"):
        raise ValueError(f"phase must be 'base' or 'delta' (got {phase!r})")
    root = Path(out).resolve()
    manifest = read_manifest(root)
    configs = []
    for key, spec in manifest["sources"].items():
        location = spec[phase]["location"]
        options = dict(spec["options"])
        if "serve" in spec:
            if not urls or key not in urls:
                raise ValueError(f"source {key!r} is served: pass the urls from serve(out)")
            url = urls[key]
            location = location.replace("{url}", url)
            options = {
                k: (v.replace("{url}", url) if isinstance(v, str) else v)
                for k, v in options.items()
            }
        else:
            location = str(root / location)
        configs.append(
            SourceConfig(type=spec["type"], name=spec["name"], location=location, options=options)
        )
    return configs


__all__ = [
    "SOURCES",
    "SynthResult",
    "apply_delta",
    "generate",
    "read_manifest",
    "serve",
    "source_configs",
]
