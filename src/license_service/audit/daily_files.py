"""The daily CSV files of a snapshot, written from streamed rows, and the period rows they imply.

``ProductsDaily`` and ``BundledProductsDaily`` turn the days of ``store.daily_rows``
(by day, each day's rows in the API's order) into the lines of
``products_daily_<s>.csv`` and ``bundled_products_daily_<s>.csv``, one chunk of bytes
per day, header first. On the same pass they fold each row into its key's period
row (SPEC 2.7; the rows ``store.period_peaks`` gives the API, a test compares them): the
highest daily value, the earliest day that reached it (rows come by day, so the first
row to reach a new high is its earliest), and the names of the latest day with the
row. ``period_rows`` then gives the rows of ``products_<s>.csv`` and
``bundled_products_<s>.csv`` without reading the store again. ``service_period_rows``
folds the service rows the same way (services have no daily file).

Each key keeps one small record, with its cells already written for CSV (formula
guard, quoting): a product's names, id and metric are formatted once, not on each of
its 731 days. Memory grows with the keys of the period, as the period files do, never
with the days. Cells are the same bytes as ``csv_line`` writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Final

from license_service.audit.csv_files import (
    BUNDLED_PRODUCTS_DAILY_COLUMNS,
    LINE_END,
    PRODUCTS_DAILY_COLUMNS,
    header_line,
    text_field,
)
from license_service.audit.decimal_numbers import decimal_text
from license_service.metering.cluster_view import ClusterId
from license_service.store.daily_peaks import conversion_of
from license_service.store.daily_rows import BundledRow, DayRows, ProductRow, ServiceRow
from license_service.store.report_rows import BundledProductPeak, ProductPeak, ServicePeak

# Bounds the remembered (quantity, conversion) cells: quantities that differ on every
# row cannot grow it.
_MAX_REMEMBERED: Final = 100_000


class _Product:
    """One product key's latest name, its written cells, and its peak so far."""

    __slots__ = ("cells", "name", "peak", "peak_day")

    def __init__(self, name: str, product_id: str, metric: str, quantity: int, day: str) -> None:
        self.name = name
        self.cells = _joined((name, product_id, metric))
        self.peak = quantity
        self.peak_day = day


class ProductsDaily:
    """``products_daily_<s>.csv`` of one snapshot and the ``products_<s>.csv`` rows it implies."""

    def __init__(self, cluster_id: ClusterId) -> None:
        """Start the file of ``cluster_id`` (the ``clusterId`` of every line)."""
        self.rows = 0
        self._ending = "," + text_field(cluster_id) + LINE_END
        self._products: dict[tuple[str, str], _Product] = {}

    def chunks(self, days: Iterable[DayRows[ProductRow]]) -> Iterator[bytes]:
        """The header line, then the lines of each day as one chunk, read lazily."""
        yield header_line(PRODUCTS_DAILY_COLUMNS)
        for day, rows in days:
            yield self._lines(day, rows)

    def _lines(self, day: str, rows: list[ProductRow]) -> bytes:
        start = day + ","
        ending = self._ending
        products = self._products
        known = products.get
        lines: list[str] = []
        line = lines.append
        for name, product_id, metric, quantity in rows:
            key = (product_id, metric)
            product = known(key)
            if product is None:
                product = products[key] = _Product(name, product_id, metric, quantity, day)
            else:
                if name != product.name:
                    product.name = name
                    product.cells = _joined((name, product_id, metric))
                if quantity > product.peak:
                    product.peak = quantity
                    product.peak_day = day
            line(f"{start}{product.cells},{quantity}{ending}")
        self.rows += len(rows)
        return "".join(lines).encode()

    def period_rows(self) -> list[ProductPeak]:
        """The ``/products`` rows of the rows written so far, in the API's order."""
        return sorted(
            ProductPeak(
                name=product.name,
                id=product_id,
                metric=metric,
                peak_date=date.fromisoformat(product.peak_day),
                quantity=product.peak,
            )
            for (product_id, metric), product in self._products.items()
        )


class _Bundled:
    """One bundled key's latest row, its written name cells, and its peak so far."""

    __slots__ = ("cells", "cells_name", "latest", "peak", "peak_day")

    def __init__(self, row: BundledRow, day: str) -> None:
        self.latest = row
        self.cells_name = row[0]
        self.cells = _joined((row[0], row[1], row[2], row[5], row[6]))
        self.peak = row[7]
        self.peak_day = day


