"""The ``namespaceScope`` section of ``/health`` (an addition to SPEC 3.4, for SPEC 8); pure.

Which namespaces are left out of every count (``excludeNamespace``, since when it is
in force, as recorded with the samples), whether chargeback groups are measured, and
the warning for namespaces labelled with the reserved group ``default``.
"""

from __future__ import annotations

from typing import TypedDict

from license_service.cluster.source import ClusterState
from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.metering.chargeback_groups import namespace_groups
from license_service.sampling.status import SamplerStatus
from license_service.web.timestamps import optional_utc_text


class NamespaceScopeSection(TypedDict):
    """``excludeNamespace`` (the items, comma-separated), ``excludeNamespaceSince``,
    ``chargebackEnabled``."""

    excludeNamespace: str
    excludeNamespaceSince: str | None
    chargebackEnabled: bool


def namespace_scope_section(
    licensing: LicensingConfig, sampler: SamplerStatus
) -> NamespaceScopeSection:
    """The setting in force, since when the samples record it, and whether groups are on."""
    return {
        "excludeNamespace": ", ".join(licensing.metering.excluded_namespaces),
        "excludeNamespaceSince": optional_utc_text(sampler.excluded_namespaces_since),
        "chargebackEnabled": licensing.chargeback_enabled,
    }


def namespace_scope_warnings(licensing: LicensingConfig, source: ClusterState | None) -> list[str]:
    """The warnings of SPEC 8 (chargeback on): namespaces labelled with the reserved group,
    or with a value that cannot be a group."""
    if source is None or not licensing.chargeback_enabled:
        return []
    return namespace_groups(source.view).warnings()
