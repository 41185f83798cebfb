"""A sample's breakdown kept as its cells until the day is over (SPEC 9).

A sample that raises a day's peak keeps, in its own transaction, the cells of each row
it raised (``metering.explanation_cells``: pods, charged containers and millicores per
workload and node) as msgpack in ``explanation_cells``; what explaining them needs
besides, once per change: the chargeback groups, the settings and a length of the log of
names and nodes in ``explanation_contexts``, the log's entries not written yet in
``explanation_names`` (a segment). All of it encodes at C speed: keeping costs a few
milliseconds, where building the contributions costs a pass per contribution.
The day's open explanations (``open_explanations``) refer to the cells by (cluster,
sample instant, row key); ``read_explanation`` explains them on request (the two
contexts read last kept decoded: the other rows of a sample then skip its log), and
``explanation_write_out`` turns them into contributions once the day is over, then
drops what nothing refers to (``forget_cells``, ``forget_contexts``, ``forget_names``).
``forget_unreferenced`` drops at once the cells of a sample whose peaks a later sample
raised again. The caller owns the transaction.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

import msgspec
from sqlalchemy import ColumnElement, Connection, bindparam, delete, exists, func, select

from license_service.errors import StorageError
from license_service.metering.cluster_view import ClusterId
from license_service.metering.explanation_cells import Cells, ExplainedRow, RowCells, replay_log
from license_service.metering.settings import CappingSource, MeteringSettings
from license_service.metering.usage_explanations import (
    CellContext,
    UsageExplanation,
    explain_cells,
    node_facts,
)
from license_service.store.instants import start_of_day
from license_service.store.open_explanations import read_open
from license_service.store.tables import (
    EXPLAINED_KEY,
    explanation_cells,
    explanation_contexts,
    explanation_names,
)
from license_service.store.upserts import BulkInsert, bulk_insert

_FORMAT: Final = 1

logger = logging.getLogger(__name__)


class _StoredCells(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    format: int
    # Three lists in one order: each key once (a map per value would repeat them).
    keys: list[int]
    counts: list[int]
    loads: list[int]


class _StoredContext(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    format: int
    log_length: int
    groups: dict[str, str]
    threads_per_core: int
    node_cpu_capping: bool
    capping_source: str
    default_pvu_per_core: int
    excluded_namespaces: list[str]


_ENCODER: Final = msgspec.msgpack.Encoder()
_CELLS: Final = msgspec.msgpack.Decoder(_StoredCells)
_CONTEXT: Final = msgspec.msgpack.Decoder(_StoredContext)
_LOG: Final = msgspec.msgpack.Decoder(list[list[str | None]])

_KEEPING_CELLS: Final = BulkInsert(
    explanation_cells,
    columns=(*EXPLAINED_KEY, "cells"),
    shared=("cluster_id", "sample_at", "context_key"),
)


def context_key(cells: Cells, settings: MeteringSettings, group_of: Mapping[str, str]) -> str:
    """The name of what explains ``cells`` under ``settings`` and ``group_of``: equal for
    snapshots of one index (``Cells.epoch``) at one length of its log, with the same
    settings and groups."""
    digest = hashlib.sha256()
    digest.update(f"{cells.epoch}\0{cells.log_length}\0{settings!r}".encode())
    for namespace, group in sorted(group_of.items()):
        digest.update(f"\0{namespace}\0{group}".encode())
    return digest.hexdigest()[:32]


def keep_cells(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    sample_at: datetime,
    cells: Cells,
    rows: Collection[ExplainedRow],
    settings: MeteringSettings,
    group_of: Mapping[str, str],
) -> None:
    """Keep the cells of ``rows`` of the sample at ``sample_at``, and what explains them
    that is not kept yet: the entries of ``cells``' log written since the last, and
    ``settings`` and ``group_of`` (the chargeback groups as the sample saw them)."""
    key = context_key(cells, settings, group_of)
    known = connection.execute(
        select(explanation_contexts.c.context_key).where(
            explanation_contexts.c.cluster_id == cluster_id,
            explanation_contexts.c.context_key == key,
        )
    ).first()
    if known is None:
        _keep_log(connection, cluster_id=cluster_id, cells=cells)
        connection.execute(
            explanation_contexts.insert().values(
                cluster_id=cluster_id,
                context_key=key,
                epoch=cells.epoch,
                content=_encode_context(cells, settings, group_of),
            )
        )
    stored = []
    for row in rows:
        kept = cells.rows[row]
        # The snapshot's dicts are never changed after it, and hold their keys in one
        # order (``RowCells``): read as they are, at C speed.
        counts = kept.counts
        encoded = _StoredCells(
            _FORMAT, list(counts), list(counts.values()), list(kept.loads.values())
        )
        stored.append((*row, _ENCODER.encode(encoded)))
    shared = {"cluster_id": cluster_id, "sample_at": sample_at, "context_key": key}
    bulk_insert(connection, _KEEPING_CELLS, stored, shared=shared)


def _keep_log(connection: Connection, *, cluster_id: ClusterId, cells: Cells) -> None:
    """Write the entries of ``cells``' log not written yet (only those: a segment)."""
    names = explanation_names.c
    written = connection.execute(
        select(func.max(names.end)).where(
            names.cluster_id == cluster_id, names.epoch == cells.epoch
        )
    ).scalar_one_or_none()
    start = written or 0
    if start < cells.log_length:
        connection.execute(
            explanation_names.insert().values(
                cluster_id=cluster_id,
                epoch=cells.epoch,
                start=start,
                end=cells.log_length,
                entries=_ENCODER.encode(cells.log[start : cells.log_length]),
            )
        )


