"""The tiny dashboard in a real browser (Debian's Chromium through Playwright), offline.

Points are counted from what plotly drew (see dashboard_browser); KPI texts after each
filter change are compared with the hand-computed values of tiny_snapshot.SELECTIONS.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dashboard_browser as db
import pytest
from tiny_snapshot import SELECTIONS

# hand-counted from tiny_snapshot.ROWS for the default selection (Jan-Mar 2025, all channels)
DEFAULT_POINTS = {
    "contributors_active": 12,  # 4 channels x 3 months, zero bars included
    "contributors_new": 6,  # new + returning x 3 months
    "community_funnel": 4,  # 4 stages
    "funnel_rates": 11,  # 4 rates x 3 months, minus March's core rate (no contributor)
    "cohort_retention": 6,  # cells: 3 + 2 + 1
    "response_times": 4,  # non-null medians (the unanswered blog comment has none)
    "health_factors": 9,  # 3 bars + 2 factors x 3 months
    "conversation_focus": 5,  # 5 channel-months
    "inbound_reach": 4,  # 4 referring sites
    "monetization_funnel": 4,  # 4 stages
    "benchmark": 4,  # 3 monthly rates + the benchmark line
    "revenue_by_channel": 3,  # 3 channels
    "top_leads": 3,  # 3 table rows
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with db.launch() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def html(tiny_dashboard):
    return tiny_dashboard[0]


def assert_offline_and_clean(report: db.Report) -> None:
    assert report.errors == []
    assert report.external_requests == []
    assert report.requests and report.requests[0].startswith("file://")


def test_default_view(browser, html):
    shot = db.artifacts_dir() / "dashboard-tiny.png"
    shot.unlink(missing_ok=True)
    report = db.inspect_dashboard(html, shot, viewport=(1366, 900), browser=browser)
    assert_offline_and_clean(report)
    assert report.charts == list(DEFAULT_POINTS)
    assert report.points == DEFAULT_POINTS
    assert report.nodata == []
    assert report.kpis == SELECTIONS["default"]["kpis"]
    assert report.kpi_notes["contributor_conversion"] == "3 of 11 acquired"
    assert report.kpi_notes["business_user_to_customer_rate"] == "7.5× the 1.0% benchmark"
    assert shot.is_file() and shot.stat().st_size > 10_000


def test_filters_recompute_every_chart(browser, html):
    with db.open_dashboard(browser, html) as page:
        initial = db.read_report(page)
        for name in ("repository_jan_feb", "blog_feb_mar"):
            selection = SELECTIONS[name]
            db.select_filters(**selection["filters"])(page)
            report = db.read_report(page)
            assert report.errors == [], name
            assert report.kpis == selection["kpis"], name
            assert sorted(report.nodata) == sorted(selection["nodata"]), name
            for chart, points in report.points.items():
                assert (points == 0) == (chart in selection["nodata"]), (name, chart, points)
            assert report.kpis != initial.kpis
        # blog, Feb-Mar: the Feb and Mar cohorts (2 + 1 cells), 3 referring sites
        assert report.points["cohort_retention"] == 3
        assert report.points["inbound_reach"] == 3
        assert report.points["contributors_active"] == 2  # one channel, two months

        page.click("#filter-reset")
        db.wait_for_charts(page)
        back = db.read_report(page)
        assert back.kpis == SELECTIONS["default"]["kpis"]
        assert back.points == DEFAULT_POINTS

        # a start after the end moves the end; the p90 toggle redraws response times
        db.select_filters(end="2025-01")(page)
        db.select_filters(start="2025-03")(page)
        page.click('#chart-response_times .toggle button[data-stat="p90"]')
        db.wait_for_charts(page)
        march = db.read_report(page)
        drawn = page.evaluate(
            """() => document.getElementById('plot-response_times').data
                .map((trace) => [trace.line.dash, trace.y.filter((y) => y !== null)])"""
        )
    assert march.filters == {"from": "2025-03", "to": "2025-03", "channel": "all"}
    assert march.kpis["active_contributors"] == "7"
    assert march.kpis["new_contributors"] == "2"
    # March, p90: the answered issue (2 h); the unanswered blog comment has none
    assert march.points["response_times"] == 1
    assert drawn == [["dot", []], ["dot", [2.0]]]
    assert_offline_and_clean(march)


_LAYOUT = """() => ({
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    columns: getComputedStyle(document.querySelector('.grid')).gridTemplateColumns.split(' ').length,
    smallest: Math.min(...[...document.querySelectorAll('.kpi-value, .chart h2, .caption')]
        .map((el) => parseFloat(getComputedStyle(el).fontSize))),
    clipped: [...document.querySelectorAll('.kpi-value, .table-wrap')]
        .filter((el) => el.scrollWidth > el.clientWidth).length,
})"""


def test_layout_fits_laptop_and_desktop_screens(browser, html):
    with db.open_dashboard(browser, html, viewport=(1920, 1080)) as page:
        wide = page.evaluate(_LAYOUT)
        db.resize(page, 1366, 768)
        laptop = page.evaluate(_LAYOUT)
        assert db.read_report(page).errors == []
    for layout, columns in ((wide, 3), (laptop, 2)):
        assert layout["overflow"] <= 0
        assert layout["columns"] == columns
        assert layout["smallest"] >= 13
        assert layout["clipped"] == 0


def test_empty_snapshot_shows_no_data_notes(browser, make_snapshot, tmp_path):
    from townsquare.dashboard import render_dashboard

    html = render_dashboard(make_snapshot(rows=False), tmp_path / "empty.html").path
    report = db.inspect_dashboard(html, browser=browser)
    assert_offline_and_clean(report)
    assert report.nodata == list(DEFAULT_POINTS)
    assert set(report.points.values()) == {0}
    assert report.kpis["lifetime_revenue"] == "0"
