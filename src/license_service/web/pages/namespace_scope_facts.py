"""The status page's lines for SPEC 8: excluded namespaces (and since when), chargeback groups."""

from __future__ import annotations

from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.metering.namespace_scope import excluded_text
from license_service.sampling.status import SamplerStatus
from license_service.web.timestamps import optional_utc_text


def namespace_scope_facts(
    licensing: LicensingConfig, sampler: SamplerStatus
) -> list[tuple[str, str]]:
    """(label, value) rows; values are escaped by the page's template like every other."""
    since = optional_utc_text(sampler.excluded_namespaces_since)
    excluded = excluded_text(licensing.metering.excluded_namespaces)
    chargeback = (
        f"on (group peaks kept {licensing.chargeback_retention_period} days; "
        "GET /chargeback_groups lists the groups)"
        if licensing.chargeback_enabled
        else "off (spec.chargebackEnabled)"
    )
    return [
        (
            "Excluded namespaces (excludeNamespace)",
            f"{excluded}, since {since}" if since else f"{excluded} (no sample recorded yet)",
        ),
        ("Chargeback groups", chargeback),
    ]
