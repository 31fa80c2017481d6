"""The executive dashboard: one self-contained HTML file from a published DuckDB snapshot.

``render_dashboard(snapshot, out)`` reads the marts of a published snapshot (read-only),
embeds the rows the charts need as JSON (``<script type="application/json"
id="townsquare-data">``), inlines plotly.js (from the installed ``plotly`` package) and the
dashboard's own CSS/JS (``dashboard_assets/``), and writes the page atomically. The page
loads nothing over the network: it works from a file, offline.

What is computed where:

- Python (here) reads the marts, scrubs anything email- or IP-shaped from the strings it
  embeds, renders the static parts (filters, KPI cards, chart cards with their captions and
  the definitions read from the column comments, the leads table, the footer) and fills the
  KPI cards for the initial selection (every month, every channel) with ``summarize()``.
- The browser (``dashboard_assets/dashboard.js``) builds the plotly traces from the embedded
  rows and recomputes the KPIs and every chart when the month range or channel changes.
  Its KPI arithmetic mirrors ``summarize()`` (sums and ratios of counts, never averages of
  rates); the tests hold both to the same hand-computed values.

Person display names are never embedded; leads show organization names only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import ipaddress
import json
import math
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

DATA_ELEMENT_ID = "townsquare-data"
CHANNELS = ("blog", "forum", "mailing_list", "repository")
CHANNEL_LABELS = {
    "all": "All channels",
    "blog": "Blog",
    "forum": "Forum",
    "mailing_list": "Mailing list",
    "repository": "Repository",
    "not_in_community": "Not in community",
}
DEFAULT_BENCHMARK_RATE = 0.01
TOP_SITES = 10
TOP_LEADS = 10
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DASH = "–"  # shown for a ratio whose denominator is 0

_ASSETS = Path(__file__).with_name("dashboard_assets")


class DashboardError(RuntimeError):
    """The dashboard cannot be rendered (one line, names the snapshot, table or column)."""


@dataclass
class DashboardResult:
    path: str
    release_id: str | None
    charts: dict[str, int]  # chart name -> data rows embedded for it
    bytes: int
    seconds: float


# --------------------------------------------------------------------------- datasets


@dataclass(frozen=True)
class Dataset:
    """Rows of one mart table embedded in the page (dates become ``YYYY-MM`` months)."""

    table: str
    columns: tuple[str, ...]
    order: str
    limit: int | None = None


DATASETS: dict[str, Dataset] = {
    "contributors": Dataset(
        "fct_contributors_monthly",
        (
            "month",
            "acquisition_channel",
            "active_contributors",
            "new_contributors",
            "returning_contributors",
            "code_contributors",
        ),
        "month, acquisition_channel",
    ),
    "community_funnel": Dataset(
        "fct_community_funnel_monthly",
        (
            "month",
            "acquisition_channel",
            "acquired",
            "engaged",
            "contributors",
            "core",
            "engaged_rate",
            "contributor_rate",
            "core_rate",
            "acquired_to_contributor_rate",
        ),
        "month, acquisition_channel",
    ),
    "cohort_retention": Dataset(
        "fct_cohort_retention",
        (
            "cohort_month",
            "months_since_first",
            "activity_month",
            "cohort_size",
            "active_people",
            "retention_rate",
        ),
        "cohort_month, months_since_first",
    ),
    "response_times": Dataset(
        "fct_response_times_monthly",
        (
            "month",
            "item_kind",
            "channel",
            "items",
            "responded_items",
            "median_hours_to_first_response",
            "p90_hours_to_first_response",
        ),
        "month, item_kind, channel",
    ),
    "health": Dataset(
        "fct_community_health_monthly",
        (
            "month",
            "active_contributors",
            "new_contributors",
            "inactive_contributors",
            "contributor_absence_factor",
            "elephant_factor",
        ),
        "month",
    ),
    "conversation_focus": Dataset(
        "fct_conversation_focus_monthly",
        ("month", "channel", "messages", "code_messages", "code_share"),
        "month, channel",
    ),
    "inbound_reach": Dataset(
        "fct_inbound_reach_by_site",
        ("month", "referring_domain", "inbound_links", "trackbacks", "pingbacks", "comments"),
        "month, referring_domain",
    ),
    "monetization": Dataset(
        "fct_monetization_funnel_monthly",
        (
            "month",
            "acquisition_channel",
            "organizations",
            "business_users",
            "engaged_organizations",
            "organizations_with_intent",
            "paying_customers",
            "customers",
            "business_user_to_customer_rate",
            "benchmark_rate",
        ),
        "month, acquisition_channel",
    ),
    "leads": Dataset(
        "fct_leads",
        (
            "lead_rank",
            "organization_name",
            "score",
            "business_users_points",
            "activity_points",
            "recency_points",
            "intent_points",
            "reasons",
        ),
        "lead_rank, organization_name",
        limit=TOP_LEADS,
    ),
    "revenue": Dataset(
        "fct_revenue_by_channel",
        (
            "acquisition_channel",
            "customers",
            "lifetime_revenue",
            "revenue_share",
            "median_days_to_first_subscription",
            "reporting_currency",
        ),
        "lifetime_revenue desc, acquisition_channel",
    ),
}

REQUIRED_TABLES = tuple(sorted({d.table for d in DATASETS.values()}))


# --------------------------------------------------------------------------- charts


@dataclass(frozen=True)
class Chart:
    """One card of the page: ``<section class="chart" data-chart=name>``."""

    name: str
    title: str
    caption: str
    scope: str  # which filters apply
    dataset: str
    columns: tuple[str, ...]  # plotted columns of the dataset's table: their definitions
    wide: bool = False
    controls: str = ""  # HTML above the plot (dashboard.js wires it)


_BOTH = "Month range and channel apply."
CHARTS: tuple[Chart, ...] = (
    Chart(
        "contributors_active",
        "Active contributors",
        "People with any activity in the month, stacked by acquisition channel.",
        _BOTH,
        "contributors",
        ("active_contributors", "acquisition_channel"),
    ),
    Chart(
        "contributors_new",
        "New and returning contributors",
        "Each month's active people split into newcomers and people who came back.",
        _BOTH,
        "contributors",
        ("new_contributors", "returning_contributors"),
    ),
    Chart(
        "community_funnel",
        "Community funnel",
        "People acquired in the selected months and how far they got (stages are nested).",
        _BOTH + " Months are acquisition months (cohorts).",
        "community_funnel",
        ("acquired", "engaged", "contributors", "core"),
    ),
    Chart(
        "funnel_rates",
        "Funnel conversion rates",
        "Each stage divided by the one before, per acquisition month.",
        _BOTH,
        "community_funnel",
        ("engaged_rate", "contributor_rate", "core_rate", "acquired_to_contributor_rate"),
    ),
    Chart(
        "cohort_retention",
        "Cohort retention",
        "Share of each monthly cohort still active N months after its first activity.",
        "Cohorts starting in the month range, followed up to its last month; "
        "every channel (the mart has no channel).",
        "cohort_retention",
        ("retention_rate", "cohort_size", "active_people", "months_since_first"),
        wide=True,
    ),
    Chart(
        "response_times",
        "Time to first response",
        "Time until someone else answered, by kind of conversation start (log scale).",
        "Month range applies; channel = where the conversation was started.",
        "response_times",
        ("median_hours_to_first_response", "p90_hours_to_first_response", "item_kind"),
        controls=(
            '<div class="toggle" role="group" aria-label="Statistic">'
            '<button type="button" data-stat="median" aria-pressed="true">Median</button>'
            '<button type="button" data-stat="p90" aria-pressed="false">90th percentile</button>'
            "</div>"
        ),
    ),
    Chart(
        "health_factors",
        "Community health",
        "How few people (absence factor) and organizations (elephant factor) make half of "
        "the code contributions; bars: inactive contributors.",
        "Month range applies; every channel (the mart has no channel).",
        "health",
        ("contributor_absence_factor", "elephant_factor", "inactive_contributors"),
    ),
    Chart(
        "conversation_focus",
        "Conversation focus",
        "Share of messages that talk about code, by channel.",
        "Month range applies; channel = where the messages were posted.",
        "conversation_focus",
        ("code_share", "messages", "code_messages"),
    ),
    Chart(
        "inbound_reach",
        "Inbound reach by referring site",
        f"The top {TOP_SITES} sites linking to the blogs over the selected months.",
        "Month range applies; the channel filter does not (blog reach).",
        "inbound_reach",
        ("inbound_links", "referring_domain"),
    ),
    Chart(
        "monetization_funnel",
        "Monetization funnel",
        "Organizations first touched in the selected months and how far they got.",
        _BOTH + " Months are the organizations' first community touch.",
        "monetization",
        ("organizations", "engaged_organizations", "organizations_with_intent", "paying_customers"),
    ),
    Chart(
        "benchmark",
        "Business users to customers vs the 1-in-100 benchmark",
        "Customers per business user, by cohort month, against the benchmark line.",
        _BOTH,
        "monetization",
        ("business_user_to_customer_rate", "benchmark_rate", "business_users", "customers"),
    ),
    Chart(
        "revenue_by_channel",
        "Revenue by acquisition channel",
        "Lifetime revenue of the customers, by the channel that first brought them in.",
        "All-time: the month range does not apply; the selected channel is highlighted.",
        "revenue",
        ("lifetime_revenue", "customers", "revenue_share"),
    ),
    Chart(
        "top_leads",
        "Top leads",
        "Engaged organizations that are not customers yet, best first, with what the score "
        "is made of.",
        "Current ranking: the filters do not apply.",
        "leads",
        (
            "score",
            "business_users_points",
            "activity_points",
            "recency_points",
            "intent_points",
            "reasons",
        ),
    ),
)


@dataclass(frozen=True)
class Kpi:
    name: str
    label: str
    table: str
    column: str
    how: str  # how the dashboard computes it (shown on hover)


KPIS: tuple[Kpi, ...] = (
    Kpi(
        "active_contributors",
        "Active contributors",
        "fct_contributors_monthly",
        "active_contributors",
        "Value in the last month of the range.",
    ),
    Kpi(
        "new_contributors",
        "New contributors",
        "fct_contributors_monthly",
        "new_contributors",
        "Sum over the months of the range.",
    ),
    Kpi(
        "contributor_conversion",
        "Acquired → contributor",
        "fct_community_funnel_monthly",
        "acquired_to_contributor_rate",
        "Sum of contributors / sum of acquired over the acquisition months of the range.",
    ),
    Kpi(
        "customers",
        "Customers",
        "fct_monetization_funnel_monthly",
        "customers",
        "Sum over the organizations' first-touch months in the range.",
    ),
    Kpi(
        "business_user_to_customer_rate",
        "Business user → customer",
        "fct_monetization_funnel_monthly",
        "business_user_to_customer_rate",
        "Sum of customers / sum of business users over the range, against the benchmark.",
    ),
    Kpi(
        "lifetime_revenue",
        "Lifetime revenue",
        "fct_revenue_by_channel",
        "lifetime_revenue",
        "All-time sum for the selected channel (all: every row, customers the community "
        "never saw included).",
    ),
)


# --------------------------------------------------------------------------- entry point


def render_dashboard(
    snapshot: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    docs_href: str | None = "docs/index.html",
    progress: Callable[[str], None] | None = None,
) -> DashboardResult:
    """Render the dashboard of ``snapshot`` (a DuckDB file) to ``out`` (HTML, atomically)."""
    started = time.monotonic()
    say = progress or (lambda _message: None)
    snapshot, out = Path(snapshot), Path(out)
    _check_docs_href(docs_href)
    say(f"reading {snapshot}")
    data, definitions = read_snapshot(snapshot)
    rows = sum(len(ds["rows"]) for ds in data["datasets"].values())
    say(f"read {rows} rows from {len(REQUIRED_TABLES)} marts")
    page = build_html(data, definitions, docs_href=docs_href)
    size = write_atomic(out, page)
    seconds = time.monotonic() - started
    say(f"wrote {out} ({size / 1e6:.1f} MB) in {seconds:.1f}s")
    charts = {chart.name: len(data["datasets"][chart.dataset]["rows"]) for chart in CHARTS}
    return DashboardResult(str(out), data["meta"]["release_id"], charts, size, seconds)


def _check_docs_href(docs_href: str | None) -> None:
    if docs_href is not None and re.match(r"^\s*([a-zA-Z][\w+.-]*:|//)", docs_href):
        raise DashboardError(f"docs_href must be a relative link, not {docs_href!r}")


# --------------------------------------------------------------------------- reading


def read_snapshot(path: Path) -> tuple[dict[str, Any], dict[tuple[str, str | None], str]]:
    """The embedded data and the definitions ``(table, column or None) -> comment``."""
    import duckdb

    if not path.is_file():
        raise DashboardError(f"snapshot not found: {path}")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise DashboardError(f"cannot open snapshot {path} as DuckDB: {_first_line(exc)}") from exc
    try:
        _check_tables(con, path)
        datasets = {name: _read_dataset(con, spec) for name, spec in DATASETS.items()}
        definitions = _read_definitions(con)
        release_id, published_at = _read_release(con)
    except duckdb.Error as exc:
        raise DashboardError(f"cannot read snapshot {path}: {_first_line(exc)}") from exc
    finally:
        con.close()
    data = {
        "meta": {
            "release_id": release_id,
            "published_at": published_at,
            "generated_at": _utc_iso(dt.datetime.now(dt.UTC)),
            "currency": _currency(datasets["revenue"]),
            "benchmark_rate": _benchmark(datasets["monetization"]),
            "top_sites": TOP_SITES,
        },
        "months": _month_spine(datasets),
        "channels": list(CHANNELS),
        "datasets": datasets,
    }
    return data, definitions


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _check_tables(con: Any, path: Path) -> None:
    found: dict[str, set[str]] = {}
    for table, column in con.execute(
        "select table_name, column_name from duckdb_columns() where schema_name = 'marts'"
    ).fetchall():
        found.setdefault(table, set()).add(column)
    missing = [f"marts.{t}" for t in REQUIRED_TABLES if t not in found]
    if missing:
        raise DashboardError(f"snapshot {path} lacks mart table(s): {', '.join(missing)}")
    for spec in DATASETS.values():
        lacking = [c for c in spec.columns if c not in found[spec.table]]
        if lacking:
            names = ", ".join(f"marts.{spec.table}.{c}" for c in lacking)
            raise DashboardError(f"snapshot {path} lacks column(s): {names}")


def _read_dataset(con: Any, spec: Dataset) -> dict[str, Any]:
    columns = ", ".join(f'"{c}"' for c in spec.columns)
    sql = f"select {columns} from marts.{spec.table} order by {spec.order}"
    if spec.limit:
        sql += f" limit {spec.limit}"
    rows = [[_json_value(v) for v in row] for row in con.execute(sql).fetchall()]
    return {"table": spec.table, "columns": list(spec.columns), "rows": rows}


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _utc_iso(value)
    if isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 6)
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list | tuple):
        return "; ".join(scrub(str(v)) for v in value if v is not None)
    return value


def _read_definitions(con: Any) -> dict[tuple[str, str | None], str]:
    defs: dict[tuple[str, str | None], str] = {}
    for table, comment in con.execute(
        "select table_name, comment from duckdb_tables() where schema_name = 'marts'"
    ).fetchall():
        if comment and comment.strip():
            defs[(table, None)] = comment.strip()
    for table, column, comment in con.execute(
        "select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'"
    ).fetchall():
        if comment and comment.strip():
            defs[(table, column)] = comment.strip()
    return defs


def _read_release(con: Any) -> tuple[str | None, str | None]:
    present = con.execute(
        "select count(*) from duckdb_tables() "
        "where schema_name = '_townsquare' and table_name = 'release'"
    ).fetchone()[0]
    if not present:
        return None, None
    row = con.execute(
        "select release_id, published_at from _townsquare.release "
        "order by published_at desc nulls last limit 1"
    ).fetchone()
    if row is None:
        return None, None
    published = row[1]
    return row[0], _utc_iso(published) if isinstance(published, dt.datetime) else None


def _utc_iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _currency(revenue: Mapping[str, Any]) -> str:
    index = revenue["columns"].index("reporting_currency")
    codes = sorted({row[index] for row in revenue["rows"] if row[index]})
    return codes[0] if codes else ""


def _benchmark(monetization: Mapping[str, Any]) -> float:
    index = monetization["columns"].index("benchmark_rate")
    rates = [row[index] for row in monetization["rows"] if row[index] is not None]
    return rates[0] if rates else DEFAULT_BENCHMARK_RATE


def _month_spine(datasets: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Every month from the first to the last of the monthly marts, gaps filled."""
    seen: set[str] = set()
    for ds in datasets.values():
        for key in ("month", "cohort_month"):
            if key in ds["columns"]:
                index = ds["columns"].index(key)
                seen.update(row[index] for row in ds["rows"] if row[index])
    if not seen:
        return []
    year, month = map(int, min(seen).split("-"))
    last = max(seen)
    months: list[str] = []
    while (current := f"{year:04d}-{month:02d}") <= last:
        months.append(current)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


