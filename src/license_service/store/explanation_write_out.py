"""Explanations of days that are over, written out as contributions (SPEC 9).

The daily retention job calls ``write_out_explanations``: the open entries of every day
before today (``open_explanations``) are explained from their samples' cells, each
sample's context read once, and kept as rows of ``usage_explanations`` with their
contributions (``keep_written_out``: of a row written out before, the better stays).
Their lists are dropped, then the cells, contexts and log segments nothing refers to.
Cells that cannot be read do not stop the job: their entries stay open (their answer
says why) and every other day is written out. The caller owns the transaction.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import Connection, select

from license_service.errors import StorageError
from license_service.metering.cluster_view import ClusterId
from license_service.metering.usage_explanations import WHOLE_CLUSTER, UsageExplanation
from license_service.store.explanation_cells import (
    ReferringRow,
    explain_referring,
    forget_cells,
    forget_contexts,
    forget_names,
)
from license_service.store.instants import start_of_day
from license_service.store.open_explanations import (
    OpenEntry,
    decode_entries,
    lock_explanations,
    open_days,
    replace_open,
)
from license_service.store.tables import explanation_cells, open_explanations
from license_service.store.usage_explanations import keep_written_out

logger = logging.getLogger(__name__)

_List = tuple[ClusterId, date, str]
"""An open list: its cluster, day and group."""


def write_out_explanations(connection: Connection, *, before: date) -> int:
    """Write out the open explanations of days before ``before``, for every cluster; then
    drop the cells and contexts nothing refers to. Returns how many were written."""
    over = open_explanations.c.day < before
    # A late sample of one of these days must not merge into a list being written out (its
    # entries would go with it): the clusters' explanations are locked first, in one
    # order (a sample locks its own cluster's).
    clusters = connection.execute(
        select(open_explanations.c.cluster_id)
        .where(over)
        .distinct()
        .order_by(open_explanations.c.cluster_id)
    ).scalars()
    for cluster_id in clusters.all():
        lock_explanations(connection, cluster_id=ClusterId(cluster_id))
    by_sample: dict[tuple[ClusterId, datetime], list[tuple[OpenEntry, _List]]] = {}
    lists: list[_List] = []
    for cluster_id, day, group_name, blob in open_days(connection, over):
        try:
            entries = decode_entries(blob)
        except StorageError as exc:
            logger.warning("Usage explanations of %s%s left as kept: %s", day, _of(group_name), exc)
            continue
        lists.append((cluster_id, day, group_name))
        for entry in entries:
            by_sample.setdefault((cluster_id, entry.sample_at), []).append(
                (entry, (cluster_id, day, group_name))
            )
    left: dict[_List, list[OpenEntry]] = {}
    written = 0
    for (cluster_id, sample_at), items in by_sample.items():
        referring = [
            ReferringRow(sample_at, entry.row, group_name, entry.product_name)
            for entry, (_, _, group_name) in items
        ]
        try:
            explained = explain_referring(connection, cluster_id, sample_at, referring)
        except StorageError as exc:
            # Damaged cells must not stop the retention job: these stay as they are (their
            # answer says why), every other day is written out.
            logger.warning("Usage explanations of %s left as kept: %s", sample_at.isoformat(), exc)
            for entry, of_list in items:
                left.setdefault(of_list, []).append(entry)
            continue
        explanations: dict[_List, list[UsageExplanation]] = {}
        for entry, of_list in items:
            explanations.setdefault(of_list, []).append(explained[(of_list[2], entry.row)])
        for (_, day, group_name), of_list_explanations in explanations.items():
            keep_written_out(
                connection,
                cluster_id=cluster_id,
                day=day,
                group_name=group_name,
                sample_at=sample_at,
                explanations=of_list_explanations,
            )
        written += len(items)
    for cluster_id, day, group_name in lists:
        remaining = left.get((cluster_id, day, group_name), [])
        replace_open(
            connection, cluster_id=cluster_id, day=day, group_name=group_name, entries=remaining
        )
    referenced = {
        (cluster_id, entry.sample_at, entry.row)
        for (cluster_id, _, _), entries in left.items()
        for entry in entries
    }
    forget_cells(connection, referenced, explanation_cells.c.sample_at < start_of_day(before))
    forget_contexts(connection)
    forget_names(connection)
    return written


def _of(group_name: str) -> str:
    return "" if group_name == WHOLE_CLUSTER else f" (group {group_name!r})"
