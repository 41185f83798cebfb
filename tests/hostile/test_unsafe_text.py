"""Text no store or output can hold stops at the edge: one pod never stops the metering of others.

Anyone who can create a pod writes its annotations, and the Kubernetes API accepts any
text in an annotation value, NUL included. Before, a pod whose ``productName`` held a
NUL made every sample fail on PostgreSQL ("PostgreSQL text fields cannot contain NUL
(0x00) bytes") and a lone surrogate every sample on SQLite ("surrogates not allowed"):
``/products`` stayed ``[]`` for every product. And ``metricName=%00`` answered 503 on
PostgreSQL. Now such a value is a problem of its pod, listed under
``incompleteAnnotations`` with the character and its position, the other pods are
stored and reported, and such a query parameter answers 400, on both backends.

The pods go the real way: JSON bytes as the API server sends them, the projection
decoder, the sampler, the store, the API.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from license_service.cluster.decoding import node_decoder, pod_decoder
from license_service.metering.cluster_view import ClusterView
from license_service.metering.settings import MeteringSettings
from license_service.sampling.sampler import Sampler
from license_service.signing.keys import SigningKey
from license_service.store.database import Database
from license_service.web.application import create_app
from tests.hostile.conftest import TOKEN, ServiceSettings, build_state
from tests.metering.cluster_builders import node, pod, product, view
from tests.sampling.doubles import CLUSTER, START, FixedSource, state
from tests.soak import soak_or
from tests.store.conftest import database_url, postgres_url

__all__ = ["database_url", "postgres_url"]

DAY = START.date().isoformat()
PERIOD = {"dateFrom": DAY, "dateTo": DAY, "token": TOKEN}
VPC = "VIRTUAL_PROCESSOR_CORE"

UNSAFE = {
    "NUL": "\x00",
    "lone surrogate": "\ud800",
    "escape": "\x1b",
    "line feed": "\n",
    "carriage return": "\r",
    "tab": "\t",
    "delete": "\x7f",
    "C1 next line": "\x85",
    "line separator": "\u2028",
    "right-to-left override": "\u202e",
}
"""One of each kind of character refused, placed inside a value (not at its ends)."""

FIELDS = (
    "productID",
    "productName",
    "productMetric",
    "productVersion",
    "cloudpakId",
    "cloudpakName",
    "cloudpakVersion",
    "cloudpakMetric",
    "serviceId",
    "serviceName",
)


def _annotations(field: str, value: str) -> dict[str, str]:
    annotations = {
        "productID": "bad",
        "productName": "Bad product",
        "productMetric": VPC,
        "cloudpakId": "bad-pak",
        "cloudpakName": "Bad Pak",
        "serviceId": "bad-svc",
        "serviceName": "Bad service",
    }
    annotations[field] = value
    return annotations


def _pod(name: str, annotations: dict[str, str], cpu: str) -> dict[str, Any]:
    return {
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "apps", "annotations": annotations},
        "spec": {
            "nodeName": "n1",
            "containers": [{"name": "c", "resources": {"limits": {"cpu": cpu}}}],
        },
        "status": {"phase": "Running"},
    }


HOSTILE_PODS = [
    _pod(f"{field.lower()}-{kind.replace(' ', '-')}", _annotations(field, f"x{char}y"), "1")
    for field in FIELDS
    for kind, char in UNSAFE.items()
]
GOOD_POD = _pod(
    "good-0", {"productID": "good", "productName": "Good product", "productMetric": VPC}, "2"
)


def _decoded_view() -> ClusterView:
    """The pods and the node as the collector reads them: list pages through the decoder."""
    pods = [GOOD_POD, *HOSTILE_PODS]
    # json.dumps writes "\u0000" and "\ud800" as escapes, as the API server's JSON does.
    pod_page = json.dumps({"metadata": {"resourceVersion": "1"}, "items": pods}).encode()
    node_page = json.dumps(
        {
            "metadata": {"resourceVersion": "1"},
            "items": [{"metadata": {"name": "n1"}, "status": {"capacity": {"cpu": "64"}}}],
        }
    ).encode()
    decoded_pods = tuple(projection for _, projection in pod_decoder().page(pod_page).objects)
    decoded_nodes = tuple(projection for _, projection in node_decoder().page(node_page).objects)
    assert len(decoded_pods) == len(pods)  # the annotation values are no reason to drop a pod
    return ClusterView(pods=decoded_pods, nodes=decoded_nodes)


@pytest.fixture
def store(database_url: str) -> Iterator[Database]:
    database = Database.open(database_url)
    yield database
    database.dispose()


@pytest.fixture
def sampled(store: Database) -> Sampler:
    """A sampler that stored one sample of the hostile cluster."""
    sampler = Sampler(
        FixedSource(state(view=_decoded_view())),
        store,
        settings=MeteringSettings,
        clock=lambda: START,
    )
    sampler.take_sample(START)
    return sampler


@pytest.fixture
def client(
    store: Database,
    sampled: Sampler,
    signing_key: SigningKey,
    tmp_path: Path,
    service_settings: ServiceSettings,
) -> Iterator[TestClient]:
    app_state = dataclasses.replace(
        build_state(store, signing_key, tmp_path, service_settings),
        cluster_id=CLUSTER,
        sampler_status=sampled.status,
    )
    with TestClient(create_app(app_state)) as test_client:
        yield test_client


def test_a_pod_holding_unsafe_text_is_listed_and_the_other_pods_are_stored(
    sampled: Sampler,
) -> None:
    status = sampled.status()

    assert status.last_error is None
    assert status.samples_taken == 1
    assert status.last_measurement is not None
    assert [(row.id, row.quantity) for row in status.last_measurement.products] == [("good", 2)]
    incomplete = status.last_measurement.incomplete_annotations
    listed = {problems.name: problems for problems in incomplete}
    assert len(listed) == len(HOSTILE_PODS) == len(FIELDS) * len(UNSAFE)
    for field in FIELDS:
        for kind, char in UNSAFE.items():
            [problem] = listed[f"{field.lower()}-{kind.replace(' ', '-')}"].problems
            assert problem.annotation == field
            assert f"U+{ord(char):04X}" in problem.reason
            assert "at position 2 of 3" in problem.reason
            assert char not in problem.reason


def test_the_api_reports_the_stored_products_and_lists_the_hostile_pods(
    client: TestClient,
) -> None:
    products = client.get("/products", params=PERIOD)
    csv = client.get("/products", params={**PERIOD, "format": "csv"})
    health = client.get("/health", params={"token": TOKEN})
    status_page = client.get("/status", params={"token": TOKEN})
    snapshot = client.get("/snapshot", params=PERIOD)

    assert products.status_code == 200
    assert [(row["id"], row["metricQuantity"]) for row in products.json()] == [("good", 2)]
    assert csv.status_code == 200
    assert "good" in csv.text
    assert health.status_code == 200
    incomplete = health.json()["incompleteAnnotations"]
    assert incomplete["count"] == len(HOSTILE_PODS)
    for listed in incomplete["pods"]:
        [problem] = listed["problems"]
        assert problem["annotation"] in FIELDS
        assert "U+" in problem["reason"]
    assert status_page.status_code == 200
    assert snapshot.status_code == 200
    for answer in (products, health):
        assert not any(char in answer.text for char in UNSAFE.values())
    # CSV lines end in CRLF and HTML has line breaks of its own.
    for answer in (csv, status_page):
        assert not any(char in answer.text for char in UNSAFE.values() if char not in "\t\n\r")


METRIC_NAMES = ("%00", "a%00b", "%0A", "%0D", "%09", "%1B", "%7F", "%C2%85", "%E2%80%A8")
"""NUL, line breaks, tab, escape, delete, C1 next line, line separator; %-encoded."""


def test_a_metric_name_holding_unsafe_text_answers_400_not_503(client: TestClient) -> None:
    query = "&".join(f"{name}={value}" for name, value in PERIOD.items())

    answers = {
        (path, encoded): client.get(f"{path}?{query}&metricName={encoded}")
        for path in ("/products", "/bundled_products", "/services")
        for encoded in METRIC_NAMES
    }

    assert {key: answer.status_code for key, answer in answers.items()} == dict.fromkeys(
        answers, 400
    )
    for answer in answers.values():
        assert "metricName holds character" in answer.json()["message"]


# Any code point, lone surrogates included, and the refused kinds often.
_ANY = st.one_of(st.characters(exclude_categories=()), st.sampled_from(list(UNSAFE.values())))


@pytest.mark.soak
@settings(
    max_examples=soak_or(60, 2_000),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=st.text(_ANY, max_size=12), product_id=st.text(_ANY, min_size=1, max_size=6))
def test_any_annotation_text_is_stored_or_listed_and_never_fails_a_sample(
    store: Database, name: str, product_id: str
) -> None:
    """Whatever text a pod declares, the sample is stored (the store is shared by examples)."""
    instant = START + next(_INSTANTS) * timedelta(minutes=5)
    cluster = view(
        pod("good", "n1", product("good", "Good"), "2"),
        pod("any", "n1", product(product_id, name), "1"),
        nodes=(node("n1", "8"),),
    )
    sampler = Sampler(
        FixedSource(state(view=cluster, observed_at=instant)),
        store,
        settings=MeteringSettings,
        clock=lambda: instant,
    )

    assert sampler.take_sample(instant) == "sampled", sampler.status().last_error
    measured = sampler.status().last_measurement
    assert measured is not None
    assert "good" in {row.id for row in measured.products}


_INSTANTS = itertools.count()
