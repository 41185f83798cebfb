"""End-to-end fixtures: a read-only server shared by a module; a fresh one per changing test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from license_service.signing.keys import SigningKey
from tests.e2e.processes import ServiceProcess, eventually, start_service

Start = Callable[..., ServiceProcess]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: starts real license-service processes (deselect with -m 'not slow')"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent == Path(__file__).parent:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def signing_key_pem() -> bytes:
    """One signing key for the servers of the session: generating one per start is slow."""
    return SigningKey.generate().private_pem()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """A server over the fixture dump that has taken its first sample; shared by a module.

    It generates its own token and signing key, as on a first start.
    """
    service = start_service(tmp_path_factory.mktemp("served"))
    try:
        eventually(
            lambda: httpx.get(f"{service.url}/products", params={"token": service.token}).json(),
            within=10,
            what="a first sample in /products",
        )
        yield service
    finally:
        service.stop()


@pytest.fixture
def start(tmp_path: Path, signing_key_pem: bytes) -> Iterator[Start]:
    """Start a server of this test (arguments of ``start_service``); stopped after the test."""
    started: list[ServiceProcess] = []

    def starter(**arguments: Any) -> ServiceProcess:
        run_dir = tmp_path / f"run-{len(started)}"
        run_dir.mkdir()
        arguments.setdefault("data_dir", tmp_path / "data")
        service = start_service(run_dir, signing_key=signing_key_pem, **arguments)
        started.append(service)
        return service

    yield starter
    for service in started:
        service.stop()
