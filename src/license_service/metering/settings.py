"""Settings that change measured results (SPEC 2.5, 8): hyper-threading, capping, PVU default,
excluded namespaces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from license_service.errors import ConfigurationError
from license_service.metering.namespace_scope import ExcludedNamespaces, checked_patterns

CappingSource = Literal["capacity", "allocatable"]

THREADS_PER_CORE_CHOICES: Final = (1, 2, 4, 8)
DEFAULT_PVU_PER_CORE: Final = 70


@dataclass(frozen=True, slots=True)
class MeteringSettings:
    """How CPU limits become license units; the defaults are the SPEC's."""

    threads_per_core: int = 1
    node_cpu_capping: bool = True
    capping_source: CappingSource = "capacity"
    default_pvu_per_core: int = DEFAULT_PVU_PER_CORE
    excluded_namespaces: ExcludedNamespaces = ()
    """``spec.features.excludeNamespace``: names or patterns whose pods are counted nowhere."""

    def __post_init__(self) -> None:
        checked_patterns(self.excluded_namespaces)
        if self.threads_per_core not in THREADS_PER_CORE_CHOICES:
            raise ConfigurationError(
                f"threadsPerCore {self.threads_per_core!r} must be one of "
                f"{', '.join(map(str, THREADS_PER_CORE_CHOICES))}"
            )
        if self.default_pvu_per_core <= 0:
            raise ConfigurationError(
                f"default PVU per core {self.default_pvu_per_core!r} must be a positive integer"
            )
