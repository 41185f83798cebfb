"""Fixtures of the web tests: the real app over a fresh SQLite store, real token file and key.

``World`` holds what the running service would change under the app (time, sampler
status, source state, configuration, warnings); tests change it and ask again. The
authenticator is the real ``ApiTokenAuthenticator`` reading a real token file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from license_service.auth.authenticators import ApiTokenAuthenticator, Authenticator
from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.cluster.source import ClusterState
from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.metering.cluster_view import ClusterView
from license_service.sampling.status import SamplerStatus
from license_service.signing.keys import SigningKey
from license_service.store.database import Database, sqlite_url
from license_service.tokens.file_source import TokenFile
from license_service.tokens.file_store import write_token_file
from license_service.web.app_state import AppState
from license_service.web.application import create_app
from license_service.web.probes.version_info import VersionInfo
from tests.store.sample_builders import CLUSTER

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
TOKEN = "Q7wErTy9UiOp2AsDfGh4JkLz"
INTERVAL = timedelta(minutes=5)


def synced_source(now: datetime = NOW) -> ClusterState:
    """A simulated source that is synchronised at ``now``."""
    return ClusterState(
        view=ClusterView(), synced=True, observed_at=now, cluster_id=CLUSTER, source="simulated"
    )


def sampling_status(now: datetime = NOW, **changes: object) -> SamplerStatus:
    """A sampler that took its latest sample at ``now``; ``changes`` override fields."""
    fields: dict[str, object] = {
        "interval": INTERVAL,
        "source": "simulated",
        "synced": True,
        "last_tick_at": now,
        "last_outcome": "sampled",
        "last_sample_at": now,
        "samples_taken": 12,
    }
    fields.update(changes)
    return SamplerStatus(**fields)  # type: ignore[arg-type]


@dataclass
class World:
    """What changes under the app while it runs."""

    now: datetime = NOW
    sampler: SamplerStatus = field(default_factory=sampling_status)
    source: ClusterState | None = field(default_factory=synced_source)
    licensing: LicensingConfig = field(default_factory=LicensingConfig)
    warnings: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    """One RSA key for the whole session: generating one takes a while."""
    return SigningKey.generate()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """A fresh, migrated SQLite store."""
    opened = Database.open(sqlite_url(tmp_path / "license-service.db"))
    yield opened
    opened.dispose()


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def token_path(tmp_path: Path) -> Path:
    """The API token file, holding ``TOKEN``."""
    path = tmp_path / "api-token"
    write_token_file(path, TOKEN)
    return path


@pytest.fixture
def authenticator(token_path: Path, world: World) -> Authenticator:
    """The real API-token authenticator over the token file."""
    return ApiTokenAuthenticator(
        TokenFile(
            token_path,
            generate_if_missing=False,
            grace_period=timedelta(0),
            clock=lambda: world.now,
        ),
        url_based_enabled=lambda: world.licensing.url_based_enabled,
        limiter=FailedAttemptLimiter(max_failures=3),
        clock=lambda: world.now,
    )


@pytest.fixture
def state(
    database: Database,
    world: World,
    authenticator: Authenticator,
    signing_key: SigningKey,
    tmp_path: Path,
) -> AppState:
    return AppState(
        database=database,
        cluster_id=CLUSTER,
        cluster_name="Test <cluster>",
        sampler_status=lambda: world.sampler,
        source_state=lambda: world.source,
        authenticator=authenticator,
        licensing=lambda: world.licensing,
        health_warnings=lambda: list(world.warnings),
        signing_key=signing_key,
        clock=lambda: world.now,
        version=VersionInfo(version="1.2.3", build_date="2026-11-01", commit="abc1234"),
        temp_dir=tmp_path,
    )


@pytest.fixture
def client(state: AppState) -> Iterator[TestClient]:
    """A client of the API app; its requests carry no token unless a test adds one."""
    with TestClient(create_app(state)) as test_client:
        yield test_client


def authorized(params: dict[str, str] | None = None) -> dict[str, str]:
    """``params`` plus the API token."""
    return {**(params or {}), "token": TOKEN}
