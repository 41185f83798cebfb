"""Fixtures of the store tests: every contract test runs on SQLite and on PostgreSQL.

SQLite: a fresh file per test (``tmp_path``). PostgreSQL: a fresh schema per test in
the server at ``LICENSE_SERVICE_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), dropped afterwards; tests skip
when the server cannot be reached, or fail when ``LICENSE_SERVICE_REQUIRE_POSTGRES=1``.
``postgres_url_or_skip`` and ``fresh_postgres_schema`` hold no store logic, so they can
move to ``tests/conftest.py`` for other suites as they are.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from license_service.store.database import Database, sqlite_url

POSTGRES_URL_VARIABLE = "LICENSE_SERVICE_POSTGRES_URL"
REQUIRE_POSTGRES_VARIABLE = "LICENSE_SERVICE_REQUIRE_POSTGRES"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@functools.cache
def _postgres_problem(url: str) -> str | None:
    """Why the server at ``url`` cannot be used, or ``None``; asked once per session."""
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as exc:
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()
    return None


def postgres_url_or_skip() -> str:
    """The URL of the test PostgreSQL server; skips the test when it is not reachable.

    With ``LICENSE_SERVICE_REQUIRE_POSTGRES=1`` an unreachable server fails the test instead.
    """
    url = os.environ.get(POSTGRES_URL_VARIABLE) or DEFAULT_POSTGRES_URL
    problem = _postgres_problem(url)
    if problem is not None:
        shown = make_url(url).render_as_string(hide_password=True)
        message = (
            f"PostgreSQL at {shown} is not reachable ({problem}); start it or set "
            f"{POSTGRES_URL_VARIABLE} to a server with trust authentication"
        )
        if os.environ.get(REQUIRE_POSTGRES_VARIABLE) == "1":
            pytest.fail(f"{message} ({REQUIRE_POSTGRES_VARIABLE}=1)")
        pytest.skip(message)
    return url


@contextlib.contextmanager
def fresh_postgres_schema(base_url: str) -> Iterator[str]:
    """A new empty schema ``test_<random>``; yields a URL whose search_path is that schema."""
    schema = f"test_{secrets.token_hex(8)}"
    admin = create_engine(base_url, poolclass=NullPool)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        yield (
            make_url(base_url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        _drop_schema(admin, schema)
        admin.dispose()


def _drop_schema(admin: Engine, schema: str) -> None:
    """Drop ``schema``, again if PostgreSQL chose the drop as a deadlock's victim (a
    process of the test still finishing a write to it)."""
    for attempt in range(5):
        try:
            with admin.begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            return
        except OperationalError as error:
            if "deadlock detected" not in str(error) or attempt == 4:
                raise
            time.sleep(0.5)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a fresh PostgreSQL schema for this test (skipped without a server)."""
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each backend."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "license-service.db")
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """The database of ``database_url``, opened (so migrated to the newest schema)."""
    database = Database.open(database_url)
    yield database
    database.dispose()
