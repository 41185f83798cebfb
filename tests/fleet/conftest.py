"""Fixtures of the fleet tests: the Reporter's database on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from license_service.fleet.fleet_schema import open_fleet_database
from license_service.store.database import Database, sqlite_url
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a fresh PostgreSQL schema for this test (skipped without a server)."""
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fleet_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each backend."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "reporter.db")
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def fleet_db(fleet_url: str) -> Iterator[Database]:
    """The Reporter's database, opened (migrated to its newest schema)."""
    database = open_fleet_database(fleet_url)
    yield database
    database.dispose()
