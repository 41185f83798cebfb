"""``GET /usage_explained`` (SPEC 9): the breakdown behind a day's peak, JSON and CSV."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from starlette.testclient import TestClient

from license_service.metering.cluster_view import ClusterView, Controller, Pod
from license_service.metering.measuring import measure
from license_service.metering.settings import MeteringSettings
from license_service.metering.uploads import AggregationPolicy, Submission
from license_service.sampling.peak_explanations import keep_peak_explanations
from license_service.store.database import Database
from license_service.store.samples import record_sample
from license_service.store.uploads import record_uploads
from tests.metering.cluster_builders import MVS, PVU, VPC, bundled, node, pod, product
from tests.store.sample_builders import CLUSTER, at
from tests.web.conftest import authorized
from tests.web.test_openapi import validator

WEB = Controller("ReplicaSet", "web-7d9f8c6b5", "7d9f8c6b5")
DB = Controller("StatefulSet", "db")
NODES = (node("small", "8", pvu="100"), node("big", "32"))


def replica(
    name: str,
    node_name: str,
    annotations: dict[str, str],
    *limits: str | None,
    controller: Controller | None,
    namespace: str = "apps",
) -> Pod:
    return dataclasses.replace(
        pod(name, node_name, annotations, *limits, namespace=namespace), controller=controller
    )


def cluster(web_replicas: int) -> ClusterView:
    was = product("was", "WebSphere")
    pods = [
        replica(f"web-7d9f8c6b5-{index}", "big", was, "3", controller=WEB)
        for index in range(web_replicas)
    ]
    pods += [
        # small is over-committed: 10000 + 2000 charged on 8 cores.
        replica("db-0", "small", was, "6", "4", controller=DB),
        replica("debug", "small", was, "2", controller=None, namespace="ops"),
        replica("db2-0", "small", product("db2", "Db2", PVU), "2", controller=None),
        replica("mq-0", "small", product("mq", "MQ", MVS), "1", controller=None),
        replica("mq-1", "big", product("mq", "MQ", MVS), "1", controller=None),
        replica("ace-0", "big", bundled("ace", "ACE", ratio="2:1"), "3", controller=None),
        replica(
            "ace-1",
            "big",
            bundled("ace", "ACE", cloudpak_id="cp2", cloudpak_name="Two"),
            "1",
            controller=None,
        ),
    ]
    return ClusterView(pods=tuple(pods), nodes=NODES)


def sample(database: Database, taken_at: datetime, view: ClusterView) -> None:
    settings = MeteringSettings()
    measurement = measure(view, settings)
    with database.begin() as connection:
        record_sample(
            connection,
            cluster_id=CLUSTER,
            taken_at=taken_at,
            measurement=measurement,
            interval_seconds=300,
        )
        keep_peak_explanations(
            connection,
            cluster_id=CLUSTER,
            taken_at=taken_at,
            view=view,
            settings=settings,
            measurement=measurement,
        )


@pytest.fixture
def history(database: Database) -> Database:
    sample(database, at("2026-11-20", "10:00"), cluster(1))
    sample(database, at("2026-11-20", "11:00"), cluster(2))
    sample(database, at("2026-11-25", "09:00"), cluster(3))  # the peak of the period
    sample(database, at("2026-11-25", "10:00"), cluster(3))  # reaches it again: not kept
    sample(database, at("2026-11-26", "10:00"), cluster(2))
    return database


def contribution(*values: object) -> dict[str, object]:
    names = ("namespace", "workloadKind", "workloadName", "node", "pods", "containers")
    return dict(zip((*names, "chargedMillicores", "cappedMillicores"), values, strict=True))


def explained(client: TestClient, **params: str) -> Any:
    return client.get("/usage_explained", params=authorized(params))


def test_without_a_date_the_breakdown_of_the_peak_day_of_the_period(
    client: TestClient, history: Database
) -> None:
    response = explained(client, productId="was", metricName=VPC)

    assert response.status_code == 200
    body = response.json()
    # big: web 3 x 3000. small: 12000 charged on 8000: 6666.67 and 1333.33, the
    # millicore left over to the larger remainder.
    assert body == {
        "productId": "was",
        "productName": "WebSphere",
        "metricName": VPC,
        "date": "2026-11-25",
        "sampleAt": "2026-11-25T09:00:00Z",
        "metricQuantity": 17,
        "threadsPerCore": 1,
        "totalMillicores": 17000,
        "contributions": [
            contribution("apps", "Deployment", "web", "big", 3, 3, 9000, 9000),
            contribution("apps", "StatefulSet", "db", "small", 1, 2, 10000, 6667),
            contribution("ops", "Pod", "debug", "small", 1, 1, 2000, 1333),
        ],
    }
    assert body["totalMillicores"] == sum(c["cappedMillicores"] for c in body["contributions"])
    assert body["metricQuantity"] == -(-body["totalMillicores"] // 1000)
    products = client.get("/products", params=authorized()).json()
    (was,) = [row for row in products if row["id"] == "was"]
    assert (was["metricQuantity"], was["metricPeakDate"]) == (17, body["date"])


def test_a_date_gives_the_first_sample_reaching_that_days_peak(
    client: TestClient, history: Database
) -> None:
    body = explained(client, productId="was", metricName=VPC, date="2026-11-20").json()

    assert (body["date"], body["sampleAt"], body["metricQuantity"]) == (
        "2026-11-20",
        "2026-11-20T11:00:00Z",
        14,
    )
    assert [c["pods"] for c in body["contributions"] if c["workloadName"] == "web"] == [2]


def test_csv_gives_the_contributions(client: TestClient, history: Database) -> None:
    response = explained(client, productId="was", metricName=VPC, format="csv")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [
        "namespace",
        "workloadKind",
        "workloadName",
        "node",
        "pods",
        "containers",
        "chargedMillicores",
        "cappedMillicores",
    ]
    assert rows[1] == ["apps", "Deployment", "web", "big", "3", "3", "9000", "9000"]
    assert len(rows) == 4


def test_pvu_rows_add_the_rating_and_mvs_counts_nodes(
    client: TestClient, history: Database
) -> None:
    pvu = explained(client, productId="db2", metricName=PVU).json()
    mvs = explained(client, productId="mq", metricName=MVS).json()

    assert pvu["contributions"][0]["pvuPerCore"] == 100
    assert pvu["metricQuantity"] == 200 == 2000 * 100 // 1000
    assert (mvs["metricQuantity"], mvs["nodes"]) == (2, 2)
    assert "pvuPerCore" not in mvs["contributions"][0]


def test_a_bundled_product_is_explained_per_cloud_pak(
    client: TestClient, history: Database
) -> None:
    ambiguous = explained(client, productId="ace", metricName=VPC)
    chosen = explained(client, productId="ace", metricName=VPC, cloudpakId="cp1").json()

    assert ambiguous.status_code == 400
    assert "cloudpakId" in ambiguous.json()["message"]
    assert (chosen["cloudpakId"], chosen["metricConversion"], chosen["metricQuantity"]) == (
        "cp1",
        "2:1",
        3,
    )


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"metricName": VPC}, 400, "productId is required"),
        ({"productId": "was"}, 400, "metricName is required"),
        ({"productId": "was", "metricName": VPC, "date": "25/11/2026"}, 400, "YYYY-MM-DD"),
        ({"productId": "was", "metricName": VPC, "date": "2026-11-29"}, 400, "after today"),
        (
            {"productId": "was", "metricName": VPC, "groupName": "team-a"},
            400,
            "chargeback groups are off",
        ),
        ({"productId": "cp1", "metricName": VPC}, 400, "is a Cloud Pak"),
        ({"productId": "was", "metricName": VPC, "format": "xml"}, 400, "format"),
        ({"productId": "nothing", "metricName": VPC}, 404, "no usage"),
        ({"productId": "was", "metricName": PVU}, 404, "no usage"),
        ({"productId": "was", "metricName": VPC, "date": "2026-11-21"}, 404, "no breakdown"),
    ],
)
def test_what_cannot_be_answered_is_said_clearly(
    client: TestClient, history: Database, params: dict[str, str], status: int, words: str
) -> None:
    response = explained(client, **params)

    assert response.status_code == status
    assert words in response.json()["message"]
    assert "nothing" not in response.json()["message"]  # the value sent is never echoed


def test_it_needs_authentication_and_only_answers_get(client: TestClient) -> None:
    assert client.get("/usage_explained", params={"productId": "was"}).status_code == 401
    assert client.post("/usage_explained", params=authorized()).status_code == 405


def test_the_answer_validates_against_the_openapi_schema(
    client: TestClient, history: Database
) -> None:
    document = client.get("/openapi.json").json()
    for params in (
        {"productId": "was", "metricName": VPC},
        {"productId": "db2", "metricName": PVU},
        {"productId": "mq", "metricName": MVS},
        {"productId": "ace", "metricName": VPC, "cloudpakId": "cp2"},
    ):
        body = explained(client, **params).json()
        validator(document, "/components/schemas/UsageExplained").validate(body)


def test_a_kept_answer_follows_the_next_write_to_the_store(
    client: TestClient, history: Database
) -> None:
    before = explained(client, productId="was", metricName=VPC).json()
    assert explained(client, productId="was", metricName=VPC).json() == before

    sample(history, at("2026-11-27", "10:00"), cluster(5))

    after = explained(client, productId="was", metricName=VPC).json()
    assert (before["date"], after["date"]) == ("2026-11-25", "2026-11-27")
    assert after["metricQuantity"] > before["metricQuantity"]


def upload(database: Database, received: datetime, *submissions: Submission) -> None:
    with database.begin() as connection:
        record_uploads(
            connection, cluster_id=CLUSTER, received_at=received, submissions=submissions
        )


def was_upload(day_text: str, value: str, submission_id: str, **fields: Any) -> Submission:
    return Submission(
        day=date.fromisoformat(day_text),
        product_id="was",
        product_name="WebSphere",
        metric=VPC,
        value=Decimal(value),
        submission_id=submission_id,
        **fields,
    )


def test_an_upload_raising_the_day_above_its_samples_is_said_beside_the_breakdown(
    client: TestClient, history: Database
) -> None:
    measured = explained(client, productId="was", metricName=VPC, date="2026-11-25").json()
    # Below the day's measured peak (17): the sample explains the day alone.
    upload(history, at("2026-11-25", "12:00"), was_upload("2026-11-25", "12", "low"))
    assert explained(client, productId="was", metricName=VPC, date="2026-11-25").json() == (
        measured
    )

    upload(history, at("2026-11-25", "13:00"), was_upload("2026-11-25", "20.5", "high"))

    body = explained(client, productId="was", metricName=VPC).json()
    products = client.get("/products", params=authorized()).json()
    (was,) = [row for row in products if row["id"] == "was"]
    assert (was["metricQuantity"], was["metricPeakDate"]) == (21, "2026-11-25")
    # The measured breakdown is kept whole (its arithmetic closes); the day's value, as
    # /products reports it, and the submissions making it are said beside it.
    assert {k: v for k, v in body.items() if k not in ("uploadedQuantity", "uploads")} == measured
    assert body["uploadedQuantity"] == was["metricQuantity"]
    assert body["uploads"] == [
        {
            "date": "2026-11-25",
            "receivedAt": "2026-11-25T12:00:00Z",
            "metricValue": 12,
            "aggregationPolicy": "MAX",
            "submissionId": "low",
        },
        {
            "date": "2026-11-25",
            "receivedAt": "2026-11-25T13:00:00Z",
            "metricValue": 20.5,
            "aggregationPolicy": "MAX",
            "submissionId": "high",
        },
    ]
    document = client.get("/openapi.json").json()
    validator(document, "/components/schemas/UsageExplained").validate(body)
    # CSV gives the measured contributions, as before.
    assert (
        len(explained(client, productId="was", metricName=VPC, format="csv").text.splitlines()) == 4
    )
    # Another day keeps its measured answer.
    other = explained(client, productId="was", metricName=VPC, date="2026-11-20").json()
    assert "uploads" not in other


def test_a_monthly_total_names_every_submission_of_its_month(
    client: TestClient, history: Database
) -> None:
    monthly = {"policy": AggregationPolicy.ADD_MONTHLY}
    upload(history, at("2026-11-26", "08:00"), was_upload("2026-11-02", "10", "a", **monthly))
    upload(history, at("2026-11-26", "09:00"), was_upload("2026-11-20", "10", "b", **monthly))
    upload(history, at("2026-11-26", "09:30"), was_upload("2026-11-26", "1", "c", **monthly))

    body = explained(client, productId="was", metricName=VPC, date="2026-11-20").json()

    # 2026-11-20 measured 14; its monthly total is 10 + 10 = 20.
    assert (body["metricQuantity"], body["uploadedQuantity"]) == (14, 20)
    assert [u["submissionId"] for u in body["uploads"]] == ["a", "b"]
    # 2026-11-26: 21 by uploads (10 + 10 + 1) against 14 measured.
    later = explained(client, productId="was", metricName=VPC, date="2026-11-26").json()
    assert later["uploadedQuantity"] == 21
