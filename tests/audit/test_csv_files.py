"""The CSV format: RFC 4180 lines, the formula guard, headers always, period rows in API order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from license_service.audit.csv_files import period_csv
from license_service.formats.csv_lines import csv_line, text_field
from license_service.metering.cluster_view import ClusterId
from license_service.metering.row_specs import PeriodPeak
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    PRODUCT_ROWS,
    SERVICE_ROWS,
    ProductUsage,
)
from tests.audit.file_columns import (
    BUNDLED_PRODUCTS_COLUMNS,
    PRODUCTS_COLUMNS,
    SERVICES_COLUMNS,
)

CLUSTER = ClusterId("cluster-a")
DAY = date(2026, 11, 2)


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        pytest.param("=1+1", "'=1+1", id="equals"),
        pytest.param("+1", "'+1", id="plus"),
        pytest.param("-1", "'-1", id="minus"),
        pytest.param("@SUM(A1)", "'@SUM(A1)", id="at"),
        pytest.param("\tcalc", "'\tcalc", id="tab"),
        pytest.param("\rcalc", '"\'\rcalc"', id="carriage-return-then-quoted"),
        pytest.param('=HYPERLINK("x")', '"\'=HYPERLINK(""x"")"', id="guarded-then-quoted"),
        pytest.param("a=b", "a=b", id="equals-inside-is-harmless"),
        pytest.param(" =1", " =1", id="space-first-is-not-guarded"),
        pytest.param("", "", id="empty"),
        pytest.param("IBM MQ", "IBM MQ", id="plain"),
    ],
)
def test_a_text_cell_starting_like_a_formula_is_prefixed_with_a_quote(
    cell: str, written: str
) -> None:
    assert text_field(cell) == written


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        pytest.param("a,b", '"a,b"', id="comma"),
        pytest.param('say "hi"', '"say ""hi"""', id="double-quote"),
        pytest.param("two\nlines", '"two\nlines"', id="line-feed"),
        pytest.param("two\r\nlines", '"two\r\nlines"', id="crlf"),
        pytest.param("semi;colon", "semi;colon", id="semicolon-needs-nothing"),
    ],
)
def test_a_field_is_quoted_only_when_rfc_4180_needs_it(cell: str, written: str) -> None:
    assert text_field(cell) == written


def test_numbers_and_dates_are_not_text_cells() -> None:
    assert csv_line([-1, date(2026, 1, 2), "-1"]) == b"-1,2026-01-02,'-1\r\n"


def test_a_line_is_utf8_and_ends_with_crlf() -> None:
    assert csv_line(["Wärehouse — ü", 3]) == "Wärehouse — ü,3\r\n".encode()


@pytest.mark.parametrize(
    ("lines", "columns"),
    [
        pytest.param(
            period_csv(PRODUCT_ROWS, [], cluster_id=CLUSTER), PRODUCTS_COLUMNS, id="products"
        ),
        pytest.param(
            period_csv(BUNDLED_PRODUCT_ROWS, [], cluster_id=CLUSTER),
            BUNDLED_PRODUCTS_COLUMNS,
            id="bundled",
        ),
        pytest.param(
            period_csv(SERVICE_ROWS, [], cluster_id=CLUSTER), SERVICES_COLUMNS, id="services"
        ),
    ],
)
def test_no_rows_give_a_header_only_file(lines: Iterator[bytes], columns: tuple[str, ...]) -> None:
    assert list(lines) == [(",".join(columns) + "\r\n").encode()]


def test_period_rows_are_written_in_the_apis_order_whatever_order_they_come_in() -> None:
    rows = [
        PeriodPeak(ProductUsage("Zeta", "z", "VIRTUAL_PROCESSOR_CORE", 1), DAY),
        PeriodPeak(ProductUsage("Alpha", "b", "VIRTUAL_PROCESSOR_CORE", 2), DAY),
        PeriodPeak(ProductUsage("Alpha", "a", "VIRTUAL_PROCESSOR_CORE", 3), DAY),
    ]
    lines = list(period_csv(PRODUCT_ROWS, rows, cluster_id=CLUSTER))
    assert lines[1:] == [
        b"Alpha,a,VIRTUAL_PROCESSOR_CORE,2026-11-02,3,cluster-a\r\n",
        b"Alpha,b,VIRTUAL_PROCESSOR_CORE,2026-11-02,2,cluster-a\r\n",
        b"Zeta,z,VIRTUAL_PROCESSOR_CORE,2026-11-02,1,cluster-a\r\n",
    ]
