"""The daily files and the period rows folded from them, against the API's own queries."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

import license_service.store.daily_rows as daily_rows_module
from license_service.audit.csv_files import (
    BUNDLED_PRODUCTS_DAILY_COLUMNS,
    PRODUCTS_DAILY_COLUMNS,
    csv_line,
)
from license_service.audit.daily_files import (
    BundledProductsDaily,
    ProductsDaily,
    service_period_rows,
)
from license_service.audit.decimal_numbers import decimal_text
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.store.daily_peaks import conversion_of
from license_service.store.daily_rows import (
    BundledRow,
    DayRows,
    ProductRow,
    bundled_product_rows_by_day,
    product_rows_by_day,
    service_rows_by_day,
)
from license_service.store.database import Database, sqlite_url
from license_service.store.period_peaks import (
    bundled_product_peaks,
    product_peaks,
    service_peaks,
)
from license_service.store.report_rows import BundledProductDay, ProductDay, ProductPeak
from license_service.store.tables import bundled_product_daily_peaks, product_daily_peaks
from tests.audit.random_history import store_random_history
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip

CLUSTER = ClusterId("cluster-a")
VPC = "VIRTUAL_PROCESSOR_CORE"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty store on each backend."""
    if request.param == "sqlite":
        database = Database.open(sqlite_url(tmp_path / "license-service.db"))
        yield database
        database.dispose()
        return
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        database = Database.open(url)
        yield database
        database.dispose()


def _text(chunks: Iterator[bytes]) -> bytes:
    return b"".join(chunks)


def test_no_rows_give_header_only_files_and_no_period_rows() -> None:
    products, bundled = ProductsDaily(CLUSTER), BundledProductsDaily(CLUSTER)
    assert _text(products.chunks([])) == (",".join(PRODUCTS_DAILY_COLUMNS) + "\r\n").encode()
    assert _text(bundled.chunks([])) == (",".join(BUNDLED_PRODUCTS_DAILY_COLUMNS) + "\r\n").encode()
    assert products.rows == bundled.rows == 0
    assert products.period_rows() == bundled.period_rows() == service_period_rows([]) == []


def test_a_products_daily_line_guards_and_quotes_its_text_cells() -> None:
    daily = ProductsDaily(ClusterId("cluster-a"))
    lines = _text(daily.chunks([("2026-11-02", [('=HYPERLINK("x")', "mq,1", VPC, 4)])]))
    assert lines.split(b"\r\n")[1] == (
        b'2026-11-02,"\'=HYPERLINK(""x"")","mq,1",VIRTUAL_PROCESSOR_CORE,4,cluster-a'
    )


def test_a_bundled_line_shows_the_ratio_and_the_exact_converted_quantity() -> None:
    row: BundledRow = ("ACE", "ace", "cp4i", "CP4I", "2023.4", VPC, VPC, 3, "2:1")
    lines = _text(BundledProductsDaily(CLUSTER).chunks([("2026-11-02", [row])]))
    assert lines.split(b"\r\n")[1] == (
        b"2026-11-02,ACE,ace,cp4i,VIRTUAL_PROCESSOR_CORE,VIRTUAL_PROCESSOR_CORE,3,2:1,1.5,cluster-a"
    )


def test_rows_are_read_one_day_at_a_time_as_the_lines_are_asked_for() -> None:
    def days() -> Iterator[DayRows[ProductRow]]:
        yield "2026-11-02", [("A", "a", VPC, 1)]
        raise AssertionError("a day was read before its lines were asked for")

    chunks = ProductsDaily(CLUSTER).chunks(days())
    assert next(chunks).startswith(b"date,")
    assert next(chunks) == b"2026-11-02,A,a,VIRTUAL_PROCESSOR_CORE,1,cluster-a\r\n"


def test_a_period_row_has_the_highest_value_its_earliest_day_and_the_latest_names() -> None:
    daily = ProductsDaily(CLUSTER)
    _text(
        daily.chunks(
            [
                ("2026-11-01", [("MQ", "mq", VPC, 4)]),
                ("2026-11-02", [("MQ", "mq", VPC, 6)]),
                ("2026-11-03", [("MQ Advanced", "mq", VPC, 6)]),
                ("2026-11-04", [("IBM MQ", "mq", VPC, 5)]),
            ]
        )
    )
    assert daily.rows == 4
    assert daily.period_rows() == [ProductPeak("IBM MQ", "mq", VPC, date(2026, 11, 2), 6)]


