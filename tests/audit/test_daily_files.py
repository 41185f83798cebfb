"""The daily files and the period rows folded from them, against the API's own queries."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

import license_service.store.daily_rows as daily_rows_module
from license_service.audit.daily_files import DailyFile, period_rows_of
from license_service.formats.csv_lines import csv_line
from license_service.formats.decimal_numbers import decimal_text
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.metering.ratios import parse_ratio
from license_service.metering.row_specs import PeriodPeak
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    PRODUCT_ROWS,
    SERVICE_ROWS,
    BundledProductUsage,
    ProductUsage,
)
from license_service.store.daily_rows import DayRows, rows_by_day
from license_service.store.database import Database, sqlite_url
from license_service.store.period_peaks import period_peaks
from license_service.store.stored_rows import StoredRow
from license_service.store.tables import bundled_product_daily_peaks, product_daily_peaks
from tests.audit.file_columns import (
    BUNDLED_PRODUCTS_DAILY_COLUMNS,
    PRODUCTS_DAILY_COLUMNS,
)
from tests.audit.random_history import store_random_history
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip
from tests.store.daily_peaks import DailyPeak

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
    products = DailyFile(PRODUCT_ROWS, CLUSTER)
    bundled = DailyFile(BUNDLED_PRODUCT_ROWS, CLUSTER)
    assert _text(products.chunks([])) == (",".join(PRODUCTS_DAILY_COLUMNS) + "\r\n").encode()
    assert _text(bundled.chunks([])) == (",".join(BUNDLED_PRODUCTS_DAILY_COLUMNS) + "\r\n").encode()
    assert products.rows == bundled.rows == 0
    assert products.period_rows() == bundled.period_rows() == period_rows_of(SERVICE_ROWS, []) == []


def test_a_products_daily_line_guards_and_quotes_its_text_cells() -> None:
    daily = DailyFile(PRODUCT_ROWS, ClusterId("cluster-a"))
    lines = _text(daily.chunks([("2026-11-02", [('=HYPERLINK("x")', "mq,1", VPC, 4)])]))
    assert lines.split(b"\r\n")[1] == (
        b'2026-11-02,"\'=HYPERLINK(""x"")","mq,1",VIRTUAL_PROCESSOR_CORE,4,cluster-a'
    )


def test_a_bundled_line_shows_the_ratio_and_the_exact_converted_quantity() -> None:
    row: StoredRow = ("ACE", "ace", "cp4i", "CP4I", "2023.4", VPC, VPC, 3, "2:1")
    lines = _text(DailyFile(BUNDLED_PRODUCT_ROWS, CLUSTER).chunks([("2026-11-02", [row])]))
    assert lines.split(b"\r\n")[1] == (
        b"2026-11-02,ACE,ace,cp4i,VIRTUAL_PROCESSOR_CORE,VIRTUAL_PROCESSOR_CORE,3,2:1,1.5,cluster-a"
    )


def test_rows_are_read_one_day_at_a_time_as_the_lines_are_asked_for() -> None:
    def days() -> Iterator[DayRows]:
        yield "2026-11-02", [("A", "a", VPC, 1)]
        raise AssertionError("a day was read before its lines were asked for")

    chunks = DailyFile(PRODUCT_ROWS, CLUSTER).chunks(days())
    assert next(chunks).startswith(b"date,")
    assert next(chunks) == b"2026-11-02,A,a,VIRTUAL_PROCESSOR_CORE,1,cluster-a\r\n"


def test_a_period_row_has_the_highest_value_its_earliest_day_and_the_latest_names() -> None:
    daily = DailyFile(PRODUCT_ROWS, CLUSTER)
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
    assert daily.period_rows() == [
        PeriodPeak(ProductUsage("IBM MQ", "mq", VPC, 6), date(2026, 11, 2))
    ]


def _reference_products_daily(connection: Connection, period: DatePeriod) -> bytes:
    """The daily file as the API's rows sort in Python, every cell through ``csv_line``."""
    table = product_daily_peaks
    rows = sorted(
        DailyPeak(row.day, ProductUsage(row.product_name, row.product_id, row.metric, row.quantity))
        for row in connection.execute(
            select(table).where(
                table.c.cluster_id == CLUSTER, table.c.day.between(period.first, period.last)
            )
        )
    )
    lines = [csv_line(PRODUCTS_DAILY_COLUMNS)]
    lines += [
        csv_line((r.day, r.row.name, r.row.id, r.row.metric, r.row.quantity, CLUSTER)) for r in rows
    ]
    return b"".join(lines)


def _reference_bundled_daily(connection: Connection, period: DatePeriod) -> bytes:
    table = bundled_product_daily_peaks
    rows = sorted(
        DailyPeak(
            row.day,
            BundledProductUsage(
                row.product_name,
                row.product_id,
                row.cloudpak_id,
                row.cloudpak_name,
                row.cloudpak_version,
                row.cloudpak_metric,
                row.metric,
                row.measured_quantity,
                parse_ratio(row.conversion),
            ),
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
                r.row.product_name,
                r.row.product_id,
                r.row.cloudpak_id,
                r.row.cloudpak_metric,
                r.row.metric,
                r.row.measured_quantity,
                str(r.row.conversion),
                decimal_text(r.row.converted_quantity),
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
            products = DailyFile(PRODUCT_ROWS, CLUSTER)
            bundled = DailyFile(BUNDLED_PRODUCT_ROWS, CLUSTER)
            products_file = _text(
                products.chunks(
                    rows_by_day(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=window)
                )
            )
            bundled_file = _text(
                bundled.chunks(
                    rows_by_day(connection, BUNDLED_PRODUCT_ROWS, cluster_id=CLUSTER, period=window)
                )
            )
            services = period_rows_of(
                SERVICE_ROWS,
                rows_by_day(connection, SERVICE_ROWS, cluster_id=CLUSTER, period=window),
            )
            assert products_file == _reference_products_daily(connection, window)
            assert bundled_file == _reference_bundled_daily(connection, window)
            assert products.period_rows() == period_peaks(
                connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=window
            )
            assert bundled.period_rows() == period_peaks(
                connection, BUNDLED_PRODUCT_ROWS, cluster_id=CLUSTER, period=window
            )
            assert services == period_peaks(
                connection, SERVICE_ROWS, cluster_id=CLUSTER, period=window
            )
            assert products.rows == products_file.count(b"\r\n2026-")


def test_the_history_really_holds_what_the_comparison_is_about(any_db: Database) -> None:
    """Ratio ties, peak ties on later days, renamed ids: else the test above proves little."""
    period = store_random_history(any_db, seed=11)
    with any_db.read() as connection:
        bundled = [
            row for _, rows in rows_by_day(
                connection, BUNDLED_PRODUCT_ROWS, cluster_id=CLUSTER, period=period
            ) for row in rows
        ]  # fmt: skip
        products = [
            row
            for _, rows in rows_by_day(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=period)
            for row in rows
        ]
    # Adjacent rows tied before the conversion, in the ratio's order but not the text's.
    assert any(
        a[:8] == b[:8] and parse_ratio(a[8]) < parse_ratio(b[8]) and a[8] > b[8]
        for a, b in itertools.pairwise(bundled)
    )
    names_by_id: dict[tuple[str, str], set[str]] = {}
    quantities: dict[tuple[str, str], list[int]] = {}
    for name, product_id, metric, quantity in products:
        names_by_id.setdefault((product_id, metric), set()).add(name)
        quantities.setdefault((product_id, metric), []).append(quantity)
    assert any(len(names) > 1 for names in names_by_id.values())
    assert any(values.count(max(values)) > 1 for values in quantities.values())
