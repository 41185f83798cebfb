"""Browser fixtures: one server over the hostile dump and one Chromium for these tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser.headless_chromium import ChromiumPaths, HeadlessChromium, find_chromium
from tests.browser.hostile_cluster import SCRIPT_PRODUCT_ID, write_hostile_dump
from tests.e2e.processes import ServiceProcess, eventually, start_service


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: starts real license-service processes (deselect with -m 'not slow')"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent == Path(__file__).parent:
            item.add_marker(pytest.mark.slow)


def product_ids(service: ServiceProcess) -> set[str]:
    """The ids of the products ``/products`` lists now."""
    answer = httpx.get(f"{service.url}/products", params={"token": service.token})
    return {row["id"] for row in answer.json()}


@pytest.fixture(scope="session")
def chromium() -> ChromiumPaths:
    """The installed Chromium and chromedriver (skip, or fail when required, without them)."""
    return find_chromium()


@pytest.fixture(scope="package")
def served(
    chromium: ChromiumPaths, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    """``license-service serve`` over the hostile dump, once it has taken a first sample.

    Depends on ``chromium`` so that no server starts when the tests are skipped.
    """
    del chromium
    run_dir = tmp_path_factory.mktemp("browser-served")
    service = start_service(run_dir, dumps=(write_hostile_dump(run_dir / "hostile.json"),))
    try:
        eventually(
            lambda: SCRIPT_PRODUCT_ID in product_ids(service),
            within=10,
            what="a first sample holding the hostile product in /products",
        )
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="package")
def chromium_session(
    chromium: ChromiumPaths, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HeadlessChromium]:
    """One headless Chromium for the browser tests, with a fresh profile."""
    session = HeadlessChromium(chromium, profile=tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield session
    finally:
        session.quit()


@pytest.fixture
def browser(chromium_session: HeadlessChromium, tmp_path: Path) -> HeadlessChromium:
    """The Chromium on a blank page, with an empty log and a download directory in ``tmp_path``."""
    chromium_session.start_over(downloads=tmp_path / "downloads")
    return chromium_session
