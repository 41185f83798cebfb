"""The Reporter's list of clusters (SPEC 11 ``/clusters``), for the API and the snapshot alike.

Each cluster with its name, version, last push, last reported day, pinned key and the
days of a period it misses (``metering.fleet_sums.missing_days``: from its first day up
to yesterday). ``/clusters`` answers these documents; the snapshot's ``clusters.csv``
is their CSV, the bytes of ``/clusters?format=csv``. Read in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any, Final

from sqlalchemy import Connection

from license_service.fleet.fleet_store import cluster_records, reported_days
from license_service.formats.csv_lines import Cell, csv_line, header_line
from license_service.formats.utc_instants import optional_utc_text
from license_service.metering.fleet_sums import missing_days
from license_service.metering.periods import DatePeriod

CLUSTER_COLUMNS: Final = (
    "clusterId",
    "clusterName",
    "serviceVersion",
    "lastPushAt",
    "lastDay",
    "keyFingerprint",
    "missingDays",
)


def cluster_documents(
    connection: Connection, period: DatePeriod, *, today: date
) -> list[dict[str, Any]]:
    """The ``/clusters`` rows of ``period``: each cluster, by id, its key and its missing days."""
    records = cluster_records(connection)
    reported = reported_days(connection, period)
    return [
        {
            "clusterId": record.cluster_id,
            "clusterName": record.cluster_name,
            "serviceVersion": record.service_version,
            "lastPushAt": optional_utc_text(record.last_push_at),
            "lastDay": record.last_day.isoformat() if record.last_day else None,
            "keyFingerprint": record.key_fingerprint,
            "missingDays": [
                day.isoformat()
                for day in missing_days(
                    reported.get(record.cluster_id, ()),
                    first_day=record.first_day,
                    period=period,
                    today=today,
                )
            ],
        }
        for record in records
    ]


def document_cell(value: Any) -> Cell:
    """A value of a ``/clusters`` (or ``/contributions``) document as a CSV cell: nothing
    for ``None``, ``true``/``false``, a list's items separated by spaces."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return value  # type: ignore[no-any-return]


def documents_csv(
    documents: Sequence[Mapping[str, Any]], columns: Sequence[str]
) -> Iterator[bytes]:
    """The CSV lines of ``documents`` with ``columns``: the header, then a line each."""
    yield header_line(columns)
    for document in documents:
        yield csv_line(tuple(document_cell(document[column]) for column in columns))
