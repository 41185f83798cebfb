"""The Reporter's OpenAPI document: every route, every reference, real bodies valid."""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.fleet.pushes import day_of, push_body
from tests.web.reporter.conftest import PERIOD

URI = "urn:reporter-openapi"


def _validator(document: dict[str, Any], name: str) -> Draft202012Validator:
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(URI, resource)
    return Draft202012Validator({"$ref": f"{URI}#/components/schemas/{name}"}, registry=registry)


def _refs(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def test_every_route_is_documented_and_every_reference_resolves(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    routes = {r.path for r in client.app.routes if isinstance(r, Route)}  # type: ignore[attr-defined]
    assert set(document["paths"]) == routes
    for ref in _refs(document):
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]


def test_a_real_push_and_real_answers_match_their_schemas(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    body = push_body("c1", [day_of(date(2026, 12, 2)), day_of(date(2026, 12, 3))])
    envelope = json.loads(body)
    _validator(document, "PushEnvelope").validate(envelope)
    payload = json.loads(base64.b64decode(envelope["payload"]))
    _validator(document, "PushPayload").validate(payload)
    answer = client.post("/v1/push", content=body)
    _validator(document, "PushAnswer").validate(answer.json())
    for cluster in client.get("/clusters", params=PERIOD).json():
        _validator(document, "Cluster").validate(cluster)
    for row in client.get("/products", params=PERIOD).json():
        _validator(document, "Product").validate(row)
