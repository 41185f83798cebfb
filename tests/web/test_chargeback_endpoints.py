"""SPEC 8 over HTTP: ``groupName=`` on the reports, ``/chargeback_groups``, the snapshot's
group files, the ``product_license_usage_chargeback`` metric, and ``/health``'s lines."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.metering.chargeback_groups import GROUP_LABEL
from license_service.metering.cluster_view import ClusterView, Namespace
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage import Measurement
from license_service.store.database import Database
from license_service.store.samples import record_sample
from license_service.web.app_state import AppState
from license_service.web.metrics.metrics_app import create_metrics_app
from tests.store.sample_builders import CLUSTER, INTERVAL, at, bundled, product, service
from tests.web.conftest import NOW, World, authorized, sampling_status, synced_source

NOVEMBER = {"dateFrom": "2026-11-01", "dateTo": "2026-11-28"}
SUFFIX = "2026-11-01_2026-11-28_cluster-a"
ON = LicensingConfig(chargeback_enabled=True)


def store_groups(database: Database) -> None:
    """One sample: the cluster's 6 VPC of p1; finance 4 of them, research 3 (capped apart)."""
    with database.begin() as connection:
        record_sample(
            connection,
            cluster_id=CLUSTER,
            taken_at=at("2026-11-02", "10:00"),
            measurement=Measurement(products=(product("p1", 6, name="Product One"),)),
            interval_seconds=INTERVAL,
            groups={
                "finance": Measurement(
                    products=(product("p1", 4, name="Product One"),),
                    bundled_products=(bundled("db2", 3, ratio="2:1"),),
                    services=(service("api", 2),),
                ),
                "research": Measurement(products=(product("p1", 3, name="Product One"),)),
            },
        )


@pytest.mark.parametrize("path", ["/products", "/bundled_products", "/services"])
def test_group_name_while_chargeback_is_off_is_refused_saying_how_to_turn_it_on(
    client: TestClient, database: Database, path: str
) -> None:
    store_groups(database)
    response = client.get(path, params=authorized({**NOVEMBER, "groupName": "finance"}))
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert "spec.chargebackEnabled: true" in body["message"]
    # Never the whole cluster's rows in place of the group's.
    assert "Product One" not in response.text


def test_a_group_answers_the_endpoint_s_own_rows_for_its_pods(
    client: TestClient, database: Database, world: World
) -> None:
    world.licensing = ON
    store_groups(database)

    finance = client.get("/products", params=authorized({**NOVEMBER, "groupName": "finance"}))
    research_csv = client.get(
        "/products", params=authorized({**NOVEMBER, "groupName": "research", "format": "csv"})
    )
    cluster = client.get("/products", params=authorized(NOVEMBER))
    bundled_rows = client.get(
        "/bundled_products", params=authorized({**NOVEMBER, "groupName": "finance"})
    )
    services = client.get("/services", params=authorized({**NOVEMBER, "groupName": "finance"}))

    assert finance.status_code == 200
    assert finance.json() == [
        {
            "name": "Product One",
            "id": "p1",
            "metricName": "VIRTUAL_PROCESSOR_CORE",
            "metricPeakDate": "2026-11-02",
            "metricQuantity": 4,
        }
    ]
    assert research_csv.text == (
        "name,id,metricName,metricPeakDate,metricQuantity\r\n"
        "Product One,p1,VIRTUAL_PROCESSOR_CORE,2026-11-02,3\r\n"
    )
    assert [row["metricQuantity"] for row in cluster.json()] == [6]
    assert [(row["productId"], row["metricConvertedQuantity"]) for row in bundled_rows.json()] == [
        ("db2", 1.5)
    ]
    assert [(row["serviceId"], row["serviceMetricValue"]) for row in services.json()] == [
        ("api", 2)
    ]


def test_a_group_without_data_answers_an_empty_list(
    client: TestClient, database: Database, world: World
) -> None:
    world.licensing = ON
    store_groups(database)
    response = client.get("/products", params=authorized({**NOVEMBER, "groupName": "nobody"}))
    assert response.status_code == 200
    assert response.json() == []


def test_an_empty_group_name_is_refused(client: TestClient, world: World) -> None:
    world.licensing = ON
    response = client.get("/products", params=authorized({"groupName": ""}))
    assert response.status_code == 400
    assert "groupName is empty" in response.json()["message"]


