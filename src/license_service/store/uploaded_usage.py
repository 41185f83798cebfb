"""Uploaded values joined to the measured daily peaks, for every report (SPEC 10).

Every report reads the store through ``period_peaks`` (``/products``,
``/bundled_products``, the status page, the usage metrics) or ``rows_by_day`` (the
snapshot's daily files); both call ``UploadedOverlay.read`` and, when the period holds
uploads, replace the rows of the keys uploads touch: uploaded products, their
Cloud Paks, and bundled products. For those keys only, the measured daily peaks of the
period are read, each day's rows are joined to the uploaded ones by the rule of
``metering.combined_usage``, and a period's peaks are folded by
``metering.period_peaks``. A period without uploads costs one indexed look-up.

A Cloud Pak's exact measured converted sum of a day (``M``, the highest over the day's
samples) is read from the raw samples (kept 62 days); for older days the stored,
rounded Cloud Pak peak stands in (``combined_usage``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, select, tuple_, union_all

from license_service.metering.cluster_view import ClusterId
from license_service.metering.combined_usage import CloudpakKey, DayUsage, combined_day
from license_service.metering.period_peaks import PeakFold
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import PeriodPeak, R, RowSpec, stored_ratio
from license_service.metering.uploads import uploaded_days
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS
from license_service.store.instants import start_of_day, utc_day
from license_service.store.stored_rows import StoredRow, decoded
from license_service.store.tables import (
    sample_bundled_products,
    samples,
    usage_tables,
)
from license_service.store.uploads import has_uploads, submissions_for_days

_CHUNK = 200  # keys per query: SQLite joins at most 500 selects


@dataclass(frozen=True, slots=True)
class UploadedOverlay:
    """The rows of the keys uploads touch, for every day of a period with any of them."""

    days: dict[date, DayUsage] = field(default_factory=dict)
    product_keys: frozenset[Hashable] = frozenset()
    bundled_keys: frozenset[Hashable] = frozenset()

    def keys(self, rows: RowSpec[Any]) -> frozenset[Hashable]:
        """The keys of kind ``rows`` whose rows this overlay replaces."""
        if rows is PRODUCT_ROWS:
            return self.product_keys
        if rows is BUNDLED_PRODUCT_ROWS:
            return self.bundled_keys
        return frozenset()

    def day_rows(self, rows: RowSpec[R], day: date, metric: str | None) -> list[R]:
        """The replacing rows of kind ``rows`` on ``day`` (of ``metric``, when given)."""
        usage = self.days.get(day)
        if usage is None:
            return []
        found: Sequence[Any] = (
            usage.products
            if rows is PRODUCT_ROWS
            else usage.bundled_products
            if rows is BUNDLED_PRODUCT_ROWS
            else ()
        )
        return [row for row in found if metric is None or row.metric == metric]

    @classmethod
    def read(
        cls, connection: Connection, *, cluster_id: ClusterId, period: DatePeriod
    ) -> UploadedOverlay | None:
        """The overlay of ``period``, or ``None`` when no upload is for a day in it."""
        if not has_uploads(connection, cluster_id=cluster_id, first=period.first, last=period.last):
            return None
        submissions = submissions_for_days(
            connection, cluster_id=cluster_id, first=period.first, last=period.last
        )
        uploaded = uploaded_days(submissions, first=period.first, last=period.last)
        product_keys: set[Hashable] = set()
        bundled_keys: set[Hashable] = set()
        cloudpaks: set[CloudpakKey] = set()
        for usage in uploaded.values():
            product_keys.update(PRODUCT_ROWS.key_of(row) for row in usage.products)
            for row in usage.bundled_products:
                bundled_keys.add(BUNDLED_PRODUCT_ROWS.key_of(row))
                cloudpaks.add((row.cloudpak_id, row.cloudpak_metric))
        product_keys |= cloudpaks
        measured_products = _measured(connection, PRODUCT_ROWS, cluster_id, period, product_keys)
        measured_bundled = _measured(
            connection, BUNDLED_PRODUCT_ROWS, cluster_id, period, bundled_keys
        )
        sums = _measured_sums(connection, cluster_id, sorted(uploaded), cloudpaks)
        days: dict[date, DayUsage] = {}
        for day in sorted({*measured_products, *measured_bundled, *uploaded}):
            measured = DayUsage(
                tuple(measured_products.get(day, ())), tuple(measured_bundled.get(day, ()))
            )
            upload = uploaded.get(day)
            days[day] = (
                measured
                if upload is None
                else combined_day(measured, upload, measured_sums=sums.get(day))
            )
        return cls(days, frozenset(product_keys), frozenset(bundled_keys))


def with_uploads(
    connection: Connection,
    rows: RowSpec[R],
    peaks: list[PeriodPeak[R]],
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None,
) -> list[PeriodPeak[R]]:
    """``peaks`` (measured, of ``period``) with the rows uploads touch folded anew."""
    if rows is not PRODUCT_ROWS and rows is not BUNDLED_PRODUCT_ROWS:
        return peaks
    overlay = UploadedOverlay.read(connection, cluster_id=cluster_id, period=period)
    if overlay is None:
        return peaks
    keys = overlay.keys(rows)
    fold: PeakFold[R, date] = PeakFold(key_of=rows.key_of, value_of=rows.value_of)
    for day in sorted(overlay.days):
        fold.add_day(day, overlay.day_rows(rows, day, metric))
    kept = [peak for peak in peaks if rows.key_of(peak.row) not in keys]
    folded = [PeriodPeak(rows.with_value(f.latest, f.peak), f.peak_day) for f in fold.peaks()]
    return rows.sorted_peaks([*kept, *folded])


def days_with_uploads(
    connection: Connection,
    rows: RowSpec[Any],
    days: Iterator[tuple[str, list[StoredRow]]],
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None,
) -> Iterator[tuple[str, list[StoredRow]]]:
    """The daily rows ``days`` (stored form, by day) with the rows uploads touch replaced."""
    if rows is not PRODUCT_ROWS and rows is not BUNDLED_PRODUCT_ROWS:
        yield from days
        return
    overlay = UploadedOverlay.read(connection, cluster_id=cluster_id, period=period)
    if overlay is None:
        yield from days
        return
    keys = overlay.keys(rows)
    pending = sorted(overlay.days)
    for text, day_rows in days:
        day = date.fromisoformat(text)
        while pending and pending[0] < day:
            only = pending.pop(0)
            yield from _overlay_day(rows, overlay, day=only, day_rows=[], keys=keys, metric=metric)
        if pending and pending[0] == day:
            pending.pop(0)
        yield from _overlay_day(rows, overlay, day=day, day_rows=day_rows, keys=keys, metric=metric)
    for only in pending:
        yield from _overlay_day(rows, overlay, day=only, day_rows=[], keys=keys, metric=metric)


def _overlay_day(
    rows: RowSpec[Any],
    overlay: UploadedOverlay,
    *,
    day: date,
    day_rows: list[StoredRow],
    keys: frozenset[Hashable],
    metric: str | None,
) -> Iterator[tuple[str, list[StoredRow]]]:
    kept = [row for row in day_rows if rows.key_of(row) not in keys]
    added = overlay.day_rows(rows, day, metric)
    if not added:
        if kept:
            yield day.isoformat(), kept
        return
    joined = sorted([*(decoded(rows, row) for row in kept), *added])
    yield day.isoformat(), [_stored_form(rows, row) for row in joined]


def _stored_form(rows: RowSpec[Any], row: tuple[Any, ...]) -> StoredRow:
    """``row``'s stored values in field order (a ratio as its text), as ``rows_by_day`` gives."""
    return tuple(
        value if column.encoding.to_stored is None else column.encoding.to_stored(value)
        for column, value in zip(rows.stored, row, strict=True)
    )


