"""``/version``, ``/livez`` and ``/readyz`` (SPEC 3.5, 3.9): no token, JSON answers."""

from __future__ import annotations

import dataclasses

from starlette.testclient import TestClient

from license_service.store.database import Database
from license_service.web.probes.version_info import VersionInfo, version_info_from
from tests.web.conftest import World, synced_source


def test_version_answers_version_build_date_and_commit(client: TestClient) -> None:
    response = client.get("/version")
    assert response.status_code == 200
    assert response.json() == {"version": "1.2.3", "buildDate": "2026-11-01", "commit": "abc1234"}


def test_version_info_reads_build_date_and_commit_from_the_given_environment() -> None:
    info = version_info_from(
        {"LICENSE_SERVICE_BUILD_DATE": "2026-11-02T08:00:00Z", "LICENSE_SERVICE_COMMIT": "f00d"}
    )
    assert (info.build_date, info.commit) == ("2026-11-02T08:00:00Z", "f00d")
    assert info.version == VersionInfo().version


def test_version_info_says_unknown_for_what_the_environment_does_not_set() -> None:
    info = version_info_from({"LICENSE_SERVICE_COMMIT": "  "})
    assert (info.build_date, info.commit) == ("unknown", "unknown")


def test_livez_answers_ok(client: TestClient) -> None:
    response = client.get("/livez")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_is_ready_with_a_database_and_a_synchronised_source(client: TestClient) -> None:
    response = client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_is_not_ready_before_the_source_starts(client: TestClient, world: World) -> None:
    world.source = None
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["message"] == "not ready: the cluster source has not started yet"


def test_readyz_waits_for_the_first_sync_of_a_kubernetes_source_then_stays_ready(
    client: TestClient, world: World
) -> None:
    source = dataclasses.replace(
        synced_source(), source="kubernetes", synced=False, last_error="connection refused"
    )
    world.source = source
    refused = client.get("/readyz")
    assert refused.status_code == 503
    assert (
        "kubernetes source has not synchronised yet (last error: connection refused)"
        in (refused.json()["message"])
    )
    world.source = dataclasses.replace(source, synced=True, last_error=None)
    assert client.get("/readyz").status_code == 200
    world.source = source
    assert client.get("/readyz").status_code == 200


def test_a_dump_source_is_ready_without_waiting_for_sync(client: TestClient, world: World) -> None:
    world.source = dataclasses.replace(synced_source(), source="dump", synced=False)
    assert client.get("/readyz").status_code == 200


def test_readyz_is_not_ready_when_the_database_does_not_answer(
    client: TestClient, database: Database
) -> None:
    with database.begin() as connection:
        connection.exec_driver_sql("DROP TABLE samples")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["message"].startswith("not ready: the database does not answer")
    assert client.get("/livez").status_code == 200
