"""What a snapshot says about its making besides the store's rows (SPEC 5 ``data_condition``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from license_service.metering.cluster_view import ClusterId
from license_service.metering.entitlements import Entitlements


@dataclass(frozen=True, slots=True)
class SnapshotContext:
    """The service, the cluster, the generation time (aware) and the retention in force."""

    version: str
    cluster_id: ClusterId
    cluster_name: str
    generated_at: datetime
    retention_sample_days: int
    retention_peak_days: int
    entitlements: Entitlements = field(default_factory=Entitlements)
    """The entitlements in force, for ``compliance_<s>.csv`` (SPEC 13)."""
    chargeback: bool = False
    """Chargeback on (SPEC 8): the groups' files are written, from the groups' peaks."""
