"""Kept explanations: per day, the breakdown of the sample that first reached a peak (SPEC 9).

A day keeps, per group (``""``: the whole cluster) and explained usage row, the
breakdown of the first sample reaching its peak (the peak ``metricPeakDate`` points
at), whatever order samples arrive in: a kept row is replaced only by a higher
quantity, or by the same quantity sampled earlier (``metering.first_peak``).
``kept_day`` tells the sampler what a day holds, so a sample that raises nothing
explains nothing; ``keep_explanations`` keeps what a sample raises as entries of the
day's open lists (``open_explanations``), referring to its cells
(``explanation_cells``). Once the day is over its entries are written out as rows of
``usage_explanations`` with their contributions as zlib-compressed JSON
(``contribution_blobs``: one blob per row, a read is one fetch); a history is written
so at once (``keep_written_out``). ``kept_explanations`` reads either back (of both,
the better), and ``peak_days`` finds the day a product peaked in a period (which day's
breakdown to show when none is asked for), reading that product's daily peaks only.
The caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import ColumnElement, Connection, Table, and_, case, literal, or_, select

from license_service.metering.cluster_view import ClusterId
from license_service.metering.explanation_cells import ExplainedRow
from license_service.metering.first_peak import replaces
from license_service.metering.periods import DatePeriod
from license_service.metering.usage_explanations import WHOLE_CLUSTER, UsageExplanation
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    CHARGEBACK_ROWS,
    PRODUCT_ROWS,
)
from license_service.store.contribution_blobs import decode_contributions, encode_contributions
from license_service.store.daily_peaks import peaks_in_period
from license_service.store.explanation_cells import read_explanation
from license_service.store.instants import utc_instant
from license_service.store.open_explanations import (
    OpenDay,
    OpenEntry,
    lock_explanations,
    merge_open,
    read_open,
)
from license_service.store.tables import EXPLAINED_KEY, daily_peak_table, usage_explanations
from license_service.store.upserts import BulkInsert, Excluded, bulk_insert

_VALUES: Final = (
    "product_name",
    "sample_at",
    "metric_quantity",
    "threads_per_core",
    "total_millicores",
    "contributions",
)


def _updates(new: Excluded) -> Mapping[str, ColumnElement[Any]]:
    stored = usage_explanations.c
    better = or_(
        new.metric_quantity > stored.metric_quantity,
        and_(
            new.metric_quantity == stored.metric_quantity,
            new.sample_at < stored.sample_at,
        ),
    )
    return {name: case((better, new[name]), else_=stored[name]) for name in _VALUES}


_KEEPING: Final = BulkInsert(
    usage_explanations,
    columns=(*EXPLAINED_KEY, *_VALUES),
    shared=("cluster_id", "day", "group_name"),
    key=("cluster_id", "day", "group_name", *EXPLAINED_KEY),
    updates=_updates,
)

KeptValue = tuple[int, datetime]
"""What a day keeps of an explained row: the quantity and the instant of its sample."""


@dataclass(frozen=True, slots=True)
class KeptExplanation:
    """An explanation read back: its day, the instant of its sample, and the breakdown."""

    day: date
    sample_at: datetime
    explanation: UsageExplanation


@dataclass(frozen=True, slots=True)
class KeptDay:
    """A day's kept explanations as a sample finds them (``kept_day``): the open lists of
    the cluster and of every group, and the rows written out, if any (a history)."""

    cluster_id: ClusterId
    day: date
    open: OpenDay
    written_out: dict[str, dict[ExplainedRow, KeptValue]]

    def values(self, group_name: str) -> dict[ExplainedRow, KeptValue]:
        """The kept quantity and instant of every explained row of ``group_name``
        (``""``: the whole cluster): of its open entry or its row written out, the better."""
        opened = self.open.get(group_name, {})
        written = self.written_out.get(group_name)
        if not written:  # a day's samples only, as nearly always
            return {row: (entry.metric_quantity, entry.sample_at) for row, entry in opened.items()}
        kept = dict(written)
        for row, entry in opened.items():
            if _open_wins(entry, written.get(row)):
                kept[row] = (entry.metric_quantity, entry.sample_at)
        return kept


def _open_wins(entry: OpenEntry, written: KeptValue | None) -> bool:
    """Whether a row's open ``entry`` is what its day keeps rather than its row written out
    (``written``: quantity and instant, if any): unless that one replaces it."""
    return written is None or not replaces(*written, (entry.metric_quantity, entry.sample_at))


def kept_day(connection: Connection, *, cluster_id: ClusterId, day: date) -> KeptDay:
    """What ``day`` keeps of explanations, of the cluster and every chargeback group, for
    a sample to compare with and keep into (``keep_explanations``, same transaction).

    On PostgreSQL the cluster's explanations are locked first, so two writers never
    decide from the same state. Two queries, groups included: a sample with 50 groups
    checks them at the cost of one.
    """
    lock_explanations(connection, cluster_id=cluster_id)
    table = usage_explanations
    found = connection.execute(
        select(
            table.c.group_name,
            *(table.c[name] for name in EXPLAINED_KEY),
            table.c.metric_quantity,
            table.c.sample_at,
        ).where(table.c.cluster_id == cluster_id, table.c.day == day)
    ).all()
    written_out: dict[str, dict[ExplainedRow, KeptValue]] = {}
    for row in found:
        written_out.setdefault(row[0], {})[ExplainedRow(*row[1:6])] = (row[6], row[7])
    held = read_open(connection, cluster_id=cluster_id, day=day, writing=True)
    return KeptDay(cluster_id, day, held, written_out)


class KeptRow(NamedTuple):
    """A row a sample raised: its key, the name shown and the quantity it measured."""

    row: ExplainedRow
    product_name: str
    metric_quantity: int


def keep_explanations(
    connection: Connection,
    *,
    kept: KeptDay,
    sample_at: datetime,
    threads_per_core: int,
    rows: Mapping[str, Iterable[KeptRow]],
) -> int:
    """Keep ``rows`` (group, ``""`` for the cluster -> its rows) of the sample at
    ``sample_at`` where they raise the peak of ``kept`` (its day, read in this
    transaction), each referring to the sample's cells (``explanation_cells.keep_cells``).
    Returns how many were kept."""
    sample_at = utc_instant(sample_at, name="sample_at")
    entries: dict[str, list[OpenEntry]] = {}
    for group_name, group_rows in rows.items():
        values = kept.values(group_name)
        raised = entries[group_name] = []
        for row, product_name, quantity in group_rows:
            before = values.get(row)
            if before is None or replaces(quantity, sample_at, before):
                raised.append(OpenEntry(*row, product_name, quantity, sample_at, threads_per_core))
    merge_open(
        connection, cluster_id=kept.cluster_id, day=kept.day, held=kept.open, entries=entries
    )
    return sum(map(len, entries.values()))


def keep_written_out(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    day: date,
    group_name: str,
    sample_at: datetime,
    explanations: Iterable[UsageExplanation],
) -> None:
    """Keep ``explanations`` whole, as a day that is over holds them (contributions
    written out), where they raise ``day``'s peak: a history written at once."""
    stored = [
        (
            *explanation.row,
            explanation.product_name,
            sample_at,
            explanation.metric_quantity,
            explanation.threads_per_core,
            explanation.total_millicores,
            encode_contributions(explanation.contributions),
        )
        for explanation in explanations
    ]
    shared = {"cluster_id": cluster_id, "day": day, "group_name": group_name}
    bulk_insert(connection, _KEEPING, stored, shared=shared)


