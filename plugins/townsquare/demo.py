"""``townsquare demo``: the bundled sample sources, landed, built, checked, summarised.

Runs with no network: every sample is a file shipped inside the package. The HTTP
sources (a Discourse forum, a Pipermail archive) are landed through their real
connectors from a local server on 127.0.0.1 that serves the recorded site
(``townsquare.samples.forum.recorded_server.demo_site``) for the length of the landing.
Lumen's git history ships as a ``git fast-import`` stream; the demo builds it into a
real repository under the demo home (``<home>/samples/lumen-git``, reused on later
runs) and lands it with the git connector as ``lumen-git``.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from townsquare.build import BuildResult, build
from townsquare.config import SourceConfig
from townsquare.paths import project_root, samples_dir
from townsquare.pipeline import IngestResult, ingest_source
from townsquare.schemas import ENTITIES

Progress = Callable[[str], None]

DEMO_SOURCES: tuple[tuple[str, str, str], ...] = (
    # (type, name, location relative to the samples folder)
    ("wxr", "lumen-blog", "blog/lumen-blog.wxr.xml"),
    ("feed", "lumen-community", "blog/community"),
    ("feed", "lumen-releases", "blog/lumen-releases.atom.xml"),
    ("mbox", "lumen-dev", "forum/mail/lumen-dev.mbox"),
    ("gharchive", "lumen-gharchive", "repo/gharchive"),
    ("crm", "lumen-crm", "commercial/crm"),
)
SOURCE_OPTIONS: dict[str, dict[str, Any]] = {
    "feed": {"follow_comments": False},
    "gharchive": {"repos": ["lumen-db/lumen"]},
}
GITHUB_REPO = "lumen-db/lumen"
LUMEN_GIT = "lumen-git"
"""The demo source of Lumen's git history (built from the bundled fast-import stream)."""
OWN_REPO = "townsquare/townsquare"
"""The name the demo gives this project's own git history (a real repository sample)."""
SERVED_SOURCES: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    # (type, name, path on the demo's local site, options)
    ("discourse", "lumen-forum", "/", {"public_url": "https://forum.lumen.example.org"}),
    ("pipermail", "lumen-users", "/pipermail/lumen-users/", {}),
)


def demo_sources(
    site_url: str, github_url: str, lumen_git: str | None = None
) -> list[SourceConfig]:
    """Every demo source; the served ones point at the local demo sites.

    ``site_url`` serves the recorded forum and the Pipermail archive, ``github_url`` the
    recorded GitHub API. ``lumen_git`` is the repository built from the Lumen history
    sample (``townsquare.samples.repo.git_sample.materialize``): the source ``lumen-git``
    of the same repository as the GitHub sample. This project's own git history is a
    source too when the project is a git checkout (a real repository, landed by the git
    connector).
    """
    base = samples_dir()
    files = [
        SourceConfig(type=t, name=n, location=str(base / loc), options=SOURCE_OPTIONS.get(t, {}))
        for t, n, loc in DEMO_SOURCES
    ]
    served = [
        SourceConfig(type=t, name=n, location=site_url.rstrip("/") + path, options=opts)
        for t, n, path, opts in SERVED_SOURCES
    ]
    served.append(
        SourceConfig(
            type="github",
            name="lumen-github",
            location=GITHUB_REPO,
            options={"api_url": github_url},
        )
    )
    if lumen_git is not None:
        files.append(
            SourceConfig(
                type="git", name=LUMEN_GIT, location=lumen_git, options={"repo": GITHUB_REPO}
            )
        )
    own = project_root()
    if (own / ".git").exists():
        files.append(
            SourceConfig(
                type="git", name="townsquare-git", location=str(own), options={"repo": OWN_REPO}
            )
        )
    return files + served


