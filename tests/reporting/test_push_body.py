"""The body the sender pushes (``fleet.push_format.encode_push`` of the days ``push_days``
builds) against PUSH_FORMAT.md (version 1): the envelope's fields, standard padded base64,
the payload's fields, a signature that the real ``openssl`` verifies, and days that the
Reporter's ``decode_push`` reads back unchanged."""

from __future__ import annotations

import base64
import json
import subprocess
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from license_service.fleet.push_format import (
    ClusterIdentity,
    Coverage,
    PushDay,
    PushUpload,
    decode_push,
    encode_push,
)
from license_service.metering.uploads import AggregationPolicy
from license_service.metering.usage_rows import ProductUsage
from license_service.signing.keys import SigningKey, public_key_fingerprint
from tests.store.sample_builders import at

CLUSTER = ClusterIdentity(
    cluster_id="prod-eu", cluster_name="Production EU", service_version="1.2.3"
)
PRODUCT = {
    "name": "Product api",
    "id": "api",
    "metricName": "VIRTUAL_PROCESSOR_CORE",
    "metricQuantity": 4,
}
"""The row as /products writes it, without ``metricPeakDate``."""
DAYS = [
    PushDay(
        date=date(2026, 12, 5),
        complete=True,
        products=(ProductUsage("Product api", "api", "VIRTUAL_PROCESSOR_CORE", 4),),
        coverage=Coverage(96, 96),
    ),
    PushDay(date=date(2026, 12, 6), complete=False, coverage=Coverage(76, 77)),
]


def envelope_of(signing_key: SigningKey) -> dict[str, object]:
    body = encode_push(CLUSTER, DAYS, key=signing_key, sent_at=at("2026-12-06", "19:00:00"))
    document = json.loads(body)
    assert isinstance(document, dict)
    return document


def payload_bytes(envelope: dict[str, object]) -> bytes:
    text = envelope["payload"]
    assert isinstance(text, str)
    # Standard alphabet, padded: validate=True refuses anything else.
    return base64.b64decode(text, validate=True)


def test_the_envelope_has_exactly_the_fields_of_version_1(signing_key: SigningKey) -> None:
    envelope = envelope_of(signing_key)
    assert list(envelope) == ["formatVersion", "payload", "signature", "publicKey"]
    assert envelope["formatVersion"] == 1
    assert envelope["publicKey"] == signing_key.public_pem().decode()
    assert str(envelope["publicKey"]).startswith("-----BEGIN PUBLIC KEY-----")


def test_the_payload_says_who_sends_when_and_each_day(signing_key: SigningKey) -> None:
    payload = json.loads(payload_bytes(envelope_of(signing_key)).decode("utf-8"))
    assert payload == {
        "formatVersion": 1,
        "cluster": {
            "clusterId": "prod-eu",
            "clusterName": "Production EU",
            "serviceVersion": "1.2.3",
        },
        "sentAt": "2026-12-06T19:00:00Z",
        "days": [
            {
                "date": "2026-12-05",
                "complete": True,
                "products": [PRODUCT],
                "bundledProducts": [],
                "services": [],
                "uploads": [],
                "coverage": {"samplesTaken": 96, "samplesExpected": 96},
            },
            {
                "date": "2026-12-06",
                "complete": False,
                "products": [],
                "bundledProducts": [],
                "services": [],
                "uploads": [],
                "coverage": {"samplesTaken": 76, "samplesExpected": 77},
            },
        ],
    }


def test_the_signature_over_the_payload_bytes_verifies_with_openssl(
    signing_key: SigningKey, tmp_path: Path
) -> None:
    envelope = envelope_of(signing_key)
    (tmp_path / "payload.json").write_bytes(payload_bytes(envelope))
    (tmp_path / "signature.rsa").write_bytes(
        base64.b64decode(str(envelope["signature"]), validate=True)
    )
    (tmp_path / "pub_key.pem").write_text(str(envelope["publicKey"]))
    verify = ["openssl", "dgst", "-sha256", "-verify", "pub_key.pem", "-signature", "signature.rsa"]
    good = subprocess.run([*verify, "payload.json"], cwd=tmp_path, capture_output=True, check=False)
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == b"Verified OK"
    (tmp_path / "payload.json").write_bytes(payload_bytes(envelope).replace(b"96", b"97", 1))
    tampered = subprocess.run(
        [*verify, "payload.json"], cwd=tmp_path, capture_output=True, check=False
    )
    assert tampered.returncode != 0


def test_the_reporter_can_fingerprint_the_key_as_the_snapshots_do(signing_key: SigningKey) -> None:
    pem = str(envelope_of(signing_key)["publicKey"]).encode()
    der = serialization.load_pem_public_key(pem).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert public_key_fingerprint(der) == signing_key.fingerprint


def test_an_uploaded_value_is_written_as_its_exact_decimal_number(signing_key: SigningKey) -> None:
    upload = PushUpload(
        received_at=at("2026-12-06", "09:00"),
        date=date(2026, 12, 5),
        product_id="api",
        product_name="Product api",
        product_metric="API_CALLS",
        metric_value=Decimal("123456789012345.123456"),
        aggregation_policy=AggregationPolicy.MAX,
        cloudpak_id="",
        submission_id="",
    )
    days = [replace(DAYS[0], uploads=(upload,))]
    body = encode_push(CLUSTER, days, key=signing_key, sent_at=at("2026-12-06", "19:00"))
    payload = base64.b64decode(json.loads(body)["payload"], validate=True).decode()
    assert '"metricValue":123456789012345.123456,' in payload
    parsed = json.loads(payload, parse_float=Decimal)
    assert parsed["days"][0]["uploads"][0]["metricValue"] == Decimal("123456789012345.123456")
    assert parsed["days"][0]["uploads"][0]["submissionId"] == ""
    assert decode_push(body).days[0].uploads == (upload,)


def test_the_reporter_reads_back_the_days_and_the_cluster_as_sent(signing_key: SigningKey) -> None:
    body = encode_push(CLUSTER, DAYS, key=signing_key, sent_at=at("2026-12-06", "19:00"))
    received = decode_push(body)
    assert received.days == tuple(DAYS)
    assert received.cluster == CLUSTER
    assert received.fingerprint == signing_key.fingerprint
