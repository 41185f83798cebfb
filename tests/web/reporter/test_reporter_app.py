"""The Reporter's app in process (SQLite): answers, escaping, parameters, the key rule."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta

from starlette.testclient import TestClient

from license_service.fleet.push_format import ClusterIdentity, encode_push
from license_service.signing.keys import SigningKey
from tests.fleet.pushes import cluster_key, day_of, push_body
from tests.web.reporter.conftest import NOW, PERIOD, TODAY


def _push(client: TestClient, body: bytes):
    return client.post("/v1/push", content=body, headers={"Content-Type": "application/json"})


def test_a_cluster_name_is_escaped_on_the_status_page(client: TestClient) -> None:
    body = encode_push(
        ClusterIdentity("evil", "<script>alert(1)</script>", "1.0"),
        [day_of(date(2026, 12, 5))],
        key=cluster_key("evil"),
        sent_at=NOW,
    )
    assert _push(client, body).status_code == 200
    page = client.get("/status")
    assert page.status_code == 200
    assert "<script>" not in page.text  # the page's own script carries its nonce
    assert "<script>alert(1)</script>" not in page.text


def test_clusters_as_csv_and_contributions_need_their_parameters(client: TestClient) -> None:
    assert _push(client, push_body("c1", [day_of(date(2026, 12, 2))])).status_code == 200
    csv = client.get("/clusters", params={**PERIOD, "format": "csv"})
    lines = csv.text.splitlines()
    assert lines[0] == (
        "clusterId,clusterName,serviceVersion,lastPushAt,lastDay,keyFingerprint,missingDays"
    )
    assert lines[1].startswith("c1,name of c1,9.9.9,2026-12-06T12:00:00Z,2026-12-02,SHA256:")
    assert lines[1].endswith(",2026-12-03 2026-12-04 2026-12-05")
    refused = client.get("/contributions", params=PERIOD)
    assert refused.status_code == 400
    assert "productId and metricName" in refused.json()["message"]
    found = client.get(
        "/contributions",
        params={**PERIOD, "productId": "mq-1", "metricName": "VIRTUAL_PROCESSOR_CORE"},
    ).json()
    assert found == [
        {
            "clusterId": "c1",
            "clusterName": "name of c1",
            "productId": "mq-1",
            "metricName": "VIRTUAL_PROCESSOR_CORE",
            "metricPeakDate": "2026-12-02",
            "metricQuantity": 4,
            "reported": True,
        }
    ]


def test_an_unusable_cluster_id_parameter_is_refused(client: TestClient) -> None:
    answer = client.get("/products", params={**PERIOD, "clusterId": "a\x00b"})
    assert answer.status_code == 400
    assert "clusterId" in answer.json()["message"]


def test_a_push_without_or_with_a_wrong_token_is_401_and_stores_nothing(
    client: TestClient,
) -> None:
    body = push_body("c1", [day_of(date(2026, 12, 2))])
    assert client.post("/v1/push", content=body, headers={"Authorization": ""}).status_code == 401
    wrong = client.post("/v1/push", content=body, headers={"Authorization": "Bearer " + "y" * 24})
    assert wrong.status_code == 401
    assert client.get("/clusters", params=PERIOD).json() == []


def test_a_push_of_a_day_after_tomorrow_is_400(client: TestClient) -> None:
    answer = _push(client, push_body("c1", [day_of(TODAY + timedelta(days=2))]))
    assert answer.status_code == 400
    assert "after today" in answer.json()["message"]


def test_a_refused_key_is_listed_on_the_status_page(client: TestClient) -> None:
    assert _push(client, push_body("c1", [day_of(date(2026, 12, 2))])).status_code == 200
    stranger = SigningKey.generate()
    refused = _push(client, push_body("c1", [day_of(date(2026, 12, 2))], key=stranger))
    assert refused.status_code == 409
    assert cluster_key("c1").fingerprint in refused.json()["message"]
    assert stranger.fingerprint in client.get("/status").text


def test_a_signature_of_other_bytes_is_400(client: TestClient) -> None:
    body = json.loads(push_body("c1", [day_of(date(2026, 12, 2))]))
    body["signature"] = base64.b64encode(cluster_key("c1").sign(b"other bytes")).decode()
    answer = _push(client, json.dumps(body).encode())
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("signature does not match the payload")


def test_a_wrong_token_is_told_where_the_reporter_token_is(client: TestClient) -> None:
    refused = client.get("/clusters", headers={"Authorization": "Bearer " + "z" * 24})
    assert refused.status_code == 401
    message = refused.json()["message"]
    assert "Reporter token" in message
    assert "license-service token get --reporter" in message


def test_a_browser_refused_at_a_reporter_page_gets_the_reporters_refusal_page(
    client: TestClient,
) -> None:
    for path in ("/", "/status"):
        refused = client.get(
            path, headers={"Authorization": "", "Accept": "text/html,application/json;q=0.9"}
        )
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert refused.headers["Content-Type"].startswith("text/html")
        assert "Reporter token" in refused.text
        assert "license-service token get --reporter" in refused.text
        assert "ibm-license-service-reporter-token" in refused.text
        assert "ibm-licensing-token" not in refused.text  # not License Service's advice
        assert "script-src 'nonce-" in refused.headers["Content-Security-Policy"]
    api = client.get("/status", headers={"Authorization": "", "Accept": "application/json"})
    assert api.status_code == 401
    assert "Reporter token" in api.json()["message"]
