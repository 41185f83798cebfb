"""The ``IBMLicensing`` document (SPEC 6) parsed into a frozen ``LicensingConfig``; pure.

``parse_ibmlicensing`` takes the document as YAML or the Kubernetes API give it
(nested mappings) and either returns a complete configuration, every field filled
with its default when absent, or raises ``ConfigurationError`` listing every
problem found, each with its dotted path, the bad value and the values allowed.
Nothing is half-applied: the caller keeps its previous configuration on error.

Rules, chosen to be strict and predictable:

- booleans must be real booleans (``true`` / ``false``); the string ``"no"`` is refused;
- numbers must be numbers: ``threadsPerCore: "2"`` is refused, not converted;
- ``null`` means "not set": the default applies;
- unknown fields are ignored and reported in ONE warning listing their dotted paths;
  fields of IBM's own ``IBMLicensing`` CRD that this service does not read
  (``spec.datasource``, ``spec.license.accept``...) are not unknown: they are listed in
  one note (``notes``, logged at debug level) as not applicable (``unread_fields``);
- ``spec.features.excludeNamespace`` is one string of comma-separated namespace names or
  regular expressions (SPEC 8); an item that is not a valid expression is refused by name;
- ``spec.features.nodeCpuCappingEnabled`` (the SPEC's place) is also accepted at
  ``spec.nodeCpuCappingEnabled`` (where the IBM operator puts it); giving both with
  different values is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal, TypeVar

from license_service.configuration.sender_settings import (
    SENDER_FIELDS,
    SenderSettings,
    parse_sender,
)
from license_service.configuration.spec_fields import (
    NameRule,
    SpecReader,
    shown,
    type_name,
    yaml_text,
)
from license_service.configuration.unread_fields import unread_fields
from license_service.errors import ConfigurationError
from license_service.message_values import listed, quoted
from license_service.metering.namespace_scope import ExcludedNamespaces, parse_excluded_namespaces
from license_service.metering.settings import THREADS_PER_CORE_CHOICES, MeteringSettings

API_VERSION: Final = "operator.ibm.com/v1alpha1"
KIND: Final = "IBMLicensing"
# The name of the Secret holding the API token, not a token.
DEFAULT_API_SECRET_TOKEN: Final = "ibm-licensing-token"  # noqa: S105
DEFAULT_CHARGEBACK_RETENTION_DAYS: Final = 62

HttpsCertsSource = Literal["self-signed", "custom"]
LogLevel = Literal["DEBUG", "INFO", "VERBOSE"]
HTTPS_CERTS_SOURCES: Final[tuple[HttpsCertsSource, ...]] = ("self-signed", "custom")
LOG_LEVELS: Final[tuple[LogLevel, ...]] = ("DEBUG", "INFO", "VERBOSE")

# The fields License Service reads; a nested dict is a section whose own keys are
# checked, None a leaf. ``sender`` is parsed (``sender_settings``) and also kept raw.
_KNOWN_SPEC: Final[Mapping[str, object]] = {
    "apiSecretToken": None,
    "httpsEnable": None,
    "httpsCertsSource": None,
    "instanceNamespace": None,
    "logLevel": None,
    "nodeCpuCappingEnabled": None,
    "chargebackEnabled": None,
    "chargebackRetentionPeriod": None,
    "sender": dict.fromkeys(SENDER_FIELDS),
    "features": {
        "auth": {"urlBasedEnabled": None},
        "kubeRBACAuthEnabled": None,
        "hyperThreading": {"threadsPerCore": None},
        "nodeCpuCappingEnabled": None,
        "excludeNamespace": None,
    },
}
_KNOWN_TOP_LEVEL: Final = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})

# A Secret name is a DNS subdomain; a namespace name a DNS label (Kubernetes rules).
_DNS_LABEL: Final = r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?"
_SECRET_NAME: Final = NameRule(
    re.compile(rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})*"),
    "a Secret name: lowercase letters, digits, '-' and '.', each part starting and ending "
    "with a letter or digit, at most 253 characters",
)
_NAMESPACE_NAME: Final = NameRule(
    re.compile(_DNS_LABEL),
    "a namespace name: lowercase letters, digits and '-', starting and ending with a letter "
    "or digit, at most 63 characters",
)


@dataclass(frozen=True, slots=True)
class LicensingConfig:
    """The effective configuration; every field holds its default unless the document sets it.

    ``instance_namespace`` ``None`` means the namespace the service runs in.
    ``sender`` is the raw ``spec.sender`` mapping (read-only), kept for a later phase.
    ``warnings`` (not part of equality) says which unknown fields were ignored, ``notes``
    (not part of equality either) which fields of IBM's CRD do not apply here.
    """

    api_secret_token: str = DEFAULT_API_SECRET_TOKEN
    url_based_enabled: bool = True
    kube_rbac_auth_enabled: bool = True
    metering: MeteringSettings = field(default_factory=MeteringSettings)
    https_enable: bool = False
    https_certs_source: HttpsCertsSource = "self-signed"
    instance_namespace: str | None = None
    log_level: LogLevel = "INFO"
    chargeback_enabled: bool = False
    chargeback_retention_period: int = DEFAULT_CHARGEBACK_RETENTION_DAYS
    sender: Mapping[str, object] | None = field(default=None, hash=False)
    sender_settings: SenderSettings | None = None
    """``spec.sender`` parsed (SPEC 11); ``None`` when no ``reporterURL`` is set."""
    warnings: tuple[str, ...] = field(default=(), compare=False)
    notes: tuple[str, ...] = field(default=(), compare=False)


_DEFAULTS: Final = LicensingConfig()


def parse_ibmlicensing(document: object) -> LicensingConfig:
    """Return the configuration the ``IBMLicensing`` ``document`` sets; pure.

    Raises ``ConfigurationError`` listing every invalid value (see module docstring).
    """
    if not isinstance(document, Mapping):
        raise ConfigurationError(
            f"the configuration is {type_name(document)}, not an {KIND} document; "
            f"give a mapping with apiVersion {API_VERSION}, kind {KIND} and spec"
        )
    label = _label(document)
    problems = _identity_problems(document)
    if document.get("kind") != KIND:
        # Another kind of document: its spec means something else, do not judge it.
        raise _invalid(label, problems)

    reader = SpecReader(problems)
    spec = reader.section(document.get("spec"), "spec")
    unknown = [str(key) for key in document if key not in _KNOWN_TOP_LEVEL]
    unread = unread_fields(reader, spec, honoured=_KNOWN_SPEC)
    unknown += unread.unknown

    capping = reader.boolean(spec, "features.nodeCpuCappingEnabled")
    capping_alias = reader.boolean(spec, "nodeCpuCappingEnabled")
    if capping is not None and capping_alias is not None and capping != capping_alias:
        problems.append(
            f"spec.features.nodeCpuCappingEnabled ({yaml_text(capping)}) and "
            f"spec.nodeCpuCappingEnabled ({yaml_text(capping_alias)}) disagree; keep only one"
        )
    threads = reader.choice(
        spec, "features.hyperThreading.threadsPerCore", allowed=THREADS_PER_CORE_CHOICES
    )
    excluded = _excluded_namespaces(reader, spec)
    config = LicensingConfig(
        api_secret_token=reader.name(
            spec, "apiSecretToken", _SECRET_NAME, default=_DEFAULTS.api_secret_token
        ),
        url_based_enabled=_default(
            reader.boolean(spec, "features.auth.urlBasedEnabled"), _DEFAULTS.url_based_enabled
        ),
        kube_rbac_auth_enabled=_default(
            reader.boolean(spec, "features.kubeRBACAuthEnabled"), _DEFAULTS.kube_rbac_auth_enabled
        ),
        metering=MeteringSettings(
            threads_per_core=_default(threads, _DEFAULTS.metering.threads_per_core),
            node_cpu_capping=_default(
                capping if capping is not None else capping_alias,
                _DEFAULTS.metering.node_cpu_capping,
            ),
            excluded_namespaces=excluded,
        ),
        https_enable=_default(reader.boolean(spec, "httpsEnable"), _DEFAULTS.https_enable),
        https_certs_source=_default(
            reader.choice(spec, "httpsCertsSource", allowed=HTTPS_CERTS_SOURCES),
            _DEFAULTS.https_certs_source,
        ),
        instance_namespace=reader.name(
            spec, "instanceNamespace", _NAMESPACE_NAME, default=_DEFAULTS.instance_namespace
        ),
        log_level=_default(
            reader.choice(spec, "logLevel", allowed=LOG_LEVELS), _DEFAULTS.log_level
        ),
        chargeback_enabled=_default(
            reader.boolean(spec, "chargebackEnabled"), _DEFAULTS.chargeback_enabled
        ),
        chargeback_retention_period=_default(
            reader.positive_integer(spec, "chargebackRetentionPeriod"),
            _DEFAULTS.chargeback_retention_period,
        ),
        # Not a mapping: reported once, by the walk over the known sections above.
        sender=_raw_mapping(spec.get("sender")),
        sender_settings=parse_sender(reader, spec, secret_name=_SECRET_NAME),
        warnings=_unknown_fields_warning(label, unknown),
        notes=_not_applicable_note(label, unread.not_applicable),
    )
    if problems:
        raise _invalid(label, problems)
    return config


def _raw_mapping(value: object) -> Mapping[str, object] | None:
    """A read-only copy of ``value`` when it is a mapping, else ``None``."""
    return MappingProxyType(dict(value)) if isinstance(value, Mapping) else None


def oldest_ibmlicensing(documents: Sequence[Mapping[str, object]]) -> Mapping[str, object]:
    """Return the document that wins when several exist: the oldest, then by name (SPEC 6).

    ``documents`` must not be empty; order is by ``metadata.creationTimestamp``
    (RFC 3339 text sorts in time order), a document without one counting as newest.
    """

    def age_key(document: Mapping[str, object]) -> tuple[bool, str, str]:
        metadata = document.get("metadata")
        if not isinstance(metadata, Mapping):
            return (True, "", "")
        created = metadata.get("creationTimestamp")
        name = metadata.get("name")
        return (
            not isinstance(created, str),
            created if isinstance(created, str) else "",
            name if isinstance(name, str) else "",
        )

    return min(documents, key=age_key)


_T = TypeVar("_T")


def _excluded_namespaces(reader: SpecReader, spec: Mapping[str, object]) -> ExcludedNamespaces:
    """``spec.features.excludeNamespace`` as its items; a problem recorded for a bad one."""
    path = "features.excludeNamespace"
    text = reader.text(spec, path, example="'sandbox, team-.*-test'")
    if text is None:
        return ()
    try:
        return parse_excluded_namespaces(text)
    except ConfigurationError as exc:
        reader.problems.append(f"spec.{path}: {exc}".replace(": excludeNamespace:", ":", 1))
        return ()


def _default(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def _identity_problems(document: Mapping[object, object]) -> list[str]:
    problems: list[str] = []
    kind = document.get("kind")
    if kind != KIND:
        found = "missing" if kind is None else shown(kind)
        problems.append(f"kind: {found} is not allowed; allowed values: {KIND}")
    api_version = document.get("apiVersion")
    if api_version != API_VERSION:
        found = "missing" if api_version is None else shown(api_version)
        problems.append(f"apiVersion: {found} is not allowed; allowed values: {API_VERSION}")
    return problems


def _label(document: Mapping[object, object]) -> str:
    metadata = document.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    return f"{KIND} {quoted(name)}" if isinstance(name, str) else KIND


def _invalid(label: str, problems: list[str]) -> ConfigurationError:
    count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
    return ConfigurationError(f"{label} is invalid ({count}): " + "; ".join(problems))


def _unknown_fields_warning(label: str, unknown: list[str]) -> tuple[str, ...]:
    if not unknown:
        return ()
    return (
        f"{label}: ignored {len(unknown)} unknown field"
        + ("s" if len(unknown) > 1 else "")
        + ": "
        + listed(unknown),
    )


def _not_applicable_note(label: str, paths: list[str]) -> tuple[str, ...]:
    if not paths:
        return ()
    return (
        f"{label}: {len(paths)} field" + ("s" if len(paths) > 1 else "") + " of IBM's "
        "IBMLicensing CRD that License Service does not use, ignored as not applicable: "
        + ", ".join(paths),
    )