def _reference_products_daily(connection: Connection, period: DatePeriod) -> bytes:
    """The daily file as the API's rows sort in Python, every cell through ``csv_line``."""
    table = product_daily_peaks
    rows = sorted(
        ProductDay(row.day, row.product_name, row.product_id, row.metric, row.quantity)
        for row in connection.execute(
            select(table).where(
                table.c.cluster_id == CLUSTER, table.c.day.between(period.first, period.last)
            )
        )
    )
    lines = [csv_line(PRODUCTS_DAILY_COLUMNS)]
    lines += [csv_line((r.day, r.name, r.id, r.metric, r.quantity, CLUSTER)) for r in rows]
    return b"".join(lines)


def _reference_bundled_daily(connection: Connection, period: DatePeriod) -> bytes:
    table = bundled_product_daily_peaks
    rows = sorted(
        BundledProductDay(
            row.day,
            row.product_name,
            row.product_id,
            row.cloudpak_id,
            row.cloudpak_name,
            row.cloudpak_version,
            row.cloudpak_metric,
            row.metric,
            row.measured_quantity,
            conversion_of(row.conversion),
        )
        for row in connection.execute(
            select(table).where(
                table.c.cluster_id == CLUSTER, table.c.day.between(period.first, period.last)
            )
        )
    )
    lines = [csv_line(BUNDLED_PRODUCTS_DAILY_COLUMNS)]
    lines += [
        csv_line(
            (
                r.day,
                r.product_name,
                r.product_id,
                r.cloudpak_id,
                r.cloudpak_metric,
                r.metric,
                r.measured_quantity,
                str(r.conversion),
                decimal_text(r.converted_quantity),
                CLUSTER,
            )
        )
        for r in rows
    ]
    return b"".join(lines)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_on_random_histories_the_files_and_period_rows_match_the_apis_queries(
    any_db: Database, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Daily files in the API's order on both backends; period rows as store.period_peaks."""
    period = store_random_history(any_db, seed=seed)
    # Also a period that cuts the history: days outside it must not count.
    windows = (period, DatePeriod(period.first.replace(day=3), period.last.replace(day=7)))
    for batch_rows, window in itertools.product((3, 5_000), windows):
        monkeypatch.setattr(daily_rows_module, "BATCH_ROWS", batch_rows)
        with any_db.read() as connection:
            products, bundled = ProductsDaily(CLUSTER), BundledProductsDaily(CLUSTER)
            products_file = _text(
                products.chunks(product_rows_by_day(connection, cluster_id=CLUSTER, period=window))
            )
            bundled_file = _text(
                bundled.chunks(
                    bundled_product_rows_by_day(connection, cluster_id=CLUSTER, period=window)
                )
            )
            services = service_period_rows(
                service_rows_by_day(connection, cluster_id=CLUSTER, period=window)
            )
            assert products_file == _reference_products_daily(connection, window)
            assert bundled_file == _reference_bundled_daily(connection, window)
            assert products.period_rows() == product_peaks(
                connection, cluster_id=CLUSTER, period=window
            )
            assert bundled.period_rows() == bundled_product_peaks(
                connection, cluster_id=CLUSTER, period=window
            )
            assert services == service_peaks(connection, cluster_id=CLUSTER, period=window)
            assert products.rows == products_file.count(b"\r\n2026-")


def test_the_history_really_holds_what_the_comparison_is_about(any_db: Database) -> None:
    """Ratio ties, peak ties on later days, renamed ids: else the test above proves little."""
    period = store_random_history(any_db, seed=11)
    with any_db.read() as connection:
        bundled = [
            row for _, rows in bundled_product_rows_by_day(
                connection, cluster_id=CLUSTER, period=period
            ) for row in rows
        ]  # fmt: skip
        products = [
            row
            for _, rows in product_rows_by_day(connection, cluster_id=CLUSTER, period=period)
            for row in rows
        ]
    # Adjacent rows tied before the conversion, in the ratio's order but not the text's.
    assert any(
        a[:8] == b[:8] and conversion_of(a[8]) < conversion_of(b[8]) and a[8] > b[8]
        for a, b in itertools.pairwise(bundled)
    )
    names_by_id: dict[tuple[str, str], set[str]] = {}
    quantities: dict[tuple[str, str], list[int]] = {}
    for name, product_id, metric, quantity in products:
        names_by_id.setdefault((product_id, metric), set()).add(name)
        quantities.setdefault((product_id, metric), []).append(quantity)
    assert any(len(names) > 1 for names in names_by_id.values())
    assert any(values.count(max(values)) > 1 for values in quantities.values())
