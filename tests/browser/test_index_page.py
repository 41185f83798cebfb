"""``/`` in a real Chromium: it renders cleanly, its links work with the API token typed in,
the period picker rewrites them, and the header-token path shows JSON and downloads files."""

from __future__ import annotations

import zipfile
from datetime import date, timedelta
from pathlib import Path

import httpx

from tests.browser.headless_chromium import HeadlessChromium
from tests.browser.hostile_cluster import SCRIPT_PRODUCT_ID
from tests.e2e.processes import ServiceProcess, eventually

JSON_LINKS = (
    "link-products",
    "link-bundled-products",
    "link-services",
    "link-health",
    "link-version",
    "link-openapi",
)
PERIOD_LINKS = (
    "link-products",
    "link-products-csv",
    "link-bundled-products",
    "link-bundled-products-csv",
    "link-services",
    "link-services-csv",
    "link-snapshot",
    "link-status",
)
UNDATED_LINKS = ("link-health", "link-version", "link-openapi")


def result_status_of(browser: HeadlessChromium, prefix: str) -> str:
    """The text of #result-status once it starts with ``prefix`` (the script fetches first)."""

    def status() -> str | None:
        text: str = browser.element("result-status").text
        return text if text.startswith(prefix) else None

    return eventually(status, within=10, what=f"#result-status starting with {prefix!r}")


def test_index_page_renders_without_console_errors_or_policy_violations(
    served: ServiceProcess, browser: HeadlessChromium, tmp_path: Path
) -> None:
    browser.open(f"{served.url}/")

    assert browser.driver.title == "License Service"
    for link_id in (*PERIOD_LINKS, *UNDATED_LINKS):
        assert browser.element(link_id).is_displayed(), link_id
    assert browser.problems() == []
    screenshot = browser.screenshot(tmp_path / "index.png")
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_every_json_link_answers_200_with_the_typed_api_token(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    for link_id in JSON_LINKS:
        browser.open(f"{served.url}/")
        browser.type_into("api-token", served.token)
        path = browser.attribute(link_id, "data-path")
        needs_token = browser.element(link_id).get_attribute("data-auth") is not None
        browser.click(link_id)

        browser.wait_for_path(path)
        assert browser.response_status() == 200, link_id
        assert browser.json_document(), link_id
        assert browser.query().get("token") == ([served.token] if needs_token else None), link_id


def test_status_link_with_the_typed_api_token_opens_the_status_page(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(f"{served.url}/")
    browser.type_into("api-token", served.token)
    browser.click("link-status")

    browser.wait_for_path("/status")
    assert browser.response_status() == 200
    assert browser.driver.title == "License Service status"


def test_a_link_followed_without_a_token_is_refused(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(f"{served.url}/")
    browser.click("link-products")

    browser.wait_for_path("/products")
    assert browser.response_status() == 401
    assert browser.json_document()["status"] == 401


def test_period_picker_puts_the_chosen_days_into_every_dated_link(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(f"{served.url}/")
    today = date.fromisoformat(browser.attribute("date-to", "value"))
    first = (today - timedelta(days=6)).isoformat()
    browser.choose_date("date-from", first)
    browser.choose_date("date-to", today.isoformat())
    browser.type_into("api-token", served.token)

    for link_id in PERIOD_LINKS:
        href = browser.attribute(link_id, "href")
        assert f"dateFrom={first}&dateTo={today.isoformat()}" in href, link_id
    for link_id in UNDATED_LINKS:
        assert "dateFrom" not in browser.attribute(link_id, "href"), link_id
    browser.click("link-products")
    browser.wait_for_path("/products")
    assert browser.query()["dateFrom"] == [first]
    assert browser.query()["dateTo"] == [today.isoformat()]
    assert browser.response_status() == 200
    assert SCRIPT_PRODUCT_ID in {row["id"] for row in browser.json_document()}


def test_period_picker_says_when_the_first_day_is_after_the_last(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(f"{served.url}/")
    first = date.fromisoformat(browser.attribute("date-from", "value"))
    browser.choose_date("date-to", (first - timedelta(days=1)).isoformat())

    assert browser.attribute("period-hint", "class") == "bad"
    assert "after the last day" in browser.element("period-hint").text


def test_csv_link_with_the_typed_api_token_downloads_the_csv_the_api_serves(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(f"{served.url}/")
    browser.type_into("api-token", served.token)
    href = browser.attribute("link-products-csv", "href")
    browser.click("link-products-csv")

    downloaded = browser.downloaded_file()
    assert downloaded.read_bytes() == httpx.get(href).content
    assert downloaded.read_text().startswith("name,id,metricName,")


def test_header_token_shows_the_json_in_the_page_without_leaving_it(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(f"{served.url}/")
    browser.type_into("service-account-token", served.token)
    browser.click("link-products")

    assert result_status_of(browser, "200") == "200 OK - /products"
    assert browser.driver.current_url == f"{served.url}/"
    assert f'"id": "{SCRIPT_PRODUCT_ID}"' in browser.element("result").text
    assert browser.problems() == []


def test_header_token_that_is_wrong_shows_the_refusal_in_the_page(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(f"{served.url}/")
    browser.type_into("service-account-token", "not-the-token")
    browser.click("link-products")

    assert result_status_of(browser, "401") == "401 Unauthorized - /products"
    assert '"status": 401' in browser.element("result").text


def test_header_token_downloads_the_snapshot_as_a_valid_zip(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(f"{served.url}/")
    browser.type_into("service-account-token", served.token)
    browser.click("link-snapshot")

    downloaded = browser.downloaded_file()
    assert downloaded.name.startswith("license-service-snapshot_")
    assert downloaded.suffix == ".zip"
    with zipfile.ZipFile(downloaded) as snapshot:
        assert snapshot.testzip() is None
        assert "checksum.txt" in snapshot.namelist()
    status = result_status_of(browser, "200")
    assert status.startswith(f"200 OK - /snapshot: downloaded {downloaded.name} (")
    assert browser.problems() == []


def test_the_demo_link_with_the_token_fills_the_field_and_leaves_the_address_bar(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    # `make run` prints http://127.0.0.1:8080/?token=... as the interface to open.
    browser.open(f"{served.url}/?token={served.token}")

    assert browser.element("api-token").get_attribute("value") == served.token
    assert browser.driver.current_url == f"{served.url}/"
    assert "token" not in browser.driver.execute_script("return location.href;")
    assert f"token={served.token}" in browser.attribute("link-products", "href")
    browser.click("link-products")
    browser.wait_for_path("/products")
    assert browser.response_status() == 200
    assert browser.problems() == []


def test_other_parameters_of_the_address_stay_when_the_token_is_taken(
    served: ServiceProcess, browser: HeadlessChromium
) -> None:
    browser.open(f"{served.url}/?lang=en&token={served.token}#apis")

    assert browser.element("api-token").get_attribute("value") == served.token
    assert browser.driver.current_url == f"{served.url}/?lang=en#apis"
