"""``/status`` in a real Chromium: it renders cleanly, and names from pod annotations that are
HTML or script show as text and run nothing."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from selenium.webdriver.common.by import By

from tests.browser.headless_chromium import HeadlessChromium
from tests.browser.hostile_cluster import (
    IMAGE_PRODUCT_NAME,
    SCRIPT_PRODUCT_NAME,
    SVG_CLOUDPAK_NAME,
)
from tests.e2e.processes import ServiceProcess, eventually

# Elements the hostile names would create if they were parsed as HTML.
INJECTED = "main script, main img, main svg:not(.chart), main b"


def cells_of(browser: HeadlessChromium, table_id: str) -> list[str]:
    """The text of every cell of a table of the page."""
    return [cell.text for cell in browser.driver.find_elements(By.CSS_SELECTOR, f"#{table_id} td")]


def open_status(served: ServiceProcess, browser: HeadlessChromium) -> None:
    browser.open(f"{served.url}/status?token={served.token}")
    assert browser.response_status() == 200


def test_status_page_renders_without_console_errors_or_policy_violations(
    served: ServiceProcess, browser: HeadlessChromium, tmp_path: Path
) -> None:
    open_status(served, browser)

    assert browser.driver.title == "License Service status"
    assert browser.element("health-status").text in {"OK", "DEGRADED"}
    for table_id in ("products-now", "peaks", "gaps"):
        assert browser.element(table_id).is_displayed(), table_id
    assert browser.problems() == []
    screenshot = browser.screenshot(tmp_path / "status.png")
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_product_named_script_shows_as_text_and_runs_nothing(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    open_status(served, browser)

    assert SCRIPT_PRODUCT_NAME in cells_of(browser, "products-now")
    assert SCRIPT_PRODUCT_NAME in cells_of(browser, "peaks")
    assert browser.driver.find_elements(By.CSS_SELECTOR, INJECTED) == []
    assert browser.dialogs() == []
    assert browser.problems() == []


def test_bundled_names_and_annotation_problems_that_are_html_show_as_text(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    open_status(served, browser)

    bundled = cells_of(browser, "bundled-products-now")
    assert IMAGE_PRODUCT_NAME in bundled
    assert any(cell.startswith(f"{SVG_CLOUDPAK_NAME} (") for cell in bundled)
    assert "hostile-ratio-0" in cells_of(browser, "incomplete-annotations")
    assert "No problem found." not in browser.element("health").text
    assert browser.driver.find_elements(By.CSS_SELECTOR, INJECTED) == []
    assert browser.dialogs() == []
    assert browser.problems() == []


def header_text(browser: HeadlessChromium) -> str:
    return str(browser.driver.find_element(By.CSS_SELECTOR, "header").text)


def today_of(browser: HeadlessChromium) -> date:
    """Today (UTC) as the page says it: the day its checks ran."""
    return date.fromisoformat(browser.element("checked-at").text[:10])


def open_status_from_the_start_page(served: ServiceProcess, browser: HeadlessChromium) -> None:
    """Open ``/`` with the token, as the demo prints it, then its status page link."""
    browser.open(f"{served.url}/?token={served.token}")
    browser.click("link-status")
    browser.wait_for_path("/status")
    assert browser.response_status() == 200


def test_the_status_page_links_back_to_the_interface_which_still_has_the_token(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    open_status_from_the_start_page(served, browser)
    shown_from = browser.query()["dateFrom"][0]
    browser.click("link-home")

    browser.wait_for_path("/")
    assert browser.element("api-token").get_attribute("value") == served.token
    assert browser.attribute("date-from", "value") == shown_from
    assert "token" not in browser.driver.current_url
    assert browser.problems() == []


def test_period_links_change_the_period_of_the_status_page(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    open_status_from_the_start_page(served, browser)
    today = today_of(browser)
    first = (today - timedelta(days=6)).isoformat()
    browser.click("period-7-days")

    eventually(
        lambda: browser.query().get("dateFrom") == [first],
        within=10,
        what="the status page of the last 7 days",
    )
    browser.wait_for_path("/status")
    assert browser.response_status() == 200
    assert browser.query()["dateTo"] == [today.isoformat()]
    assert f"{first} to {today.isoformat()}" in browser.element("period-peaks").text
    assert "current" in browser.attribute("period-7-days", "class")
    assert SCRIPT_PRODUCT_NAME in cells_of(browser, "peaks")
    assert browser.problems() == []


def test_the_demos_status_link_opens_the_status_page_through_the_start_page(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    # The demo prints /?open=status&token=... for the status page.
    browser.open(f"{served.url}/?open=status&token={served.token}")

    browser.wait_for_path("/status")
    assert browser.response_status() == 200
    browser.click("period-90-days")
    eventually(
        lambda: (
            browser.query().get("dateFrom") is not None
            and "current" in (browser.element("period-90-days").get_attribute("class") or "")
        ),
        within=10,
        what="the status page of the last 90 days",
    )
    assert browser.response_status() == 200


def test_a_period_link_without_a_kept_token_asks_for_it_on_the_start_page(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    open_status(served, browser)
    today = today_of(browser)
    browser.click("period-7-days")

    browser.wait_for_path("/")
    assert browser.attribute("date-from", "value") == (today - timedelta(days=6)).isoformat()
    assert "Put the API token" in browser.element("result-status").text
    assert "open=status" not in browser.driver.current_url


def test_a_period_chosen_on_the_interface_opens_the_status_page_of_that_period(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(f"{served.url}/?token={served.token}")
    today = date.fromisoformat(browser.attribute("date-to", "value"))
    first = (today - timedelta(days=9)).isoformat()
    browser.choose_date("date-from", first)
    browser.click("link-status")

    browser.wait_for_path("/status")
    assert browser.response_status() == 200
    assert f"{first} to {today.isoformat()}" in browser.element("period-peaks").text


def test_metric_names_break_only_between_their_words(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.driver.set_window_size(520, 1600)
    try:
        open_status(served, browser)
        metric_cells = [
            cell
            for cell in browser.driver.find_elements(By.CSS_SELECTOR, "#bundled-products-now td")
            if "_" in cell.text and cell.text.isupper()
        ]
        assert metric_cells, "no metric name in the bundled products table"
        for cell in metric_cells:
            breaks = browser.driver.execute_script(LINE_BREAKS, cell)
            text = cell.text.replace("\n", "")
            assert breaks, f"{text!r} did not wrap at this width: the test shows nothing"
            for at in breaks:
                assert text[at - 1] == "_", f"{text!r} breaks mid-word before {text[at:]!r}"
    finally:
        browser.driver.set_window_size(1280, 1600)


# Offsets in the cell's text where a new line starts (the characters' boxes move down).
LINE_BREAKS = """
const cell = arguments[0], range = document.createRange(), breaks = [];
const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
let offset = 0, top = null, node;
while ((node = walker.nextNode())) {
  for (let i = 0; i < node.length; i++) {
    range.setStart(node, i); range.setEnd(node, i + 1);
    const box = range.getBoundingClientRect();
    if (top !== null && box.top > top + 1) breaks.push(offset);
    top = box.top; offset++;
  }
}
return breaks;
"""


def test_the_cluster_id_shows_once_when_no_name_is_set(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    open_status(served, browser)

    cluster_id = browser.element("cluster-id").text
    assert cluster_id
    assert header_text(browser).count(cluster_id) == 1


def test_the_page_says_it_was_opened_with_the_api_token_in_words(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    open_status(served, browser)

    opened_with = browser.driver.find_element(
        By.XPATH, "//table[@id='authentication-methods']//th[.='This page was opened with']/../td"
    ).text
    assert opened_with == "the API token"


def test_without_a_token_the_browser_gets_a_page_that_says_how_to_get_in(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(f"{served.url}/status")

    assert browser.response_status() == 401
    assert browser.driver.title == "License Service: sign in"
    assert browser.driver.find_elements(By.TAG_NAME, "pre") == []
    assert "license-service token get" in browser.element("how-to-get-in").text
    assert "this endpoint needs authentication" in browser.element("refusal").text
    # Chromium logs every document answered 4xx; nothing else may go wrong.
    assert [problem for problem in browser.problems() if "status of 401" not in problem] == []
    browser.click("link-home")
    browser.wait_for_path("/")


def test_a_period_before_the_data_began_says_the_first_day_with_data(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    open_status(served, browser)
    today = today_of(browser)
    first_day = browser.element("first-day").text
    assert first_day == today.isoformat()

    before = {"dateFrom": today - timedelta(days=40), "dateTo": today - timedelta(days=35)}
    query = "&".join(f"{name}={day.isoformat()}" for name, day in before.items())
    browser.open(f"{served.url}/status?{query}&token={served.token}")

    assert browser.response_status() == 200
    assert f"the first day with data is {first_day}" in browser.element("period-peaks").text
