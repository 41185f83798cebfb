"""A Cloud Pak's day value with uploads (SPEC 10): the exact sums it is rounded up from.

``metering.cloudpak_sums`` gives the rule: ``ceil(M + U)``, ``M`` the day's highest
exact measured converted sum, ``U`` the uploaded bundled products' converted day
values. This module keeps both per day and Cloud Pak (``cloudpak_measured_sums``,
``cloudpak_uploaded_sums``) and raises the Cloud Pak's row of ``product_daily_peaks``
to the rule's value (the higher wins, as for samples) whenever either grows:

- ``record_measured_sums``: in a sample's transaction, ``M`` becomes the higher of the
  stored and the sample's sum; with uploads that day, the row is raised;
- ``record_uploaded_sums``: in an upload's transaction, ``U`` is replaced by its new
  (never lower) value and the row raised.

On PostgreSQL both take a transaction-scoped advisory lock per Cloud Pak first (in one
order), so a sample and an upload of one Cloud Pak never compute from each other's
stale sums; SQLite writers are serialised anyway. A day sampled before these tables
existed has no ``M``: its stored measured peak stays the floor (the higher wins).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from fractions import Fraction
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, Table, select, text

from license_service.metering.cloudpak_sums import CloudpakKey, cloudpak_value
from license_service.metering.cluster_view import ClusterId
from license_service.metering.usage_rows import PRODUCT_ROWS, ProductUsage
from license_service.store.daily_peaks import record_daily_peaks
from license_service.store.stored_rows import MeasurementRows, stored_rows
from license_service.store.tables import cloudpak_measured_sums, cloudpak_uploaded_sums
from license_service.store.upserts import BulkInsert, Excluded, bulk_insert

_KEY: Final = ("cluster_id", "day", "cloudpak_id", "cloudpak_metric")


def _replacing(table: Table, value: str) -> BulkInsert:
    def updates(new: Excluded) -> Mapping[str, ColumnElement[Any]]:
        return {value: new[value]}

    return BulkInsert(
        table,
        columns=("cloudpak_id", "cloudpak_metric", value),
        shared=("cluster_id", "day"),
        key=_KEY,
        updates=updates,
    )


_VALUE: Final = {"cloudpak_measured_sums": "measured_sum", "cloudpak_uploaded_sums": "uploaded_sum"}
_MEASURED: Final = _replacing(cloudpak_measured_sums, "measured_sum")
_UPLOADED: Final = _replacing(cloudpak_uploaded_sums, "uploaded_sum")


def record_measured_sums(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    day: date,
    taken_at: datetime,
    sums: Mapping[CloudpakKey, Fraction],
    names: Mapping[CloudpakKey, str],
) -> None:
    """Fold a sample's converted sums (taken at ``taken_at``) into ``day``'s ``M``; raise the
    Cloud Paks that have uploads that day (``names``: each Cloud Pak's name in the sample)."""
    if not sums:
        return
    lock_cloudpaks(connection, cluster_id=cluster_id, keys=sums)
    stored = _sums(connection, cloudpak_measured_sums, cluster_id=cluster_id, day=day, keys=sums)
    higher = {key: value for key, value in sums.items() if key not in stored or value > stored[key]}
    if higher:
        bulk_insert(
            connection,
            _MEASURED,
            [(*key, _text(value)) for key, value in higher.items()],
            shared={"cluster_id": cluster_id, "day": day},
        )
    uploaded = _sums(connection, cloudpak_uploaded_sums, cluster_id=cluster_id, day=day, keys=sums)
    rows = [
        ProductUsage(
            names[key],
            key[0],
            key[1],
            cloudpak_value(key[1], measured=max(sums[key], stored.get(key, sums[key])), uploaded=u),
        )
        for key, u in uploaded.items()
    ]
    _raise(connection, cluster_id=cluster_id, day=day, names_at=taken_at, rows=rows)


def record_uploaded_sums(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    day: date,
    names_at: datetime,
    sums: Mapping[CloudpakKey, Fraction],
    names: Mapping[CloudpakKey, str],
) -> None:
    """Make ``sums`` ``day``'s ``U`` of their Cloud Paks (locked by the caller with
    ``lock_cloudpaks``) and raise their rows; ``names``: from the uploads."""
    if not sums:
        return
    bulk_insert(
        connection,
        _UPLOADED,
        [(*key, _text(value)) for key, value in sums.items()],
        shared={"cluster_id": cluster_id, "day": day},
    )
    measured = _sums(connection, cloudpak_measured_sums, cluster_id=cluster_id, day=day, keys=sums)
    rows = [
        ProductUsage(
            names[key],
            key[0],
            key[1],
            cloudpak_value(key[1], measured=measured.get(key, Fraction(0)), uploaded=value),
        )
        for key, value in sums.items()
    ]
    _raise(connection, cluster_id=cluster_id, day=day, names_at=names_at, rows=rows)


def lock_cloudpaks(
    connection: Connection, *, cluster_id: ClusterId, keys: Mapping[CloudpakKey, Any] | Any
) -> None:
    """PostgreSQL: hold a transaction-scoped lock per Cloud Pak of ``keys``, taken in order."""
    if connection.dialect.name != "postgresql" or not keys:
        return
    names = sorted(f"license-service cloudpak {cluster_id} {id_} {metric}" for id_, metric in keys)
    # One round trip; the locks are taken in the names' order, as every writer takes them.
    connection.execute(
        text(
            "SELECT pg_advisory_xact_lock(hashtextextended(name, 0)) "
            "FROM unnest(CAST(:names AS text[])) WITH ORDINALITY AS locks(name, position) "
            "ORDER BY position"
        ),
        {"names": names},
    )


def _sums(
    connection: Connection,
    table: Table,
    *,
    cluster_id: ClusterId,
    day: date,
    keys: Mapping[CloudpakKey, Any],
) -> dict[CloudpakKey, Fraction]:
    """The stored sums of ``day`` for the Cloud Paks of ``keys``."""
    found = connection.execute(
        select(table.c.cloudpak_id, table.c.cloudpak_metric, table.c[_VALUE[table.name]]).where(
            table.c.cluster_id == cluster_id, table.c.day == day
        )
    )
    return {
        (cloudpak_id, metric): Fraction(stored)
        for cloudpak_id, metric, stored in found
        if (cloudpak_id, metric) in keys
    }


def _raise(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    day: date,
    names_at: datetime,
    rows: list[ProductUsage],
) -> None:
    if rows:
        measured = MeasurementRows(stored_rows(PRODUCT_ROWS, rows), [], [])
        record_daily_peaks(
            connection, cluster_id=cluster_id, day=day, taken_at=names_at, rows=measured
        )


def _text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"
