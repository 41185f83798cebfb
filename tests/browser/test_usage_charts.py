"""The usage charts of ``/status`` in a real Chromium (SPEC 13): drawn, and true to the data.

A service starts over a data directory holding earlier daily peaks of IBM MQ Advanced
(a day left out: a gap) and an entitlements file; its chart must be drawn as SVG inside
the page (no script, no policy violation), its points must be exactly the daily peaks,
higher peaks higher up, and the entitlement drawn as a line.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.browser.headless_chromium import ChromiumPaths, HeadlessChromium
from tests.e2e.processes import ServiceProcess, eventually, start_service
from tests.e2e.stored_history import (
    DUMP_CLUSTER,
    MQ_ID,
    MQ_TODAY,
    entitlements_file,
    write_history,
)

TODAY = datetime.now(UTC).date()
HISTORY = {
    TODAY - timedelta(days=5): 3,
    TODAY - timedelta(days=4): 5,
    TODAY - timedelta(days=3): 4,
    # TODAY - 2 days: no sample, a gap
    TODAY - timedelta(days=1): 2,
}


@pytest.fixture(scope="module")
def charted(
    chromium: ChromiumPaths, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    del chromium  # no server starts when the browser tests are skipped
    run_dir = tmp_path_factory.mktemp("charts")
    write_history(run_dir / "data", HISTORY)
    bought = entitlements_file(run_dir / "entitlements.yaml", 6)
    service = start_service(
        run_dir, extra=["--cluster-id", DUMP_CLUSTER, "--entitlements", str(bought)]
    )
    try:
        eventually(
            lambda: MQ_TODAY in _mq_today(service),
            within=10,
            what="a first sample of the dump",
        )
        yield service
    finally:
        service.stop()


def _mq_today(service: ServiceProcess) -> set[int]:
    answer = httpx.get(
        f"{service.url}/products",
        params={"token": service.token, "dateFrom": TODAY.isoformat(), "dateTo": TODAY.isoformat()},
    )
    return {row["metricQuantity"] for row in answer.json() if row["id"] == MQ_ID}


def test_the_chart_is_drawn_and_its_points_are_the_daily_peaks(
    charted: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(f"{charted.url}/status?token={charted.token}")
    assert browser.response_status() == 200
    figures = browser.driver.find_elements(By.CSS_SELECTOR, "figure.usage-chart")
    [figure] = [
        f
        for f in figures
        if MQ_ID in f.find_element(By.TAG_NAME, "title").get_attribute("textContent")
    ]
    svg = figure.find_element(By.TAG_NAME, "svg")
    assert svg.is_displayed()
    assert svg.size["width"] > 100
    assert svg.size["height"] > 50
    circles = figure.find_elements(By.CSS_SELECTOR, "circle.peak")
    drawn = {
        circle.get_attribute("data-day"): int(circle.get_attribute("data-quantity"))
        for circle in circles
    }
    expected = {day.isoformat(): quantity for day, quantity in HISTORY.items()}
    expected[TODAY.isoformat()] = MQ_TODAY
    assert drawn == expected
    # Higher peaks are drawn higher (smaller y); equal peaks at the same height.
    height = {int(c.get_attribute("data-quantity")): float(c.get_attribute("cy")) for c in circles}
    assert height[5] < height[4] < height[3] < height[2]
    # A gap breaks the line: two runs of consecutive days.
    assert len(figure.find_elements(By.CSS_SELECTOR, "polyline.peaks")) == 2
    assert len(figure.find_elements(By.CSS_SELECTOR, "path.entitlement")) == 1
    description = figure.find_element(By.TAG_NAME, "desc").get_attribute("textContent")
    assert "highest daily peak 5" in description
    assert "entitled 6" in description
    numbers = figure.find_elements(By.CSS_SELECTOR, "details td")
    assert numbers, "the numbers are on the page as text"
    assert figure.find_elements(By.TAG_NAME, "script") == []
    assert browser.problems() == []


def test_the_compliance_table_shows_the_status(
    charted: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(f"{charted.url}/status?token={charted.token}")
    cells = [c.text for c in browser.driver.find_elements(By.CSS_SELECTOR, "#compliance-rows td")]
    assert "NEAR" in cells  # peak 5 of 6 entitled: 83 %
    assert "UNENTITLED" in cells  # the dump's other products
