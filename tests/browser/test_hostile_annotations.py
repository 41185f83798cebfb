"""Annotation values built to inject script never run in a real Chromium, wherever they show.

Beyond HTML tags (``test_status_page``), the hostile dump names products with a
``javascript:`` URL, an attribute breakout (``" onmouseover="...``), a quote-and-tag
breakout, template syntax, a Cloud Pak name that closes the table and opens a script,
and an invalid ratio holding SVG. On ``/status``, on the JSON the browser opens
directly and on ``/`` with a hostile address: every value shows as the text it is, no
element or attribute comes from data, no link points to ``javascript:``, no dialog
opens and the page's Content-Security-Policy is never even tested.
"""

from __future__ import annotations

from selenium.webdriver.common.by import By

from tests.browser.headless_chromium import HeadlessChromium
from tests.browser.hostile_cluster import (
    INJECTED_NAMES,
    SVG_RATIO,
    TABLE_BREAKOUT_CLOUDPAK,
    TEMPLATE_NAME,
)
from tests.e2e.processes import ServiceProcess

# Every element name and attribute a page may hold; anything else came from data.
FOREIGN_ELEMENTS = (
    "main script, main img, main svg:not(.chart), main iframe, main b, main object, main embed"
)
EVENT_ATTRIBUTES = """
return Array.from(document.querySelectorAll("*")).flatMap((element) =>
  Array.from(element.attributes)
    .filter((attribute) => attribute.name.startsWith("on") || attribute.name === "data-x")
    .map((attribute) => element.tagName + " " + attribute.name));
"""
SCRIPT_LINKS = """
return Array.from(document.querySelectorAll("a[href], [src], [action]")).map(
  (element) => element.getAttribute("href") || element.getAttribute("src")
    || element.getAttribute("action")
).filter((target) => /^\\s*(javascript|data|vbscript):/i.test(target) && target !== "data:,");
"""


def cells(browser: HeadlessChromium) -> list[str]:
    return [cell.text for cell in browser.driver.find_elements(By.CSS_SELECTOR, "td")]


def assert_nothing_injected(browser: HeadlessChromium) -> None:
    assert browser.driver.find_elements(By.CSS_SELECTOR, FOREIGN_ELEMENTS) == []
    assert browser.driver.execute_script(EVENT_ATTRIBUTES) == []
    assert browser.driver.execute_script(SCRIPT_LINKS) == []
    assert browser.dialogs() == []
    assert browser.problems() == []


def test_status_page_shows_breakout_values_as_text_and_runs_nothing(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(f"{served.url}/status?token={served.token}")
    assert browser.response_status() == 200

    shown = cells(browser)
    for name in INJECTED_NAMES:
        assert name in shown, name
    assert "49" not in shown  # the template syntax was not evaluated
    assert any(cell.startswith(TABLE_BREAKOUT_CLOUDPAK) for cell in shown)
    assert any(SVG_RATIO in cell for cell in shown)
    # Hover every cell: an injected onmouseover would fire now.
    for cell in browser.driver.find_elements(By.CSS_SELECTOR, "td")[:200]:
        browser.driver.execute_script(
            "arguments[0].dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));", cell
        )
    assert_nothing_injected(browser)


def test_json_opened_in_the_browser_runs_nothing(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    for path in ("/products", "/bundled_products", "/health"):
        browser.open(f"{served.url}{path}?token={served.token}")
        assert browser.response_status() == 200
        assert TEMPLATE_NAME in browser.driver.page_source or path != "/products"
        assert browser.driver.find_elements(By.CSS_SELECTOR, "script, img, svg, iframe") == []
        assert browser.dialogs() == []


def test_a_hostile_address_on_the_index_page_runs_nothing(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(
        f"{served.url}/?dateFrom=javascript:alert(10)&token=%22%3E%3Cscript%3Ealert(11)%3C/script%3E"
        "#<img src=x onerror=alert(12)>"
    )
    assert browser.response_status() == 200

    browser.type_into("api-token", '"><script>alert(13)</script>')
    hrefs = [browser.attribute(link_id, "href") for link_id in ("link-products", "link-status")]

    assert all(href.startswith(served.url) for href in hrefs), hrefs
    assert_nothing_injected(browser)
