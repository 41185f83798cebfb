"""Daily peaks: per UTC day and row key, the highest value of that day (SPEC 2.7).

``record_daily_peaks`` folds one sample into its day with one bulk upsert per table
(a prepared statement, ``upserts.BulkInsert``): the value becomes the higher of the
stored and the new one, and the descriptive names (product, Cloud Pak, service)
become those of the latest sample of the day, whatever order samples arrive in.
The key, the names and the value of each table are its row specification's
(``metering.usage_rows``). Bundled products compare the measured quantity; the
converted quantity is derived on read from it and the stored ratio text.
``peaks_in_period`` is the one filter every report query uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, Table, case, or_

from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import RowSpec
from license_service.metering.usage_rows import CHARGEBACK_ROWS, USAGE_ROWS
from license_service.store.stored_rows import MeasurementRows, StoredRow
from license_service.store.tables import daily_peak_table
from license_service.store.upserts import BulkInsert, Excluded, bulk_insert

_SHARED: Final = ("cluster_id", "day", "names_at")


def _raising_peaks(rows: RowSpec[Any], *, skip_unchanged: bool = False) -> BulkInsert:
    """The upsert that raises a day's peaks of ``rows``: the higher value wins, names follow
    the latest sample of the day. ``skip_unchanged``: a stored row is only rewritten when
    the new one raises its value or brings other names (the sampler stores samples in
    time order, so the names then are the latest's all the same)."""
    table = daily_peak_table(rows)
    value = rows.database_value

    def updates(new: Excluded) -> Mapping[str, ColumnElement[Any]]:
        stored = table.c
        later = new.names_at >= stored.names_at
        changes: dict[str, ColumnElement[Any]] = {
            value: case((new[value] > stored[value], new[value]), else_=stored[value]),
            "names_at": case((later, new.names_at), else_=stored.names_at),
        }
        for name in rows.database_names:
            changes[name] = case((later, new[name]), else_=stored[name])
        return changes

    def changed(new: Excluded) -> ColumnElement[bool]:
        stored = table.c
        return or_(
            new[value] > stored[value], *(new[name] != stored[name] for name in rows.database_names)
        )

    return BulkInsert(
        table,
        columns=rows.database_columns,
        shared=_SHARED,
        key=("cluster_id", "day", *rows.database_key),
        updates=updates,
        only=changed if skip_unchanged else None,
    )


# Chargeback groups' rows are many (groups x products) and rarely change within a day:
# rows that would change nothing are not rewritten (SPEC 8).
_RAISING_PEAKS: Final = {
    **{kind: _raising_peaks(kind) for kind in USAGE_ROWS},
    **{kind: _raising_peaks(kind, skip_unchanged=True) for kind in CHARGEBACK_ROWS.values()},
}


def record_daily_peaks(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    day: date,
    taken_at: datetime,
    rows: MeasurementRows,
) -> None:
    """Raise the peaks of ``day`` to the values in ``rows`` (a sample taken at ``taken_at``)."""
    shared = {"cluster_id": cluster_id, "day": day, "names_at": taken_at}
    for kind, kind_rows in rows.by_kind():
        bulk_insert(connection, _RAISING_PEAKS[kind], kind_rows, shared=shared)


def record_group_peaks(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    day: date,
    taken_at: datetime,
    rows: Mapping[RowSpec[Any], list[StoredRow]],
) -> None:
    """Raise the chargeback groups' peaks of ``day``: ``rows`` of each group kind
    (``usage_rows.CHARGEBACK_ROWS``' values), stored form, group name first."""
    shared = {"cluster_id": cluster_id, "day": day, "names_at": taken_at}
    for kind, kind_rows in rows.items():
        bulk_insert(connection, _RAISING_PEAKS[kind], kind_rows, shared=shared)


def peaks_in_period(
    table: Table,
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None,
    group: str | None = None,
) -> list[ColumnElement[bool]]:
    """The conditions selecting the daily peaks of ``table`` in ``period`` (and ``metric``;
    and ``group``, of a chargeback group's table)."""
    conditions = [
        table.c.cluster_id == cluster_id,
        table.c.day >= period.first,
        table.c.day <= period.last,
    ]
    if group is not None:
        conditions.append(table.c.group_name == group)
    if metric is not None:
        conditions.append(table.c.metric == metric)
    return conditions
