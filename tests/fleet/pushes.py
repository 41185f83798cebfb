"""Builders of pushes for the fleet tests: a signing key per simulated cluster, days of rows."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta

from license_service.fleet.push_format import ClusterIdentity, Coverage, PushDay, encode_push
from license_service.metering.ratios import parse_ratio
from license_service.metering.usage_rows import BundledProductUsage, ProductUsage, ServiceUsage
from license_service.signing.keys import SigningKey


@functools.cache
def cluster_key(name: str) -> SigningKey:
    """One key per simulated cluster name, generated once per test session (slow to make)."""
    return SigningKey.generate()


def day_of(day: date, *, quantity: int = 4, complete: bool = True, cloudpak: int = 2) -> PushDay:
    """A day with one product, one Cloud Pak (its product row and a bundled row) and a service."""
    return PushDay(
        date=day,
        complete=complete,
        products=(
            ProductUsage("IBM MQ", "mq-1", "VIRTUAL_PROCESSOR_CORE", quantity),
            ProductUsage("Cloud Pak for Integration", "cp4i", "VIRTUAL_PROCESSOR_CORE", cloudpak),
        ),
        bundled_products=(
            BundledProductUsage(
                "App Connect",
                "ace-1",
                "cp4i",
                "Cloud Pak for Integration",
                "2023.4",
                "VIRTUAL_PROCESSOR_CORE",
                "VIRTUAL_PROCESSOR_CORE",
                3,
                parse_ratio("3:2"),
            ),
        ),
        services=(
            ServiceUsage(
                "cp4i",
                "VIRTUAL_PROCESSOR_CORE",
                "App Connect",
                "ace-1",
                "VIRTUAL_PROCESSOR_CORE",
                "designer",
                "svc-1",
                1,
            ),
        ),
        coverage=Coverage(96, 96),
    )


def days_from(first: date, count: int, **values: int) -> list[PushDay]:
    """``count`` consecutive complete days from ``first``."""
    return [day_of(first + timedelta(days=n), **values) for n in range(count)]


def push_body(cluster_id: str, days: list[PushDay], *, key: SigningKey | None = None) -> bytes:
    """The body of a push of ``days`` by ``cluster_id`` signed with its key (or ``key``)."""
    return encode_push(
        ClusterIdentity(cluster_id, f"name of {cluster_id}", "9.9.9"),
        days,
        key=key or cluster_key(cluster_id),
        sent_at=datetime.now(UTC),
    )
