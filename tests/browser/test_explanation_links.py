"""``/status`` links each product's peak to its explanation, through the start page's token."""

from __future__ import annotations

import json

from selenium.webdriver.common.by import By

from tests.browser.headless_chromium import HeadlessChromium
from tests.browser.hostile_cluster import SCRIPT_PRODUCT_NAME
from tests.browser.test_status_page import INJECTED, open_status_from_the_start_page
from tests.e2e.processes import ServiceProcess


def test_an_explanation_link_opens_the_breakdown_with_the_kept_token(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    open_status_from_the_start_page(served, browser)
    labels = [
        link.text for link in browser.driver.find_elements(By.CSS_SELECTOR, "#explanations a")
    ]
    assert any(label.startswith(SCRIPT_PRODUCT_NAME) for label in labels)
    assert browser.driver.find_elements(By.CSS_SELECTOR, INJECTED) == []
    assert "token" not in (browser.attribute("explain-0", "href") or "")

    browser.click("explain-0")

    browser.wait_for_path("/usage_explained")
    assert browser.response_status() == 200
    body = json.loads(browser.driver.find_element(By.TAG_NAME, "body").text)
    assert body["totalMillicores"] == sum(c["cappedMillicores"] for c in body["contributions"])
    assert browser.problems() == []
