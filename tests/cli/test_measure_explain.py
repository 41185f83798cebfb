"""``license-service measure --explain PRODUCT_ID``: the breakdown of a product in a dump."""

from __future__ import annotations

import json

from license_service.cluster.dumps import read_dumps
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage_explanations import explain_usage, explanation_json
from tests.cli.test_measure_command import ACE, CP4I, DUMP, MQ, WAS, measured_json, run


def test_the_table_shows_each_workload_on_each_node_and_how_the_quantity_follows() -> None:
    result = run("measure", str(DUMP), "--explain", MQ)

    assert result.exit_code == 0, result.output
    assert "4 = ceil(4000 m / 1000 / threadsPerCore 1)" in result.stdout
    lines = [line.split() for line in result.stdout.splitlines()]
    # worker-c holds 3500 m of MQ on 2 CPUs: capped to 2000.
    assert ["mq", "StatefulSet", "qm-prod-ibm-mq", "worker-c", "1", "2", "3500", "2000"] in lines
    assert ["mq", "StatefulSet", "qm-prod-ibm-mq", "worker-a", "1", "2", "2000", "2000"] in lines


def test_json_gives_the_documents_of_the_api_and_they_close_with_measure() -> None:
    measured = {row["id"]: row["metricQuantity"] for row in measured_json(str(DUMP))["products"]}

    result = run("measure", str(DUMP), "--explain", WAS, "--output", "json")

    assert result.exit_code == 0, result.output
    (explanation,) = json.loads(result.stdout)["explanations"]
    assert explanation["metricQuantity"] == measured[WAS] == 150
    assert explanation["contributions"] == [
        {
            "namespace": "apps",
            "workloadKind": "StatefulSet",
            "workloadName": "was-liberty",
            "node": "worker-b",
            "pods": 1,
            "containers": 1,
            "chargedMillicores": 1500,
            "cappedMillicores": 1500,
            "pvuPerCore": 100,
        }
    ]


def test_a_bundled_product_is_explained_with_its_cloud_pak_and_deployments() -> None:
    result = run("measure", str(DUMP), "--explain", ACE, "--output", "json")

    (explanation,) = json.loads(result.stdout)["explanations"]
    assert (explanation["cloudpakId"], explanation["metricConversion"]) == (CP4I, "2:1")
    assert {c["workloadName"] for c in explanation["contributions"]} == {
        "ace-dashboard",
        "ace-server",
    }
    assert {c["workloadKind"] for c in explanation["contributions"]} == {"Deployment"}


def test_an_unknown_product_or_a_cloud_pak_is_refused_listing_what_can_be_explained() -> None:
    for product_id in ("no-such-product", CP4I):
        result = run("measure", str(DUMP), "--explain", product_id)

        assert result.exit_code == 2
        assert "can be explained are:" in result.stderr
        assert MQ in result.stderr


def test_each_product_explained_alone_equals_its_rows_of_every_row_explained() -> None:
    # measure --explain counts the cells once and explains the product's rows only.
    view = read_dumps([DUMP])
    every = explain_usage(view.pods, view.nodes, MeteringSettings())
    for product_id in (ACE, MQ, WAS):
        result = run("measure", str(DUMP), "--explain", product_id, "--output", "json")

        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["explanations"] == [
            explanation_json(explained)
            for row, explained in sorted(every.items())
            if row.product_id == product_id
        ]