@dataclass
class DemoSummary:
    home: str
    lake: str
    warehouse: str
    published: str = ""
    ingests: list[IngestResult] = field(default_factory=list)
    build: BuildResult | None = None
    layers: dict[str, dict[str, int]] = field(default_factory=dict)
    top_sites: list[tuple[str, int, int]] = field(default_factory=list)
    top_posts: list[tuple[str, int]] = field(default_factory=list)
    conversations: list[tuple[str, int, int, float | None]] = field(default_factory=list)
    """Per channel: threads, answered threads, median hours to first response."""
    repositories: list[tuple[str, int, int, int, int, float | None]] = field(default_factory=list)
    """Per repository: commits, issues opened, PRs opened, PRs merged, PR closure ratio."""
    people: dict[str, Any] = field(default_factory=dict)
    """Persons, identities, merges by rule, the funnel by acquisition channel."""
    money: dict[str, Any] = field(default_factory=dict)
    """The monetization funnel, revenue by acquisition channel and the top leads."""
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "home": self.home,
            "lake": self.lake,
            "warehouse": self.warehouse,
            "published": self.published,
            "dashboard": self.build.dashboard if self.build else None,
            "sources": [r.to_json() for r in self.ingests],
            "build": self.build.to_json() if self.build else None,
            "layers": self.layers,
            "top_referring_sites": [
                {"referring_domain": d, "inbound_links": links, "comments": c}
                for d, links, c in self.top_sites
            ],
            "repositories": [
                {
                    "repo": r,
                    "commits": c,
                    "issues_opened": i,
                    "prs_opened": o,
                    "prs_merged": m,
                    "change_request_closure_ratio": ratio,
                }
                for r, c, i, o, m, ratio in self.repositories
            ],
            "conversations": [
                {"channel": ch, "threads": n, "answered": a, "median_hours_to_first_response": h}
                for ch, n, a, h in self.conversations
            ],
            "people": self.people,
            "money": self.money,
            "seconds": round(self.seconds, 3),
        }

    def render(self) -> str:
        out = ["", "Townsquare demo", "=" * 15, ""]
        out.append("Rows per layer")
        width = max((len(n) for layer in self.layers.values() for n in layer), default=10)
        for layer, tables in self.layers.items():
            out.append(f"  {layer}")
            if not tables:
                out.append("    (none)")
            for name, rows in tables.items():
                out.append(f"    {name:<{width}}  {rows:>7,}")
        out += ["", "Top referring sites (inbound links = trackbacks + pingbacks)"]
        out.append(f"    {'site':<32} {'links':>6} {'comments':>9}")
        for domain, links, comments in self.top_sites:
            out.append(f"    {domain:<32} {links:>6} {comments:>9}")
        out += ["", "Most-linked posts"]
        for title, links in self.top_posts:
            out.append(f"    {links:>4}  {title}")
        out += ["", "Repositories"]
        out.append(
            f"    {'repository':<24} {'commits':>7} {'issues':>7} {'PRs':>5} {'merged':>7} "
            f"{'PR closure ratio':>17}"
        )
        for repo, commits, issues, prs, merged, ratio in self.repositories:
            shown = f"{ratio:.2f}" if ratio is not None else "-"
            out.append(f"    {repo:<24} {commits:>7} {issues:>7} {prs:>5} {merged:>7} {shown:>17}")
        out += ["", "Conversations (forum topics and mailing-list threads)"]
        out.append(
            f"    {'channel':<14} {'threads':>7} {'answered':>9} {'median h to 1st reply':>22}"
        )
        for channel, threads, answered, hours in self.conversations:
            shown = f"{hours:.1f}" if hours is not None else "-"
            out.append(f"    {channel:<14} {threads:>7} {answered:>9} {shown:>22}")
        if self.people:
            p = self.people
            out += [
                "",
                "People (identities resolved across channels; bots and staff excluded below)",
            ]
            out.append(
                f"    {p['identities']} identities -> {p['persons']} persons "
                f"({p['multi_channel']} seen in more than one channel); merges by rule: "
                + ", ".join(f"{rule} {n}" for rule, n in p["merges"].items())
            )
            out.append(
                f"    {'acquired via':<14} {'acquired':>8} {'engaged':>8} {'contributors':>13} {'core':>5}"
            )
            for row in p["funnel"]:
                out.append(
                    f"    {row['channel']:<14} {row['acquired']:>8} {row['engaged']:>8} "
                    f"{row['contributors']:>13} {row['core']:>5}"
                )
            out.append(
                "    levels today: " + ", ".join(f"{level} {n}" for level, n in p["levels"].items())
            )
        if self.money:
            m = self.money
            out += ["", "Community to revenue (organizations; revenue in EUR to date)"]
            out.append(
                f"    {m['organizations']} community organizations, {m['business_users']} business "
                f"users -> {m['engaged']} engaged -> {m['with_intent']} with intent -> "
                f"{m['paying']} paying; customers / business users = "
                f"{m['customer_rate']:.3f} (benchmark 0.010)"
            )
            for row in m["revenue"]:
                days = row["median_days"]
                shown = (
                    f", first subscription after {days:.0f} days (median)"
                    if days is not None
                    else ""
                )
                out.append(
                    f"    {row['channel']:<17} {row['customers']:>3} customers "
                    f"{row['revenue']:>12,.2f}{shown}"
                )
            if m["leads"]:
                out.append("    top leads: " + "; ".join(f"{o} ({s:.0f})" for o, s in m["leads"]))
        out += ["", f"Lake:      {self.lake}", f"Warehouse: {self.warehouse}  (dbt's working file)"]
        release = self.build.release if self.build else None
        if release:
            snapshot = Path(self.published, "townsquare.duckdb")
            out += [
                f"Published: {self.published}  (release {release['release_id']})",
                f"  snapshot  {snapshot}  (read-only; marts in schema `marts`)",
                f"  parquet   {Path(self.published, 'parquet')}/<mart>.parquet",
                f"  dbt docs  {Path(self.published, 'docs', 'index.html')}",
                "Query the published marts from any DuckDB client (BI tool, DuckDB CLI, Python):",
                f"  .venv/bin/python -c \"import duckdb; duckdb.connect('{snapshot}', "
                "read_only=True).sql('from marts.fct_leads limit 5').show()\"",
            ]
        out.append(f"Done in {self.seconds:.1f}s.")
        if self.build and self.build.dashboard:
            out += ["", f"Dashboard: {self.build.dashboard}"]
        return "\n".join(out)


