"""``/openapi.json``: every route described, and real answers valid against its schemas."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.routing import Route
from starlette.testclient import TestClient

from license_service.election.lease_records import ReplicaId
from license_service.leadership.elector import LeaderStatus
from license_service.reporting.sender import SenderStatus
from license_service.sampling.status import SamplerStatus
from license_service.store.database import Database
from license_service.web.app_state import AppState
from license_service.web.application import UPLOAD_PATHS, create_app
from license_service.web.probes.health import health_document
from license_service.web.probes.leader_view import FollowedView, LeaderView, leader_view_document
from tests.store.sample_builders import at, bundled, product, service, store
from tests.web.conftest import World, authorized

DOCUMENT_URI = "urn:license-service:openapi"


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def validator(document: dict[str, Any], pointer: str) -> Draft202012Validator:
    """A validator of the document's schema at ``pointer`` (``/components/schemas/Product``)."""
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)
    return Draft202012Validator({"$ref": f"{DOCUMENT_URI}#{pointer}"}, registry=registry)


def refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def test_every_route_is_documented_and_every_documented_path_exists(
    state: AppState, document: dict[str, Any]
) -> None:
    routes = {route.path for route in create_app(state).routes if isinstance(route, Route)}
    assert set(document["paths"]) == routes
    assert document["openapi"] == "3.1.0"
    assert document["info"]["version"] == "1.2.3"
    for path, item in document["paths"].items():
        method = "post" if path in UPLOAD_PATHS else "get"
        assert list(item) == [method], path
        assert {"200", "405"} <= set(item[method]["responses"]), path


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    for ref in refs(document):
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        assert isinstance(node, dict), ref


@pytest.mark.parametrize("path", ["/products", "/bundled_products", "/services"])
def test_report_endpoints_document_every_parameter_and_error(
    document: dict[str, Any], path: str
) -> None:
    operation = document["paths"][path]["get"]
    names = {ref["$ref"].rsplit("/", 1)[1] for ref in operation["parameters"]}
    assert names == {
        "dateFrom",
        "dateTo",
        "startDate",
        "endDate",
        "metricName",
        "groupName",
        "format",
        "token",
    }
    assert {"200", "400", "401", "403", "405", "429", "503"} <= set(operation["responses"])
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/csv"}


def test_real_report_rows_validate_against_their_schemas(
    client: TestClient, database: Database, document: dict[str, Any]
) -> None:
    store(
        database,
        at("2026-11-02", "10:00"),
        product("p1", 4),
        bundled("db2", 3, ratio="2:1"),
        service("svc-1", 2),
    )
    for path, schema in (
        ("/products", "Product"),
        ("/bundled_products", "BundledProduct"),
        ("/services", "Service"),
    ):
        rows = client.get(path, params=authorized()).json()
        assert rows, path
        for row in rows:
            validator(document, f"/components/schemas/{schema}").validate(row)


def test_health_version_and_probes_validate(
    client: TestClient, document: dict[str, Any], world: World
) -> None:
    world.warnings = ["a warning"]
    validator(document, "/components/schemas/Health").validate(
        client.get("/health", params=authorized()).json()
    )
    world.source = None
    validator(document, "/components/schemas/Health").validate(
        client.get("/health", params=authorized()).json()
    )
    validator(document, "/components/schemas/Version").validate(client.get("/version").json())
    validator(document, "/components/schemas/Probe").validate(client.get("/livez").json())


def test_error_answers_validate_against_the_error_schema(
    client: TestClient, document: dict[str, Any]
) -> None:
    errors = [
        client.get("/products", params=authorized({"dateFrom": "bad"})),
        client.get("/products"),
        client.post("/products"),
        client.get("/nowhere"),
        client.get("/products", params={"token": "x" * 20}),
    ]
    assert [response.status_code for response in errors] == [400, 401, 405, 404, 401]
    for response in errors:
        validator(document, "/components/schemas/Error").validate(response.json())


def test_a_row_with_a_wrong_type_does_not_validate(document: dict[str, Any]) -> None:
    row = {
        "name": "A",
        "id": "a",
        "metricName": "VPC",
        "metricPeakDate": "2026-11-02",
        "metricQuantity": "8",
    }
    assert not validator(document, "/components/schemas/Product").is_valid(row)


def test_the_leader_section_of_several_replicas_validates(document: dict[str, Any]) -> None:
    health = health_document(
        now=datetime(2026, 11, 28, 10, 0, tzinfo=UTC),
        sampler=SamplerStatus(interval=timedelta(seconds=300)),
        source=None,
        token_problem=None,
        leader=LeaderStatus(
            identity=ReplicaId("svc-b"),
            lease="Lease ns/license-service-leader",
            leading=False,
            leader=None,
            leader_since=None,
            last_error="get Lease ns/license-service-leader: cannot reach the API server",
        ),
    )

    validator(document, "/components/schemas/Health").validate(health)


def test_a_followers_health_with_the_leaders_view_validates(document: dict[str, Any]) -> None:
    now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    follower = LeaderStatus(
        identity=ReplicaId("svc-b"),
        lease="Lease ns/license-service-leader",
        leading=False,
        leader="svc-a",
        leader_since=now,
    )
    shared = leader_view_document(
        SamplerStatus(interval=timedelta(seconds=300)),
        SenderStatus(reporter_url="https://reporter.example"),
    )
    for followed in (FollowedView(LeaderView("svc-a", now, shared)), FollowedView(None)):
        health = health_document(
            now=now,
            sampler=SamplerStatus(interval=timedelta(seconds=300)),
            source=None,
            token_problem=None,
            leader=follower,
            sender=shared["sender"],
            followed=followed,
        )

        validator(document, "/components/schemas/Health").validate(health)
