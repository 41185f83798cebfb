"""The Reporter's store (SPEC 11): each cluster's days, its pinned key, what was refused.

``store_days`` keeps a push's (or an imported snapshot's) days of one cluster: each day
REPLACES that cluster's day (idempotent), all in the caller's transaction. The
cluster's signing-key fingerprint is pinned at its first push; days signed by another
key are not stored: the key is kept as pending, the refusal recorded, and a
``KeyRefusal`` returned (409) until ``trust_pending_key`` accepts it. Reads hand rows
back as the usage row types, per cluster and day, for ``metering.fleet_sums``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from license_service.errors import InputError
from license_service.fleet.copy_rows import copy_rows, copy_upsert
from license_service.fleet.push_format import ClusterIdentity, PushDay
from license_service.fleet.tables import (
    FLEET_PEAK_TABLES,
    FLEET_SUM_TABLES,
    fleet_clusters,
    fleet_days,
    fleet_refusals,
    fleet_uploads,
)
from license_service.metering.fleet_sums import acknowledged_day
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import RowSpec
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS, SERVICE_ROWS
from license_service.store.upserts import BulkInsert, Excluded

Source = Literal["push", "snapshot import"]


@dataclass(frozen=True, slots=True)
class KeyRefusal:
    """Days signed by another key than the one pinned for the cluster: not stored."""

    cluster_id: str
    fingerprint: str
    pinned_fingerprint: str

    @property
    def message(self) -> str:
        """The 409 message: both fingerprints and how to accept the new key."""
        return (
            f"cluster {self.cluster_id} signed with key {self.fingerprint}, but the Reporter "
            f"trusts {self.pinned_fingerprint} for it (pinned at its first push): if the "
            "cluster's signing key was replaced on purpose, accept the new key with "
            f"`license-service reporter trust {self.cluster_id}`"
        )


@dataclass(frozen=True, slots=True)
class StoredDays:
    """Days stored for a cluster; ``acknowledged_through``: its last complete day with no
    missing day before it since its first day (``None``: no complete day yet)."""

    cluster_id: str
    accepted: int
    acknowledged_through: date | None


@dataclass(frozen=True, slots=True)
class ClusterRecord:
    """A cluster as the Reporter knows it."""

    cluster_id: str
    cluster_name: str
    service_version: str
    last_push_at: datetime | None
    key_fingerprint: str
    pending_fingerprint: str | None
    first_day: date | None
    last_day: date | None


@dataclass(frozen=True, slots=True)
class Refusal:
    """A push or import refused for its key."""

    cluster_id: str
    refused_at: datetime
    source: str
    fingerprint: str
    pinned_fingerprint: str


_ROW_LISTS: tuple[tuple[RowSpec[Any], str], ...] = (
    (PRODUCT_ROWS, "products"),
    (BUNDLED_PRODUCT_ROWS, "bundled_products"),
    (SERVICE_ROWS, "services"),
)


def _peak_insert(rows: RowSpec[Any]) -> BulkInsert:
    """The insert of a cluster's days of ``rows``: the day and the row's columns per row."""
    return BulkInsert(
        FLEET_PEAK_TABLES[rows], columns=("day", *rows.database_columns), shared=("cluster_id",)
    )


def _sum_upsert(rows: RowSpec[Any]) -> BulkInsert:
    """The upsert adding a push's differences to the fleet's sums of ``rows``."""
    sums = FLEET_SUM_TABLES[rows]
    value = rows.database_columns[-1]

    def add(excluded: Excluded) -> dict[str, ColumnElement[Any]]:
        return {
            value: sums.c[value] + excluded[value],
            "contributors": sums.c.contributors + excluded.contributors,
        }

    return BulkInsert(
        sums,
        columns=("day", *rows.database_columns, "contributors"),
        key=("day", *rows.database_key, *rows.database_names),
        updates=add,
    )


# Module constants: ``bulk_insert`` compiles each once per dialect.
_PEAK_INSERTS: Final = {spec: _peak_insert(spec) for spec, _ in _ROW_LISTS}
_SUM_UPSERTS: Final = {spec: _sum_upsert(spec) for spec, _ in _ROW_LISTS}


def store_days(
    connection: Connection,
    cluster: ClusterIdentity,
    days: Sequence[PushDay],
    *,
    fingerprint: str,
    public_key_pem: str,
    now: datetime,
    source: Source,
) -> StoredDays | KeyRefusal:
    """Keep ``days`` of ``cluster`` signed by the key ``fingerprint``, or refuse them."""
    cluster_id = cluster.cluster_id
    pushed_at = now if source == "push" else None
    # Pin first, if no one has: two first pushes racing leave one key pinned, and the
    # row lock then orders every writer of the cluster.
    connection.execute(
        _insert_if_absent(connection).values(
            cluster_id=cluster_id,
            cluster_name=cluster.cluster_name,
            service_version=cluster.service_version,
            last_push_at=pushed_at,
            key_fingerprint=fingerprint,
            public_key_pem=public_key_pem,
        )
    )
    known = connection.execute(
        select(fleet_clusters.c.key_fingerprint)
        .where(fleet_clusters.c.cluster_id == cluster_id)
        .with_for_update()
    ).scalar_one()
    if known != fingerprint:
        connection.execute(
            update(fleet_clusters)
            .where(fleet_clusters.c.cluster_id == cluster_id)
            .values(
                pending_fingerprint=fingerprint,
                pending_public_key_pem=public_key_pem,
                pending_since=now,
            )
        )
        connection.execute(
            insert(fleet_refusals).values(
                cluster_id=cluster_id,
                refused_at=now,
                source=source,
                fingerprint=fingerprint,
                pinned_fingerprint=known,
            )
        )
        return KeyRefusal(cluster_id, fingerprint, known)
    changes: dict[str, Any] = {
        "cluster_name": cluster.cluster_name,
        "service_version": cluster.service_version,
    }
    if pushed_at is not None:
        changes["last_push_at"] = pushed_at
    connection.execute(
        update(fleet_clusters).where(fleet_clusters.c.cluster_id == cluster_id).values(changes)
    )
    _replace_days(connection, cluster_id, days, now=now, source=source)
    return StoredDays(cluster_id, len(days), acknowledged_through(connection, cluster_id))


def _insert_if_absent(connection: Connection) -> Any:
    """An INSERT of a cluster that does nothing when the cluster is there already."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(fleet_clusters).on_conflict_do_nothing()
    return sqlite.insert(fleet_clusters).on_conflict_do_nothing()


