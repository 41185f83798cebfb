"""Benchmark 5: storing one sample of 1,000 products, on SQLite and on PostgreSQL.

Each backend gets a fresh store (a SQLite file in a temporary directory; a fresh
schema on the PostgreSQL server, dropped afterwards). The first sample of the day
is stored untimed; then ``store_samples`` samples five minutes apart are each
timed in their own transaction (``record_sample``: raw rows, the day's peaks raised
by upserts that meet existing rows, the coverage extended). The limit is the same
rows written by the bare driver in one transaction: one ``executemany`` per table,
plain inserts without conflicts (a fresh cluster id each time), nothing else.
PostgreSQL is skipped, with a note, when the server cannot be reached.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Table, create_engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from bench.history import INTERVAL_SECONDS, catalogue_measurement
from bench.results import BenchmarkResult, Check, Figure, ratio
from bench.scales import Scale
from license_service.metering.cluster_view import ClusterId
from license_service.metering.usage import Measurement
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS, SERVICE_ROWS
from license_service.store.database import Database, sqlite_url
from license_service.store.samples import record_sample
from license_service.store.stored_rows import measurement_rows
from license_service.store.tables import (
    bundled_product_daily_peaks,
    product_daily_peaks,
    sample_bundled_products,
    sample_products,
    sample_services,
    samples,
    service_daily_peaks,
)

POSTGRES_URL_VARIABLE: Final = "LICENSE_SERVICE_POSTGRES_URL"
DEFAULT_POSTGRES_URL: Final = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FIRST_SAMPLE: Final = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)


def postgres_url() -> str:
    """The URL of the PostgreSQL server the benchmarks may use."""
    return os.environ.get(POSTGRES_URL_VARIABLE) or DEFAULT_POSTGRES_URL


def postgres_problem(url: str) -> str | None:
    """Why the server at ``url`` cannot be used, or ``None``."""
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as exc:
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()
    return None


@contextlib.contextmanager
def fresh_postgres_schema(base_url: str) -> Iterator[str]:
    """A new empty schema; yields a URL whose search_path is that schema, drops it after."""
    schema = f"bench_{secrets.token_hex(6)}"
    admin = create_engine(base_url, poolclass=NullPool)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        yield (
            make_url(base_url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def time_samples(database: Database, *, products: int, samples_count: int) -> list[float]:
    """Seconds of each of ``samples_count`` timed ``record_sample`` transactions."""
    cluster = ClusterId("bench-store")
    with database.begin() as connection:
        record_sample(
            connection,
            cluster_id=cluster,
            taken_at=FIRST_SAMPLE,
            measurement=catalogue_measurement(products),
            interval_seconds=INTERVAL_SECONDS,
        )
    timings = []
    for number in range(1, samples_count + 1):
        measurement = catalogue_measurement(products, variant=number)
        taken_at = FIRST_SAMPLE + timedelta(seconds=INTERVAL_SECONDS * number)
        started = time.perf_counter()
        with database.begin() as connection:
            record_sample(
                connection,
                cluster_id=cluster,
                taken_at=taken_at,
                measurement=measurement,
                interval_seconds=INTERVAL_SECONDS,
            )
        timings.append(time.perf_counter() - started)
    return timings


@dataclass(frozen=True, slots=True)
class _NamedRows:
    """A measurement's table rows as column -> value mappings, made before any timing."""

    products: list[dict[str, Any]]
    bundled_products: list[dict[str, Any]]
    services: list[dict[str, Any]]


def _bare_insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """One ``executemany`` of ``rows`` into ``table`` through the driver's own cursor."""
    if not rows:
        return
    columns = list(rows[0])
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    # Names come from our own table metadata, never from input.
    names = ", ".join(columns)
    marks = ", ".join(mark for _ in columns)
    statement = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # noqa: S608
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(statement, [tuple(row[column] for column in columns) for row in rows])
    cursor.close()


