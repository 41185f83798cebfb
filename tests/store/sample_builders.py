"""Short ways to write the usage rows and samples the store tests store."""

from __future__ import annotations

from datetime import UTC, date, datetime

from license_service.metering.cluster_view import ClusterId
from license_service.metering.ratios import parse_ratio
from license_service.metering.usage import Measurement
from license_service.metering.usage_rows import BundledProductUsage, ProductUsage, ServiceUsage
from license_service.store.database import Database
from license_service.store.samples import record_sample

CLUSTER = ClusterId("cluster-a")
OTHER_CLUSTER = ClusterId("cluster-b")
VPC = "VIRTUAL_PROCESSOR_CORE"
PVU = "PROCESSOR_VALUE_UNIT"
INTERVAL = 300

Usage = ProductUsage | BundledProductUsage | ServiceUsage


def at(day: str, time: str = "00:00:00") -> datetime:
    """The UTC instant ``day`` (``2026-11-02``) ``time`` (``10:05`` or ``10:05:30``)."""
    return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=UTC)


def day(text: str) -> date:
    """The date written ``2026-11-02``."""
    return date.fromisoformat(text)


def product(product_id: str, quantity: int, *, name: str = "", metric: str = VPC) -> ProductUsage:
    """A ``/products`` row; the name defaults to ``Product <id>``."""
    return ProductUsage(name or f"Product {product_id}", product_id, metric, quantity)


def bundled(
    product_id: str,
    measured: int,
    *,
    ratio: str = "1:1",
    cloudpak_id: str = "cp4d",
    product_name: str = "",
    cloudpak_name: str = "Cloud Pak for Data",
    cloudpak_version: str = "4.8",
    metric: str = VPC,
    cloudpak_metric: str = VPC,
) -> BundledProductUsage:
    """A ``/bundled_products`` row of Cloud Pak ``cloudpak_id``."""
    return BundledProductUsage(
        product_name=product_name or f"Product {product_id}",
        product_id=product_id,
        cloudpak_id=cloudpak_id,
        cloudpak_name=cloudpak_name,
        cloudpak_version=cloudpak_version,
        cloudpak_metric=cloudpak_metric,
        metric=metric,
        measured_quantity=measured,
        conversion=parse_ratio(ratio),
    )


def service(
    service_id: str,
    value: int,
    *,
    product_id: str = "db2",
    service_name: str = "",
    product_name: str = "",
    cloudpak_id: str = "cp4d",
    metric: str = VPC,
) -> ServiceUsage:
    """A ``/services`` row of a service of bundled product ``product_id``."""
    return ServiceUsage(
        cloudpak_id=cloudpak_id,
        cloudpak_metric=metric,
        product_name=product_name or f"Product {product_id}",
        product_id=product_id,
        metric=metric,
        service_name=service_name or f"Service {service_id}",
        service_id=service_id,
        value=value,
    )


def measurement(*usages: Usage) -> Measurement:
    """A measurement holding ``usages``, each in its own list."""
    return Measurement(
        products=tuple(u for u in usages if isinstance(u, ProductUsage)),
        bundled_products=tuple(u for u in usages if isinstance(u, BundledProductUsage)),
        services=tuple(u for u in usages if isinstance(u, ServiceUsage)),
    )


def store(
    db: Database,
    taken_at: datetime,
    *usages: Usage,
    cluster_id: ClusterId = CLUSTER,
    interval_seconds: int = INTERVAL,
) -> None:
    """Record one sample of ``usages`` in its own transaction."""
    with db.begin() as connection:
        record_sample(
            connection,
            cluster_id=cluster_id,
            taken_at=taken_at,
            measurement=measurement(*usages),
            interval_seconds=interval_seconds,
        )