def _replace_days(
    connection: Connection,
    cluster_id: str,
    days: Sequence[PushDay],
    *,
    now: datetime,
    source: Source,
) -> None:
    """Each of ``days`` replaces the cluster's day: rows, uploads and the day's record."""
    if not days:
        return
    dates = [day.date for day in days]
    for spec, attribute in _ROW_LISTS:
        new_rows = [(day.date, row) for day in days for row in getattr(day, attribute)]
        _update_sums(connection, spec, cluster_id, dates, new_rows)
    tables = (*FLEET_PEAK_TABLES.values(), fleet_uploads, fleet_days)
    for table in tables:
        connection.execute(
            delete(table).where(table.c.cluster_id == cluster_id, table.c.day.in_(dates))
        )
    connection.execute(
        insert(fleet_days),
        [
            {
                "cluster_id": cluster_id,
                "day": day.date,
                "complete": day.complete,
                "source": source,
                "received_at": now,
                "samples_taken": day.coverage.samples_taken if source == "push" else None,
                "samples_expected": day.coverage.samples_expected if source == "push" else None,
            }
            for day in days
        ],
    )
    for spec, attribute in _ROW_LISTS:
        copy_rows(
            connection,
            _PEAK_INSERTS[spec],
            [(day.date, *spec.to_stored(row)) for day in days for row in getattr(day, attribute)],
            shared={"cluster_id": cluster_id},
        )
    uploads = [
        {
            "cluster_id": cluster_id,
            "day": day.date,
            "position": position,
            "received_at": upload.received_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "upload_day": upload.date,
            "product_id": upload.product_id,
            "product_name": upload.product_name,
            "product_metric": upload.product_metric,
            "metric_value": format(upload.metric_value, "f"),
            "aggregation_policy": upload.aggregation_policy.value,
            "cloudpak_id": upload.cloudpak_id,
            "submission_id": upload.submission_id,
        }
        for day in days
        for position, upload in enumerate(day.uploads)
    ]
    if uploads:
        connection.execute(insert(fleet_uploads), uploads)


