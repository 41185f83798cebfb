"""The first UTC day a cluster has data for: where a report of an earlier period is empty.

A period before the data began answers ``[]``, like a period in which nothing ran;
``/health`` and the status page name this day so a person can tell the two apart.
Every product, Cloud Pak and bundled product of a day has a row in
``product_daily_peaks`` (a Cloud Pak's row stands for its bundled products), so its
oldest day is the first day with data; after retention pruning it is the oldest day
kept. One indexed query (the primary key starts with ``cluster_id, day``).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, func, select

from license_service.metering.cluster_view import ClusterId
from license_service.store.tables import product_daily_peaks


def first_day_with_data(connection: Connection, *, cluster_id: ClusterId) -> date | None:
    """The oldest day with a daily peak of ``cluster_id``, or ``None`` when there is none."""
    first: date | None = connection.scalar(
        select(func.min(product_daily_peaks.c.day)).where(
            product_daily_peaks.c.cluster_id == cluster_id
        )
    )
    return first
