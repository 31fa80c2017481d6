"""Open a rendered dashboard in a real browser (Playwright + Debian's Chromium) and report.

Usable from any test (``tests/`` is on ``sys.path``)::

    import dashboard_browser as db

    report = db.inspect_dashboard(html_path, artifacts / "shot.png", viewport=(1366, 900),
                                  actions=[db.select_filters(channel="blog", start="2025-02")])
    assert not report.errors and all(report.points.values())

or, for several states of one page, with one browser for the whole module::

    with db.launch() as browser, db.open_dashboard(browser, html_path) as page:
        before = db.read_report(page)
        db.select_filters(channel="forum")(page)
        after = db.read_report(page)

Points are counted from the DOM that plotly drew, not from anything the dashboard's own
JavaScript says: per ``section.chart[data-chart]``, plotly's ``.point`` elements (markers,
bars, funnel bars), the labelled cells of heatmaps (``.hm .heatmap-label text``; an
unlabelled heatmap counts its ``<image>``s), one per line trace drawn without markers, and
the rows of a table's ``<tbody>``. Every request the page makes is recorded: a dashboard
must only load ``file:``, ``data:``, ``blob:`` and ``about:`` URLs.

No Chromium: ``pytest.skip`` locally, ``pytest.fail`` when the CI environment variable is set.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
REPO_ROOT = Path(__file__).resolve().parent.parent

Action = Callable[[Any], None]  # receives a playwright Page

_COUNT_POINTS = """
() => {
  const out = {};
  for (const section of document.querySelectorAll('section.chart[data-chart]')) {
    let n = 0;
    const plot = section.querySelector('.js-plotly-plot');
    if (plot && getComputedStyle(plot).display !== 'none') {
      n += plot.querySelectorAll('.point').length;
      for (const hm of plot.querySelectorAll('.hm')) {
        const labels = hm.querySelectorAll('.heatmap-label text').length;
        n += labels || hm.querySelectorAll('image').length;
      }
      for (const trace of plot.querySelectorAll('.scatterlayer .trace')) {
        if (!trace.querySelector('.point') && trace.querySelector('path.js-line')) n += 1;
      }
    }
    const table = section.querySelector('table');
    if (table && table.offsetParent !== null) n += table.querySelectorAll('tbody tr').length;
    out[section.dataset.chart] = n;
  }
  return out;
}
"""

_READ_PAGE = """
() => {
  const visible = (el) => !!el && getComputedStyle(el).display !== 'none';
  const kpis = {}, notes = {};
  for (const card of document.querySelectorAll('.kpi[data-kpi]')) {
    kpis[card.dataset.kpi] = card.querySelector('.kpi-value').textContent.trim();
    notes[card.dataset.kpi] = card.querySelector('.kpi-note').textContent.trim();
  }
  const sections = [...document.querySelectorAll('section.chart[data-chart]')];
  return {
    kpis, notes,
    charts: sections.map((s) => s.dataset.chart),
    nodata: sections.filter((s) => visible(s.querySelector('.nodata'))).map((s) => s.dataset.chart),
    filters: {
      from: document.getElementById('filter-from').value,
      to: document.getElementById('filter-to').value,
      channel: document.getElementById('filter-channel').value,
    },
  };
}
"""


@dataclass
class Report:
    """What the page showed (after the actions)."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL the page requested
    points: dict[str, int] = field(default_factory=dict)  # chart -> data points drawn
    kpis: dict[str, str] = field(default_factory=dict)  # KPI -> value text
    kpi_notes: dict[str, str] = field(default_factory=dict)
    charts: list[str] = field(default_factory=list)  # data-chart names in page order
    nodata: list[str] = field(default_factory=list)  # charts showing "no data" notes
    filters: dict[str, str] = field(default_factory=dict)  # from, to, channel
    screenshot: str | None = None

    @property
    def errors(self) -> list[str]:
        return self.console_errors + self.page_errors

    @property
    def external_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(LOCAL_SCHEMES)]