def _update_sums(
    connection: Connection,
    rows: RowSpec[Any],
    cluster_id: str,
    dates: Sequence[date],
    new: Iterable[tuple[date, Any]],
) -> None:
    """Move the fleet's sums of ``dates`` from the cluster's stored rows to ``new``.

    Each sum row counts its ``contributors``: the cluster's old rows are taken away and
    its new ones added (a row pushed again unchanged changes nothing), by increments that
    concurrent pushes of other clusters cannot lose (one ``INSERT ... ON CONFLICT DO
    UPDATE``, rows in key order, so two pushes never wait on each other in a circle); a
    sum nobody contributes to any more is deleted. Cost: the cluster's own rows only.
    """
    peaks, sums = FLEET_PEAK_TABLES[rows], FLEET_SUM_TABLES[rows]
    columns = rows.database_columns  # key, names, value
    deltas: dict[tuple[Any, ...], list[int]] = {}
    old = connection.execute(
        select(peaks.c.day, *(peaks.c[name] for name in columns)).where(
            peaks.c.cluster_id == cluster_id, peaks.c.day.in_(dates)
        )
    )
    for stored in old:
        delta = deltas.setdefault(tuple(stored[:-1]), [0, 0])
        delta[0] -= stored[-1]
        delta[1] -= 1
    for day, row in new:
        values = rows.to_stored(row)
        delta = deltas.setdefault((day, *values[:-1]), [0, 0])
        delta[0] += values[-1]
        delta[1] += 1
    changed = [
        (*key, value, count) for key, (value, count) in sorted(deltas.items()) if value or count
    ]
    if not changed:
        return
    # PostgreSQL: COPY into a temporary table, then one upsert from it in key order.
    copy_upsert(connection, _SUM_UPSERTS[rows], changed)
    connection.execute(delete(sums).where(sums.c.day.in_(dates), sums.c.contributors <= 0))


def acknowledged_through(connection: Connection, cluster_id: str) -> date | None:
    """The cluster's last complete day with every day before it, since its first, held."""
    rows = connection.execute(
        select(fleet_days.c.day, fleet_days.c.complete)
        .where(fleet_days.c.cluster_id == cluster_id)
        .order_by(fleet_days.c.day)
    )
    return acknowledged_day((row.day, row.complete) for row in rows)


def trust_pending_key(connection: Connection, cluster_id: str) -> str:
    """Accept the key refused for ``cluster_id`` as its key; its fingerprint.

    ``InputError`` when the cluster is unknown or no key is pending.
    """
    row = connection.execute(
        select(fleet_clusters.c.pending_fingerprint, fleet_clusters.c.pending_public_key_pem)
        .where(fleet_clusters.c.cluster_id == cluster_id)
        .with_for_update()
    ).one_or_none()
    if row is None:
        raise InputError(
            f"no cluster {cluster_id!r} has pushed to this Reporter: GET /clusters lists "
            "the cluster ids it knows"
        )
    if row.pending_fingerprint is None or row.pending_public_key_pem is None:
        raise InputError(
            f"cluster {cluster_id} has no refused key to trust: its pinned key is in use"
        )
    connection.execute(
        update(fleet_clusters)
        .where(fleet_clusters.c.cluster_id == cluster_id)
        .values(
            key_fingerprint=row.pending_fingerprint,
            public_key_pem=row.pending_public_key_pem,
            pending_fingerprint=None,
            pending_public_key_pem=None,
            pending_since=None,
        )
    )
    return str(row.pending_fingerprint)


