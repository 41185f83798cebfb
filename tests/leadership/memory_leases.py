"""A Lease kept in memory with the API server's optimistic concurrency (409 on a stale
resourceVersion), shared by several replicas' clients, each of which a test can cut off."""

from __future__ import annotations

from dataclasses import dataclass, field

from license_service.cluster.kubernetes.leases import LeaseConflict
from license_service.election.lease_records import LeaseRecord
from license_service.errors import ClusterError


@dataclass
class MemoryLease:
    """The one Lease and its version history (what each write stored)."""

    record: LeaseRecord | None = None
    version: int = 0
    writes: list[LeaseRecord] = field(default_factory=list)

    def client(self) -> MemoryLeaseClient:
        """A replica's own client of this Lease."""
        return MemoryLeaseClient(self)


class MemoryLeaseClient:
    """One replica's view; ``cut_off`` makes every call fail as a partition does."""

    place = "Lease licensing/license-service-leader"

    def __init__(self, lease: MemoryLease) -> None:
        self._lease = lease
        self.cut_off = False

    def read(self) -> tuple[LeaseRecord, str] | None:
        self._check()
        if self._lease.record is None:
            return None
        return self._lease.record, str(self._lease.version)

    def create(self, record: LeaseRecord) -> str:
        self._check()
        if self._lease.record is not None:
            raise LeaseConflict("create: it exists (409)")
        return self._store(record)

    def update(self, record: LeaseRecord, *, resource_version: str) -> str:
        self._check()
        if self._lease.record is None or resource_version != str(self._lease.version):
            raise LeaseConflict("update: another replica wrote it first (409)")
        return self._store(record)

    def _store(self, record: LeaseRecord) -> str:
        self._lease.version += 1
        self._lease.record = record
        self._lease.writes.append(record)
        return str(self._lease.version)

    def _check(self) -> None:
        if self.cut_off:
            raise ClusterError("get Lease: cannot reach the API server: partition")
