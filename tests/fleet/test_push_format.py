"""The push format (PUSH_FORMAT.md): both ways; every refusal names its field."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from license_service.errors import RequestError
from license_service.fleet.push_format import PushUpload, decode_push, envelope
from license_service.metering.uploads import AggregationPolicy
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS, ProductUsage
from tests.fleet.pushes import cluster_key, day_of, days_from, push_body

FIRST = date(2026, 12, 1)


def _payload_of(body: bytes) -> dict:
    return json.loads(base64.b64decode(json.loads(body)["payload"]))


def _resigned(payload: dict, cluster: str = "c1") -> bytes:
    return envelope(json.dumps(payload).encode(), key=cluster_key(cluster))


def test_a_push_decodes_to_the_days_it_was_built_from() -> None:
    days = days_from(FIRST, 3)
    received = decode_push(push_body("c1", days))
    assert received.days == tuple(days)
    assert received.cluster.cluster_id == "c1"
    assert received.fingerprint == cluster_key("c1").fingerprint


def test_the_payload_has_the_field_names_of_the_contract() -> None:
    payload = _payload_of(push_body("c1", [day_of(FIRST)]))
    assert list(payload) == ["formatVersion", "cluster", "sentAt", "days"]
    assert list(payload["cluster"]) == ["clusterId", "clusterName", "serviceVersion"]
    day = payload["days"][0]
    assert list(day) == [
        "date",
        "complete",
        "products",
        "bundledProducts",
        "services",
        "uploads",
        "coverage",
    ]
    assert day["products"][0] == {
        "name": "IBM MQ",
        "id": "mq-1",
        "metricName": "VIRTUAL_PROCESSOR_CORE",
        "metricQuantity": 4,
    }
    assert day["bundledProducts"][0]["metricConvertedQuantity"] == 2
    assert day["coverage"] == {"samplesTaken": 96, "samplesExpected": 96}


def test_from_json_reads_what_json_writes_for_every_row_kind() -> None:
    day = day_of(FIRST)
    for spec, rows in ((PRODUCT_ROWS, day.products), (BUNDLED_PRODUCT_ROWS, day.bundled_products)):
        for row in rows:
            assert spec.from_json(spec.json(row)) == row


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda p: p["days"][0]["products"][0].pop("metricQuantity"), "metricQuantity is missing"),
        (
            lambda p: p["days"][0]["products"][0].update(metricQuantity="4"),
            "metricQuantity must be",
        ),
        (lambda p: p["days"][0]["products"][0].update(metricQuantity=-1), "negative"),
        (
            lambda p: p["days"][0]["products"][0].update(metricQuantity=2**63),
            "larger than a stored number",
        ),
        (lambda p: p["days"][0]["products"][0].update(name="a\x00b"), "name holds"),
        (lambda p: p["days"][0]["products"][0].update(extra=1), "unknown field 'extra'"),
        (
            lambda p: p["days"][0]["bundledProducts"][0].update(metricConversion="2"),
            "metricConversion",
        ),
        (
            lambda p: p["days"][0]["bundledProducts"][0].update(metricConvertedQuantity=7),
            "metricConvertedQuantity",
        ),
        (lambda p: p["days"][0]["products"].append(dict(p["days"][0]["products"][0])), "same key"),
        (lambda p: p["days"][1].update(date="2026-12-05"), "not the day after"),
        (lambda p: p["days"][0].update(complete=False), "only the last day"),
        (lambda p: p.update(formatVersion=2), "formatVersion 2"),
        (lambda p: p["cluster"].update(clusterId=""), "clusterId must be 1 to 253"),
        (lambda p: p["cluster"].update(clusterId="a/b"), "clusterId must be 1 to 253"),
        (lambda p: p["cluster"].update(clusterId="-x"), "clusterId must be 1 to 253"),
        (lambda p: p["cluster"].update(clusterId="x" * 254), "clusterId must be 1 to 253"),
        (lambda p: p["days"][0]["coverage"].pop("samplesTaken"), "samplesTaken"),
        (lambda p: p["days"][0].update(date="yesterday"), "days[0].date"),
    ],
)
def test_a_bad_payload_is_refused_naming_the_field(change, named: str) -> None:
    payload = _payload_of(push_body("c1", days_from(FIRST, 2)))
    change(payload)
    with pytest.raises(RequestError, match=named.replace("[", r"\[").replace("]", r"\]")):
        decode_push(_resigned(payload))


def test_a_payload_changed_after_signing_is_refused() -> None:
    body = json.loads(push_body("c1", [day_of(FIRST)]))
    payload = _payload_of(json.dumps(body).encode())
    payload["days"][0]["products"][0]["metricQuantity"] = 1
    body["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    with pytest.raises(RequestError, match="signature does not match the payload"):
        decode_push(json.dumps(body).encode())


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("payload", "not base64!", "payload is not base64"),
        ("signature", "###", "signature is not base64"),
        ("publicKey", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "publicKey"),
        ("formatVersion", 7, "formatVersion 7"),
    ],
)
def test_a_bad_envelope_is_refused_naming_the_field(field: str, value: object, named: str) -> None:
    body = json.loads(push_body("c1", [day_of(FIRST)]))
    body[field] = value
    with pytest.raises(RequestError, match=named):
        decode_push(json.dumps(body).encode())


def test_a_body_that_is_not_json_is_refused() -> None:
    with pytest.raises(RequestError, match="not a JSON object"):
        decode_push(b"{nope")


def test_a_day_after_tomorrow_is_refused() -> None:
    with pytest.raises(RequestError, match="after today"):
        decode_push(push_body("c1", [day_of(FIRST)]), today=date(2026, 11, 20))


def test_uploads_travel_with_their_day_and_a_bad_one_is_named() -> None:
    upload = PushUpload(
        received_at=datetime(2026, 12, 1, 10, 30, tzinfo=UTC),
        date=FIRST,
        product_id="p-1",
        product_name="Uploaded",
        product_metric="API_CALLS",
        metric_value=Decimal("12.5"),
        aggregation_policy=AggregationPolicy.ADD,
        cloudpak_id="",
        submission_id="s-1",
    )
    day = replace(day_of(FIRST), uploads=(upload,))
    body = push_body("c1", [day])
    assert decode_push(body).days[0].uploads == (upload,)
    assert _payload_of(body)["days"][0]["uploads"][0] == {
        "receivedAt": "2026-12-01T10:30:00Z",
        "date": "2026-12-01",
        "productId": "p-1",
        "productName": "Uploaded",
        "productMetric": "API_CALLS",
        "metricValue": 12.5,
        "aggregationPolicy": "ADD",
        "cloudpakId": "",
        "submissionId": "s-1",
    }
    payload = _payload_of(body)
    payload["days"][0]["uploads"][0]["aggregationPolicy"] = "SUM"
    with pytest.raises(RequestError, match=r"aggregationPolicy"):
        decode_push(_resigned(payload))
    payload = _payload_of(body)
    payload["days"][0]["uploads"][0]["productName"] = "a\x00"
    with pytest.raises(RequestError, match=r"uploads\[0\]\.productName holds"):
        decode_push(_resigned(payload))


_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp")), max_size=30
)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.builds(
            ProductUsage,
            _names,
            _names,
            _names,
            st.integers(min_value=0, max_value=2**63 - 1),
        ),
        max_size=5,
        unique_by=lambda row: (row.id, row.metric),
    )
)
def test_any_products_travel_unchanged(products: list[ProductUsage]) -> None:
    day = replace(day_of(FIRST), products=tuple(products))
    assert decode_push(push_body("c1", [day])).days == (day,)