def cluster_records(connection: Connection) -> list[ClusterRecord]:
    """Every cluster, by id, with its first and last reported day."""
    spans = (
        select(
            fleet_days.c.cluster_id,
            func.min(fleet_days.c.day).label("first_day"),
            func.max(fleet_days.c.day).label("last_day"),
        )
        .group_by(fleet_days.c.cluster_id)
        .subquery()
    )
    c = fleet_clusters.c
    rows = connection.execute(
        select(
            c.cluster_id,
            c.cluster_name,
            c.service_version,
            c.last_push_at,
            c.key_fingerprint,
            c.pending_fingerprint,
            spans.c.first_day,
            spans.c.last_day,
        )
        .select_from(fleet_clusters.outerjoin(spans, spans.c.cluster_id == c.cluster_id))
        .order_by(c.cluster_id)
    ).all()
    return [ClusterRecord(*row) for row in rows]


def reported_days(
    connection: Connection, period: DatePeriod, *, cluster_id: str | None = None
) -> dict[str, set[date]]:
    """The days of ``period`` each cluster reported (all clusters, or ``cluster_id``)."""
    query = select(fleet_days.c.cluster_id, fleet_days.c.day).where(
        fleet_days.c.day.between(period.first, period.last)
    )
    if cluster_id is not None:
        query = query.where(fleet_days.c.cluster_id == cluster_id)
    found: dict[str, set[date]] = {}
    for row in connection.execute(query):
        found.setdefault(row.cluster_id, set()).add(row.day)
    return found


def cluster_daily_rows(
    connection: Connection,
    rows: RowSpec[Any],
    period: DatePeriod,
    *,
    cluster_id: str | None = None,
    metric: str | None = None,
) -> dict[str, dict[date, list[Any]]]:
    """Per cluster and day of ``period`` the daily peak rows of ``rows`` (a usage row spec)."""
    table = FLEET_PEAK_TABLES[rows]
    query = select(
        table.c.cluster_id, table.c.day, *(table.c[name] for name in rows.database_fields)
    ).where(table.c.day.between(period.first, period.last))
    if cluster_id is not None:
        query = query.where(table.c.cluster_id == cluster_id)
    if metric is not None:
        query = query.where(table.c.metric == metric)
    found: dict[str, dict[date, list[Any]]] = {}
    for row in connection.execute(query):
        by_day = found.setdefault(row[0], {})
        by_day.setdefault(row[1], []).append(rows.from_stored(row[2:]))
    return found


def fleet_daily_sums(
    connection: Connection,
    rows: RowSpec[Any],
    period: DatePeriod,
    *,
    cluster_id: str | None = None,
    metric: str | None = None,
) -> dict[date, list[Any]]:
    """Per day of ``period``, each key's values summed over the clusters (or one cluster's
    rows), as rows: the sums the pushes keep, days x keys rows, never x clusters.

    Rows whose names differ between clusters stay apart (summed again by
    ``fleet_sums.fleet_peaks``, which treats the result as one cluster's days).
    """
    if cluster_id is None:
        # The sums every push keeps: days x keys rows to read.
        table = FLEET_SUM_TABLES[rows]
        query = select(table.c.day, *(table.c[name] for name in rows.database_fields)).where(
            table.c.day.between(period.first, period.last)
        )
    else:
        table = FLEET_PEAK_TABLES[rows]
        query = select(table.c.day, *(table.c[name] for name in rows.database_fields)).where(
            table.c.day.between(period.first, period.last), table.c.cluster_id == cluster_id
        )
    if metric is not None:
        query = query.where(table.c.metric == metric)
    found: dict[date, list[Any]] = {}
    for row in connection.execute(query):
        found.setdefault(row[0], []).append(rows.from_stored(row[1:]))
    return found


def refusals(connection: Connection, *, limit: int = 100) -> list[Refusal]:
    """The latest refusals for a key, newest first."""
    r = fleet_refusals.c
    rows = connection.execute(
        select(r.cluster_id, r.refused_at, r.source, r.fingerprint, r.pinned_fingerprint)
        .order_by(r.id.desc())
        .limit(limit)
    ).all()
    return [Refusal(*row) for row in rows]


def known_cluster_ids(connection: Connection) -> Iterable[str]:
    """The ids of every cluster, sorted."""
    return connection.execute(
        select(fleet_clusters.c.cluster_id).order_by(fleet_clusters.c.cluster_id)
    ).scalars()