def _measured(
    connection: Connection,
    rows: RowSpec[R],
    cluster_id: ClusterId,
    period: DatePeriod,
    keys: Iterable[Hashable],
) -> dict[date, list[R]]:
    """The measured daily peaks of ``keys`` in ``period``, by day."""
    wanted = [_stored_key(key) for key in keys]
    table = usage_tables(rows).daily_peaks
    columns = (table.c.day, *(table.c[name] for name in rows.database_fields))
    in_period = (
        table.c.cluster_id == cluster_id,
        table.c.day >= period.first,
        table.c.day <= period.last,
    )
    found: dict[date, list[R]] = defaultdict(list)
    for start in range(0, len(wanted), _CHUNK):
        # One select per key, joined: each is a search of the (cluster, key, day) index,
        # where a tuple IN would scan every row of the period.
        per_key = [
            select(*columns).where(
                *in_period,
                *(
                    table.c[name] == value
                    for name, value in zip(rows.database_key, key, strict=True)
                ),
            )
            for key in wanted[start : start + _CHUNK]
        ]
        for day, *values in connection.execute(union_all(*per_key)):
            found[day].append(decoded(rows, values))
    return found


def _stored_key(key: Hashable) -> tuple[Any, ...]:
    values = key if isinstance(key, tuple) else (key,)
    return tuple(value if isinstance(value, str | int) else str(value) for value in values)


def _measured_sums(
    connection: Connection, cluster_id: ClusterId, days: list[date], cloudpaks: set[CloudpakKey]
) -> dict[date, dict[CloudpakKey, Fraction]]:
    """Each day's exact measured converted sum of ``cloudpaks`` (the highest over its
    samples), from the raw samples still kept."""
    if not days or not cloudpaks:
        return {}
    table = sample_bundled_products
    result = connection.execute(
        select(
            samples.c.id,
            samples.c.taken_at,
            table.c.cloudpak_id,
            table.c.cloudpak_metric,
            table.c.measured_quantity,
            table.c.conversion,
        )
        .join(samples, samples.c.id == table.c.sample_id)
        .where(
            samples.c.cluster_id == cluster_id,
            samples.c.taken_at >= start_of_day(days[0]),
            samples.c.taken_at < start_of_day(days[-1] + timedelta(days=1)),
            tuple_(table.c.cloudpak_id, table.c.cloudpak_metric).in_(sorted(cloudpaks)),
        )
    )
    wanted = set(days)
    per_sample: dict[tuple[date, int, CloudpakKey], Fraction] = defaultdict(Fraction)
    for sample_id, taken_at, cloudpak_id, cloudpak_metric, measured, conversion in result:
        day = utc_day(taken_at)
        if day in wanted:
            ratio = stored_ratio(conversion)
            per_sample[(day, sample_id, (cloudpak_id, cloudpak_metric))] += ratio.convert(measured)
    sums: dict[date, dict[CloudpakKey, Fraction]] = defaultdict(dict)
    for (day, _, cloudpak), total in per_sample.items():
        known = sums[day].get(cloudpak)
        if known is None or total > known:
            sums[day][cloudpak] = total
    return sums
