"""``spec.sender`` (SPEC 11): where and how this cluster pushes to a Reporter; pure.

IBM's fields keep IBM's names (``reporterURL``, ``reporterSecretToken``,
``clusterName``, ``clusterID``, ``validateReporterCerts``, ``reporterCertsSecretName``);
``initialDays`` is ours: how many days before today the first push covers (30, up to
731, the longest a daily peak is kept). No ``reporterURL``: the sender is off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from license_service.configuration.spec_fields import NameRule, SpecReader, shown
from license_service.errors import ConfigurationError

DEFAULT_REPORTER_SECRET_TOKEN: Final = "ibm-license-service-reporter-token"  # noqa: S105 (a name)
REPORTER_TOKEN_KEY: Final = "token"  # noqa: S105 (a key name)
REPORTER_CA_KEY: Final = "ca.crt"
DEFAULT_INITIAL_DAYS: Final = 30
MAX_INITIAL_DAYS: Final = 731
SENDER_FIELDS: Final = (
    "reporterURL",
    "reporterSecretToken",
    "clusterID",
    "clusterName",
    "validateReporterCerts",
    "reporterCertsSecretName",
    "initialDays",
)
"""The ``spec.sender`` fields read here; IBM's ``frequency`` is not (pushes are hourly)."""


@dataclass(frozen=True, slots=True)
class SenderSettings:
    """Where to push and as whom; ``cluster_id``/``cluster_name`` ``None``: the service's own.

    ``reporter_url`` has no trailing slash and holds no credentials (it is shown).
    """

    reporter_url: str
    reporter_secret_token: str = DEFAULT_REPORTER_SECRET_TOKEN
    cluster_id: str | None = None
    cluster_name: str | None = None
    validate_reporter_certs: bool = False
    reporter_certs_secret_name: str | None = None
    initial_days: int = DEFAULT_INITIAL_DAYS


def reporter_url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as a Reporter URL, or ``None`` when it is usable."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http:// or https:// URL, e.g. https://reporter.example.com"
    if parts.username is not None or parts.password is not None:
        return "holds credentials; give the token in the Secret (or file) instead"
    if parts.query or parts.fragment:
        return f"{url!r} has a query or fragment; give the Reporter's base URL only"
    return None


def parse_sender(
    reader: SpecReader, spec: Mapping[str, object], *, secret_name: NameRule
) -> SenderSettings | None:
    """``spec.sender`` as settings (``None`` without ``reporterURL``); problems go to ``reader``."""
    section = spec.get("sender")
    if not isinstance(section, Mapping) or section.get("reporterURL") is None:
        return None
    url = reader.text(spec, "sender.reporterURL", example="https://reporter.example.com")
    if url is not None and (problem := reporter_url_problem(url.strip())) is not None:
        reader.problems.append(f"spec.sender.reporterURL: {problem}")
        url = None
    initial_days = reader.positive_integer(spec, "sender.initialDays")
    if initial_days is not None and initial_days > MAX_INITIAL_DAYS:
        reader.problems.append(
            f"spec.sender.initialDays: {shown(initial_days)} is not allowed; allowed values: "
            f"1 to {MAX_INITIAL_DAYS} (daily peaks are kept {MAX_INITIAL_DAYS} days)"
        )
        initial_days = None
    validate = reader.boolean(spec, "sender.validateReporterCerts")
    certs = reader.name(spec, "sender.reporterCertsSecretName", secret_name, default=None)
    if validate and certs is None and "reporterCertsSecretName" not in section:
        reader.problems.append(
            "spec.sender.validateReporterCerts is true but spec.sender.reporterCertsSecretName "
            f"is not set; name the Secret holding the Reporter's CA (key {REPORTER_CA_KEY})"
        )
    if url is None:
        return None
    return SenderSettings(
        reporter_url=url.strip().rstrip("/"),
        reporter_secret_token=reader.name(
            spec, "sender.reporterSecretToken", secret_name, default=DEFAULT_REPORTER_SECRET_TOKEN
        ),
        cluster_id=_nonempty(reader.text(spec, "sender.clusterID", example="prod-eu-1")),
        cluster_name=_nonempty(reader.text(spec, "sender.clusterName", example="Production EU")),
        validate_reporter_certs=bool(validate),
        reporter_certs_secret_name=certs,
        initial_days=initial_days or DEFAULT_INITIAL_DAYS,
    )


def _nonempty(text: str | None) -> str | None:
    return text.strip() or None if text is not None else None


def checked_token(raw: bytes, *, place: str) -> str:
    """``raw`` (a file's or Secret's bytes) as a token: one line of visible ASCII."""
    text = raw.decode("utf-8", errors="replace").strip()
    if not text:
        raise ConfigurationError(f"the Reporter token in {place} is empty; put the token there")
    if not (text.isascii() and text.isprintable()) or any(c.isspace() for c in text):
        raise ConfigurationError(
            f"the Reporter token in {place} holds spaces, line breaks or non-ASCII characters; "
            "give the token the Reporter prints, on one line"
        )
    return text
