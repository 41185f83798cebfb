"""The explained rows of days whose breakdown is still their samples' cells (SPEC 9).

Per cluster, day and group, one row of ``open_explanations`` holds every such explained
row as one msgpack list: the row's key, the name shown, the quantity, the sample that
reached it and the threads per core it counted with. The first sample of a day with 50
chargeback groups raises about a thousand rows: kept as one upsert each, they cost
SQLite more than all the rest of keeping them; as 51 small lists, merged here, they cost
little. Every sample reads them already (which rows would it raise?).

``merge_open`` adds entries to the lists as read in the same transaction (on PostgreSQL
under a transaction-scoped lock on the cluster's explanations, ``lock_explanations``,
so two writers never merge from one state). A list that cannot be read is reported
(``StorageError``) to readers and, for a writer, logged and read as empty: the next
sample raising the day's peaks writes it again. The caller owns the transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Annotated, Final

import msgspec
from sqlalchemy import ColumnElement, Connection, delete, select, text

from license_service.errors import StorageError
from license_service.metering.cluster_view import ClusterId
from license_service.metering.explanation_cells import ExplainedRow
from license_service.store.tables import open_explanations
from license_service.store.upserts import BulkInsert, bulk_insert

_FORMAT: Final = 1

logger = logging.getLogger(__name__)


class OpenEntry(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    """An explained row kept by a sample whose cells explain it."""

    cloudpak_id: str
    cloudpak_metric: str
    product_id: str
    metric: str
    conversion: str
    product_name: str
    metric_quantity: int
    # Aware (msgpack's timestamp): a naive instant is refused when read.
    sample_at: Annotated[datetime, msgspec.Meta(tz=True)]
    threads_per_core: int

    @property
    def row(self) -> ExplainedRow:
        """The explained row's key."""
        return ExplainedRow(
            self.cloudpak_id, self.cloudpak_metric, self.product_id, self.metric, self.conversion
        )


class _Stored(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    format: int
    entries: list[OpenEntry]


OpenDay = dict[str, dict[ExplainedRow, OpenEntry]]
"""A day's open entries: group (``""``: the whole cluster) -> row -> entry."""

_ENCODER: Final = msgspec.msgpack.Encoder()
_DECODER: Final = msgspec.msgpack.Decoder(_Stored)

_REPLACING: Final = BulkInsert(
    open_explanations,
    columns=("group_name", "entries"),
    shared=("cluster_id", "day"),
    key=("cluster_id", "day", "group_name"),
    updates=lambda new: {"entries": new.entries},
)


def read_open(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    day: date,
    group_name: str | None = None,
    writing: bool = False,
) -> OpenDay:
    """The open entries of ``day``, of every group or of ``group_name`` only.

    ``StorageError`` for a list that cannot be read; ``writing``: such a list is logged
    and read as empty instead (a sample then writes it again).
    """
    table = open_explanations.c
    of_group = () if group_name is None else (table.group_name == group_name,)
    found = connection.execute(
        select(table.group_name, table.entries).where(
            table.cluster_id == cluster_id, table.day == day, *of_group
        )
    ).all()
    by_group: OpenDay = {}
    for name, blob in found:
        try:
            entries = decode_entries(blob)
        except StorageError as exc:
            if not writing:
                raise
            logger.warning("Usage explanations of %s (%r) written again: %s", day, name, exc)
            entries = []
        by_group[name] = {entry.row: entry for entry in entries}
    return by_group


def decode_entries(blob: bytes) -> list[OpenEntry]:
    """The entries stored as ``blob``; ``StorageError`` when it is not ours."""
    try:
        stored = _DECODER.decode(blob)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise _damaged(exc) from exc
    if stored.format != _FORMAT:
        raise _damaged(f"format {stored.format!r}")
    return stored.entries


def _damaged(reason: object) -> StorageError:
    return StorageError(
        f"a kept list of usage explanations cannot be read ({reason}); it was written by "
        "another program or damaged: the next sample that raises the day's peaks writes it "
        "again"
    )


def lock_explanations(connection: Connection, *, cluster_id: ClusterId) -> None:
    """PostgreSQL: hold the cluster's explanations until the transaction ends (SQLite's
    writers hold the whole file already)."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"),
            {"name": f"license-service explanations {cluster_id}"},
        )


def merge_open(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    day: date,
    held: OpenDay,
    entries: Mapping[str, Iterable[OpenEntry]],
) -> None:
    """Write the lists of ``day`` that ``entries`` (group -> entries) change: the list
    ``held`` (as read in this transaction, under ``lock_explanations``) with each entry
    added, replacing the entry of its row."""
    stored = []
    for group_name, group_entries in entries.items():
        added = {entry.row: entry for entry in group_entries}
        if added:
            merged = {**held.get(group_name, {}), **added}
            stored.append((group_name, encode_entries(merged.values())))
    bulk_insert(connection, _REPLACING, stored, shared={"cluster_id": cluster_id, "day": day})


def encode_entries(entries: Iterable[OpenEntry]) -> bytes:
    """The stored form of ``entries``."""
    return _ENCODER.encode(_Stored(_FORMAT, list(entries)))


def replace_open(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    day: date,
    group_name: str,
    entries: Iterable[OpenEntry],
) -> None:
    """Hold exactly ``entries`` for the group's ``day`` (none: drop its list)."""
    remaining = list(entries)
    if not remaining:
        table = open_explanations.c
        connection.execute(
            delete(open_explanations).where(
                table.cluster_id == cluster_id, table.day == day, table.group_name == group_name
            )
        )
        return
    bulk_insert(
        connection,
        _REPLACING,
        [(group_name, encode_entries(remaining))],
        shared={"cluster_id": cluster_id, "day": day},
    )


def open_days(
    connection: Connection, *where: ColumnElement[bool]
) -> list[tuple[ClusterId, date, str, bytes]]:
    """Every open list (``where``: of which clusters and days): cluster, day, group, blob."""
    table = open_explanations.c
    found = connection.execute(
        select(table.cluster_id, table.day, table.group_name, table.entries)
        .where(*where)
        .order_by(table.cluster_id, table.day, table.group_name)
    ).all()
    return [(ClusterId(row[0]), row[1], row[2], row[3]) for row in found]
