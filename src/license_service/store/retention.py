"""Retention (SPEC 2.7): raw samples are kept 62 days, daily peaks 731 days, by default.

``prune`` removes, for every cluster:

- samples (and their usage rows) taken more than ``sample_days`` days before ``now``;
- daily peaks of days before the last ``peak_days`` UTC days (today included), so a
  period of ``peak_days`` days ending today is always complete, and the usage
  explanations of those days with them (SPEC 9: kept as long as daily peaks);
- chargeback groups' daily peaks (SPEC 8) before the last ``chargeback_days`` UTC days
  (``spec.chargebackRetentionPeriod``, 62 by default), their own period, and the
  groups' usage explanations with them (a group's breakdown lives as long as its peaks);
- uploaded values (SPEC 10) of the daily peaks' days, counted with the daily peaks; a
  ``submissionId`` is so kept as long as its value, well beyond SPEC 10's 62 days;
- coverage intervals and missed samples that ended before those days: gaps and sample
  counts are reported as far back as peaks are.

The settings history is not pruned: the change in force must stay known. The usage
explanations of days that are over are written out from their sample's cells into
contributions (``explanation_write_out``), after the pruning, and the
cells no explanation refers to any more are dropped.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, Connection, Table, and_, delete, or_, select

from license_service.errors import ConfigurationError
from license_service.metering.usage_explanations import WHOLE_CLUSTER
from license_service.store.explanation_write_out import write_out_explanations
from license_service.store.instants import start_of_day, utc_day, utc_instant
from license_service.store.tables import (
    CHARGEBACK_PEAK_TABLES,
    bundled_product_daily_peaks,
    cloudpak_measured_sums,
    cloudpak_uploaded_sums,
    metric_uploads,
    missed_samples,
    open_explanations,
    product_daily_peaks,
    sample_bundled_products,
    sample_products,
    sample_services,
    samples,
    sampling_coverage,
    service_daily_peaks,
    usage_explanations,
)

DEFAULT_SAMPLE_DAYS: Final = 62
DEFAULT_PEAK_DAYS: Final = 731
DEFAULT_CHARGEBACK_DAYS: Final = 62


@dataclass(frozen=True, slots=True)
class PruneResult:
    """How many rows ``prune`` removed, per kind."""

    samples: int
    sample_rows: int
    daily_peaks: int
    coverage_intervals: int
    missed_samples: int
    explanations: int = 0
    group_peaks: int = 0
    written_out: int = 0
    """Explanations of days that are over, turned from their sample's cells into
    contributions (not removed: not in ``total``)."""

    @property
    def total(self) -> int:
        """Every row removed."""
        return (
            self.samples
            + self.sample_rows
            + self.daily_peaks
            + self.coverage_intervals
            + self.missed_samples
            + self.explanations
            + self.group_peaks
        )


def prune(
    connection: Connection,
    *,
    now: datetime,
    sample_days: int = DEFAULT_SAMPLE_DAYS,
    peak_days: int = DEFAULT_PEAK_DAYS,
    chargeback_days: int = DEFAULT_CHARGEBACK_DAYS,
) -> PruneResult:
    """Remove the rows older than the retention periods, in the caller's transaction."""
    now = utc_instant(now, name="now")
    for name, days in (
        ("sample", sample_days),
        ("peak", peak_days),
        ("chargeback", chargeback_days),
    ):
        if days < 1:
            raise ConfigurationError(
                f"{name} retention of {days!r} days is too short: keep at least 1 day"
            )
    sample_cutoff = now - timedelta(days=sample_days)
    first_kept_day = utc_day(now) - timedelta(days=peak_days - 1)
    coverage_cutoff = start_of_day(first_kept_day)
    first_kept_group_day = utc_day(now) - timedelta(days=chargeback_days - 1)

    old_samples = select(samples.c.id).where(samples.c.taken_at < sample_cutoff)
    # Counted one by one, not left to ON DELETE CASCADE, so the result can say how many.
    sample_rows = sum(
        _delete(connection, table, table.c.sample_id.in_(old_samples))
        for table in (sample_products, sample_bundled_products, sample_services)
    )
    _prune_cloudpak_sums(connection, first_kept_day=first_kept_day)
    result = PruneResult(
        samples=_delete(connection, samples, samples.c.taken_at < sample_cutoff),
        sample_rows=sample_rows,
        daily_peaks=sum(
            _delete(connection, table, table.c.day < first_kept_day)
            for table in (product_daily_peaks, bundled_product_daily_peaks, service_daily_peaks)
        )
        # Uploaded values (SPEC 10) are daily values: kept as long as the daily peaks.
        + _delete(connection, metric_uploads, metric_uploads.c.day < first_kept_day),
        coverage_intervals=_delete(
            connection, sampling_coverage, sampling_coverage.c.ended_at < coverage_cutoff
        ),
        missed_samples=_delete(
            connection, missed_samples, missed_samples.c.missed_at < coverage_cutoff
        ),
        explanations=sum(
            _delete(
                connection,
                table,
                # Each at its own period: the cluster's with the daily peaks, a group's
                # with the group's peaks (longer or shorter). An open list left (its cells
                # could not be read) counts as one.
                or_(
                    and_(table.c.group_name == WHOLE_CLUSTER, table.c.day < first_kept_day),
                    and_(table.c.group_name != WHOLE_CLUSTER, table.c.day < first_kept_group_day),
                ),
            )
            for table in (usage_explanations, open_explanations)
        ),
        group_peaks=sum(
            _delete(connection, table, table.c.day < first_kept_group_day)
            for table in CHARGEBACK_PEAK_TABLES
        ),
    )
    written = write_out_explanations(connection, before=utc_day(now))
    return dataclasses.replace(result, written_out=written)


def _prune_cloudpak_sums(connection: Connection, *, first_kept_day: date) -> None:
    """Remove the Cloud Pak sums of pruned days: what a day's value was rounded up from,
    not data of their own, so not counted."""
    for table in (cloudpak_measured_sums, cloudpak_uploaded_sums):
        _delete(connection, table, table.c.day < first_kept_day)


def _delete(connection: Connection, table: Table, condition: ColumnElement[bool]) -> int:
    return connection.execute(delete(table).where(condition)).rowcount
