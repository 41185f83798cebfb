"""The ``sender`` section of ``/health`` (an addition to SPEC 3.4, for SPEC 11); pure.

Where this service pushes (the Reporter's URL, never its token), whether the Reporter's
certificate is verified, the last successful push, the last day the Reporter
acknowledged, and the last error. A refusal (4xx) is a configuration problem and is
also a warning; the service's own measuring is not degraded by it.
"""

from __future__ import annotations

from typing import TypedDict

from license_service.reporting.sender import SenderStatus
from license_service.web.probes.health_bounds import short_sentence
from license_service.web.timestamps import optional_utc_text


class SenderSection(TypedDict):
    """``reporterURL``, ``certificatesVerified``, ``lastPushAt``, ``acknowledgedThrough``,
    ``lastError``, ``lastErrorAt``, ``pushFailures``."""

    reporterURL: str
    certificatesVerified: bool
    lastPushAt: str | None
    acknowledgedThrough: str | None
    lastError: str | None
    lastErrorAt: str | None
    pushFailures: int


def sender_section(status: SenderStatus) -> SenderSection | None:
    """The section; ``None`` when no Reporter is configured."""
    if status.reporter_url is None:
        return None
    through = status.acknowledged_through
    return {
        "reporterURL": status.reporter_url,
        "certificatesVerified": status.certificates_verified,
        "lastPushAt": optional_utc_text(status.last_push_at),
        "acknowledgedThrough": through.isoformat() if through is not None else None,
        "lastError": short_sentence(status.last_error) if status.last_error else None,
        "lastErrorAt": optional_utc_text(status.last_error_at),
        "pushFailures": status.push_failures,
    }


def sender_warnings(status: SenderStatus) -> list[str]:
    """A refused push, as a warning saying it is a configuration problem."""
    if not status.refused or status.last_error is None:
        return []
    return [
        f"pushing to the Reporter at {status.reporter_url} is refused, a configuration problem "
        f"(check spec.sender and the Reporter's token; tried again hourly): {status.last_error}"
    ]
