"""Fixtures of the Reporter's app tests: the app on a SQLite file, its token, a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from license_service.auth.authenticators import ApiTokenAuthenticator
from license_service.fleet.fleet_schema import open_fleet_database
from license_service.store.database import sqlite_url
from license_service.tokens.file_source import TokenFile
from license_service.tokens.kinds import REPORTER_TOKEN
from license_service.web.reporter.reporter_app import create_reporter_app
from license_service.web.reporter.reporter_state import ReporterState
from tests.kubernetes_fake.fixtures import fake_api, kube_client  # noqa: F401

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
TODAY = NOW.date()
TOKEN = "reporter-token-0123456789"
PERIOD = {"dateFrom": "2026-12-01", "dateTo": "2026-12-06"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from reporter_client(tmp_path)


def reporter_client(tmp_path: Path, **state_fields: Any) -> Iterator[TestClient]:
    """A client of the Reporter's app on ``tmp_path``, its state given ``state_fields``."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    database = open_fleet_database(sqlite_url(tmp_path / "reporter.db"))
    tokens = TokenFile(
        token_file,
        generate_if_missing=False,
        grace_period=timedelta(0),
        clock=lambda: NOW,
        kind=REPORTER_TOKEN,
    )
    state = ReporterState(
        database=database,
        authenticator=ApiTokenAuthenticator(
            tokens, url_based_enabled=lambda: True, kind=REPORTER_TOKEN
        ),
        now=lambda: NOW,
        **state_fields,
    )
    with TestClient(create_reporter_app(state)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {TOKEN}"
        yield test_client
    database.dispose()
