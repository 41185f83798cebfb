"""What changed between two ``IBMLicensing`` configurations, in the document's own words; pure.

The service logs one line per changed field when the configuration changes (the
``--config`` file or the ``IBMLicensing`` resource), named by its path in the
document (``spec.features.auth.urlBasedEnabled: true -> false``), so an operator can
match the log to the document.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from license_service.configuration.ibmlicensing import LicensingConfig

# Fields that take effect only at the next start (SPEC 6: "except ports and TLS"; the
# service's namespace, where its Secrets live, is decided once at start).
RESTART_FIELDS: Final = frozenset(
    {"spec.httpsEnable", "spec.httpsCertsSource", "spec.instanceNamespace"}
)

_FIELDS: Final[tuple[tuple[str, Callable[[LicensingConfig], object]], ...]] = (
    ("spec.apiSecretToken", lambda config: config.api_secret_token),
    ("spec.features.auth.urlBasedEnabled", lambda config: config.url_based_enabled),
    ("spec.features.kubeRBACAuthEnabled", lambda config: config.kube_rbac_auth_enabled),
    (
        "spec.features.hyperThreading.threadsPerCore",
        lambda config: config.metering.threads_per_core,
    ),
    ("spec.features.nodeCpuCappingEnabled", lambda config: config.metering.node_cpu_capping),
    (
        "spec.features.excludeNamespace",
        lambda config: ", ".join(config.metering.excluded_namespaces) or None,
    ),
    ("spec.httpsEnable", lambda config: config.https_enable),
    ("spec.httpsCertsSource", lambda config: config.https_certs_source),
    ("spec.instanceNamespace", lambda config: config.instance_namespace),
    ("spec.logLevel", lambda config: config.log_level),
    ("spec.chargebackEnabled", lambda config: config.chargeback_enabled),
    ("spec.chargebackRetentionPeriod", lambda config: config.chargeback_retention_period),
    ("spec.sender", lambda config: config.sender),
)


def describe_changes(before: LicensingConfig, after: LicensingConfig) -> list[str]:
    """One ``"<path>: <old> -> <new>"`` line per field that differs; pure.

    A section kept as a mapping (``spec.sender``) is told field by field, never as a
    Python mapping.
    """
    changes = []
    for path, read in _FIELDS:
        note = " (applies at the next start)" if path in RESTART_FIELDS else ""
        for field_path, old, new in _leaf_changes(path, read(before), read(after)):
            changes.append(f"{field_path}: {_shown(old)} -> {_shown(new)}{note}")
    return changes


def _leaf_changes(path: str, old: object, new: object) -> list[tuple[str, object, object]]:
    """``(path, old, new)`` for ``path`` or, when either side is a mapping, each of its keys."""
    if old == new:
        return []
    if not isinstance(old, Mapping | None) or not isinstance(new, Mapping | None):
        return [(path, old, new)]
    if old is None and new is None:
        return []
    olds, news = old or {}, new or {}
    keys = sorted({*olds, *news}, key=str)
    return [
        change
        for key in keys
        for change in _leaf_changes(f"{path}.{key}", olds.get(key), news.get(key))
    ]


def _shown(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
