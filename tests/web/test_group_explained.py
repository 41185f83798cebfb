"""``/usage_explained?groupName=`` (SPEC 8 and 9): a chargeback group's breakdown, kept with
every sample that raises the group's day peak, adding up to the group's own number."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.metering.chargeback_groups import namespace_groups
from license_service.metering.cluster_view import ClusterView, Controller, Pod
from license_service.metering.measuring import measure_in_groups
from license_service.metering.settings import MeteringSettings
from license_service.sampling.peak_explanations import keep_peak_explanations
from license_service.store.database import Database
from license_service.store.samples import record_sample
from tests.metering.cluster_builders import VPC, node, pod, product
from tests.metering.test_group_explanations import labelled
from tests.store.sample_builders import CLUSTER, at
from tests.web.conftest import World, authorized

ON = LicensingConfig(chargeback_enabled=True)
NOVEMBER = {"dateFrom": "2026-11-01", "dateTo": "2026-11-28"}
WEB = Controller("ReplicaSet", "web-7d9f8c6b5", "7d9f8c6b5")
NAMESPACES = (
    labelled("fin-web", "finance"),
    labelled("fin-batch", "finance"),
    labelled("lab", "research"),
    labelled("other", None),
)


def placed(name: str, node_name: str, namespace: str, limit: str, owner: Controller | None) -> Pod:
    return dataclasses.replace(
        pod(name, node_name, product(), limit, namespace=namespace), controller=owner
    )


def busy_finance() -> ClusterView:
    """small (8 cores) over-committed: finance 9000m (capped to 8), research 4000m."""
    return ClusterView(
        pods=(
            placed("web-7d9f8c6b5-a", "small", "fin-web", "3", WEB),
            placed("web-7d9f8c6b5-b", "small", "fin-web", "3", WEB),
            placed("batch", "small", "fin-batch", "3", None),
            placed("lab-0", "small", "lab", "4", Controller("StatefulSet", "lab")),
            placed("loose", "small", "other", "1", None),
        ),
        nodes=(node("small", "8"), node("big", "32")),
        namespaces=NAMESPACES,
    )


def busy_research() -> ClusterView:
    """finance 3 cores; research 4 on small and 16 on big: the cluster's and research's peak."""
    lab = Controller("StatefulSet", "lab")
    return ClusterView(
        pods=(
            placed("batch", "small", "fin-batch", "3", None),
            placed("lab-0", "small", "lab", "4", lab),
            *(placed(f"lab-{index}", "big", "lab", "4", lab) for index in range(1, 5)),
        ),
        nodes=(node("small", "8"), node("big", "32")),
        namespaces=NAMESPACES,
    )


def sample(database: Database, taken_at: datetime, view: ClusterView) -> int:
    """A sample as the sampler takes it while chargeback is on."""
    settings = MeteringSettings()
    group_of = namespace_groups(view).group_of
    grouped = measure_in_groups(view, settings, group_of)
    with database.begin() as connection:
        record_sample(
            connection,
            cluster_id=CLUSTER,
            taken_at=taken_at,
            measurement=grouped.cluster,
            interval_seconds=300,
            groups=grouped.groups,
        )
        return keep_peak_explanations(
            connection,
            cluster_id=CLUSTER,
            taken_at=taken_at,
            view=view,
            settings=settings,
            measurement=grouped.cluster,
            groups=grouped.groups,
            group_of=group_of,
        )


@pytest.fixture
def history(database: Database, world: World) -> Database:
    world.licensing = ON
    assert sample(database, at("2026-11-20", "10:00"), busy_finance()) == 3
    assert sample(database, at("2026-11-20", "10:05"), busy_finance()) == 0  # raises nothing
    assert sample(database, at("2026-11-25", "09:00"), busy_research()) == 3
    return database


def explained(client: TestClient, **params: str) -> Any:
    return client.get("/usage_explained", params=authorized(params))


def group_products(client: TestClient, group: str) -> Any:
    return client.get("/products", params=authorized({**NOVEMBER, "groupName": group})).json()


def test_each_group_s_breakdown_adds_up_to_its_own_products_value(
    client: TestClient, history: Database
) -> None:
    for group in ("finance", "research"):
        response = explained(client, productId="p1", metricName=VPC, groupName=group)
        assert response.status_code == 200
        body = response.json()
        (row,) = group_products(client, group)
        # Without a date: the group's own peak day in the default period.
        assert (body["date"], body["metricQuantity"]) == (
            row["metricPeakDate"],
            row["metricQuantity"],
        )
        assert body["totalMillicores"] == sum(c["cappedMillicores"] for c in body["contributions"])
        assert body["metricQuantity"] == -(-body["totalMillicores"] // 1000)


def test_the_finance_breakdown_is_capped_on_its_own(client: TestClient, history: Database) -> None:
    body = explained(client, productId="p1", metricName=VPC, groupName="finance").json()

    assert (body["date"], body["sampleAt"], body["metricQuantity"]) == (
        "2026-11-20",
        "2026-11-20T10:00:00Z",
        8,
    )
    assert [
        (c["namespace"], c["workloadName"], c["chargedMillicores"], c["cappedMillicores"])
        for c in body["contributions"]
    ] == [("fin-web", "web", 6000, 5333), ("fin-batch", "batch", 3000, 2667)]
    cluster = explained(client, productId="p1", metricName=VPC).json()
    assert (cluster["date"], cluster["metricQuantity"]) == ("2026-11-25", 23)
    assert "other" not in {c["namespace"] for c in body["contributions"]}


def test_a_day_and_csv_for_a_group(client: TestClient, history: Database) -> None:
    response = explained(
        client,
        productId="p1",
        metricName=VPC,
        groupName="research",
        date="2026-11-20",
        format="csv",
    )

    assert response.status_code == 200
    assert response.text.splitlines()[1:] == ["lab,StatefulSet,lab,small,1,1,4000,4000"]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"groupName": "finance", "date": "2026-11-21"}, "no breakdown is kept"),
        ({"groupName": "nobody"}, "no usage in this metricName in this groupName"),
    ],
)
def test_a_group_without_a_breakdown_for_the_day_is_404(
    client: TestClient, history: Database, params: dict[str, str], words: str
) -> None:
    response = explained(client, productId="p1", metricName=VPC, **params)

    assert response.status_code == 404
    assert words in response.json()["message"]


def test_group_name_is_refused_while_chargeback_is_off_as_the_group_reports_refuse_it(
    client: TestClient, history: Database, world: World
) -> None:
    world.licensing = LicensingConfig(chargeback_enabled=False)

    response = explained(client, productId="p1", metricName=VPC, groupName="finance")
    products = client.get("/products", params=authorized({"groupName": "finance"}))

    assert response.status_code == products.status_code == 400
    assert response.json()["message"] == products.json()["message"]
    assert "spec.chargebackEnabled: true" in response.json()["message"]


def test_the_kept_bodies_of_the_cluster_and_of_each_group_are_kept_apart(
    client: TestClient, history: Database
) -> None:
    answers = [
        explained(client, productId="p1", metricName=VPC, **extra).json()["metricQuantity"]
        for extra in ({}, {"groupName": "finance"}, {"groupName": "research"}, {})
    ]

    assert answers == [23, 8, 20, 23]


def test_an_unlabelled_cluster_keeps_the_cluster_s_explanation_alone(database: Database) -> None:
    view = dataclasses.replace(busy_finance(), namespaces=())

    assert sample(database, at("2026-11-20", "10:00"), view) == 1
