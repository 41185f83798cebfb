"""The Reporter's page ``/`` in a real Chromium, served by a real ``license-service reporter``.

Three simulated clusters push signed days (one named with HTML and script). The page's
chart of IBM MQ must draw, for each cluster and day, a bar as high in the browser as
that cluster's daily value, stacked so that each column is the fleet's daily sum; the
metric and period links must lead to the pages they name, with the token the page was
opened with kept by the tab (never written by the server, and taken out of the address
bar); the hostile name must show as text and run nothing; a browser without the token
gets a page saying how to pass it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from license_service.fleet.push_format import ClusterIdentity, PushDay, encode_push
from license_service.metering.usage_rows import ProductUsage
from license_service.store.database import sqlite_url
from tests.browser.headless_chromium import WAIT_SECONDS, ChromiumPaths, HeadlessChromium
from tests.e2e.processes import ServiceProcess, eventually
from tests.e2e.reporter_process import start_reporter, token_of
from tests.fleet.pushes import cluster_key, day_of

TODAY = datetime.now(UTC).date()
FIRST = TODAY - timedelta(days=4)
DAYS = [FIRST + timedelta(days=n) for n in range(4)]
HOSTILE = "<img src=x onerror=alert('cluster')><script>alert('cluster')</script>"
PVU = "PROCESSOR_VALUE_UNIT"
# Each cluster's daily peaks of IBM MQ (VIRTUAL_PROCESSOR_CORE); 0: not running that day.
PUSHED = {
    ("c-alpha", "alpha"): [3, 5, 2, 4],
    ("c-beta", "beta"): [1, 0, 6, 2],
    ("c-evil", HOSTILE): [2, 2, 2, 2],
}
PERIOD = f"dateFrom={FIRST.isoformat()}&dateTo={TODAY.isoformat()}"


def _days(values: list[int], *, pvu: bool) -> list[PushDay]:
    days = []
    for day, quantity in zip(DAYS, values, strict=True):
        pushed = day_of(day, quantity=quantity)
        products = pushed.products if quantity else pushed.products[1:]
        if pvu:
            products = (*products, ProductUsage("IBM MQ", "mq-1", PVU, 70))
        days.append(replace(pushed, products=products))
    return days


@pytest.fixture(scope="module")
def reporter(
    chromium: ChromiumPaths, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    del chromium  # no Reporter starts when the browser tests are skipped
    run_dir = tmp_path_factory.mktemp("reporter-page")
    started = start_reporter(run_dir, sqlite_url(run_dir / "reporter.db"))
    try:
        for (cluster_id, name), values in PUSHED.items():
            body = encode_push(
                ClusterIdentity(cluster_id, name, "9.9.9"),
                _days(values, pvu=cluster_id == "c-alpha"),
                key=cluster_key(cluster_id),
                sent_at=datetime.now(UTC),
            )
            answer = httpx.post(
                f"{started.url}/v1/push",
                content=body,
                headers={"Authorization": f"Bearer {token_of(started)}"},
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
        yield started
    finally:
        started.stop()


def _mq_figure(browser: HeadlessChromium, metric: str = "VIRTUAL_PROCESSOR_CORE") -> WebElement:
    [figure] = browser.driver.find_elements(
        By.CSS_SELECTOR, f"figure.fleet-chart[data-product-id='mq-1'][data-metric='{metric}']"
    )
    return figure


def test_the_bars_drawn_are_each_clusters_daily_values_stacked_to_the_fleet_sum(
    reporter: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(f"{reporter.url}/?{PERIOD}&token={token_of(reporter)}")
    assert browser.response_status() == 200
    figure = _mq_figure(browser)
    svg = figure.find_element(By.CSS_SELECTOR, "svg.chart")
    assert svg.is_displayed()
    sums = [sum(values[n] for values in PUSHED.values()) for n in range(len(DAYS))]
    # Drawn at the browser's own scale: the plot's pixels per unit, from the axis labels.
    pixels_per_unit = int(figure.get_attribute("data-plot-height") or 0) / max(sums)
    assert svg.size["height"] == int(figure.get_attribute("data-plot-height") or 0) + 40
    drawn: dict[str, dict[str, int]] = {}
    columns: dict[str, list[dict[str, float]]] = {}
    for band in figure.find_elements(By.CSS_SELECTOR, "g.band"):
        cluster_id = band.get_attribute("data-cluster-id") or ""
        for bar in band.find_elements(By.TAG_NAME, "rect"):
            day = bar.get_attribute("data-day") or ""
            drawn.setdefault(cluster_id, {})[day] = int(bar.get_attribute("data-quantity") or 0)
            box = bar.rect  # the rectangle as laid out by the browser, in CSS pixels
            assert abs(box["height"] - drawn[cluster_id][day] * pixels_per_unit) < 1.0
            columns.setdefault(day, []).append(box)
    assert drawn == {
        cluster_id: {day.isoformat(): v for day, v in zip(DAYS, values, strict=True) if v}
        for (cluster_id, _), values in PUSHED.items()
    }
    for day, total in zip(DAYS, sums, strict=True):
        boxes = columns[day.isoformat()]
        # Stacked: each bar starts where the one below it ends; the column is the sum.
        for lower, upper in itertools.pairwise(boxes):
            assert abs(upper["y"] + upper["height"] - lower["y"]) < 1.0
        assert abs(sum(b["height"] for b in boxes) - total * pixels_per_unit) < 1.0
    legend = [item.text for item in figure.find_elements(By.CSS_SELECTOR, "ul.legend li")]
    assert legend[0].startswith("beta (c-beta)")  # the largest on the peak day
    assert f"highest daily sum {max(sums)}" in figure.find_element(
        By.TAG_NAME, "desc"
    ).get_attribute("textContent")
    assert browser.problems() == []


def test_a_hostile_cluster_name_is_text_and_runs_nothing(
    reporter: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(f"{reporter.url}/?{PERIOD}&token={token_of(reporter)}")
    cells = [c.text for c in browser.driver.find_elements(By.CSS_SELECTOR, "#cluster-rows td")]
    assert HOSTILE in cells
    legend = _mq_figure(browser).find_elements(By.CSS_SELECTOR, "ul.legend li")
    assert any(HOSTILE in item.text for item in legend)
    assert browser.driver.find_elements(By.CSS_SELECTOR, "main script, main img") == []
    assert browser.dialogs() == []
    assert browser.problems() == []


def test_the_metric_and_period_links_lead_to_their_pages(
    reporter: ServiceProcess, browser: HeadlessChromium
) -> None:
    # A proxy in front of the Reporter sends the token: the page's links work as they are.
    browser.driver.execute_cdp_cmd("Network.enable", {})
    browser.driver.execute_cdp_cmd(
        "Network.setExtraHTTPHeaders",
        {"headers": {"Authorization": f"Bearer {token_of(reporter)}"}},
    )
    try:
        browser.open(f"{reporter.url}/?{PERIOD}")
        assert browser.response_status() == 200
        [pvu_link] = [
            link
            for link in browser.driver.find_elements(By.CSS_SELECTOR, "#metric-links a")
            if link.text == PVU
        ]
        pvu_link.click()
        browser.wait_for_path("/")
        assert browser.query()["metricName"] == [PVU]
        assert browser.element("metric-shown").text == PVU
        figures = browser.driver.find_elements(By.CSS_SELECTOR, "figure.fleet-chart")
        assert [f.get_attribute("data-metric") for f in figures] == [PVU]
        assert _mq_figure(browser, PVU).find_elements(By.CSS_SELECTOR, "rect[data-day]")
        browser.click("period-this-year")
        browser.wait_for_path("/")
        query = browser.query()
        assert query["dateFrom"] == [TODAY.replace(month=1, day=1).isoformat()]
        assert query["dateTo"] == [TODAY.isoformat()]
        assert query["metricName"] == [PVU]  # the period link kept the metric
        assert browser.element("period-this-year").get_attribute("aria-current") == "page"
        browser.click("metric-all")
        assert "metricName" not in browser.query()
        assert len(browser.driver.find_elements(By.CSS_SELECTOR, "figure.fleet-chart")) >= 2
        browser.click("link-status")
        browser.wait_for_path("/status")
        assert browser.response_status() == 200
        browser.click("link-page")
        browser.wait_for_path("/")
        assert browser.response_status() == 200
        assert browser.problems() == []
    finally:
        browser.driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})


def _landed(browser: HeadlessChromium, path: str, token: str) -> str:
    """The page ``path`` the browser shows, reached with ``token`` in its request and shown
    without it; the same request again holds no token in its HTML. Its address then."""
    browser.wait_for_path(path)
    assert browser.response_status() == 200
    assert "token" not in browser.query()  # taken out of the address bar
    assert token not in browser.driver.page_source
    # The address the document was requested at (Navigation Timing keeps it as it was).
    requested = str(
        browser.driver.execute_script("return performance.getEntriesByType('navigation')[0].name;")
    )
    assert parse_qs(urlsplit(requested).query)["token"] == [token]
    again = httpx.get(requested, headers={"Accept": "text/html"}, timeout=30)
    assert again.status_code == 200
    assert token not in again.text  # the server wrote it nowhere (SPEC 4.6)
    return requested


def test_opened_with_the_token_every_link_keeps_it_for_the_tab(
    reporter: ServiceProcess, browser: HeadlessChromium
) -> None:
    token = token_of(reporter)
    browser.open(f"{reporter.url}/?{PERIOD}&token={token}")
    _landed(browser, "/", token)
    assert browser.query()["dateFrom"] == [FIRST.isoformat()]
    assert "keeps the" in browser.element("token-hint").text
    browser.click("period-last-month")
    _landed(browser, "/", token)
    last_month_end = TODAY.replace(day=1) - timedelta(days=1)
    assert browser.query()["dateTo"] == [last_month_end.isoformat()]
    assert browser.element("period-last-month").get_attribute("aria-current") == "page"
    browser.click("period-30-days")
    _landed(browser, "/", token)
    [pvu_link] = [
        link
        for link in browser.driver.find_elements(By.CSS_SELECTOR, "#metric-links a")
        if link.text == PVU
    ]
    pvu_link.click()
    eventually(
        lambda: browser.query().get("metricName") == [PVU],
        within=WAIT_SECONDS,
        what="the page of the metric followed",
    )
    _landed(browser, "/", token)
    assert browser.element("metric-shown").text == PVU
    assert _mq_figure(browser, PVU).find_elements(By.CSS_SELECTOR, "rect[data-day]")
    browser.click("link-status")
    _landed(browser, "/status", token)
    assert "Refused pushes and imports" in browser.driver.find_element(By.TAG_NAME, "body").text
    browser.click("link-page")
    _landed(browser, "/", token)
    assert browser.element("cluster-count").text == str(len(PUSHED))
    assert browser.problems() == []


def test_a_reload_or_a_step_back_opens_the_page_again_with_the_token_kept(
    reporter: ServiceProcess, browser: HeadlessChromium
) -> None:
    token = token_of(reporter)
    browser.open(f"{reporter.url}/?{PERIOD}&token={token}")
    browser.click("link-status")
    _landed(browser, "/status", token)
    # The address left holds no token: the refusal page's script asks again with it.
    browser.driver.refresh()
    _landed(browser, "/status", token)
    browser.driver.back()
    _landed(browser, "/", token)
    assert browser.query()["dateFrom"] == [FIRST.isoformat()]
    assert browser.element("cluster-count").text == str(len(PUSHED))
    # The one problem: the refusal's own status (once per step), which Chromium logs.
    assert [p for p in browser.problems() if "status of 401" not in p] == []


def test_a_token_refused_in_the_address_is_not_kept(
    reporter: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(f"{reporter.url}/?{PERIOD}&token={token_of(reporter)}")
    wrong = "w" * 32
    browser.open(f"{reporter.url}/status?token={wrong}")
    assert browser.response_status() == 401
    assert "token" not in browser.query()
    assert browser.driver.execute_script("return sessionStorage.length;") == 0
    browser.open(f"{reporter.url}/?{PERIOD}")  # nothing kept: nothing to ask again with
    assert browser.response_status() == 401
    assert browser.element("refusal").is_displayed()
    assert [p for p in browser.problems() if "status of 401" not in p] == []


def test_a_browser_without_the_token_is_told_how_to_pass_it(
    reporter: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(f"{reporter.url}/?{PERIOD}")
    assert browser.response_status() == 401
    assert "needs authentication" in browser.element("refusal").text
    advice = browser.element("how-to-get-in").text
    assert "Reporter token" in advice
    assert "?token=" in advice
    assert "license-service token get --reporter" in advice
    # The one problem: the refusal's own status, which Chromium logs.
    assert [p for p in browser.problems() if "status of 401" not in p] == []