def _encode_context(cells: Cells, settings: MeteringSettings, group_of: Mapping[str, str]) -> bytes:
    return _ENCODER.encode(
        _StoredContext(
            format=_FORMAT,
            log_length=cells.log_length,
            groups=dict(group_of),
            threads_per_core=settings.threads_per_core,
            node_cpu_capping=settings.node_cpu_capping,
            capping_source=settings.capping_source,
            default_pvu_per_core=settings.default_pvu_per_core,
            excluded_namespaces=list(settings.excluded_namespaces),
        )
    )


class _RecentContexts:
    """The contexts read last, by (cluster, key): a context never changes once written (its
    key names its log's epoch and length, its settings and groups), and reading one
    replays its log (about 80 ms at 150,000 pods), which every first read of today's
    rows of one sample would repeat. Shared by the threads that answer requests."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._held: OrderedDict[tuple[ClusterId, str], CellContext] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, connection: Connection, cluster_id: ClusterId, key: str) -> CellContext:
        """The context ``key``, read from ``connection`` unless it was read lately."""
        with self._lock:
            context = self._held.get((cluster_id, key))
            if context is not None:
                self._held.move_to_end((cluster_id, key))
                return context
        context = _read_context(connection, cluster_id, key)  # outside the lock: slow
        with self._lock:
            self._held[(cluster_id, key)] = context
            while len(self._held) > self._size:
                self._held.popitem(last=False)
        return context


# Two: today's latest sample's context and one before it (each a few MB at 150,000 pods).
_CONTEXTS: Final = _RecentContexts(2)


def _read_context(connection: Connection, cluster_id: ClusterId, key: str) -> CellContext:
    """The context ``key``: its settings and groups, and the names and nodes of its log."""
    found = connection.execute(
        select(explanation_contexts.c.epoch, explanation_contexts.c.content).where(
            explanation_contexts.c.cluster_id == cluster_id,
            explanation_contexts.c.context_key == key,
        )
    ).first()
    if found is None:
        raise ValueError(f"no context {key}")
    epoch, content = found
    stored = _CONTEXT.decode(content)
    if stored.format != _FORMAT:
        raise ValueError(f"format {stored.format!r}")
    names = explanation_names.c
    segments = connection.execute(
        select(names.start, names.end, names.entries)
        .where(
            names.cluster_id == cluster_id,
            names.epoch == epoch,
            names.start < stored.log_length,
        )
        .order_by(names.start)
    ).all()
    entries: list[list[str | None]] = []
    for start, end, blob in segments:
        if start != len(entries):
            raise ValueError(f"the log of {epoch} lacks entries {len(entries)} to {start}")
        segment = _LOG.decode(blob)
        if len(segment) != end - start:
            raise ValueError(f"a segment of the log of {epoch} holds {len(segment)} entries")
        entries.extend(segment)
    if len(entries) < stored.log_length:
        raise ValueError(f"the log of {epoch} ends at {len(entries)}, not {stored.log_length}")
    replayed = replay_log(entries[: stored.log_length])
    capping: CappingSource = "allocatable" if stored.capping_source == "allocatable" else "capacity"
    settings = MeteringSettings(
        threads_per_core=stored.threads_per_core,
        node_cpu_capping=stored.node_cpu_capping,
        capping_source=capping,
        default_pvu_per_core=stored.default_pvu_per_core,
        excluded_namespaces=tuple(stored.excluded_namespaces),
    )
    return CellContext(
        workloads=replayed.workloads,
        nodes=replayed.nodes,
        node_facts=node_facts(replayed.node_states, settings),
        group_of=stored.groups,
        settings=settings,
    )


def _decode_cells(blob: bytes, product_name: str) -> RowCells:
    stored = _CELLS.decode(blob)
    if stored.format != _FORMAT:
        raise ValueError(f"format {stored.format!r}")
    if not len(stored.keys) == len(stored.counts) == len(stored.loads):
        raise ValueError("cells of unequal lengths")
    return RowCells(
        product_name,
        dict(zip(stored.keys, stored.counts, strict=True)),
        dict(zip(stored.keys, stored.loads, strict=True)),
    )


@dataclass(frozen=True, slots=True)
class ReferringRow:
    """An explained row that refers to cells, as explaining it needs it."""

    sample_at: datetime
    row: ExplainedRow
    group_name: str
    product_name: str


def read_explanation(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    sample_at: datetime,
    row: ExplainedRow,
    group_name: str,
    product_name: str,
) -> UsageExplanation:
    """The explanation of ``row`` (of the cluster, or of the group ``group_name``) from the
    cells kept by the sample at ``sample_at``; ``StorageError`` when they are missing."""
    referring = ReferringRow(sample_at, row, group_name, product_name)
    explained = explain_referring(connection, cluster_id, sample_at, [referring])
    return explained[(group_name, row)]


def explain_referring(
    connection: Connection,
    cluster_id: ClusterId,
    sample_at: datetime,
    referring: Collection[ReferringRow],
) -> dict[tuple[str, ExplainedRow], UsageExplanation]:
    """Every explanation ``referring`` to the cells of one sample, its context read once."""
    table = explanation_cells
    wanted_rows = {item.row for item in referring}
    # One row asked (a request): read its cells only, not the sample's every row.
    (only,) = wanted_rows if len(wanted_rows) == 1 else (None,)
    of_row = (
        ()
        if only is None
        else tuple(table.c[name] == value for name, value in zip(EXPLAINED_KEY, only, strict=True))
    )
    found = connection.execute(
        select(
            *(table.c[name] for name in EXPLAINED_KEY), table.c.cells, table.c.context_key
        ).where(table.c.cluster_id == cluster_id, table.c.sample_at == sample_at, *of_row)
    ).all()
    names = {item.row: item.product_name for item in referring}
    try:
        rows = {
            ExplainedRow(*found_row[:5]): _decode_cells(
                found_row[5], names[ExplainedRow(*found_row[:5])]
            )
            for found_row in found
            if ExplainedRow(*found_row[:5]) in wanted_rows
        }
        missing = wanted_rows - rows.keys()
        if missing or not found:
            raise ValueError(f"no cells of {len(missing)} row(s) at {sample_at.isoformat()}")
        context = _CONTEXTS.read(connection, cluster_id, found[0][6])
        wanted: dict[str, set[ExplainedRow]] = {}
        for item in referring:
            wanted.setdefault(item.group_name, set()).add(item.row)
        explained = explain_cells(rows, context, wanted=wanted)
        return {
            (item.group_name, item.row): explained[item.group_name][item.row] for item in referring
        }
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, KeyError, IndexError) as exc:
        raise StorageError(
            f"a kept usage breakdown cannot be read ({exc}); it was written by another "
            "program or damaged: the next sample that raises the day's peak writes it again"
        ) from exc


def forget_unreferenced(connection: Connection, *, cluster_id: ClusterId, day: date) -> None:
    """Drop the cells of ``day``'s samples no open explanation refers to (a later sample
    raised those peaks again), and the contexts no cells refer to."""
    held = read_open(connection, cluster_id=cluster_id, day=day, writing=True)
    referenced = {
        (cluster_id, entry.sample_at, row) for rows in held.values() for row, entry in rows.items()
    }
    start = start_of_day(day)
    forget_cells(
        connection,
        referenced,
        explanation_cells.c.cluster_id == cluster_id,
        explanation_cells.c.sample_at >= start,
        explanation_cells.c.sample_at < start + timedelta(days=1),
    )
    forget_contexts(connection, explanation_contexts.c.cluster_id == cluster_id)


def forget_cells(
    connection: Connection,
    referenced: Collection[tuple[ClusterId, datetime, ExplainedRow]],
    *where: ColumnElement[bool],
) -> None:
    """Drop the cells (``where``) but those ``referenced`` (cluster, sample instant, row)."""
    cells = explanation_cells.c
    found = connection.execute(
        select(cells.cluster_id, cells.sample_at, *(cells[name] for name in EXPLAINED_KEY)).where(
            *where
        )
    ).all()
    unreferenced = [
        {"cluster": row[0], "at": row[1], **dict(zip(EXPLAINED_KEY, row[2:], strict=True))}
        for row in found
        if (row[0], row[1], ExplainedRow(*row[2:])) not in referenced
    ]
    if unreferenced:
        connection.execute(
            delete(explanation_cells).where(
                cells.cluster_id == bindparam("cluster"),
                cells.sample_at == bindparam("at"),
                *(cells[name] == bindparam(name) for name in EXPLAINED_KEY),
            ),
            unreferenced,
        )


def forget_contexts(connection: Connection, *where: ColumnElement[bool]) -> None:
    """Drop the contexts (``where``) no cells refer to."""
    contexts = explanation_contexts.c
    connection.execute(
        delete(explanation_contexts).where(
            *where,
            ~exists().where(
                explanation_cells.c.cluster_id == contexts.cluster_id,
                explanation_cells.c.context_key == contexts.context_key,
            ),
        )
    )


def forget_names(connection: Connection) -> None:
    """Drop the segments of logs no context reads."""
    names = explanation_names.c
    connection.execute(
        delete(explanation_names).where(
            ~exists().where(
                explanation_contexts.c.cluster_id == names.cluster_id,
                explanation_contexts.c.epoch == names.epoch,
            ),
        )
    )
