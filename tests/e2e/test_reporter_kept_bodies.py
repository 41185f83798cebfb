"""The Reporter's kept report bodies against other processes' writes (SPEC 11, 12).

Real ``license-service reporter`` processes on one PostgreSQL schema (and, for the
command line, on a SQLite file): a body a replica answered (and keeps) is dropped when
another replica stores a push, or when ``license-service reporter trust`` changes a
cluster's key from the command line; the new numbers are served within a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from license_service.signing.keys import SigningKey
from license_service.store.database import sqlite_url
from tests.e2e.processes import ServiceProcess, run_cli
from tests.e2e.reporter_process import start_reporter
from tests.e2e.test_reporter import get, push
from tests.fleet.pushes import cluster_key, day_of, push_body
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip

TODAY = datetime.now(UTC).date()
FIRST = TODAY - timedelta(days=5)
PERIOD = {"dateFrom": FIRST.isoformat(), "dateTo": TODAY.isoformat()}
WITHIN_SECONDS = 1.0


@pytest.fixture
def database_url() -> Iterator[str]:
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        yield url


@pytest.fixture(params=["postgresql", "sqlite"])
def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "reporter.db")
        return
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        yield url


def seen_within(seconds: float, answer: Callable[[], Any], expected: Any) -> float:
    """How long ``answer()`` took to become ``expected``; fails after ``seconds``."""
    started = time.monotonic()
    while True:
        got = answer()
        waited = time.monotonic() - started
        if got == expected:
            return waited
        assert waited < seconds, f"still {got!r} after {waited:.2f} s, expected {expected!r}"
        time.sleep(0.02)


def mq_quantity(reporter: ServiceProcess) -> int:
    rows = get(reporter, "/products", **PERIOD).json()
    [row] = [r for r in rows if r["id"] == "mq-1"]
    return int(row["metricQuantity"])


@pytest.mark.postgres
def test_a_push_to_one_replica_reaches_the_body_another_replica_kept(
    tmp_path: Path, database_url: str
) -> None:
    token = tmp_path / "shared-token"
    token.write_text("shared-reporter-token-0123")
    token.chmod(0o600)
    extra = ("--token-file", str(token))
    first = start_reporter(tmp_path, database_url, name="one", extra=extra)
    second = start_reporter(tmp_path, database_url, name="two", extra=extra)
    try:
        assert push(first, push_body("cluster-a", [day_of(FIRST, quantity=1)])).status_code == 200
        seen_within(WITHIN_SECONDS, lambda: mq_quantity(second), 1)
        kept = get(second, "/products", **PERIOD)
        assert kept.json() == get(second, "/products", **PERIOD).json()

        for quantity in (7, 3):
            days = [day_of(FIRST, quantity=quantity)]
            assert push(first, push_body("cluster-a", days)).status_code == 200
            seen_within(WITHIN_SECONDS, lambda: mq_quantity(second), quantity)
    finally:
        first.stop()
        second.stop()


def test_reporter_trust_from_the_command_line_shows_on_clusters(
    tmp_path: Path, any_database_url: str
) -> None:
    database_url = any_database_url
    reporter = start_reporter(tmp_path, database_url)
    try:
        assert push(reporter, push_body("cluster-a", [day_of(FIRST)])).status_code == 200
        stranger = SigningKey.generate()
        refused = push(reporter, push_body("cluster-a", [day_of(FIRST)], key=stranger))
        assert refused.status_code == 409

        def fingerprint() -> str:
            [cluster] = get(reporter, "/clusters", **PERIOD).json()
            return str(cluster["keyFingerprint"])

        pinned = cluster_key("cluster-a").fingerprint
        assert fingerprint() == pinned
        assert fingerprint() == pinned  # a kept body now: only a write can drop it

        trusted = run_cli("reporter", "trust", "cluster-a", "--database-url", database_url)
        assert trusted.returncode == 0, trusted.stderr
        seen_within(WITHIN_SECONDS, fingerprint, stranger.fingerprint)
    finally:
        reporter.stop()
