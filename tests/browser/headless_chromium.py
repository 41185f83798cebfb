"""A real headless Chromium, driven by Selenium, that notes what a page did wrong.

``find_chromium`` locates Debian's ``chromium`` and ``chromedriver`` (nothing is
downloaded); when either is missing the test is skipped, or fails when
``LICENSE_SERVICE_REQUIRE_BROWSER=1`` (CI sets it). ``HeadlessChromium`` runs with a
fresh profile and starts each test over with a blank page and its own download
directory (one browser serves many tests: starting one costs seconds). In every
document, before any page script runs, it installs a recorder of
Content-Security-Policy violations and of ``alert``/``confirm``/``prompt`` calls (which
then open nothing), so a test can assert that a page broke no rule and ran no
injected script.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from tests.e2e.processes import eventually

REQUIRE_BROWSER_VARIABLE = "LICENSE_SERVICE_REQUIRE_BROWSER"
WAIT_SECONDS = 10.0
_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
)
# Runs in every document before the page's own scripts; CSP does not apply to it.
_RECORDER = """
window.__pageProblems = { violations: [], dialogs: [] };
document.addEventListener("securitypolicyviolation", (event) => {
  window.__pageProblems.violations.push(
    event.violatedDirective + " blocked " + (event.blockedURI || "inline"));
});
for (const name of ["alert", "confirm", "prompt"]) {
  window[name] = (...values) => {
    window.__pageProblems.dialogs.push(name + "(" + values.map(String).join(", ") + ")");
  };
}
"""


@dataclass(frozen=True, slots=True)
class ChromiumPaths:
    """Where the browser and its WebDriver are installed."""

    browser: str
    driver: str


def find_chromium() -> ChromiumPaths:
    """Debian's ``chromium`` and ``chromedriver``; skips (or fails when required) without them."""
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser and driver:
        return ChromiumPaths(browser=browser, driver=driver)
    missing = " and ".join(
        name for name, path in (("chromium", browser), ("chromedriver", driver)) if not path
    )
    message = (
        f"{missing} not found on PATH; install them with "
        "`apt-get install -y chromium chromium-driver` to run the browser tests"
    )
    if os.environ.get(REQUIRE_BROWSER_VARIABLE) == "1":
        pytest.fail(f"{message} ({REQUIRE_BROWSER_VARIABLE}=1)")
    pytest.skip(message)


class HeadlessChromium:
    """One headless Chromium with its own profile; ``start_over`` gives each test a clean slate."""

    def __init__(self, paths: ChromiumPaths, *, profile: Path) -> None:
        options = webdriver.ChromeOptions()
        options.binary_location = paths.browser
        for flag in _FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.add_experimental_option("prefs", {"download.prompt_for_download": False})
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver: WebDriver = webdriver.Chrome(
            service=Service(executable_path=paths.driver), options=options
        )
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _RECORDER})
        # Until ``start_over`` gives a test its own directory.
        self.downloads = profile / "Downloads"

    def quit(self) -> None:
        self.driver.quit()

    def start_over(self, *, downloads: Path) -> None:
        """Forget the last test: a blank page, no open dialog, an empty log, new downloads,
        and nothing kept in the session storage of the page it left (``/`` keeps the token)."""
        self.dialogs_open()
        self.driver.execute_script("try { sessionStorage.clear(); } catch (error) {}")
        self.driver.get("about:blank")
        self.driver.get_log("browser")  # type: ignore[no-untyped-call]
        downloads.mkdir(parents=True)
        self.downloads = downloads
        self.driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )

    def open(self, url: str) -> None:
        """Load ``url`` and wait until its document is complete."""
        self.driver.get(url)

    def element(self, element_id: str) -> WebElement:
        return self.driver.find_element(By.ID, element_id)

    def attribute(self, element_id: str, name: str) -> str:
        """An attribute of an element of the page, which must be there."""
        value = self.element(element_id).get_attribute(name)
        assert value is not None, f"#{element_id} has no {name}"
        return value

    def type_into(self, element_id: str, text: str) -> None:
        """Type ``text`` into an input, key by key, as a person would."""
        self.element(element_id).send_keys(text)

    def choose_date(self, element_id: str, day: str) -> None:
        """Set a date input (its widget's key order depends on the locale) and fire ``input``."""
        self.driver.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
            self.element(element_id),
            day,
        )

    def click(self, element_id: str) -> None:
        self.element(element_id).click()

    def wait_for_path(self, path: str) -> None:
        """Wait until the browser shows a document at ``path``."""
        eventually(
            lambda: urlsplit(self.driver.current_url).path == path,
            within=WAIT_SECONDS,
            what=f"the browser reaching {path} (at {self.driver.current_url})",
        )

    def query(self) -> dict[str, list[str]]:
        """The query parameters of the current address."""
        return parse_qs(urlsplit(self.driver.current_url).query)

    def response_status(self) -> int:
        """The HTTP status of the current document (Navigation Timing)."""
        status: int = self.driver.execute_script(
            "return performance.getEntriesByType('navigation')[0].responseStatus;"
        )
        return status

    def json_document(self) -> Any:
        """The JSON the browser shows as the current document."""
        return json.loads(self.driver.find_element(By.TAG_NAME, "pre").text)

    def problems(self) -> list[str]:
        """Console errors and warnings and CSP violations since the last call (drains the log)."""
        found = [
            f"console {entry['level']}: {entry['message']}"
            for entry in self.driver.get_log("browser")  # type: ignore[no-untyped-call]
            if entry["level"] in {"SEVERE", "WARNING"}
            or "Content Security Policy" in entry["message"]
        ]
        recorded = self._recorded()
        found += [f"CSP violation: {violation}" for violation in recorded["violations"]]
        return found

    def dialogs(self) -> list[str]:
        """Dialogs the page asked for, and one that is open despite the recorder."""
        return self.dialogs_open() + self._recorded()["dialogs"]

    def dialogs_open(self) -> list[str]:
        """The dialog open now, if any (dismissed, so the session goes on)."""
        try:
            alert = self.driver.switch_to.alert
        except NoAlertPresentException:
            return []
        text = alert.text
        alert.dismiss()
        return [f"open dialog: {text}"]

    def downloaded_file(self) -> Path:
        """The one completed download, once Chromium has finished writing it."""

        def completed() -> Path | None:
            files = [
                path
                for path in self.downloads.iterdir()
                if not path.name.startswith(".") and path.suffix != ".crdownload"
            ]
            assert len(files) <= 1, f"more than one download: {files}"
            return files[0] if files else None

        return eventually(completed, within=WAIT_SECONDS, what="a completed download")

    def screenshot(self, path: Path) -> Path:
        """Save what the window shows as a PNG."""
        assert self.driver.save_screenshot(str(path)), f"no screenshot written to {path}"
        return path

    def _recorded(self) -> dict[str, list[str]]:
        recorded: dict[str, list[str]] | None = self.driver.execute_script(
            "return window.__pageProblems || null;"
        )
        assert recorded is not None, "the page recorder did not run in this document"
        return recorded
