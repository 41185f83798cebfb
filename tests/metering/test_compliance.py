"""The compliance rule (SPEC 13): entitled quantity on the peak day, statuses, overlaps."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from license_service.formats.csv_lines import csv_line
from license_service.metering.compliance import (
    COMPLIANCE_API_NAMES,
    compliance_cells,
    compliance_json,
    compliance_rows,
    status_of,
)
from license_service.metering.entitlements import Entitlement, Entitlements
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import PeriodPeak
from license_service.metering.usage_rows import ProductUsage

PERIOD = DatePeriod(date(2026, 11, 1), date(2026, 11, 30))
VPC = "VIRTUAL_PROCESSOR_CORE"


def peak(
    product_id: str, quantity: int, day: int, *, name: str = "Prod"
) -> PeriodPeak[ProductUsage]:
    return PeriodPeak(ProductUsage(name, product_id, VPC, quantity), date(2026, 11, day))


def bought(
    product_id: str, quantity: str, first: str | None = None, last: str | None = None
) -> Entitlement:
    return Entitlement(
        name=f"{product_id} bought",
        product_id=product_id,
        metric=VPC,
        quantity=Fraction(quantity),
        valid_from=date.fromisoformat(first) if first else None,
        valid_to=date.fromisoformat(last) if last else None,
    )


@pytest.mark.parametrize(
    ("quantity", "entitled", "status"),
    [
        (7, "10", "OK"),
        (8, "10", "NEAR"),
        (10, "10", "NEAR"),
        (11, "10", "OVER"),
        (1, "0", "UNENTITLED"),
        (0, "0", "OK"),
        (79, "98.75", "NEAR"),  # exactly 80 %
    ],
)
def test_status_is_judged_on_exact_values(quantity: int, entitled: str, status: str) -> None:
    assert status_of(quantity, Fraction(entitled)) == status


def test_overlapping_entitlements_of_one_product_add_up_on_the_peak_day() -> None:
    entitlements = Entitlements(
        (bought("a", "10", "2026-01-01", "2026-12-31"), bought("a", "6", "2026-11-10", None))
    )
    [row] = compliance_rows([peak("a", 14, 12)], entitlements, period=PERIOD)
    assert (row.entitled, row.headroom, row.status) == (16, 2, "NEAR")
    assert row.used_percent == Decimal("87.50")


def test_the_quantity_entitled_is_the_one_on_the_peak_day_not_later() -> None:
    entitlements = Entitlements((bought("a", "10"), bought("a", "10", "2026-11-20")))
    [row] = compliance_rows([peak("a", 14, 5)], entitlements, period=PERIOD)
    assert (row.entitled, row.headroom, row.status) == (10, -4, "OVER")


def test_usage_without_entitlement_is_unentitled_and_has_no_percentage() -> None:
    [row] = compliance_rows([peak("a", 3, 5)], Entitlements(), period=PERIOD)
    assert (row.entitled, row.used_percent, row.status) == (0, None, "UNENTITLED")
    assert compliance_json(row)["usedPercent"] is None


def test_an_entitlement_without_usage_has_its_own_row_with_the_highest_quantity() -> None:
    entitlements = Entitlements(
        (bought("b", "4", None, "2026-11-10"), bought("b", "2.5", "2026-11-05", "2026-11-06"))
    )
    [row] = compliance_rows([], entitlements, period=PERIOD)
    assert (row.name, row.quantity, row.peak_date, row.entitled) == (
        "b bought",
        0,
        None,
        Fraction(13, 2),
    )
    assert row.status == "OK"
    assert compliance_cells(row) == (
        "b bought",
        "b",
        VPC,
        Decimal("6.5"),
        Decimal(0),
        "",
        Decimal("6.5"),
        Decimal("0.00"),
        "OK",
    )


def test_an_entitlement_outside_the_period_gives_no_row() -> None:
    entitlements = Entitlements((bought("b", "4", None, "2026-10-31"),))
    assert compliance_rows([], entitlements, period=PERIOD) == []


def test_rows_are_sorted_like_products_and_filtered_by_metric() -> None:
    rows = compliance_rows(
        [peak("z", 1, 1, name="B"), peak("y", 1, 1, name="A")],
        Entitlements((bought("x", "1"),)),
        period=PERIOD,
    )
    assert [row.id for row in rows] == ["y", "z", "x"]  # names A, B, "x bought"
    assert compliance_rows([peak("y", 1, 1)], Entitlements(), period=PERIOD, metric="FREE") == []


def test_json_and_csv_share_one_column_table() -> None:
    [row] = compliance_rows([peak("a", 9, 3)], Entitlements((bought("a", "10"),)), period=PERIOD)
    assert (
        tuple(compliance_json(row))
        == COMPLIANCE_API_NAMES
        == (
            "name",
            "id",
            "metricName",
            "entitled",
            "metricQuantity",
            "metricPeakDate",
            "headroom",
            "usedPercent",
            "status",
        )
    )
    assert compliance_json(row) == {
        "name": "Prod",
        "id": "a",
        "metricName": VPC,
        "entitled": 10,
        "metricQuantity": 9,
        "metricPeakDate": "2026-11-03",
        "headroom": 1,
        "usedPercent": 90.0,
        "status": "NEAR",
    }


def test_used_percent_is_rounded_down_never_up() -> None:
    [row] = compliance_rows([peak("a", 2, 3)], Entitlements((bought("a", "3"),)), period=PERIOD)
    assert row.used_percent == Decimal("66.66")


def test_a_negative_headroom_is_written_as_a_number_without_the_formula_guard() -> None:
    entitlements = Entitlements((bought("a", "12.5"),))
    [row] = compliance_rows([peak("a", 14, 3)], entitlements, period=PERIOD)
    assert csv_line(compliance_cells(row)) == (
        b"Prod,a,VIRTUAL_PROCESSOR_CORE,12.5,14,2026-11-03,-1.5,112.00,OVER\r\n"
    )
