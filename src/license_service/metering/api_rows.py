"""A measurement as the JSON the API and the CLI show, with the SPEC's exact camelCase keys.

Pure: these functions build plain, JSON-ready dicts (SPEC 3.4, and the ``measure``
document) from the values of ``usage``; the usage rows among them are written by their
row specification (``usage_rows``); writing them out is the caller's job. Keys appear
in the SPEC's order, so serialised rows read the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from license_service.metering.row_specs import JsonValue
from license_service.metering.usage import (
    Measurement,
    PodProblems,
    UnknownNode,
    UnmeasuredProduct,
)
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS, SERVICE_ROWS


class ProblemRow(TypedDict):
    """One broken rule on a pod (``/health`` ``incompleteAnnotations.pods[].problems``)."""

    annotation: str
    reason: str


class PodProblemsRow(TypedDict):
    """A pod not counted because of its annotations, with every problem found."""

    namespace: str
    name: str
    problems: list[ProblemRow]


class IncompleteAnnotations(TypedDict):
    """The ``incompleteAnnotations`` section of ``/health``."""

    count: int
    pods: list[PodProblemsRow]


class UnmeasuredMetricRow(TypedDict):
    """A product whose metric pod resources cannot measure; ``cloudpakId`` null: stand-alone."""

    productName: str
    productId: str
    metricName: str
    cloudpakId: str | None


class PodRefRow(TypedDict):
    """A pod named by namespace and name."""

    namespace: str
    name: str


class UnknownNodeRow(TypedDict):
    """A node that licensed pods run on but the cluster does not list."""

    nodeName: str
    pods: list[PodRefRow]
    containersWithoutLimit: int


class HealthSections(TypedDict):
    """The problem sections of ``/health`` that one measurement gives."""

    incompleteAnnotations: IncompleteAnnotations
    unmeasuredMetrics: list[UnmeasuredMetricRow]
    unknownNodes: list[UnknownNodeRow]
    warnings: list[str]


class MeasurementDocument(TypedDict):
    """One measurement as a whole: usage rows and problem sections (``license-service measure``)."""

    products: list[dict[str, JsonValue]]
    bundledProducts: list[dict[str, JsonValue]]
    services: list[dict[str, JsonValue]]
    incompleteAnnotations: IncompleteAnnotations
    unmeasuredMetrics: list[UnmeasuredMetricRow]
    unknownNodes: list[UnknownNodeRow]
    warnings: list[str]


def incomplete_annotations(pods: Sequence[PodProblems]) -> IncompleteAnnotations:
    """The ``incompleteAnnotations`` section: how many pods, and each with its problems."""
    return {
        "count": len(pods),
        "pods": [
            {
                "namespace": pod.namespace,
                "name": pod.name,
                "problems": [
                    {"annotation": problem.annotation, "reason": problem.reason}
                    for problem in pod.problems
                ],
            }
            for pod in pods
        ],
    }


def unmeasured_metric_row(product: UnmeasuredProduct) -> UnmeasuredMetricRow:
    """A row of ``unmeasuredMetrics``."""
    return {
        "productName": product.name,
        "productId": product.id,
        "metricName": product.metric,
        "cloudpakId": product.cloudpak_id,
    }


def unknown_node_row(node: UnknownNode) -> UnknownNodeRow:
    """A row of ``unknownNodes``."""
    return {
        "nodeName": node.node_name,
        "pods": [{"namespace": pod.namespace, "name": pod.name} for pod in node.pods],
        "containersWithoutLimit": node.containers_without_limit,
    }


def health_sections(measurement: Measurement) -> HealthSections:
    """The problem sections of ``/health`` for ``measurement``."""
    return {
        "incompleteAnnotations": incomplete_annotations(measurement.incomplete_annotations),
        "unmeasuredMetrics": [unmeasured_metric_row(p) for p in measurement.unmeasured_metrics],
        "unknownNodes": [unknown_node_row(node) for node in measurement.unknown_nodes],
        "warnings": list(measurement.warnings),
    }


def measurement_document(measurement: Measurement) -> MeasurementDocument:
    """Every row and problem section of ``measurement``, as one JSON-ready object."""
    return {
        "products": [PRODUCT_ROWS.json(row) for row in measurement.products],
        "bundledProducts": [BUNDLED_PRODUCT_ROWS.json(row) for row in measurement.bundled_products],
        "services": [SERVICE_ROWS.json(row) for row in measurement.services],
        **health_sections(measurement),
    }