class BundledProductsDaily:
    """``bundled_products_daily_<s>.csv`` and the ``bundled_products_<s>.csv`` rows it implies."""

    def __init__(self, cluster_id: ClusterId) -> None:
        """Start the file of ``cluster_id`` (the ``clusterId`` of every line)."""
        self.rows = 0
        self._ending = "," + text_field(cluster_id) + LINE_END
        self._bundled: dict[tuple[str, str, str, str, str], _Bundled] = {}
        self._conversions: dict[tuple[int, str], str] = {}

    def chunks(self, days: Iterable[DayRows[BundledRow]]) -> Iterator[bytes]:
        """The header line, then the lines of each day as one chunk, read lazily."""
        yield header_line(BUNDLED_PRODUCTS_DAILY_COLUMNS)
        for day, rows in days:
            yield self._lines(day, rows)

    def _lines(self, day: str, rows: list[BundledRow]) -> bytes:
        start = day + ","
        ending = self._ending
        bundled = self._bundled
        known = bundled.get
        conversions = self._conversions
        lines: list[str] = []
        line = lines.append
        for row in rows:
            product_name, product_id, cloudpak_id = row[0], row[1], row[2]
            measured, conversion = row[7], row[8]
            key = (cloudpak_id, row[5], product_id, row[6], conversion)
            state = known(key)
            if state is None:
                state = bundled[key] = _Bundled(row, day)
            else:
                state.latest = row
                if product_name != state.cells_name:
                    state.cells_name = product_name
                    state.cells = _joined((product_name, product_id, cloudpak_id, row[5], row[6]))
                if measured > state.peak:
                    state.peak = measured
                    state.peak_day = day
            written = conversions.get((measured, conversion))
            if written is None:
                written = self._conversion(measured, conversion)
            line(f"{start}{state.cells},{written}{ending}")
        self.rows += len(rows)
        return "".join(lines).encode()

    def _conversion(self, measured: int, conversion: str) -> str:
        """``measured,<ratio>,<converted>``, remembered."""
        if len(self._conversions) >= _MAX_REMEMBERED:
            self._conversions.clear()
        ratio = conversion_of(conversion)
        converted = decimal_text(ratio.convert(measured))
        written = f"{measured},{text_field(str(ratio))},{text_field(converted)}"
        self._conversions[measured, conversion] = written
        return written

    def period_rows(self) -> list[BundledProductPeak]:
        """The ``/bundled_products`` rows of the rows written so far, in the API's order."""
        return sorted(
            BundledProductPeak(
                product_name=state.latest[0],
                product_id=product_id,
                cloudpak_id=cloudpak_id,
                cloudpak_name=state.latest[3],
                cloudpak_version=state.latest[4],
                cloudpak_metric=cloudpak_metric,
                metric=metric,
                peak_date=date.fromisoformat(state.peak_day),
                measured_quantity=state.peak,
                conversion=conversion_of(conversion),
            )
            for (
                cloudpak_id,
                cloudpak_metric,
                product_id,
                metric,
                conversion,
            ), state in self._bundled.items()
        )


def service_period_rows(days: Iterable[DayRows[ServiceRow]]) -> list[ServicePeak]:
    """The ``/services`` rows of the service rows of ``days`` (by day), in the API's order."""
    # By key: the latest row, and the peak's value and (earliest) day.
    latest: dict[tuple[str, str, str, str, str], ServiceRow] = {}
    peaks: dict[tuple[str, str, str, str, str], tuple[int, str]] = {}
    for day, rows in days:
        for row in rows:
            key = (row[0], row[1], row[3], row[4], row[6])
            latest[key] = row
            peak = peaks.get(key)
            if peak is None or row[7] > peak[0]:
                peaks[key] = (row[7], day)
    return sorted(_service_peak(key, latest[key], *peak) for key, peak in peaks.items())


def _service_peak(
    key: tuple[str, str, str, str, str], latest: ServiceRow, value: int, day: str
) -> ServicePeak:
    cloudpak_id, cloudpak_metric, product_id, metric, service_id = key
    return ServicePeak(
        cloudpak_id=cloudpak_id,
        cloudpak_metric=cloudpak_metric,
        product_name=latest[2],
        product_id=product_id,
        metric=metric,
        service_name=latest[5],
        service_id=service_id,
        peak_date=date.fromisoformat(day),
        value=value,
    )


def _joined(cells: tuple[str, ...]) -> str:
    """Text cells as written, joined by commas."""
    return ",".join(text_field(cell) for cell in cells)
