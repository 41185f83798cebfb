"""Usage values become the SPEC's camelCase rows, in the SPEC's key order."""

from __future__ import annotations

from fractions import Fraction

import pytest

from license_service.formats.decimal_numbers import json_number
from license_service.metering.api_rows import measurement_document
from license_service.metering.ratios import parse_ratio
from license_service.metering.usage import (
    AnnotationProblem,
    Measurement,
    PodProblems,
    PodRef,
    UnknownNode,
    UnmeasuredProduct,
)
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    PRODUCT_ROWS,
    BundledProductUsage,
    ProductUsage,
)


@pytest.mark.parametrize(
    ("value", "number"),
    [(Fraction(2), 2), (Fraction(3, 2), 1.5), (Fraction(0), 0), (Fraction(1, 3), 1 / 3)],
)
def test_a_quantity_is_an_int_when_whole_else_a_float(value: Fraction, number: float) -> None:
    converted = json_number(value)

    assert converted == number
    assert type(converted) is type(number)


def bundled(measured: int, ratio: str) -> BundledProductUsage:
    return BundledProductUsage(
        product_name="IBM App Connect Enterprise",
        product_id="ace",
        cloudpak_id="cp4i",
        cloudpak_name="IBM Cloud Pak for Integration",
        cloudpak_version="2023.4.1",
        cloudpak_metric="VIRTUAL_PROCESSOR_CORE",
        metric="VIRTUAL_PROCESSOR_CORE",
        measured_quantity=measured,
        conversion=parse_ratio(ratio),
    )


def test_a_bundled_product_row_has_the_spec_keys_in_order() -> None:
    row = BUNDLED_PRODUCT_ROWS.json(bundled(3, "2:1"))

    assert list(row.items()) == [
        ("productName", "IBM App Connect Enterprise"),
        ("productId", "ace"),
        ("cloudpakId", "cp4i"),
        ("cloudpakName", "IBM Cloud Pak for Integration"),
        ("cloudpakVersion", "2023.4.1"),
        ("cloudpakMetricName", "VIRTUAL_PROCESSOR_CORE"),
        ("metricName", "VIRTUAL_PROCESSOR_CORE"),
        ("metricMeasuredQuantity", 3),
        ("metricConversion", "2:1"),
        ("metricConvertedQuantity", 1.5),
    ]


def test_a_whole_converted_quantity_is_an_int() -> None:
    assert BUNDLED_PRODUCT_ROWS.json(bundled(4, "2:1"))["metricConvertedQuantity"] == 2
    assert type(BUNDLED_PRODUCT_ROWS.json(bundled(4, "2:1"))["metricConvertedQuantity"]) is int


def test_a_product_row_has_the_spec_keys() -> None:
    row = PRODUCT_ROWS.json(ProductUsage("IBM MQ", "mq", "VIRTUAL_PROCESSOR_CORE", 4))

    assert list(row.items()) == [
        ("name", "IBM MQ"),
        ("id", "mq"),
        ("metricName", "VIRTUAL_PROCESSOR_CORE"),
        ("metricQuantity", 4),
    ]


def test_a_measurement_document_holds_every_section() -> None:
    measurement = Measurement(
        incomplete_annotations=(
            PodProblems("ns", "pod-1", (AnnotationProblem("productMetric", "missing"),)),
        ),
        unmeasured_metrics=(UnmeasuredProduct("x", "Product X", "RESOURCE_UNIT", "cp"),),
        unknown_nodes=(UnknownNode("gone", (PodRef("ns", "pod-2"),), 1),),
        warnings=("node 'n' has no status.capacity.cpu",),
    )

    assert measurement_document(measurement) == {
        "products": [],
        "bundledProducts": [],
        "services": [],
        "incompleteAnnotations": {
            "count": 1,
            "pods": [
                {
                    "namespace": "ns",
                    "name": "pod-1",
                    "problems": [{"annotation": "productMetric", "reason": "missing"}],
                }
            ],
        },
        "unmeasuredMetrics": [
            {
                "productName": "Product X",
                "productId": "x",
                "metricName": "RESOURCE_UNIT",
                "cloudpakId": "cp",
            }
        ],
        "unknownNodes": [
            {
                "nodeName": "gone",
                "pods": [{"namespace": "ns", "name": "pod-2"}],
                "containersWithoutLimit": 1,
            }
        ],
        "warnings": ["node 'n' has no status.capacity.cpu"],
    }
