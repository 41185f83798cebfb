"""Checks of a store left by a faulty run: intact, consistent, nothing committed missing.

Every check reads the store directly (its tables, not the service's API), on
SQLite or PostgreSQL alike, and returns what it found wrong as sentences, so a
failing test says exactly which row broke the rule:

- ``sqlite_integrity_problems``: SQLite's own ``PRAGMA integrity_check`` and
  ``PRAGMA foreign_key_check``, on a read-only connection;
- ``peak_problems``: every daily peak equals the highest stored sample of its UTC
  day (products, bundled products, services), and no day has a peak without a sample
  or a sample without a peak;
- ``coverage_problems``: the sampling coverage counts every stored sample once;
- ``stored_sample_instants``: the instants of the stored samples, to compare with
  those the service reported as stored.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Connection, Table, func, select

from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS, SERVICE_ROWS
from license_service.store.database import Database
from license_service.store.tables import (
    bundled_product_daily_peaks,
    product_daily_peaks,
    sample_bundled_products,
    sample_products,
    sample_services,
    samples,
    sampling_coverage,
    service_daily_peaks,
)

# (raw usage table, daily peak table, row key, value column)
_PEAK_RULES: tuple[tuple[Table, Table, Sequence[str], str], ...] = (
    (sample_products, product_daily_peaks, PRODUCT_ROWS.database_key, "quantity"),
    (
        sample_bundled_products,
        bundled_product_daily_peaks,
        BUNDLED_PRODUCT_ROWS.database_key,
        "measured_quantity",
    ),
    (sample_services, service_daily_peaks, SERVICE_ROWS.database_key, "value"),
)


def sqlite_integrity_problems(path: Path) -> list[str]:
    """What ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check`` report on ``path``."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        integrity = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        foreign_keys = list(connection.execute("PRAGMA foreign_key_check"))
    finally:
        connection.close()
    problems = [] if integrity == ["ok"] else [f"integrity_check: {line}" for line in integrity]
    problems += [f"foreign_key_check: {row}" for row in foreign_keys]
    return problems


def peak_problems(database: Database) -> list[str]:
    """Daily peaks that differ from the highest stored sample of their day (one snapshot)."""
    problems: list[str] = []
    with database.read() as connection:
        for raw, peaks, key, value in _PEAK_RULES:
            highest = _highest_samples(connection, raw, key, value)
            stored = {
                (row.cluster_id, row.day, *(row._mapping[name] for name in key)): row._mapping[
                    value
                ]
                for row in connection.execute(select(peaks))
            }
            for row_key in sorted(set(highest) | set(stored), key=str):
                if highest.get(row_key) != stored.get(row_key):
                    problems.append(
                        f"{peaks.name} {row_key}: daily peak {stored.get(row_key)} but the "
                        f"highest stored sample of that day is {highest.get(row_key)}"
                    )
    return problems


def coverage_problems(database: Database) -> list[str]:
    """Whether the coverage intervals count exactly the stored samples."""
    with database.read() as connection:
        counted = connection.scalar(select(func.sum(sampling_coverage.c.samples_taken))) or 0
        stored = connection.scalar(select(func.count()).select_from(samples)) or 0
    if counted == stored:
        return []
    return [f"the coverage counts {counted} samples but {stored} are stored"]


def stored_sample_instants(database: Database) -> set[datetime]:
    """The instants of every stored sample."""
    with database.read() as connection:
        return set(connection.scalars(select(samples.c.taken_at)))


def lowered_peaks(database: Database, reported: Mapping[tuple[str, str, str], int]) -> list[str]:
    """Peaks ``/products`` reported ((id, metric, day) -> quantity) that the store lowered."""
    table = product_daily_peaks
    with database.read() as connection:
        stored = {
            (row.product_id, row.metric, row.day.isoformat()): row.quantity
            for row in connection.execute(
                select(table.c.product_id, table.c.metric, table.c.day, table.c.quantity)
            )
        }
    return [
        f"/products reported {quantity} for {key}, the store holds {stored.get(key)}"
        for key, quantity in sorted(reported.items())
        if stored.get(key, -1) < quantity
    ]


def missing(committed: Iterable[datetime], stored: set[datetime]) -> list[str]:
    """The instants reported as stored (``committed``) that the store does not hold."""
    return sorted(instant.isoformat() for instant in committed if instant not in stored)


def _highest_samples(
    connection: Connection, raw: Table, key: Sequence[str], value: str
) -> dict[tuple[object, ...], int]:
    highest: dict[tuple[object, ...], int] = defaultdict(int)
    rows = connection.execute(
        select(raw, samples.c.taken_at).join(samples, samples.c.id == raw.c.sample_id)
    )
    for row in rows:
        day: date = row.taken_at.date()
        row_key = (row.cluster_id, day, *(row._mapping[name] for name in key))
        highest[row_key] = max(highest[row_key], row._mapping[value])
    return dict(highest)