def kept_explanations(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    day: date,
    group_name: str,
    product_id: str,
    metric: str,
) -> list[KeptExplanation]:
    """The explanations kept for ``day`` of the rows of ``product_id`` in ``metric``.

    A stand-alone product has one; a product bundled in several Cloud Paks (or with
    several ratios) one per bundled row, stand-alone first, then by Cloud Pak.
    """
    table = usage_explanations
    found = connection.execute(
        select(
            *(table.c[name] for name in EXPLAINED_KEY),
            *(table.c[name] for name in _VALUES),
        ).where(
            table.c.cluster_id == cluster_id,
            table.c.day == day,
            table.c.group_name == group_name,
            table.c.product_id == product_id,
            table.c.metric == metric,
        )
    )
    written_out: dict[ExplainedRow, tuple[Any, ...]] = {
        ExplainedRow(*row[:5]): tuple(row[5:]) for row in found
    }
    held = read_open(connection, cluster_id=cluster_id, day=day, group_name=group_name)
    opened = {
        row: entry
        for row, entry in held.get(group_name, {}).items()
        if row.product_id == product_id and row.metric == metric
    }
    kept = []
    for row in sorted(written_out.keys() | opened.keys()):
        entry = opened.get(row)
        stored = written_out.get(row)
        written = None if stored is None else (stored[2], stored[1])  # quantity, instant
        if entry is not None and _open_wins(entry, written):
            explanation = read_explanation(
                connection,
                cluster_id=cluster_id,
                sample_at=entry.sample_at,
                row=row,
                group_name=group_name,
                product_name=entry.product_name,
            )
            kept.append(KeptExplanation(day, entry.sample_at, explanation))
            continue
        assert stored is not None  # a row comes from one of the two
        name, sample_at, quantity, threads, total, blob = stored
        explanation = UsageExplanation(
            row=row,
            product_name=name,
            metric_quantity=quantity,
            threads_per_core=threads,
            total_millicores=total,
            contributions=decode_contributions(blob),
        )
        kept.append(KeptExplanation(day, sample_at, explanation))
    return kept