def run_demo(home: str, progress: Progress | None = None) -> DemoSummary:
    started = time.monotonic()
    say = progress or (lambda _m: None)
    root = Path(home).resolve()
    root.mkdir(parents=True, exist_ok=True)
    lake, warehouse = str(root / "lake"), str(root / "warehouse.duckdb")
    published = str(root / "published")
    summary = DemoSummary(home=str(root), lake=lake, warehouse=warehouse, published=published)
    from townsquare.samples.forum.recorded_server import RecordedServer, demo_site
    from townsquare.samples.repo.git_sample import materialize

    lumen_git: str | None = None
    if shutil.which("git"):
        lumen_git = str(materialize(root / "samples" / LUMEN_GIT))
    else:  # the git connector needs git too
        say(f"git is not installed: {LUMEN_GIT} (Lumen's git history) is left out")
    github_recording = samples_dir() / "repo" / "github"
    with demo_site() as site_url, RecordedServer(github_recording) as github_url:
        sources = demo_sources(site_url, github_url, lumen_git)
        for i, source in enumerate(sources, 1):
            say(f"[{i}/{len(sources) + 1}] landing {source.name} ({source.type})")
            summary.ingests.append(ingest_source(source, lake=lake, progress=say, credentials={}))
    say(
        f"[{len(sources) + 1}/{len(sources) + 1}] building the warehouse "
        "(dbt build, docs, mart checks, publish, dashboard)"
    )
    summary.build = build(lake, warehouse, progress=say, publish_dir=published)
    _describe(summary)
    summary.seconds = time.monotonic() - started
    return summary


def _describe(summary: DemoSummary) -> None:
    import duckdb

    with duckdb.connect(summary.warehouse, read_only=True) as con:
        # What the lake holds (every landing so far, not only this run's new rows)
        raw = {e: _lake_rows(con, summary.lake, "raw", e) for e in ENTITIES}
        quarantined = {e: _lake_rows(con, summary.lake, "quarantine", e) for e in ENTITIES}

        def tables(schema: str) -> dict[str, int]:
            names = con.execute(
                "select table_name from information_schema.tables where table_schema = ? "
                "order by 1",
                [schema],
            ).fetchall()
            return {
                n: con.execute(f'select count(*) from "{schema}"."{n}"').fetchall()[0][0]
                for (n,) in names
            }

        summary.layers = {
            "raw (lake)": dict(sorted(raw.items())),
            "quarantine (lake)": {e: n for e, n in sorted(quarantined.items()) if n},
            "staging": tables("staging"),
            "marts": tables("marts"),
        }
        summary.top_sites = [
            (d, int(links), int(c))
            for d, links, c in con.execute(
                "select referring_domain, sum(inbound_links), sum(comments) "
                "from marts.fct_inbound_reach_by_site group by 1 "
                "order by 2 desc, 3 desc, 1 limit 5"
            ).fetchall()
        ]
        summary.top_posts = [
            (str(t), int(n))
            for t, n in con.execute(
                "select coalesce(post_title, post_key), sum(inbound_links) "
                "from marts.fct_inbound_reach_monthly group by 1 "
                "having sum(inbound_links) > 0 order by 2 desc, 1 limit 3"
            ).fetchall()
        ]
        summary.repositories = [
            (str(r), int(c), int(i), int(o), int(m), float(x) if x is not None else None)
            for r, c, i, o, m, x in con.execute(
                "select repo, sum(commits), sum(issues_opened), sum(prs_opened), "
                "sum(prs_merged), round(sum(prs_closed) / nullif(sum(prs_opened), 0), 2) "
                "from marts.fct_repo_activity_monthly group by 1 order by 1"
            ).fetchall()
        ]
        summary.conversations = [
            (str(ch), int(n), int(a), float(h) if h is not None else None)
            for ch, n, a, h in con.execute(
                "select channel, count(*), count(*) filter (where is_answered), "
                "round(median(hours_to_first_response), 1) "
                "from marts.fct_forum_threads group by 1 order by 1"
            ).fetchall()
        ]

        summary.people = _people(con)
        summary.money = _money(con)


