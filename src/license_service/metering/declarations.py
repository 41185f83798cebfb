"""What a pod declares through its annotations (SPEC 2.2), validated with every problem found."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from license_service.errors import AnnotationError
from license_service.metering.charged_containers import (
    ChargedContainers,
    parse_charged_containers,
)
from license_service.metering.ratios import Ratio, parse_ratio
from license_service.metering.usage import AnnotationProblem


@dataclass(frozen=True, slots=True)
class CloudPakMembership:
    """The Cloud Pak a bundled product counts towards, and how it converts."""

    id: str
    name: str
    version: str
    metric: str
    ratio: Ratio


@dataclass(frozen=True, slots=True)
class ServiceMembership:
    """The service (third layer under a bundled product) a pod belongs to."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ProductDeclaration:
    """A valid declaration of licensed software on a pod."""

    product_id: str
    product_name: str
    metric: str
    version: str
    charged: ChargedContainers
    cloudpak: CloudPakMembership | None = None
    service: ServiceMembership | None = None


def read_declaration(
    annotations: Mapping[str, str],
) -> ProductDeclaration | tuple[AnnotationProblem, ...] | None:
    """Validate a pod's license annotations; pure.

    Returns ``None`` when the pod declares nothing (no license annotation), the
    declaration when it is valid, and otherwise every problem found.
    """
    if not annotations:
        return None
    values = {key: value.strip() for key, value in annotations.items()}
    problems: list[AnnotationProblem] = []

    def required(key: str) -> str:
        value = values.get(key, "")
        if not value:
            problems.append(AnnotationProblem(key, "missing" if key not in values else "empty"))
        return value

    product_id = required("productID")
    product_name = required("productName")
    metric = required("productMetric")

    charged: ChargedContainers | None = None
    try:
        # Not stripped: an empty value (charge nothing) differs from an absent one.
        charged = parse_charged_containers(annotations.get("productChargedContainers"))
    except AnnotationError as exc:
        problems.append(AnnotationProblem("productChargedContainers", str(exc)))

    cloudpak: CloudPakMembership | None = None
    service: ServiceMembership | None = None
    cloudpak_id = values.get("cloudpakId", "")
    if cloudpak_id:
        cloudpak_name = values.get("cloudpakName", "")
        if not cloudpak_name:
            problems.append(
                AnnotationProblem("cloudpakName", "missing: required when cloudpakId is set")
            )
        ratio: Ratio | None = None
        try:
            ratio = parse_ratio(values.get("productCloudpakRatio"))
        except AnnotationError as exc:
            problems.append(AnnotationProblem("productCloudpakRatio", str(exc)))
        if ratio is not None:
            cloudpak = CloudPakMembership(
                id=cloudpak_id,
                name=cloudpak_name,
                version=values.get("cloudpakVersion", ""),
                metric=values.get("cloudpakMetric", "") or metric,
                ratio=ratio,
            )
        service = _service(values, problems)

    if problems or charged is None:
        return tuple(problems)
    return ProductDeclaration(
        product_id=product_id,
        product_name=product_name,
        metric=metric,
        version=values.get("productVersion", ""),
        charged=charged,
        cloudpak=cloudpak,
        service=service,
    )


def _service(
    values: Mapping[str, str], problems: list[AnnotationProblem]
) -> ServiceMembership | None:
    service_id = values.get("serviceId", "")
    service_name = values.get("serviceName", "")
    if service_id and not service_name:
        problems.append(AnnotationProblem("serviceName", "missing: required when serviceId is set"))
    elif service_name and not service_id:
        problems.append(AnnotationProblem("serviceId", "missing: required when serviceName is set"))
    if service_id and service_name:
        return ServiceMembership(service_id, service_name)
    return None
