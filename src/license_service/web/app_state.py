"""Everything the web layer needs from the running service, passed in (nothing global).

The runtime builds one ``AppState`` at startup and hands it to ``create_app`` and
``create_metrics_app``. Values that change while the service runs (the sampler's
status, the cluster state, the configuration, warnings) are functions, read at each
request; they must be cheap and must not block (they return what is already known).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from prometheus_client.registry import Collector

from license_service.auth.authenticators import Authenticator
from license_service.cluster.source import ClusterState
from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.leadership.elector import LeaderStatus
from license_service.metering.cluster_view import ClusterId
from license_service.metering.entitlements import Entitlements
from license_service.reporting.sender import SenderStatus
from license_service.sampling.status import SamplerStatus
from license_service.signing.keys import SigningKey
from license_service.store.database import Database
from license_service.web.middleware.request_metrics import RequestMetrics
from license_service.web.probes.leader_view import FollowedView
from license_service.web.probes.version_info import VersionInfo


@dataclass
class AppState:
    """The service as the web layer sees it.

    Beyond the shared contract: ``extra_collectors`` are registered on the metrics
    registry too (Kubernetes list/watch figures, later); ``request_metrics`` holds the
    request figures the API records and the metrics app exposes; ``temp_dir`` is where
    snapshots are built before they are sent (``None``: the system's temporary directory).
    """

    database: Database
    cluster_id: ClusterId
    cluster_name: str
    sampler_status: Callable[[], SamplerStatus]
    source_state: Callable[[], ClusterState | None]
    authenticator: Authenticator
    licensing: Callable[[], LicensingConfig]
    health_warnings: Callable[[], list[str]]
    signing_key: SigningKey
    clock: Callable[[], datetime]
    version: VersionInfo
    retention_sample_days: int = 62
    retention_peak_days: int = 731
    extra_collectors: Sequence[Collector] = ()
    request_metrics: RequestMetrics = field(default_factory=RequestMetrics)
    temp_dir: Path | None = None
    entitlements: Callable[[], Entitlements] = Entitlements
    """The entitlements in force (SPEC 13), read at each request."""
    entitlements_problem: Callable[[], str | None] = lambda: None
    """Why the latest entitlements document is not in force, or ``None``."""
    leader_status: Callable[[], LeaderStatus] | None = None
    """Who leads the replicas and since when (``None``: one replica, no election)."""
    upload_authenticator: Authenticator | None = None
    """Who may ``POST /v2/metric_upload`` (SPEC 10); ``None``: uploads are off."""
    sender_status: Callable[[], SenderStatus] | None = None
    """The sender's state (SPEC 11); ``None``: this service has no sender."""
    leader_view: Callable[[], FollowedView] | None = None
    """The leader's view as this replica last read it, answered while it follows (SPEC 12);
    ``None``: one replica, no election."""

    def now(self) -> datetime:
        """The current time, UTC."""
        return self.clock().astimezone(UTC)

    def today(self) -> date:
        """Today's UTC calendar day."""
        return self.now().date()
