"""The service's namespace: where its Secrets live, decided once at start; pure.

The first of: the namespace given (``--namespace``), the pod's own (in a pod),
``spec.instanceNamespace`` of the configuration, else ``ibm-common-services`` (the
seed document's namespace). The service and ``license-service token`` decide it
with this one rule, so they act on the same Secrets.
"""

from __future__ import annotations

from typing import Final

from license_service.configuration.ibmlicensing import LicensingConfig

DEFAULT_NAMESPACE: Final = "ibm-common-services"


def service_namespace(*, given: str | None, pod: str | None, config: LicensingConfig) -> str:
    """The first of ``given``, the pod's and ``spec.instanceNamespace``; else the default."""
    for candidate in (given, pod, config.instance_namespace):
        if candidate:
            return candidate
    return DEFAULT_NAMESPACE
