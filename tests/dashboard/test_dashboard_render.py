"""The dashboard's HTML, without a browser: data, numbers, self-containment, privacy, errors."""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from tiny_snapshot import COMMENTS, RELEASE_ID, SELECTIONS

from townsquare import dashboard
from townsquare.dashboard import DashboardError, extract_data, render_dashboard, summarize

CHART_NAMES = [
    "contributors_active",
    "contributors_new",
    "community_funnel",
    "funnel_rates",
    "cohort_retention",
    "response_times",
    "health_factors",
    "conversation_focus",
    "inbound_reach",
    "monetization_funnel",
    "benchmark",
    "revenue_by_channel",
    "top_leads",
]
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
IPV4 = re.compile(r"(?<![\d.])\d{1,3}(\.\d{1,3}){3}(?![\d.])")


class Page(HTMLParser):
    """Elements' attributes, KPI texts and chart sections of a rendered page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.attrs: list[tuple[str, dict[str, str | None]]] = []
        self.kpis: dict[str, str] = {}
        self.kpi_titles: dict[str, str] = {}
        self.sections: list[str] = []
        self._kpi: str | None = None
        self._in_value = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.attrs.append((tag, found))
        if "data-kpi" in found:
            self._kpi = found["data-kpi"]
            self.kpi_titles[self._kpi] = found.get("title") or ""
        if found.get("class") == "kpi-value":
            self._in_value = True
        if tag == "section" and "data-chart" in found:
            self.sections.append(found["data-chart"] or "")

    def handle_endtag(self, tag: str) -> None:
        self._in_value = False

    def handle_data(self, data: str) -> None:
        if self._in_value and self._kpi:
            self.kpis[self._kpi] = self.kpis.get(self._kpi, "") + data.strip()


@pytest.fixture(scope="module")
def page_text(tiny_dashboard) -> str:
    return tiny_dashboard[0].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def page(page_text: str) -> Page:
    return Page(page_text)


@pytest.fixture(scope="module")
def data(page_text: str) -> dict:
    return extract_data(page_text)


def data_script(page_text: str) -> str:
    match = re.search(
        r'<script type="application/json" id="townsquare-data">(.*?)</script>', page_text, re.S
    )
    assert match
    return match.group(1)


def test_result_describes_the_file(tiny_dashboard):
    path, result = tiny_dashboard
    assert result.path == str(path)
    assert result.release_id == RELEASE_ID
    assert result.bytes == path.stat().st_size
    assert result.seconds > 0
    assert list(result.charts) == CHART_NAMES
    # rows embedded per chart: 15 contributor rows, 11 funnel rows, 3 leads, 3 revenue rows
    assert result.charts["contributors_active"] == 15
    assert result.charts["community_funnel"] == 11
    assert result.charts["top_leads"] == 3
    assert result.charts["revenue_by_channel"] == 3


def test_every_chart_has_its_section(page):
    assert page.sections == CHART_NAMES


def test_embedded_data_round_trips(data):
    assert data["months"] == ["2025-01", "2025-02", "2025-03"]
    assert data["channels"] == ["blog", "forum", "mailing_list", "repository"]
    assert data["meta"]["release_id"] == RELEASE_ID
    assert data["meta"]["published_at"] == "2025-04-01T09:30:00Z"
    assert data["meta"]["currency"] == "EUR"
    assert data["meta"]["benchmark_rate"] == 0.01
    contributors = data["datasets"]["contributors"]
    assert contributors["columns"][:4] == [
        "month",
        "acquisition_channel",
        "active_contributors",
        "new_contributors",
    ]
    assert ["2025-02", "repository", 3, 1, 2, 2] in contributors["rows"]
    assert len(contributors["rows"]) == 15
    revenue = dashboard.records(data, "revenue")
    assert [(r["acquisition_channel"], r["lifetime_revenue"]) for r in revenue] == [
        ("repository", 1200.5),
        ("not_in_community", 499.75),
        ("blog", 300.0),
    ]
    cohorts = dashboard.records(data, "cohort_retention")
    assert [(c["cohort_month"], c["months_since_first"]) for c in cohorts][:3] == [
        ("2025-01", 0),
        ("2025-01", 1),
        ("2025-01", 2),
    ]
    leads = dashboard.records(data, "leads")
    assert [lead["organization_name"] for lead in leads] == [
        "Acme",
        "Globex ([email hidden])",
        "Initech",
    ]
    # the markup-like text survives the trip intact (escaped in the page, not altered)
    assert leads[1]["reasons"] == "1 business users; </script><!-- not markup"


def test_data_cannot_close_its_script(page_text):
    text = data_script(page_text)
    assert "</" not in text and "<!--" not in text
    assert json.loads(text)["meta"]["release_id"] == RELEASE_ID


@pytest.mark.parametrize("name", list(SELECTIONS))
def test_numbers_match_hand_computed(data, name):
    selection = SELECTIONS[name]
    filters = selection["filters"]
    summary = summarize(data, filters["start"], filters["end"], filters["channel"])
    assert summary["funnel"] == selection["funnel"]
    assert summary["top_sites"] == selection["top_sites"]
    texts = {k: value for k, (value, _note) in dashboard.format_kpis(summary).items()}
    assert texts == selection["kpis"]


def test_kpis_are_prefilled_for_the_default_selection(page):
    assert page.kpis == SELECTIONS["default"]["kpis"]


def test_monetization_totals_for_a_range(data):
    summary = summarize(data, "2025-01", "2025-02", "all")
    assert summary["monetization"] == {
        "organizations": 4,
        "business_users": 35,
        "engaged_organizations": 3,
        "organizations_with_intent": 1,
        "paying_customers": 1,
        "customers": 2,
    }
    assert summary["business_user_to_customer_rate"] == pytest.approx(2 / 35)


def test_nothing_is_loaded_from_elsewhere(page, page_text):
    links = [
        (tag, name, value)
        for tag, attrs in page.attrs
        for name, value in attrs.items()
        if name in ("src", "href", "srcset", "action", "poster", "data")
    ]
    # the only link: the relative one to the dbt docs
    assert links == [("a", "href", "docs/index.html")]
    assert not any(tag in ("link", "iframe", "img", "object", "embed") for tag, _ in page.attrs)
    style = re.search(r"<style>(.*?)</style>", page_text, re.S).group(1)
    assert "url(" not in style and "@import" not in style and "@font-face" not in style


def test_plotly_is_inlined(page_text):
    from plotly.offline import get_plotlyjs

    assert "plotly.js v4.1.1" in page_text[:2000] or "plotly.js v4.1.1" in page_text
    assert get_plotlyjs()[:5000] in page_text
    assert "<script src" not in page_text


def test_no_emails_ips_or_person_names_in_the_page(page_text):
    text = data_script(page_text)
    assert not EMAIL.search(text), EMAIL.search(text)
    assert not IPV4.search(text), IPV4.search(text)
    for secret in ("Alice Secretname", "bob.hidden", "sales@globex", "203.0.113.7"):
        assert secret not in page_text


def test_definitions_come_from_the_column_comments(page_text, page):
    section = re.search(
        r'<section class="chart" data-chart="contributors_active".*?</section>', page_text, re.S
    ).group(0)
    assert "Definitions" in section
    assert COMMENTS[("fct_contributors_monthly", "active_contributors")] in section
    # markdown marks become markup; the table comment is shown as the source
    assert "CHAOSS <em>New Contributors</em>" in page_text
    assert "<strong>Lead score</strong> from the <code>lead_score_weights</code> seed." in page_text
    assert COMMENTS[("fct_contributors_monthly", None)] in section
    # KPI hover titles carry the definition and how the dashboard computes it
    title = page.kpi_titles["contributor_conversion"]
    assert title.startswith("contributors / acquired.")
    assert "Sum of contributors / sum of acquired" in title
    # no comment on any plotted column: no definitions, only the source table
    health = re.search(
        r'<section class="chart" data-chart="health_factors".*?</section>', page_text, re.S
    ).group(0)
    assert "<details" not in health
    assert "marts.fct_community_health_monthly" in health


def test_footer_names_the_release(page_text):
    footer = re.search(r'<footer class="foot">(.*?)</footer>', page_text, re.S).group(1)
    assert RELEASE_ID in footer
    assert "published 2025-04-01 09:30:00 UTC" in footer
    assert "generated " in footer
    assert '<a href="docs/index.html">' in footer


def test_docs_link_only_when_given(tiny_snapshot, tmp_path):
    out = tmp_path / "d.html"
    render_dashboard(tiny_snapshot, out, docs_href=None)
    assert not [attrs for tag, attrs in Page(out.read_text(encoding="utf-8")).attrs if tag == "a"]
    render_dashboard(tiny_snapshot, out, docs_href="../docs/index.html")
    assert '<a href="../docs/index.html">' in out.read_text(encoding="utf-8")
    for bad in ("https://example.org/docs", "//cdn.example/x", "javascript:alert(1)"):
        with pytest.raises(DashboardError, match="relative"):
            render_dashboard(tiny_snapshot, out, docs_href=bad)


def test_progress_and_parent_folder(tiny_snapshot, tmp_path):
    messages: list[str] = []
    out = tmp_path / "a" / "b" / "dashboard.html"
    result = render_dashboard(tiny_snapshot, out, progress=messages.append)
    assert out.is_file() and result.path == str(out)
    assert messages[0].startswith("reading ") and messages[-1].startswith("wrote ")
    assert oct(out.stat().st_mode & 0o777) == "0o644"


def test_snapshot_without_release(make_snapshot, tmp_path):
    out = tmp_path / "d.html"
    result = render_dashboard(make_snapshot(release=False), out)
    assert result.release_id is None
    assert "Release <code>unknown</code>" in out.read_text(encoding="utf-8")


def test_empty_marts(make_snapshot, tmp_path):
    out = tmp_path / "d.html"
    result = render_dashboard(make_snapshot(rows=False), out)
    assert set(result.charts.values()) == {0}
    text = out.read_text(encoding="utf-8")
    data = extract_data(text)
    assert data["months"] == []
    assert Page(text).kpis == {
        "active_contributors": "0",
        "new_contributors": "0",
        "contributor_conversion": "–",
        "customers": "0",
        "business_user_to_customer_rate": "–",
        "lifetime_revenue": "0",
    }


def test_missing_snapshot(tmp_path):
    missing = tmp_path / "nope.duckdb"
    with pytest.raises(DashboardError, match=r"snapshot not found: .*nope\.duckdb"):
        render_dashboard(missing, tmp_path / "d.html")


def test_not_a_duckdb_file(tmp_path):
    bogus = tmp_path / "bogus.duckdb"
    bogus.write_text("this is not a database\n" * 100)
    with pytest.raises(DashboardError, match=r"cannot open snapshot .*bogus\.duckdb") as err:
        render_dashboard(bogus, tmp_path / "d.html")
    assert "\n" not in str(err.value)


def test_missing_mart_is_named_and_leaves_the_old_file(make_snapshot, tmp_path):
    out = tmp_path / "dashboard.html"
    out.write_text("previous dashboard")
    snapshot = make_snapshot(drop=["fct_leads", "fct_contributors_monthly"])
    with pytest.raises(DashboardError) as err:
        render_dashboard(snapshot, out)
    message = str(err.value)
    assert "marts.fct_contributors_monthly" in message and "marts.fct_leads" in message
    assert "\n" not in message
    assert out.read_text() == "previous dashboard"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dashboard.html", "variant.duckdb"]


def test_missing_column_is_named(make_snapshot, tmp_path):
    snapshot = make_snapshot(extra_sql=["alter table marts.fct_leads drop column score"])
    with pytest.raises(DashboardError, match=r"marts\.fct_leads\.score"):
        render_dashboard(snapshot, tmp_path / "d.html")


def test_failed_write_leaves_the_old_file(tiny_snapshot, tmp_path, monkeypatch):
    out = tmp_path / "dashboard.html"
    out.write_text("previous dashboard")

    def broken_replace(src: str | os.PathLike, dst: str | os.PathLike) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(dashboard.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        render_dashboard(tiny_snapshot, out)
    assert out.read_text() == "previous dashboard"
    assert [p.name for p in tmp_path.iterdir()] == ["dashboard.html"]  # no temporary left


def test_output_folder_is_refused(tiny_snapshot, tmp_path):
    with pytest.raises(DashboardError, match="folder"):
        render_dashboard(tiny_snapshot, tmp_path)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("mail me: jo.doe+x@mail.example.org now", "mail me: [email hidden] now"),
        ("203.0.113.7", "[IP hidden]"),
        ("from 2001:db8::1.", "from [IP hidden]."),
        ("release 1.2.3 at 10:30:00", "release 1.2.3 at 10:30:00"),
        ("2025-01", "2025-01"),
    ],
)
def test_scrub(raw, clean):
    assert dashboard.scrub(raw) == clean


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [(0.125, 2, "0.13"), (2.5, 0, "3"), (1.005, 2, "1.00"), (27.27272727, 1, "27.3")],
)
def test_fmt_fixed_rounds_like_javascript(value, digits, text):
    # JavaScript: (0.125).toFixed(2) == "0.13", (1.005).toFixed(2) == "1.00" (binary value)
    assert dashboard.fmt_fixed(value, digits) == text


def test_no_io_at_import():
    source = Path(dashboard.__file__).read_text(encoding="utf-8")
    top_level = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert not any("duckdb" in line or "plotly" in line for line in top_level)


def test_markdown_in_definitions():
    text = "**Funnel** per person:\n\n- *acquired*: first `activity`;\n- <b>engaged</b>\n\nNested\nstages."
    assert dashboard.markdown_inline(text) == (
        "<strong>Funnel</strong> per person: <br>• <em>acquired</em>: first <code>activity</code>;"
        "<br>• &lt;b&gt;engaged&lt;/b&gt;<br><br>Nested stages."
    )
    assert dashboard.plain("**Lead score** from the `seed`,\nweighted.") == (
        "Lead score from the seed, weighted."
    )
