"""The election's Lease on the API server: read, create and update it with the real client.

``LeaseClient`` speaks ``coordination.k8s.io/v1`` through ``CoordinationV1Api`` and
translates at this edge: the rest of the service sees ``LeaseRecord`` values, a
``resourceVersion`` string, and two errors (module ``failures`` says which kind):

    ClusterError
    +-- LeaseConflict   409: another replica wrote the Lease (or created it) first

It has its own client, sharing the connection's configuration but not its pool, so
a collector's stuck watch never holds up a renewal; its ``User-Agent`` names the
replica (``license-service leader-election (<identity>)``), which is also how a test
cuts one replica off the API server. Each request has a short timeout and no
retries: a leader must learn within its renew deadline that it cannot renew.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from license_service.cluster.kubernetes.failures import describe_failure, status_code
from license_service.election.lease_records import LeaseRecord, ReplicaId
from license_service.errors import ClusterError

_NOT_FOUND: Final = 404
_CONFLICT: Final = 409
# Connect and read timeouts (s): well inside the 5 s between rounds.
_TIMEOUT: Final = (2.0, 3.0)


class LeaseConflict(ClusterError):
    """The Lease changed (or was created) since we read it: another replica won the round."""


class LeaseClient:
    """Reads and writes the Lease ``name`` in ``namespace`` for the replica ``identity``."""

    def __init__(
        self,
        api_client: client.ApiClient,
        *,
        namespace: str,
        name: str,
        identity: ReplicaId,
        version: str,
    ) -> None:
        """Use a client of its own built on ``api_client``'s configuration (not its pool)."""
        self._client = client.ApiClient(api_client.configuration)
        self._client.user_agent = f"license-service/{version} leader-election ({identity})"
        # No retries: a failed renewal is tried again at the next round, within the deadline.
        self._client.rest_client.pool_manager.connection_pool_kw["retries"] = 0
        self._api = client.CoordinationV1Api(self._client)
        self.namespace = namespace
        self.name = name

    @property
    def place(self) -> str:
        """``Lease <namespace>/<name>``, for messages."""
        return f"Lease {self.namespace}/{self.name}"

    def read(self) -> tuple[LeaseRecord, str] | None:
        """The Lease's record and resourceVersion, or ``None`` when there is no Lease."""
        try:
            lease = self._api.read_namespaced_lease(
                self.name, self.namespace, _request_timeout=_TIMEOUT
            )
        except ApiException as error:
            if status_code(error) == _NOT_FOUND:
                return None
            raise self._failure(error, "get") from error
        except Exception as error:
            raise self._failure(error, "get") from error
        return _record_of(lease.spec), _version_of(lease)

    def create(self, record: LeaseRecord) -> str:
        """Create the Lease holding ``record``; its resourceVersion (``LeaseConflict``: exists)."""
        return self._write("create", self._body(record, resource_version=None))

    def update(self, record: LeaseRecord, *, resource_version: str) -> str:
        """Write ``record`` over the Lease read at ``resource_version``; its new resourceVersion.

        ``LeaseConflict`` when the Lease changed meanwhile.
        """
        return self._write("update", self._body(record, resource_version=resource_version))

    def close(self) -> None:
        """Release this client's connections."""
        self._client.close()  # type: ignore[no-untyped-call]

    def _body(self, record: LeaseRecord, *, resource_version: str | None) -> client.V1Lease:
        return client.V1Lease(
            api_version="coordination.k8s.io/v1",
            kind="Lease",
            metadata=client.V1ObjectMeta(
                name=self.name, namespace=self.namespace, resource_version=resource_version
            ),
            spec=_spec_of(record),
        )

    def _write(self, verb: str, body: client.V1Lease) -> str:
        try:
            if verb == "create":
                written = self._api.create_namespaced_lease(
                    self.namespace, body, _request_timeout=_TIMEOUT
                )
            else:
                written = self._api.replace_namespaced_lease(
                    self.name, self.namespace, body, _request_timeout=_TIMEOUT
                )
        except ApiException as error:
            if status_code(error) == _CONFLICT:
                raise LeaseConflict(
                    f"{verb} {self.place}: another replica wrote it first (409)"
                ) from error
            raise self._failure(error, verb) from error
        except Exception as error:
            raise self._failure(error, verb) from error
        return _version_of(written)

    def _failure(self, error: BaseException, verb: str) -> ClusterError:
        failure = describe_failure(error, action=f"{verb} {self.place}", resource="leases")
        return ClusterError(failure.message)


def _version_of(lease: client.V1Lease) -> str:
    version = lease.metadata.resource_version if lease.metadata is not None else None
    if not version:
        raise ClusterError("the API server answered a Lease without metadata.resourceVersion")
    return str(version)


def _spec_of(record: LeaseRecord) -> client.V1LeaseSpec:
    return client.V1LeaseSpec(
        holder_identity=record.holder or None,
        lease_duration_seconds=record.lease_duration_seconds,
        acquire_time=_micro_time(record.acquire_time),
        renew_time=_micro_time(record.renew_time),
        lease_transitions=record.transitions,
    )


class _MicroTime(datetime):
    """A datetime the client writes as the API server's MicroTime (``...00.000000Z``).

    The client writes a datetime with ``isoformat()``, which leaves out a zero fraction;
    the API server parses Lease times with six fraction digits and refuses that.
    """

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:  # noqa: ARG002 (always micro)
        return super().isoformat(sep, "microseconds").replace("+00:00", "Z")


def _micro_time(instant: datetime | None) -> datetime | None:
    if instant is None:
        return None
    utc = instant.astimezone(UTC)
    return _MicroTime(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, UTC
    )


def _record_of(spec: client.V1LeaseSpec | None) -> LeaseRecord:
    """The record of a Lease's spec; a Lease written by hand may leave any field out."""
    if spec is None:
        return LeaseRecord(holder="", lease_duration_seconds=0, acquire_time=None, renew_time=None)
    return LeaseRecord(
        holder=spec.holder_identity or "",
        lease_duration_seconds=int(spec.lease_duration_seconds or 0),
        acquire_time=_utc(spec.acquire_time),
        renew_time=_utc(spec.renew_time),
        transitions=int(spec.lease_transitions or 0),
    )


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