def time_bare_writes(database: Database, measurement: Measurement, *, repeats: int) -> list[float]:
    """Seconds of writing the sample's rows with bare inserts, once per transaction."""
    rows = measurement_rows(measurement)
    named = _NamedRows(
        products=[
            dict(zip(PRODUCT_ROWS.database_columns, row, strict=True)) for row in rows.products
        ],
        bundled_products=[
            dict(zip(BUNDLED_PRODUCT_ROWS.database_columns, row, strict=True))
            for row in rows.bundled_products
        ],
        services=[
            dict(zip(SERVICE_ROWS.database_columns, row, strict=True)) for row in rows.services
        ],
    )
    sqlite = database.dialect == "sqlite"
    timings = []
    for number in range(repeats):
        cluster = f"bench-bare-{number}"
        taken_at = FIRST_SAMPLE + timedelta(seconds=INTERVAL_SECONDS * number)
        stamp: Any = taken_at.replace(tzinfo=None).isoformat(" ") if sqlite else taken_at
        day: Any = taken_at.date().isoformat() if sqlite else taken_at.date()
        sample_id = 1_000_000 + number
        started = time.perf_counter()
        with database.begin() as connection:
            _bare_insert(
                connection,
                samples,
                [
                    {
                        "id": sample_id,
                        "cluster_id": cluster,
                        "taken_at": stamp,
                        "interval_seconds": INTERVAL_SECONDS,
                    }
                ],
            )
            raw = {"sample_id": sample_id, "cluster_id": cluster}
            peak = {"cluster_id": cluster, "day": day, "names_at": stamp}
            for table, table_rows, extra in (
                (sample_products, named.products, raw),
                (sample_bundled_products, named.bundled_products, raw),
                (sample_services, named.services, raw),
                (product_daily_peaks, named.products, peak),
                (bundled_product_daily_peaks, named.bundled_products, peak),
                (service_daily_peaks, named.services, peak),
            ):
                _bare_insert(connection, table, [{**row, **extra} for row in table_rows])
        timings.append(time.perf_counter() - started)
    return timings


def _backend_figures(
    name: str, database: Database, scale: Scale
) -> tuple[list[Figure], list[Check]]:
    measurement = catalogue_measurement(scale.products)
    timings = time_samples(database, products=scale.products, samples_count=scale.store_samples)
    bare = time_bare_writes(database, measurement, repeats=scale.store_samples)
    median = statistics.median(timings)
    bare_median = statistics.median(bare)
    return (
        [
            Figure(f"{name}: record_sample, median", median * 1000, "ms"),
            Figure(f"{name}: record_sample, slowest", max(timings) * 1000, "ms"),
            Figure(f"{name}: limit: bare executemany of the same rows", bare_median * 1000, "ms"),
        ],
        [ratio(f"{name}: record_sample / bare inserts", median / bare_median)],
    )


def run(scale: Scale) -> BenchmarkResult:
    """Benchmark 5 at ``scale``."""
    started = time.perf_counter()
    rows = measurement_rows(catalogue_measurement(scale.products))
    figures = [
        Figure(
            "rows per sample (products / bundled / services)",
            len(rows.products) + len(rows.bundled_products) + len(rows.services),
            "rows",
        )
    ]
    checks: list[Check] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="license-service-bench-") as directory:
        database = Database.open(sqlite_url(Path(directory) / "store.db"))
        try:
            more_figures, more_checks = _backend_figures("SQLite", database, scale)
        finally:
            database.engine.dispose()
        figures += more_figures
        checks += more_checks
    url = postgres_url()
    problem = postgres_problem(url)
    if problem is None:
        with fresh_postgres_schema(url) as schema_url:
            database = Database.open(schema_url)
            try:
                more_figures, more_checks = _backend_figures("PostgreSQL", database, scale)
            finally:
                database.engine.dispose()
        figures += more_figures
        checks += more_checks
    else:
        notes.append(
            f"PostgreSQL skipped: {make_url(url).render_as_string()} is not reachable ({problem})."
        )
    notes.append(
        f"{len(rows.products)} /products rows, {len(rows.bundled_products)} bundled products "
        f"and {len(rows.services)} services per sample; each timed sample is its own "
        "transaction, as the sampler writes it (SQLite in WAL mode, as Database.open sets it)."
    )
    return BenchmarkResult(
        5,
        f"Storing one sample of {scale.products:,} products",
        figures=tuple(figures),
        checks=tuple(checks),
        notes=tuple(notes),
        seconds=time.perf_counter() - started,
    )