def _money(con: Any) -> dict[str, Any]:
    funnel = con.execute(
        "select sum(organizations), sum(business_users), sum(engaged_organizations), "
        "sum(organizations_with_intent), sum(paying_customers), sum(customers) "
        "from marts.fct_monetization_funnel_monthly where acquisition_channel = 'all'"
    ).fetchall()[0]
    orgs, users, engaged, intent, paying, customers = (int(v or 0) for v in funnel)
    revenue = con.execute(
        "select acquisition_channel, customers, lifetime_revenue, median_days_to_first_subscription "
        "from marts.fct_revenue_by_channel order by lifetime_revenue desc, acquisition_channel"
    ).fetchall()
    leads = con.execute(
        "select coalesce(organization_name, organization), score from marts.fct_leads "
        "order by lead_rank limit 3"
    ).fetchall()
    return {
        "organizations": orgs,
        "business_users": users,
        "engaged": engaged,
        "with_intent": intent,
        "paying": paying,
        "customers": customers,
        "customer_rate": customers / users if users else 0.0,
        "revenue": [
            {
                "channel": str(c),
                "customers": int(n),
                "revenue": float(r),
                "median_days": float(d) if d is not None else None,
            }
            for c, n, r, d in revenue
        ],
        "leads": [(str(o), float(s)) for o, s in leads],
    }


def _people(con: Any) -> dict[str, Any]:
    def rows(sql: str) -> list[tuple[Any, ...]]:
        return con.execute(sql).fetchall()

    identities, persons, multi = rows(
        "select sum(identities), count(*), count(*) filter (where "
        "(blog_activities > 0)::int + (forum_activities > 0)::int "
        "+ (mailing_list_activities > 0)::int + (repository_activities > 0)::int > 1) "
        "from marts.dim_contributors"
    )[0]
    merges = rows(
        "select rule, count(*) from intermediate.int_identity_edges group by 1 order by 2 desc, 1"
    )
    funnel = rows(
        "select acquisition_channel, sum(acquired), sum(engaged), sum(contributors), sum(core) "
        "from marts.fct_community_funnel_monthly group by 1 "
        "order by acquisition_channel = 'all', 2 desc, 1"
    )
    levels = rows(
        "select current_level, count(*) from marts.dim_contributors "
        "where not is_bot and not is_staff group by 1 "
        "order by list_position(['acquired', 'engaged', 'contributor', 'core'], current_level)"
    )
    return {
        "identities": int(identities or 0),
        "persons": int(persons),
        "multi_channel": int(multi or 0),
        "merges": {str(rule): int(n) for rule, n in merges},
        "funnel": [
            {
                "channel": str(c),
                "acquired": int(a),
                "engaged": int(e),
                "contributors": int(k),
                "core": int(o),
            }
            for c, a, e, k, o in funnel
        ],
        "levels": {str(level): int(n) for level, n in levels},
    }


def _lake_rows(con: Any, lake: str, area: str, entity: str) -> int:
    pattern = str(Path(lake) / area / entity / "*" / "*" / "*.parquet")
    if not con.execute("select count(*) from glob(?)", [pattern]).fetchall()[0][0]:
        return 0
    return int(con.execute("select count(*) from read_parquet(?)", [pattern]).fetchall()[0][0])
