"""What a pod declares through its annotations (SPEC 2.2), validated with every problem found.

The replicas of a workload carry the same annotations, so a cluster of 150,000 pods
has only a few hundred distinct annotation sets: ``DeclarationCache`` reads each one
once (for one measurement) and hands back the same declaration object for equal sets.

This is where annotation values enter the service, so they are checked here, once,
for what the store and the outputs cannot hold (``formats.unsafe_characters``: a
NUL, a lone surrogate, a control character...) and for their length: such a pod is
not counted and is listed with the reason, and the other pods are measured as usual.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from license_service.errors import AnnotationError
from license_service.formats.unsafe_characters import unsafe_text_reason
from license_service.metering.charged_containers import (
    ChargedContainers,
    parse_charged_containers,
)
from license_service.metering.ratios import Ratio, parse_ratio
from license_service.metering.usage import AnnotationProblem

MAX_VALUE_LENGTH: Final = 1_024
"""The longest license annotation value read (``productChargedContainers`` has its own limit)."""
CHARGED_CONTAINERS: Final = "productChargedContainers"
_LIST_BLANKS: Final = re.compile("[\t\n\r]")


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


Reading = ProductDeclaration | tuple[AnnotationProblem, ...] | None
"""What ``read_declaration`` finds: nothing declared, a declaration, or every problem."""


class DeclarationCache:
    """``read_declaration`` remembering what it read, by mapping and by content.

    A mapping seen before (the same object, as the collector shares them between
    replicas) is found by identity; an equal mapping by its items. The cache keeps the
    mappings it saw alive, so an identity is never reused while it lives. Meant for one
    measurement, or to be passed in explicitly: not a global.
    """

    __slots__ = ("_by_content", "_by_identity")

    def __init__(self) -> None:
        self._by_identity: dict[int, tuple[Mapping[str, str], Reading]] = {}
        self._by_content: dict[tuple[tuple[str, str], ...], Reading] = {}

    def read(self, annotations: Mapping[str, str]) -> Reading:
        """Like ``read_declaration(annotations)``; equal annotations give the same object."""
        seen = self._by_identity.get(id(annotations))
        if seen is not None and seen[0] is annotations:
            return seen[1]
        content = tuple(annotations.items())
        if content in self._by_content:
            reading = self._by_content[content]
        else:
            reading = self._by_content[content] = read_declaration(annotations)
        self._by_identity[id(annotations)] = (annotations, reading)
        return reading


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
    # Names and ids end up in every report and in the store: a value neither can hold
    # (oversized, or with a NUL or another unsafe character) is refused here, once.
    problems = [
        problem
        for key, value in annotations.items()
        if (problem := _unkept_value(key, value, values[key])) is not None
    ]
    if problems:
        return tuple(problems)

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
        charged = parse_charged_containers(annotations.get(CHARGED_CONTAINERS))
    except AnnotationError as exc:
        problems.append(AnnotationProblem(CHARGED_CONTAINERS, str(exc)))

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


def _unkept_value(key: str, raw: str, stripped: str) -> AnnotationProblem | None:
    """Why the value of ``key`` can be neither stored nor shown, or ``None``."""
    if key == CHARGED_CONTAINERS:
        # A list: tabs and line breaks between its entries are blanks (a YAML block).
        text = _LIST_BLANKS.sub(" ", raw)
    elif len(raw) > MAX_VALUE_LENGTH:
        return AnnotationProblem(
            key,
            f"{len(raw)} characters long, more than the {MAX_VALUE_LENGTH} allowed; "
            "shorten the value",
        )
    else:
        text = stripped
    reason = unsafe_text_reason(text)
    return None if reason is None else AnnotationProblem(key, reason)


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
