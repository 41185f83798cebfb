"""The metering settings in words an operator reads, for log lines; pure.

``MeteringSettings`` is a dataclass whose ``repr`` (``MeteringSettings(threads_per_core=1,
...)``) means nothing to someone reading the log: these functions name each setting as
the ``IBMLicensing`` document does (``threadsPerCore``) and say what its value does.
"""

from __future__ import annotations

from typing import Final

from license_service.metering.namespace_scope import excluded_text
from license_service.metering.settings import CappingSource, MeteringSettings

_CAPPED_AT: Final[dict[CappingSource, str]] = {
    "capacity": "at each node's capacity",
    "allocatable": "at each node's allocatable CPU",
}


def settings_text(settings: MeteringSettings) -> str:
    """``threadsPerCore 1, node CPU capping on (at each node's capacity), default PVU ...``."""
    return (
        f"threadsPerCore {settings.threads_per_core}, {_capping(settings)}, "
        f"default PVU per core {settings.default_pvu_per_core}, "
        f"excludeNamespace {excluded_text(settings.excluded_namespaces)}"
    )


def settings_changes(before: MeteringSettings, after: MeteringSettings) -> list[str]:
    """One ``"<setting> <old> -> <new>"`` phrase per setting that differs."""
    changes = []
    if before.threads_per_core != after.threads_per_core:
        changes.append(f"threadsPerCore {before.threads_per_core} -> {after.threads_per_core}")
    if before.node_cpu_capping != after.node_cpu_capping:
        changes.append(
            f"node CPU capping {_on(before.node_cpu_capping)} -> {_on(after.node_cpu_capping)}"
        )
    if before.capping_source != after.capping_source:
        changes.append(
            f"node CPU capping {_CAPPED_AT[before.capping_source]} -> "
            f"{_CAPPED_AT[after.capping_source]}"
        )
    if before.default_pvu_per_core != after.default_pvu_per_core:
        changes.append(
            f"default PVU per core {before.default_pvu_per_core} -> {after.default_pvu_per_core}"
        )
    if before.excluded_namespaces != after.excluded_namespaces:
        changes.append(
            f"excludeNamespace {excluded_text(before.excluded_namespaces)} -> "
            f"{excluded_text(after.excluded_namespaces)}"
        )
    return changes


def _capping(settings: MeteringSettings) -> str:
    if not settings.node_cpu_capping:
        return "node CPU capping off"
    return f"node CPU capping on ({_CAPPED_AT[settings.capping_source]})"


def _on(value: bool) -> str:
    return "on" if value else "off"
