"""What the Reporter's handlers share: its database, authenticator, clock, version,
entitlements and signing key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from license_service.auth.authenticators import Authenticator
from license_service.metering.entitlements import Entitlements
from license_service.signing.keys import SigningKey
from license_service.store.database import Database
from license_service.web.middleware.request_metrics import RequestMetrics
from license_service.web.probes.version_info import VersionInfo


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ReporterState:
    """The Reporter's state; nothing else is kept in memory (replicas share the database)."""

    database: Database
    authenticator: Authenticator
    version: VersionInfo = field(default_factory=VersionInfo)
    now: Callable[[], datetime] = _utc_now
    request_metrics: RequestMetrics = field(default_factory=RequestMetrics)
    entitlements: Callable[[], Entitlements] = Entitlements
    """The entitlements in force (``--entitlements FILE``, SPEC 13), read at each request."""
    signing_key: SigningKey | None = None
    """The Reporter's own key (its data directory's ``signing-key.pem``), which signs
    ``/snapshot``; without one, ``/snapshot`` answers 503."""

    def today(self) -> date:
        """Today, UTC."""
        return self.now().date()
