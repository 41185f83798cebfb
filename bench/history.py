"""A product catalogue, its samples, and a store filled with years of its daily peaks.

``catalogue_measurement(products)`` is one sample of a large customer: of every 50
products one is a Cloud Pak row, and each Cloud Pak bundles ten products, one of
them with a service; with 1,000 products that is 980 stand-alone products and 20
Cloud Paks in ``/products``, 200 rows in ``/bundled_products`` and 20 services.

``fill_history`` writes ``days`` days of daily peaks of that catalogue straight into
the peak tables (one bulk insert per table per batch of days, through the driver),
plus a day-long sampling interval per day and the settings: what years of sampling
would have left, in seconds instead of 731,000 ``record_sample`` calls. Given
``until`` (now, when the history ends today), nothing is dated later: a service
started on the store then samples at once, instead of waiting for the clock to pass
a sample instant already stored.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Table

from license_service.metering.cluster_view import ClusterId
from license_service.metering.ratios import parse_ratio
from license_service.metering.usage import Measurement
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    PRODUCT_ROWS,
    SERVICE_ROWS,
    BundledProductUsage,
    ProductUsage,
    ServiceUsage,
)
from license_service.runtime.paths import DATABASE_FILE
from license_service.store.database import Database, sqlite_url
from license_service.store.stored_rows import measurement_rows
from license_service.store.tables import (
    bundled_product_daily_peaks,
    product_daily_peaks,
    sampling_coverage,
    service_daily_peaks,
    settings_history,
)

CLUSTER: Final = ClusterId("bench-cluster")
VPC: Final = "VIRTUAL_PROCESSOR_CORE"
INTERVAL_SECONDS: Final = 300
_BUNDLED_PER_CLOUDPAK: Final = 10
_RATIOS: Final = ("1:1", "2:1", "1:2", "4:3", "3:1")
_DAYS_PER_BATCH: Final = 30


@dataclass(frozen=True, slots=True)
class Catalogue:
    """How many rows of each kind one sample of ``products`` products has."""

    products: int

    @property
    def cloudpaks(self) -> int:
        """One Cloud Pak row per 50 products (at least one)."""
        return max(1, self.products // 50)

    @property
    def standalone(self) -> int:
        """The other ``/products`` rows."""
        return self.products - self.cloudpaks


def catalogue_measurement(products: int, *, variant: int = 0) -> Measurement:
    """One sample of the catalogue; ``variant`` (a day, a sample) moves the quantities."""
    catalogue = Catalogue(products)
    standalone = tuple(
        ProductUsage(
            f"Product {index:04} of {'=Formula' if index % 97 == 0 else 'Example, Inc.'}",
            f"product-{index:04}-{index * 7919 % 10**8:08}",
            VPC if index % 5 else "PROCESSOR_VALUE_UNIT",
            1 + (index * 31 + variant * 17) % 64,
        )
        for index in range(catalogue.standalone)
    )
    bundled: list[BundledProductUsage] = []
    services: list[ServiceUsage] = []
    paks: list[ProductUsage] = []
    for pak in range(catalogue.cloudpaks):
        pak_id = f"cloudpak-{pak:03}"
        total = 0
        for index in range(_BUNDLED_PER_CLOUDPAK):
            measured = 1 + (pak * 13 + index * 7 + variant * 3) % 40
            row = BundledProductUsage(
                product_name=f"Bundled {pak:03}.{index}",
                product_id=f"bundled-{pak:03}-{index}",
                cloudpak_id=pak_id,
                cloudpak_name=f"Cloud Pak {pak:03}",
                cloudpak_version="2026.3",
                cloudpak_metric=VPC,
                metric=VPC,
                measured_quantity=measured,
                conversion=parse_ratio(_RATIOS[(pak + index) % len(_RATIOS)]),
            )
            bundled.append(row)
            total += -(-row.converted_quantity.numerator // row.converted_quantity.denominator)
            if index == 0:
                services.append(
                    ServiceUsage(
                        cloudpak_id=pak_id,
                        cloudpak_metric=VPC,
                        product_name=row.product_name,
                        product_id=row.product_id,
                        metric=VPC,
                        service_name=f"Service {pak:03}",
                        service_id=f"service-{pak:03}",
                        value=measured,
                    )
                )
        paks.append(ProductUsage(f"Cloud Pak {pak:03}", pak_id, VPC, total))
    return Measurement(
        products=tuple(sorted((*standalone, *paks))),
        bundled_products=tuple(sorted(bundled)),
        services=tuple(sorted(services)),
    )


def history_days(days: int, *, last_day: date) -> list[date]:
    """The ``days`` days ending with ``last_day``, oldest first."""
    return [last_day - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def fill_history(
    database: Database,
    *,
    products: int,
    days: int,
    last_day: date,
    cluster_id: ClusterId = CLUSTER,
    until: datetime | None = None,
) -> int:
    """Write ``days`` days of daily peaks of the catalogue ending ``last_day``; return rows.

    Each day's last sample is at 23:55, or at ``until`` if that is earlier.
    """
    written = 0
    all_days = history_days(days, last_day=last_day)
    with database.begin() as connection:
        connection.execute(
            settings_history.insert().values(
                cluster_id=cluster_id,
                changed_at=_midnight(all_days[0]),
                threads_per_core=1,
                node_cpu_capping=True,
                capping_source="capacity",
                default_pvu_per_core=70,
            )
        )
    for start in range(0, len(all_days), _DAYS_PER_BATCH):
        batch = all_days[start : start + _DAYS_PER_BATCH]
        with database.begin() as connection:
            written += _write_days(
                connection, batch, products=products, cluster_id=cluster_id, until=until
            )
    return written


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _write_days(
    connection: Connection,
    days: Sequence[date],
    *,
    products: int,
    cluster_id: ClusterId,
    until: datetime | None,
) -> int:
    tables: dict[str, list[dict[str, Any]]] = {"products": [], "bundled": [], "services": []}
    coverage = []
    for day in days:
        names_at = _midnight(day) + timedelta(hours=23, minutes=55)
        if until is not None:
            names_at = max(_midnight(day), min(names_at, until))
        rows = measurement_rows(catalogue_measurement(products, variant=day.toordinal()))
        extra = {"cluster_id": cluster_id, "day": day, "names_at": names_at}
        for name, spec, kind_rows in (
            ("products", PRODUCT_ROWS, rows.products),
            ("bundled", BUNDLED_PRODUCT_ROWS, rows.bundled_products),
            ("services", SERVICE_ROWS, rows.services),
        ):
            tables[name] += [
                {**dict(zip(spec.database_columns, row, strict=True)), **extra} for row in kind_rows
            ]
        coverage.append(
            {
                "cluster_id": cluster_id,
                "started_at": _midnight(day),
                "ended_at": names_at,
                "interval_seconds": INTERVAL_SECONDS,
                "samples_taken": 1
                + (names_at - _midnight(day)) // timedelta(seconds=INTERVAL_SECONDS),
            }
        )
    written = 0
    targets: Iterator[tuple[Table, list[dict[str, Any]]]] = iter(
        (
            (product_daily_peaks, tables["products"]),
            (bundled_product_daily_peaks, tables["bundled"]),
            (service_daily_peaks, tables["services"]),
            (sampling_coverage, coverage),
        )
    )
    for table, rows_of_table in targets:
        if rows_of_table:
            connection.execute(table.insert(), rows_of_table)
            written += len(rows_of_table)
    return written


class HistoryStore:
    """A data directory whose SQLite store holds ``days`` days of ``products`` (a context).

    The history ends today (UTC), so the API's default period (the last 30 days) has
    data. It lives in ``directory`` when given (left in place), else in a temporary
    directory deleted on exit.
    """

    def __init__(self, *, products: int, days: int, directory: Path | None = None) -> None:
        self.products = products
        self.days = days
        self.last_day = datetime.now(UTC).date()
        self._parent = directory
        self._directory: tempfile.TemporaryDirectory[str] | None = None
        self.data_dir = Path()
        self.rows = 0
        self.fill_seconds = 0.0

    @property
    def database_url(self) -> str:
        """The SQLite URL of the store, as ``serve --data-dir`` finds it."""
        return sqlite_url(self.data_dir / DATABASE_FILE)

    def __enter__(self) -> HistoryStore:
        parent = self._parent
        if parent is None:
            self._directory = tempfile.TemporaryDirectory(prefix="license-service-bench-")
            parent = Path(self._directory.name)
        self.data_dir = parent / "data"
        self.data_dir.mkdir(mode=0o700)
        started = time.perf_counter()
        database = Database.open(self.database_url)
        try:
            self.rows = fill_history(
                database,
                products=self.products,
                days=self.days,
                last_day=self.last_day,
                until=datetime.now(UTC) - timedelta(seconds=INTERVAL_SECONDS),
            )
        finally:
            database.engine.dispose()
        self.fill_seconds = time.perf_counter() - started
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._directory is not None:
            self._directory.cleanup()
            self._directory = None
