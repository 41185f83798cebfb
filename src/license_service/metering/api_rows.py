"""Usage values as the rows the API and the CLI show, with the SPEC's exact camelCase keys.

Pure: these functions build plain, JSON-ready dicts (SPEC 3.2-3.6) from the values
of ``usage``; writing them out (JSON, CSV, tables) is the caller's job. Keys appear
in the SPEC's order, so serialised rows read the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import TypedDict

from license_service.metering.usage import (
    BundledProductUsage,
    Measurement,
    PodProblems,
    ProductUsage,
    ServiceUsage,
    UnknownNode,
    UnmeasuredProduct,
)


class ProductRow(TypedDict):
    """A ``/products`` row without its period (``metricPeakDate``)."""

    name: str
    id: str
    metricName: str
    metricQuantity: int


class BundledProductRow(TypedDict):
    """A ``/bundled_products`` row without its period (``metricPeakDate``)."""

    productName: str
    productId: str
    cloudpakId: str
    cloudpakName: str
    cloudpakVersion: str
    cloudpakMetricName: str
    metricName: str
    metricMeasuredQuantity: int
    metricConversion: str
    metricConvertedQuantity: int | float


class ServiceRow(TypedDict):
    """A ``/services`` row without its period (``metricPeakDate``)."""

    cloudpakId: str
    cloudpakMetricName: str
    productName: str
    productId: str
    metricName: str
    serviceName: str
    serviceId: str
    serviceMetricValue: int


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

    products: list[ProductRow]
    bundledProducts: list[BundledProductRow]
    services: list[ServiceRow]
    incompleteAnnotations: IncompleteAnnotations
    unmeasuredMetrics: list[UnmeasuredMetricRow]
    unknownNodes: list[UnknownNodeRow]
    warnings: list[str]


def json_number(value: Fraction) -> int | float:
    """An exact quantity as a JSON number: an int when whole (``2``), else a float (``1.5``)."""
    if value.denominator == 1:
        return value.numerator
    return float(value)


def product_row(usage: ProductUsage) -> ProductRow:
    """The ``/products`` row of a product or Cloud Pak."""
    return {
        "name": usage.name,
        "id": usage.id,
        "metricName": usage.metric,
        "metricQuantity": usage.quantity,
    }


def bundled_product_row(usage: BundledProductUsage) -> BundledProductRow:
    """The ``/bundled_products`` row; ``metricConvertedQuantity`` may be fractional (1.5)."""
    return {
        "productName": usage.product_name,
        "productId": usage.product_id,
        "cloudpakId": usage.cloudpak_id,
        "cloudpakName": usage.cloudpak_name,
        "cloudpakVersion": usage.cloudpak_version,
        "cloudpakMetricName": usage.cloudpak_metric,
        "metricName": usage.metric,
        "metricMeasuredQuantity": usage.measured_quantity,
        "metricConversion": str(usage.conversion),
        "metricConvertedQuantity": json_number(usage.converted_quantity),
    }


def service_row(usage: ServiceUsage) -> ServiceRow:
    """The ``/services`` row of one service of a bundled product."""
    return {
        "cloudpakId": usage.cloudpak_id,
        "cloudpakMetricName": usage.cloudpak_metric,
        "productName": usage.product_name,
        "productId": usage.product_id,
        "metricName": usage.metric,
        "serviceName": usage.service_name,
        "serviceId": usage.service_id,
        "serviceMetricValue": usage.value,
    }


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
        "products": [product_row(usage) for usage in measurement.products],
        "bundledProducts": [bundled_product_row(usage) for usage in measurement.bundled_products],
        "services": [service_row(usage) for usage in measurement.services],
        **health_sections(measurement),
    }
