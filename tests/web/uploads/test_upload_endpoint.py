"""``POST /v2/metric_upload`` (SPEC 10) through the real app: accepted items join the
reports; every refusal says why, and stores nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.auth.upload_token import UploadTokenAuthenticator
from license_service.election.lease_records import ReplicaId
from license_service.leadership.elector import LeaderStatus
from license_service.metering.usage import Measurement, UnmeasuredProduct
from license_service.tokens.file_source import TokenFile
from license_service.tokens.file_store import write_token_file
from license_service.tokens.kinds import UPLOAD_TOKEN
from license_service.web.app_state import AppState
from license_service.web.application import create_app, create_metrics_app
from license_service.web.probes.leader_view import FollowedView, LeaderView, leader_view_document
from tests.web.conftest import TOKEN, World, authorized, sampling_status
from tests.web.test_metrics import labels, scrape
from tests.web.test_openapi import validator

UPLOAD = "9zXcVbNm1QwErTy7UiOpAsDf"
PATH = "/v2/metric_upload"
ITEM = {
    "productId": "api",
    "productName": "API Gateway",
    "productMetric": "API_CALLS",
    "metricValue": 120,
    "date": "2026-11-20",
}
PERIOD = {"dateFrom": "2026-11-01", "dateTo": "2026-11-28"}


@pytest.fixture
def uploads(
    state: AppState, tmp_path: Path, token_path: Path, world: World
) -> Iterator[TestClient]:
    """A client of the app with an upload token kept in ``upload-token``."""
    upload_path = tmp_path / "upload-token"
    write_token_file(upload_path, UPLOAD)

    def kept(path: Path, **kind: Any) -> TokenFile:
        return TokenFile(
            path,
            generate_if_missing=False,
            grace_period=timedelta(0),
            clock=lambda: world.now,
            **kind,
        )

    state.upload_authenticator = UploadTokenAuthenticator(
        kept(upload_path, kind=UPLOAD_TOKEN),
        api_tokens=kept(token_path),
        limiter=FailedAttemptLimiter(max_failures=50),
        clock=lambda: world.now,
    )
    with TestClient(create_app(state)) as client:
        yield client


def post(client: TestClient, body: Any, *, token: str | None = UPLOAD, **headers: str) -> Any:
    params = {} if token is None else {"token": token}
    return client.post(
        PATH,
        params=params,
        content=body if isinstance(body, bytes) else json.dumps(body),
        headers={"content-type": "application/json", **headers},
    )


def products(client: TestClient) -> list[dict[str, Any]]:
    answer = client.get("/products", params=authorized(PERIOD))
    assert answer.status_code == 200
    rows: list[dict[str, Any]] = answer.json()
    return rows


def test_an_accepted_upload_answers_the_count_and_shows_in_products(uploads: TestClient) -> None:
    answer = post(uploads, [ITEM, {**ITEM, "metricValue": 80, "date": "2026-11-21"}])
    assert answer.status_code == 200
    assert answer.json() == {"accepted": 2}
    assert products(uploads) == [
        {
            "name": "API Gateway",
            "id": "api",
            "metricName": "API_CALLS",
            "metricPeakDate": "2026-11-20",
            "metricQuantity": 120,
        }
    ]


def test_the_upload_token_is_accepted_as_a_bearer_token(uploads: TestClient) -> None:
    answer = post(uploads, ITEM, token=None, authorization=f"Bearer {UPLOAD}")
    assert answer.json() == {"accepted": 1}


def test_a_bundled_upload_shows_in_bundled_products_converted(uploads: TestClient) -> None:
    item = {
        **ITEM,
        "cloudpakId": "cp4i",
        "cloudpakName": "Cloud Pak for Integration",
        "productCloudpakRatio": "4:1",
        "metricValue": 10,
    }
    assert post(uploads, item).status_code == 200
    answer = uploads.get("/bundled_products", params=authorized(PERIOD)).json()
    assert [
        (r["productId"], r["metricMeasuredQuantity"], r["metricConvertedQuantity"]) for r in answer
    ] == [("api", 10, 2.5)]
    assert [(r["id"], r["metricQuantity"]) for r in products(uploads)] == [("cp4i", 3)]


def test_a_resend_with_the_same_submission_id_is_acknowledged_and_counted_once(
    uploads: TestClient,
) -> None:
    item = {**ITEM, "aggregationPolicy": "ADD", "submissionId": "batch-7"}
    assert post(uploads, item).json() == {"accepted": 1}
    assert post(uploads, item).json() == {"accepted": 1}
    assert products(uploads)[0]["metricQuantity"] == 120


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        pytest.param(
            {**ITEM, "aggregationPolicy": "AVG"},
            400,
            "item 0, field aggregationPolicy: 'AVG' is not a policy",
            id="bad-policy",
        ),
        pytest.param(
            [ITEM, {**ITEM, "metricValue": -3}],
            400,
            "item 1, field metricValue: -3 is negative",
            id="negative-value",
        ),
        pytest.param(
            {**ITEM, "date": "2026-11-29"},
            400,
            "item 0, field date: 2026-11-29 is in the future",
            id="future-date",
        ),
        pytest.param(
            [ITEM] * 1_001, 400, "the array has 1,001 items, more than the 1,000", id="1001-items"
        ),
        pytest.param(b'{"productId": ', 400, "the body is not valid JSON", id="broken-json"),
        pytest.param(b'{"metricValue": NaN}', 400, "NaN is not a number JSON allows", id="nan"),
        pytest.param(
            b"[" + b" " * (1024 * 1024) + b"]",
            413,
            "larger than 1,048,576 bytes",
            id="body-over-1-mib",
        ),
    ],
)
def test_a_refused_request_says_why_and_stores_nothing(
    uploads: TestClient, body: Any, status: int, message: str
) -> None:
    answer = post(uploads, body)
    assert answer.status_code == status
    assert answer.json()["status"] == status
    assert message in answer.json()["message"]
    assert products(uploads) == []


def test_another_policy_for_a_product_and_metric_answers_409(uploads: TestClient) -> None:
    assert post(uploads, {**ITEM, "aggregationPolicy": "ADD_MONTHLY"}).status_code == 200
    answer = post(uploads, [{**ITEM, "productId": "new"}, {**ITEM, "aggregationPolicy": "MAX"}])
    assert answer.status_code == 409
    assert "keeps the policy ADD_MONTHLY of its first upload, not MAX" in answer.json()["message"]
    assert [row["id"] for row in products(uploads)] == ["api"]


@pytest.mark.parametrize(
    ("token", "status", "message"),
    [
        pytest.param(None, 401, "uploading needs the upload token", id="no-token"),
        pytest.param(
            "WrongWrongWrongWrong1234", 401, "not this service's upload token", id="wrong-token"
        ),
        pytest.param(
            TOKEN, 403, "the API token reads usage and may not upload it", id="the-api-token"
        ),
    ],
)
def test_only_the_upload_token_may_upload(
    uploads: TestClient, token: str | None, status: int, message: str
) -> None:
    answer = post(uploads, ITEM, token=token)
    assert answer.status_code == status
    assert message in answer.json()["message"]
    assert products(uploads) == []


def test_the_upload_token_reads_nothing(uploads: TestClient) -> None:
    assert uploads.get("/products", params={**PERIOD, "token": UPLOAD}).status_code == 401


def test_json_is_required(uploads: TestClient) -> None:
    answer = uploads.post(
        PATH, params={"token": UPLOAD}, content=b"x", headers={"content-type": "text/plain"}
    )
    assert answer.status_code == 415


def test_other_methods_answer_405(uploads: TestClient) -> None:
    answer = uploads.get(PATH, params={"token": UPLOAD})
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"


def test_the_openapi_examples_are_valid_and_accepted(uploads: TestClient) -> None:
    document = uploads.get("/openapi.json").json()
    body = document["paths"][PATH]["post"]["requestBody"]["content"]["application/json"]
    schema = validator(
        document,
        f"/paths/{PATH.replace('/', '~1')}/post/requestBody/content/application~1json/schema",
    )
    for example in body["examples"].values():
        schema.validate(example["value"])
        value = example["value"]
        items = value if isinstance(value, list) else [value]
        dated = [{**item, "date": "2026-11-27"} for item in items]
        assert post(uploads, dated).status_code == 200


def test_an_unmeasured_product_leaves_unmeasured_metrics_once_values_arrive(
    uploads: TestClient, world: World
) -> None:
    unmeasured = (
        UnmeasuredProduct("api", "API Gateway", "API_CALLS", None),
        UnmeasuredProduct("users", "Portal", "AUTHORIZED_USER", None),
    )
    world.sampler = sampling_status(last_measurement=Measurement(unmeasured_metrics=unmeasured))

    def listed() -> list[str]:
        health = uploads.get("/health", params=authorized()).json()
        return [row["productId"] for row in health["unmeasuredMetrics"]]

    assert listed() == ["api", "users"]
    assert post(uploads, ITEM).status_code == 200
    assert listed() == ["users"]


def test_uploaded_values_reach_the_usage_metrics(uploads: TestClient, state: AppState) -> None:
    today = {**ITEM, "date": "2026-11-28", "metricValue": 77}
    assert post(uploads, today).status_code == 200
    with TestClient(create_metrics_app(state, CollectorRegistry())) as metrics:
        samples = scrape(metrics)
    key = labels(productId="api", productName="API Gateway", metricId="API_CALLS")
    assert samples[("ibm_licensing_usage_daily_high_watermark", key)] == 77


def test_a_follower_leaves_out_of_the_leaders_unmeasured_metrics_what_was_uploaded_since(
    uploads: TestClient, state: AppState, world: World
) -> None:
    unmeasured = (
        UnmeasuredProduct("api", "API Gateway", "API_CALLS", None),
        UnmeasuredProduct("users", "Portal", "AUTHORIZED_USER", None),
    )
    shared = leader_view_document(
        sampling_status(last_measurement=Measurement(unmeasured_metrics=unmeasured)), None
    )
    state.leader_status = lambda: LeaderStatus(
        identity=ReplicaId("svc-b"),
        lease="Lease ns/license-service-leader",
        leading=False,
        leader="svc-a",
        leader_since=world.now,
    )
    state.leader_view = lambda: FollowedView(LeaderView("svc-a", world.now, shared))

    def listed() -> list[str]:
        health = uploads.get("/health", params=authorized()).json()
        return [row["productId"] for row in health["unmeasuredMetrics"]]

    assert listed() == ["api", "users"]
    assert post(uploads, ITEM).status_code == 200
    assert listed() == ["users"]
