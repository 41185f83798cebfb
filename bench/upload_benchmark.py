"""Benchmark 11: the upload API (SPEC 10): items accepted per second, and the cost on /products.

Accepted items per second: batches of 1,000 items (``ADD`` values of 100 products over
the last days, a ``submissionId`` each) go the way a request's body goes after HTTP:
JSON decoding, every item checked (``upload_submissions``), then stored in one
transaction (``record_uploads``), on SQLite and on PostgreSQL (skipped with a note
when the server cannot be reached).

The cost on ``/products``: the period query behind ``/products`` (``period_peaks``,
last 30 days) on a store of ``products`` products' history, without any upload, then
after uploads for 10 stand-alone products and 2 bundled products (one a day each,
``ADD_MONTHLY``). Uploaded day values are written into the daily peak tables when
they arrive, so the query is the same; the target is no more than 10 % slower.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Final

from bench.history import CLUSTER, fill_history
from bench.results import BenchmarkResult, Check, Figure, at_least, at_most
from bench.scales import Scale
from bench.store_benchmark import fresh_postgres_schema, postgres_problem, postgres_url
from license_service.metering.periods import DatePeriod
from license_service.metering.upload_items import upload_submissions
from license_service.metering.usage_rows import PRODUCT_ROWS
from license_service.store.database import Database, sqlite_url
from license_service.store.period_peaks import period_peaks
from license_service.store.uploads import record_uploads

BATCH: Final = 1_000
_MIN_ITEMS_PER_SECOND: Final = 1_000.0
_MAX_COST: Final = 1.10


def _batch_body(number: int, today: date) -> bytes:
    items = [
        {
            "productId": f"uploaded-{index % 100}",
            "productName": f"Uploaded product {index % 100}",
            "productMetric": "API_CALLS",
            "metricValue": 10 + index % 7,
            "aggregationPolicy": "ADD",
            "date": (today - timedelta(days=index % 20)).isoformat(),
            "submissionId": f"bench-{number}-{index}",
        }
        for index in range(BATCH)
    ]
    return json.dumps(items).encode()


def items_per_second(database: Database, *, batches: int) -> tuple[float, float]:
    """Accepted items per second over ``batches`` batches, and the slowest batch in ms."""
    today = datetime.now(UTC).date()
    bodies = [_batch_body(number, today) for number in range(batches)]
    timings = []
    for body in bodies:
        started = time.perf_counter()
        submissions = upload_submissions(json.loads(body, parse_float=Decimal), today=today)
        with database.begin() as connection:
            record_uploads(
                connection,
                cluster_id=CLUSTER,
                received_at=datetime.now(UTC),
                submissions=submissions,
            )
        timings.append(time.perf_counter() - started)
    return BATCH * batches / sum(timings), max(timings) * 1000


def _median_query(database: Database, period: DatePeriod, *, repeats: int) -> float:
    """Median seconds of the query behind ``/products`` over ``period``."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        with database.read() as connection:
            period_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=period)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def _add_daily_uploads(database: Database, period: DatePeriod) -> None:
    items = []
    for day in period:
        for index in range(12):
            item: dict[str, object] = {
                "productId": f"uploaded-{index}",
                "productName": f"Uploaded {index}",
                "productMetric": "API_CALLS",
                "metricValue": 1000 + index,
                "aggregationPolicy": "ADD_MONTHLY",
                "date": day.isoformat(),
            }
            if index >= 10:
                item |= {
                    "cloudpakId": "cloudpak-0",
                    "cloudpakName": "Cloud Pak 0",
                    "cloudpakMetric": "VIRTUAL_PROCESSOR_CORE",
                    "productCloudpakRatio": "1000:1",
                }
            items.append(item)
    today = datetime.now(UTC).date()
    submissions = upload_submissions(items, today=today)
    with database.begin() as connection:
        record_uploads(
            connection, cluster_id=CLUSTER, received_at=datetime.now(UTC), submissions=submissions
        )


def products_cost(scale: Scale, directory: Path) -> tuple[list[Figure], list[Check]]:
    """The /products query on a store, and on its copy with uploads for 12 products every
    day, measured in turns (the machine is shared: turns cancel its drift)."""
    today = datetime.now(UTC).date()
    period = DatePeriod.ending(today)
    plain_file, uploaded_file = directory / "history.db", directory / "uploaded.db"
    database = Database.open(sqlite_url(plain_file))
    try:
        fill_history(database, products=scale.products, days=min(scale.days, 60), last_day=today)
    finally:
        database.engine.dispose()
    shutil.copyfile(plain_file, uploaded_file)
    plain = Database.open(sqlite_url(plain_file))
    uploaded = Database.open(sqlite_url(uploaded_file))
    try:
        _add_daily_uploads(uploaded, period)
        turns = 40 if scale.products >= 1_000 else 3
        timings: dict[str, list[float]] = {"plain": [], "uploaded": []}
        for turn in range(turns + 2):
            for name, database in (("plain", plain), ("uploaded", uploaded)):
                seconds = _median_query(database, period, repeats=1)
                if turn >= 2:  # the first turns warm the caches
                    timings[name].append(seconds)
    finally:
        plain.engine.dispose()
        uploaded.engine.dispose()
    without = statistics.median(timings["plain"])
    with_uploads = statistics.median(timings["uploaded"])
    return (
        [
            Figure("/products query, no uploads", without * 1000, "ms"),
            Figure("/products query, 12 products uploaded daily", with_uploads * 1000, "ms"),
        ],
        [
            at_most(
                "/products with 12 uploaded products / without uploads",
                with_uploads / without,
                _MAX_COST,
                "x",
            ),
        ],
    )


def run(scale: Scale) -> BenchmarkResult:
    """Benchmark 11 at ``scale``."""
    started = time.perf_counter()
    batches = 20 if scale.products >= 1_000 else 2
    figures: list[Figure] = []
    checks: list[Check] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="license-service-bench-") as name:
        directory = Path(name)
        database = Database.open(sqlite_url(directory / "uploads.db"))
        try:
            rate, slowest = items_per_second(database, batches=batches)
        finally:
            database.engine.dispose()
        figures.append(Figure("SQLite: slowest batch of 1,000", slowest, "ms"))
        checks.append(
            at_least("SQLite: accepted items per second", rate, _MIN_ITEMS_PER_SECOND, "items/s")
        )
        url = postgres_url()
        problem = postgres_problem(url)
        if problem is None:
            with fresh_postgres_schema(url) as schema_url:
                database = Database.open(schema_url)
                try:
                    rate, slowest = items_per_second(database, batches=batches)
                finally:
                    database.engine.dispose()
            figures.append(Figure("PostgreSQL: slowest batch of 1,000", slowest, "ms"))
            checks.append(
                at_least(
                    "PostgreSQL: accepted items per second", rate, _MIN_ITEMS_PER_SECOND, "items/s"
                )
            )
        else:
            notes.append(f"PostgreSQL skipped: the server is not reachable ({problem}).")
        more_figures, more_checks = products_cost(scale, directory)
    figures += more_figures
    checks += more_checks
    notes.append(
        f"{batches} batches of {BATCH:,} items each, decoded, checked and stored in one "
        "transaction per batch; the /products figures are the median of the period query "
        f"(last 30 days) over {scale.products:,} products' history."
    )
    return BenchmarkResult(
        11,
        "Upload API: batches of 1,000 items, and the cost on /products",
        figures=tuple(figures),
        checks=tuple(checks),
        notes=tuple(notes),
        seconds=time.perf_counter() - started,
    )
