"""Fixtures of the fault suites: a signing key made once, and a fresh SQLite store per test.

Suites that start real ``license-service`` processes put the key in each data
directory first, which spares every start generating an RSA key.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from license_service.signing.keys import SigningKey
from license_service.store.database import Database, sqlite_url


@pytest.fixture(scope="session")
def faults_signing_key() -> bytes:
    """One signing key (PEM) for every service the fault suites start."""
    return SigningKey.generate().private_pem()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """A fresh SQLite store (a real file) for unit-level fault tests."""
    opened = Database.open(sqlite_url(tmp_path / "store.db"))
    yield opened
    opened.dispose()
