"""A PostgreSQL host that accepts connections but never answers does not hang the service."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from license_service.errors import StorageError
from license_service.store import database
from license_service.store.database import Database


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port whose connections are accepted by the kernel and never answered."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def open_in_thread(url: str, *, within: float) -> tuple[BaseException | None, float]:
    outcome: list[BaseException | None] = []
    started = time.monotonic()

    def attempt() -> None:
        try:
            Database.open(url).dispose()
        except BaseException as error:
            outcome.append(error)
        else:
            outcome.append(None)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(within)
    assert outcome, f"opening {url} still waits after {within} s: no connect timeout"
    return outcome[0], time.monotonic() - started


def test_a_silent_postgresql_host_is_given_up_after_the_connect_timeout(
    silent_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "POSTGRES_CONNECT_TIMEOUT_SECONDS", 2)
    url = f"postgresql://postgres@127.0.0.1:{silent_server}/test"

    error, took = open_in_thread(url, within=15)

    assert isinstance(error, StorageError)
    assert "127.0.0.1" in str(error)
    assert took >= 1.5


def test_the_url_s_own_connect_timeout_wins(silent_server: int) -> None:
    url = f"postgresql://postgres@127.0.0.1:{silent_server}/test?connect_timeout=2"

    error, _took = open_in_thread(url, within=15)

    assert isinstance(error, StorageError)
