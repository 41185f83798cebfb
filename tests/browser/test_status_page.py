"""``/status`` in a real Chromium: it renders cleanly, and names from pod annotations that are
HTML or script show as text and run nothing."""

from __future__ import annotations

from pathlib import Path

from selenium.webdriver.common.by import By

from tests.browser.headless_chromium import HeadlessChromium
from tests.browser.hostile_cluster import (
    IMAGE_PRODUCT_NAME,
    SCRIPT_PRODUCT_NAME,
    SVG_CLOUDPAK_NAME,
)
from tests.e2e.processes import ServiceProcess

# Elements the hostile names would create if they were parsed as HTML.
INJECTED = "main script, main img, main svg, main b"


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