# --------------------------------------------------------------------------- privacy

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_IP_CANDIDATE = re.compile(r"[0-9A-Fa-f:.]*[.:][0-9A-Fa-f:.]*")


def scrub(text: str) -> str:
    """``text`` with email addresses and IP addresses masked."""
    text = _EMAIL.sub("[email hidden]", text)
    return _IP_CANDIDATE.sub(_mask_ip, text)


def _mask_ip(match: re.Match[str]) -> str:
    token = match.group(0).strip(".:")
    try:
        ipaddress.ip_address(token)
    except ValueError:
        return match.group(0)
    return match.group(0).replace(token, "[IP hidden]")


# --------------------------------------------------------------------------- numbers


def records(data: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    """The rows of an embedded dataset as dicts."""
    ds = data["datasets"][name]
    return [dict(zip(ds["columns"], row, strict=True)) for row in ds["rows"]]


def summarize(
    data: Mapping[str, Any],
    start: str | None = None,
    end: str | None = None,
    channel: str = "all",
) -> dict[str, Any]:
    """The KPI numbers, funnel totals and top sites for a selection (``YYYY-MM`` months).

    Plain sums and ratios of counts (never averages of rates); ``dashboard.js`` computes
    the same in the browser.
    """
    months = data["months"]
    start = start or (months[0] if months else "")
    end = end or (months[-1] if months else "")

    def selected(rows: Iterable[dict[str, Any]], key: str = "acquisition_channel") -> list:
        return [r for r in rows if start <= r["month"] <= end and r[key] == channel]

    contributors = selected(records(data, "contributors"))
    last = [r for r in contributors if r["month"] == end]
    funnel = _totals(
        selected(records(data, "community_funnel")), ("acquired", "engaged", "contributors", "core")
    )
    money = _totals(
        selected(records(data, "monetization")),
        (
            "organizations",
            "business_users",
            "engaged_organizations",
            "organizations_with_intent",
            "paying_customers",
            "customers",
        ),
    )
    revenue = [
        r
        for r in records(data, "revenue")
        if channel == "all" or r["acquisition_channel"] == channel
    ]
    rate = _ratio(money["customers"], money["business_users"])
    benchmark = data["meta"]["benchmark_rate"]
    return {
        "start": start,
        "end": end,
        "channel": channel,
        "active_contributors": _sum(last, "active_contributors"),
        "new_contributors": _sum(contributors, "new_contributors"),
        "funnel": funnel,
        "contributor_conversion": _ratio(funnel["contributors"], funnel["acquired"]),
        "monetization": money,
        "customers": money["customers"],
        "business_user_to_customer_rate": rate,
        "benchmark_rate": benchmark,
        "rate_vs_benchmark": _ratio(rate, benchmark) if rate is not None else None,
        "lifetime_revenue": _sum(revenue, "lifetime_revenue"),
        "currency": data["meta"]["currency"],
        "top_sites": top_sites(data, start, end),
    }


def top_sites(
    data: Mapping[str, Any], start: str, end: str, limit: int = TOP_SITES
) -> list[tuple[str, int]]:
    """Referring domains by inbound links over the months, most first (ties by name)."""
    links: dict[str, int] = {}
    for r in records(data, "inbound_reach"):
        if start <= r["month"] <= end:
            domain = r["referring_domain"]
            links[domain] = links.get(domain, 0) + (r["inbound_links"] or 0)
    ranked = sorted(links.items(), key=lambda item: (-item[1], item[0]))
    return [item for item in ranked if item[1] > 0][:limit]


def _sum(rows: Iterable[Mapping[str, Any]], key: str) -> Any:
    total: Any = 0
    for r in rows:
        total += r[key] or 0
    return total


def _totals(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> dict[str, int]:
    return {key: _sum(rows, key) for key in keys}


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def format_kpis(summary: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """KPI name -> (value text, note text), exactly as ``dashboard.js`` formats them."""
    rate = summary["business_user_to_customer_rate"]
    versus = summary["rate_vs_benchmark"]
    benchmark = fmt_pct(summary["benchmark_rate"])
    return {
        "active_contributors": (
            fmt_int(summary["active_contributors"]),
            f"in {month_label(summary['end'])}" if summary["end"] else "",
        ),
        "new_contributors": (fmt_int(summary["new_contributors"]), "in the range"),
        "contributor_conversion": (
            fmt_pct(summary["contributor_conversion"]),
            f"{fmt_int(summary['funnel']['contributors'])} of "
            f"{fmt_int(summary['funnel']['acquired'])} acquired",
        ),
        "customers": (fmt_int(summary["customers"]), "from cohorts in the range"),
        "business_user_to_customer_rate": (
            fmt_pct(rate),
            f"{fmt_fixed(versus, 1)}× the {benchmark} benchmark"
            if versus is not None
            else f"benchmark {benchmark}",
        ),
        "lifetime_revenue": (
            fmt_money(summary["lifetime_revenue"], summary["currency"]),
            "all-time",
        ),
    }


def fmt_int(value: float | None) -> str:
    return DASH if value is None else f"{int(value):,}"


def fmt_fixed(value: float | None, digits: int) -> str:
    """Like JavaScript's ``Number.prototype.toFixed`` (ties away from zero, exact binary)."""
    if value is None:
        return DASH
    quantum = Decimal(1).scaleb(-digits)
    return str(Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP))


def fmt_pct(rate: float | None) -> str:
    return DASH if rate is None else f"{fmt_fixed(rate * 100, 1)}%"


def fmt_money(amount: float, currency: str) -> str:
    """Whole currency units, rounded like JavaScript's ``Math.round``."""
    whole = int((Decimal(amount) + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR))
    return f"{currency} {whole:,}".strip()


def month_label(month: str) -> str:
    year, number = month.split("-")
    return f"{MONTH_NAMES[int(number) - 1]} {year}"


# --------------------------------------------------------------------------- HTML


def build_html(
    data: Mapping[str, Any],
    definitions: Mapping[tuple[str, str | None], str],
    *,
    docs_href: str | None,
) -> str:
    """The whole page: template + inlined CSS, plotly.js, the data and the dashboard JS."""
    template = (_ASSETS / "dashboard.html").read_text(encoding="utf-8")
    months = data["months"]
    summary = summarize(data)
    parts = {
        "title": "Townsquare executive dashboard",
        "css": (_ASSETS / "dashboard.css").read_text(encoding="utf-8"),
        "range": _range_text(summary),
        "from_options": _month_options(months, months[0] if months else None),
        "to_options": _month_options(months, months[-1] if months else None),
        "channel_options": _channel_options(),
        "kpis": _kpi_cards(format_kpis(summary), definitions),
        "charts": "\n".join(_chart_section(c, data, definitions) for c in CHARTS),
        "footer": _footer(data["meta"], docs_href),
        "data": embed_json(data),
        "data_id": DATA_ELEMENT_ID,
        "plotly": _script_safe(_plotly_js()),
        "js": _script_safe((_ASSETS / "dashboard.js").read_text(encoding="utf-8")),
    }
    # one pass: text inserted for a placeholder is never scanned again
    return re.sub(r"@@(\w+)@@", lambda m: parts[m.group(1)], template)


def embed_json(data: Any) -> str:
    """JSON safe inside ``<script>``: no ``</``, ``<!--`` or ``]]>`` can appear."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text


def extract_data(page: str) -> dict[str, Any]:
    """The data embedded in a rendered page (for tests and tools)."""
    pattern = rf'<script type="application/json" id="{DATA_ELEMENT_ID}">(.*?)</script>'
    match = re.search(pattern, page, re.S)
    if match is None:
        raise DashboardError("no embedded dashboard data in the page")
    return json.loads(match.group(1))


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _script_safe(code: str) -> str:
    return re.sub(r"</(script)", r"<\\/\1", code, flags=re.I)


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _range_text(summary: Mapping[str, Any]) -> str:
    if not summary["start"]:
        return "no months"
    return f"{month_label(summary['start'])} – {month_label(summary['end'])}"


def _month_options(months: Sequence[str], selected: str | None) -> str:
    return "".join(
        f'<option value="{m}"{" selected" if m == selected else ""}>{month_label(m)}</option>'
        for m in months
    )


def _channel_options() -> str:
    return "".join(
        f'<option value="{c}"{" selected" if c == "all" else ""}>{CHANNEL_LABELS[c]}</option>'
        for c in ("all", *CHANNELS)
    )


def _kpi_cards(
    texts: Mapping[str, tuple[str, str]], definitions: Mapping[tuple[str, str | None], str]
) -> str:
    cards = []
    for kpi in KPIS:
        value, note = texts[kpi.name]
        definition = definitions.get((kpi.table, kpi.column))
        title = f"{plain(definition)}\n\n{kpi.how}" if definition else kpi.how
        cards.append(
            f'<div class="kpi" data-kpi="{kpi.name}" title="{_esc(title)}" tabindex="0">'
            f'<div class="kpi-label">{_esc(kpi.label)}</div>'
            f'<div class="kpi-value">{_esc(value)}</div>'
            f'<div class="kpi-note">{_esc(note)}</div></div>'
        )
    return "\n".join(cards)


def _chart_section(
    chart: Chart, data: Mapping[str, Any], definitions: Mapping[tuple[str, str | None], str]
) -> str:
    wide = " wide" if chart.wide else ""
    if chart.name == "top_leads":
        body = _leads_table(records(data, "leads"))
    else:
        body = f'<div class="plot" id="plot-{chart.name}"></div>'
    return (
        f'<section class="chart{wide}" data-chart="{chart.name}" id="chart-{chart.name}">'
        f"<header><h2>{_esc(chart.title)}</h2>"
        f'<p class="caption">{_esc(chart.caption)}</p>'
        f'<p class="scope">{_esc(chart.scope)}</p>{chart.controls}</header>'
        f"{body}"
        f'<p class="nodata" role="status">No data for this selection</p>'
        f"{_definitions_block(DATASETS[chart.dataset].table, chart.columns, definitions)}"
        f"</section>"
    )


def _definitions_block(
    table: str, columns: Sequence[str], definitions: Mapping[tuple[str, str | None], str]
) -> str:
    """``<details>`` with the column comments of the plotted columns (same text merged)."""
    grouped: dict[str, list[str]] = {}
    for column in columns:
        text = definitions.get((table, column))
        if text:
            grouped.setdefault(text, []).append(column)
    about = definitions.get((table, None))
    if not grouped and not about:
        return f'<p class="source">Source: <code>marts.{_esc(table)}</code></p>'
    items = "".join(
        f"<dt>{_esc(', '.join(cols))}</dt><dd>{markdown_inline(text)}</dd>"
        for text, cols in grouped.items()
    )
    source = f"<dt>Source: marts.{_esc(table)}</dt><dd>{markdown_inline(about or '')}</dd>"
    return (
        f'<details class="defs"><summary>Definitions</summary>'
        f'<dl class="definitions">{items}{source}</dl></details>'
    )


def _leads_table(leads: Sequence[Mapping[str, Any]]) -> str:
    if not leads:
        return '<div class="table-wrap"></div>'
    top = max((lead["score"] or 0 for lead in leads), default=0) or 1
    rows = []
    parts = ("business_users_points", "activity_points", "recency_points", "intent_points")
    for lead in leads:
        bar = "".join(
            f'<span class="seg seg-{i}" style="width:{100 * (lead[p] or 0) / top:.1f}%"></span>'
            for i, p in enumerate(parts)
        )
        cells = "".join(f'<td class="num">{fmt_fixed(lead[p] or 0, 1)}</td>' for p in parts)
        rows.append(
            f"<tr><td class='num'>{_esc(lead['lead_rank'])}</td>"
            f"<td><div class='org'>{_esc(lead['organization_name'] or '')}</div>"
            f"<div class='reasons'>{_esc(lead['reasons'] or '')}</div></td>"
            f"<td class='num score'>{fmt_fixed(lead['score'] or 0, 1)}"
            f"<div class='scorebar'>{bar}</div></td>{cells}</tr>"
        )
    head = (
        "<tr><th class='num'>#</th><th>Organization and reasons</th><th class='num'>Score</th>"
        "<th class='num'><span class='key seg-0'></span>Users</th>"
        "<th class='num'><span class='key seg-1'></span>Activity</th>"
        "<th class='num'><span class='key seg-2'></span>Recency</th>"
        "<th class='num'><span class='key seg-3'></span>Intent</th></tr>"
    )
    return (
        f'<div class="table-wrap"><table class="leads"><thead>{head}</thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _footer(meta: Mapping[str, Any], docs_href: str | None) -> str:
    items = [
        f"Release <code>{_esc(meta['release_id'] or 'unknown')}</code>",
        f"published {_esc(_readable_time(meta['published_at']))}",
        f"generated {_esc(_readable_time(meta['generated_at']))}",
    ]
    if docs_href:
        items.append(f'<a href="{_esc(docs_href)}">Metric definitions (dbt docs)</a>')
    return " · ".join(items)


def _readable_time(iso: str | None) -> str:
    return "unknown" if not iso else iso.replace("T", " ").replace("Z", " UTC")


def plain(text: str) -> str:
    """A definition without markdown marks, for ``title`` tooltips."""
    text = re.sub(
        r"\*\*(.+?)\*\*|\*(.+?)\*|`(.+?)`", lambda m: next(g for g in m.groups() if g), text
    )
    return re.sub(r"[ \t]*\n(?!\s*(-|\n))[ \t]*", " ", text).strip()


def markdown_inline(text: str) -> str:
    """Escaped text with the few markdown marks dbt descriptions use (bold, italic, code,
    ``- `` list items, blank-line paragraphs)."""
    out = _esc(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", out)
    out = re.sub(r"(^|\n)[ \t]*- ", lambda m: "<br>• " if m.group(1) else "• ", out)
    out = re.sub(r"\n[ \t]*\n", "<br><br>", out)
    return out.replace("\n", " ")


# --------------------------------------------------------------------------- writing


def write_atomic(path: Path, text: str) -> int:
    """Write ``text`` to ``path`` via a temporary in the same folder, fsync, rename."""
    if path.is_dir():
        raise DashboardError(f"output is a folder: {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = text.encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_folder(path.parent)
    return len(payload)


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