def chromium_path() -> str:
    """Debian's Chromium, else skip (locally) or fail (CI)."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium missing: make test installs it")
        pytest.skip("chromium not installed")
    return path


@contextlib.contextmanager
def launch() -> Iterator[Any]:
    """A headless Chromium (one per module is plenty: pages are cheap)."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def open_dashboard(
    browser: Any, html_path: str | os.PathLike[str], viewport: tuple[int, int] = (1366, 900)
) -> Iterator[Any]:
    """A page showing the dashboard, recording console errors, page errors and requests
    into ``page.townsquare_log`` (a ``Report`` without the DOM parts)."""
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]}, service_workers="block"
    )
    page = context.new_page()
    log = Report()
    page.on(
        "console", lambda msg: log.console_errors.append(msg.text) if msg.type == "error" else None
    )
    page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))
    page.on("request", lambda request: log.requests.append(request.url))
    page.townsquare_log = log
    try:
        page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
        wait_for_charts(page)
        yield page
    finally:
        context.close()


def wait_for_charts(page: Any, timeout_ms: int = 15000) -> None:
    """Until every chart section is drawn or shows its "no data" note."""
    page.wait_for_function(
        """() => [...document.querySelectorAll('section.chart[data-chart]')].every((s) =>
             s.classList.contains('is-empty') || s.querySelector('table') ||
             s.querySelector('.js-plotly-plot .main-svg'))""",
        timeout=timeout_ms,
    )


def resize(page: Any, width: int, height: int, timeout_ms: int = 10000) -> None:
    """Change the viewport and wait until plotly has refitted every plot to its card."""
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_function(
        """() => [...document.querySelectorAll('.js-plotly-plot')].every((plot) => {
             const svg = plot.querySelector('.main-svg');
             return !svg || Math.abs(svg.getBoundingClientRect().width - plot.clientWidth) < 2;
           })""",
        timeout=timeout_ms,
    )


def select_filters(
    *, channel: str | None = None, start: str | None = None, end: str | None = None
) -> Action:
    """An action choosing filter values (months as ``YYYY-MM``) like a user would."""

    def act(page: Any) -> None:
        for selector, value in (
            ("#filter-from", start),
            ("#filter-to", end),
            ("#filter-channel", channel),
        ):
            if value is not None:
                page.select_option(selector, value)
        wait_for_charts(page)
        page.wait_for_timeout(50)  # let plotly finish the redraw it started

    return act


def read_report(page: Any, screenshot: str | os.PathLike[str] | None = None) -> Report:
    """The page's current state plus everything logged since it was opened."""
    log: Report = page.townsquare_log
    state = page.evaluate(_READ_PAGE)
    report = Report(
        console_errors=list(log.console_errors),
        page_errors=list(log.page_errors),
        requests=list(log.requests),
        points=page.evaluate(_COUNT_POINTS),
        kpis=state["kpis"],
        kpi_notes=state["notes"],
        charts=state["charts"],
        nodata=state["nodata"],
        filters=state["filters"],
    )
    if screenshot is not None:
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
        report.screenshot = str(screenshot)
    return report


def inspect_dashboard(
    html_path: str | os.PathLike[str],
    screenshot_path: str | os.PathLike[str] | None = None,
    viewport: tuple[int, int] = (1366, 900),
    actions: Sequence[Action] | None = None,
    browser: Any = None,
) -> Report:
    """Open ``html_path`` (file:// URL), run ``actions`` (e.g. ``select_filters(...)``), then
    report, with a full-page screenshot when ``screenshot_path`` is given. Launches its own
    Chromium unless ``browser`` (from ``launch()``) is passed."""
    with contextlib.ExitStack() as stack:
        if browser is None:
            browser = stack.enter_context(launch())
        page = stack.enter_context(open_dashboard(browser, html_path, viewport))
        for action in actions or ():
            action(page)
        return read_report(page, screenshot_path)


def artifacts_dir() -> Path:
    """Where browser tests put screenshots: $TOWNSQUARE_TEST_ARTIFACTS, else <repo>/test-artifacts."""
    folder = Path(os.environ.get("TOWNSQUARE_TEST_ARTIFACTS") or REPO_ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