def test_chargeback_groups_lists_the_namespaces_as_labelled_now(
    client: TestClient, world: World
) -> None:
    world.source = replace(
        synced_source(),
        view=ClusterView(
            namespaces=(
                Namespace("shop", labels={GROUP_LABEL: "retail"}),
                Namespace("payments", labels={GROUP_LABEL: "retail"}),
                Namespace("db2", labels={GROUP_LABEL: "data"}),
                Namespace("legacy", labels={GROUP_LABEL: "default"}),
                Namespace("tools"),
            )
        ),
    )
    response = client.get("/chargeback_groups", params=authorized())
    csv = client.get("/chargeback_groups", params=authorized({"format": "csv"}))

    assert response.status_code == 200
    assert response.json() == [
        {"groupName": "data", "namespaces": ["db2"]},
        {"groupName": "retail", "namespaces": ["payments", "shop"]},
    ]
    assert csv.text == "groupName,namespace\r\ndata,db2\r\nretail,payments\r\nretail,shop\r\n"
    assert client.get("/chargeback_groups").status_code == 401
    assert client.post("/chargeback_groups", params=authorized()).status_code == 405

    # The reserved group: /health warns while chargeback is on.
    world.licensing = ON
    health = client.get("/health", params=authorized()).json()
    assert any("legacy" in warning and "default" in warning for warning in health["warnings"])


def test_health_and_status_say_which_namespaces_are_excluded_and_since_when(
    client: TestClient, world: World
) -> None:
    world.licensing = LicensingConfig(
        chargeback_enabled=True,
        metering=MeteringSettings(excluded_namespaces=("sandbox-.*", "scratch")),
    )
    world.sampler = sampling_status(excluded_namespaces_since=at("2026-11-20", "08:05"))

    health = client.get("/health", params=authorized()).json()
    status = client.get("/status", params=authorized()).text

    assert health["namespaceScope"] == {
        "excludeNamespace": "sandbox-.*, scratch",
        "excludeNamespaceSince": "2026-11-20T08:05:00Z",
        "chargebackEnabled": True,
    }
    assert "sandbox-.*, scratch, since 2026-11-20T08:05:00Z" in status


def test_the_snapshot_holds_the_groups_files_when_chargeback_is_on(
    client: TestClient, database: Database, world: World, tmp_path: Path
) -> None:
    world.licensing = ON
    store_groups(database)
    response = client.get("/snapshot", params=authorized(NOVEMBER))
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        period = archive.read(f"chargeback_products_{SUFFIX}.csv").decode()
        daily = archive.read(f"chargeback_products_daily_{SUFFIX}.csv").decode()
        checksums = archive.read("checksum.txt").decode()
        archive.extractall(tmp_path)

    assert period == (
        "groupName,name,id,metricName,metricPeakDate,metricQuantity,clusterId\r\n"
        "finance,Product One,p1,VIRTUAL_PROCESSOR_CORE,2026-11-02,4,cluster-a\r\n"
        "research,Product One,p1,VIRTUAL_PROCESSOR_CORE,2026-11-02,3,cluster-a\r\n"
    )
    assert daily == (
        "date,groupName,name,id,metricName,metricQuantity,clusterId\r\n"
        "2026-11-02,finance,Product One,p1,VIRTUAL_PROCESSOR_CORE,4,cluster-a\r\n"
        "2026-11-02,research,Product One,p1,VIRTUAL_PROCESSOR_CORE,3,cluster-a\r\n"
    )
    assert f"chargeback_products_{SUFFIX}.csv" in checksums
    assert f"chargeback_products_daily_{SUFFIX}.csv" in checksums
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "-c", "checksum.txt"], cwd=tmp_path, check=True)


def test_the_chargeback_metric_has_the_usage_labels_plus_the_group(
    state: AppState, world: World
) -> None:
    world.sampler = sampling_status(
        last_groups={
            "finance": Measurement(
                products=(product("p1", 4, name="Product One"),),
                bundled_products=(bundled("db2", 3),),
            )
        }
    )
    with TestClient(create_metrics_app(state, CollectorRegistry())) as metrics:
        text = metrics.get("/metrics").text
    samples = {
        frozenset(sample.labels.items()): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "product_license_usage_chargeback"
    }
    assert samples == {
        frozenset(
            {
                "productId": "p1",
                "productName": "Product One",
                "metricId": "VIRTUAL_PROCESSOR_CORE",
                "value": "4",
                "date": NOW.date().isoformat(),
                "groupName": "finance",
            }.items()
        ): 4,
        frozenset(
            {
                "productId": "db2",
                "productName": "Product db2",
                "metricId": "VIRTUAL_PROCESSOR_CORE",
                "parentProductId": "cp4d",
                "parentMetricId": "VIRTUAL_PROCESSOR_CORE",
                "value": "3",
                "date": NOW.date().isoformat(),
                "groupName": "finance",
            }.items()
        ): 3,
    }