@dataclass(frozen=True, slots=True)
class PeakDay:
    """The day a row of a product peaked in a period: the earliest day reaching its peak.

    ``cloudpak_id`` is ``""`` for a stand-alone product (or a Cloud Pak's own row).
    """

    cloudpak_id: str
    day: date
    quantity: int


def peak_days(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    product_id: str,
    metric: str,
    group_name: str = WHOLE_CLUSTER,
) -> tuple[list[PeakDay], list[PeakDay]]:
    """The peak days of ``product_id`` in ``metric`` over ``period``: its ``/products`` row
    (a stand-alone product or a Cloud Pak), and each of its bundled rows, by Cloud Pak;
    of the whole cluster, or (``group_name``) of a chargeback group's daily peaks."""
    products, bundled, group = _peak_tables(group_name)
    own = connection.execute(
        select(literal(""), products.c.day, products.c.quantity).where(
            *peaks_in_period(
                products, cluster_id=cluster_id, period=period, metric=metric, group=group
            ),
            products.c.product_id == product_id,
        )
    )
    in_cloudpaks = connection.execute(
        select(bundled.c.cloudpak_id, bundled.c.day, bundled.c.measured_quantity).where(
            *peaks_in_period(
                bundled, cluster_id=cluster_id, period=period, metric=metric, group=group
            ),
            bundled.c.product_id == product_id,
        )
    )
    return _earliest_peaks(own), _earliest_peaks(in_cloudpaks)


def is_cloudpak(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    cloudpak_id: str,
    metric: str,
    group_name: str = WHOLE_CLUSTER,
) -> bool:
    """Whether ``cloudpak_id`` is a Cloud Pak measured in ``metric`` during ``period`` (in
    the whole cluster, or in the chargeback group ``group_name``)."""
    _, bundled, group = _peak_tables(group_name)
    conditions = peaks_in_period(
        bundled, cluster_id=cluster_id, period=period, metric=None, group=group
    )
    found = connection.execute(
        select(bundled.c.day)
        .where(
            *conditions,
            bundled.c.cloudpak_id == cloudpak_id,
            bundled.c.cloudpak_metric == metric,
        )
        .limit(1)
    ).first()
    return found is not None


def _peak_tables(group_name: str) -> tuple[Table, Table, str | None]:
    """The daily peaks of products and bundled products of the cluster, or of a group's
    (``CHARGEBACK_*``, selected by the group's name)."""
    if group_name == WHOLE_CLUSTER:
        return daily_peak_table(PRODUCT_ROWS), daily_peak_table(BUNDLED_PRODUCT_ROWS), None
    return (
        daily_peak_table(CHARGEBACK_ROWS[PRODUCT_ROWS]),
        daily_peak_table(CHARGEBACK_ROWS[BUNDLED_PRODUCT_ROWS]),
        group_name,
    )


def _earliest_peaks(found: Iterable[Any]) -> list[PeakDay]:
    """Per Cloud Pak, the highest value and the earliest day reaching it (SPEC 2.7)."""
    best: dict[str, PeakDay] = {}
    for cloudpak_id, day, quantity in found:
        known = best.get(cloudpak_id)
        if known is None or (quantity, known.day) > (known.quantity, day):
            best[cloudpak_id] = PeakDay(cloudpak_id, day, quantity)
    return [best[key] for key in sorted(best)]
