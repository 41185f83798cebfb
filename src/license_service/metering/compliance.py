"""The compliance rule (SPEC 13): each product's period peak against what was bought.

``compliance_rows`` takes the period peaks of ``/products`` (stand-alone products and
Cloud Paks) and the entitlements, and gives one ``ComplianceRow`` per product with usage
or with an entitlement overlapping the period, sorted as ``/products`` (name, id,
metric). The quantity entitled that a row compares with:

- a product with usage: the quantity entitled on its ``metricPeakDate`` (overlapping
  entitlements added up), the day the period's value was reached, so the row says
  whether the number an auditor reads was covered on the day it happened;
- a product with an entitlement and no usage in the period: the highest quantity
  entitled on any day of the period (``metricQuantity`` 0, no peak date).

``status``: ``UNENTITLED`` when there is usage and nothing is entitled; otherwise
``OVER`` above 100 %, ``NEAR`` from 80 % to 100 % (both included), ``OK`` below. The
status is judged on exact values; ``usedPercent`` is rounded down to two decimals
(``None`` with nothing entitled). ``headroom`` is entitled minus used (negative when
over). ``COMPLIANCE_COLUMNS`` is the one column table: JSON keys and CSV header in
order, and how each value is written. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import Final, Literal, NamedTuple

from license_service.formats.csv_lines import Cell
from license_service.formats.decimal_numbers import decimal_text, json_number
from license_service.metering.entitlements import Entitlements, ProductKey
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import PeriodPeak
from license_service.metering.usage_rows import ProductUsage

Status = Literal["OK", "NEAR", "OVER", "UNENTITLED"]
NEAR_PERCENT: Final = 80
"""From this share of the entitlement on (included), a product is ``NEAR``."""

JsonCell = str | int | float | None


class ComplianceRow(NamedTuple):
    """A row of ``/compliance``: a product's period peak beside what it is entitled to."""

    name: str
    id: str
    metric: str
    entitled: Fraction
    quantity: int
    peak_date: date | None
    headroom: Fraction
    used_percent: Decimal | None
    status: Status

    @property
    def key(self) -> ProductKey:
        """The product's (id, metric)."""
        return (self.id, self.metric)


@dataclass(frozen=True, slots=True)
class ComplianceColumn:
    """One column: the row's attribute, the API name (JSON key, CSV header), its writers."""

    attribute: str
    api_name: str
    json: Callable[[object], JsonCell]
    csv: Callable[[object], Cell]


def _as_is(value: object) -> JsonCell:
    return value if isinstance(value, str | int) else str(value)


def _text(value: object) -> Cell:
    return str(value)


def _exact_json(value: object) -> JsonCell:
    return json_number(Fraction(value)) if isinstance(value, Fraction | int) else None


def _exact_csv(value: object) -> Cell:
    # A number cell, not text: a negative headroom must not get the formula guard's quote.
    return Decimal(decimal_text(Fraction(value))) if isinstance(value, Fraction | int) else ""


def _date_json(value: object) -> JsonCell:
    return value.isoformat() if isinstance(value, date) else None


def _date_csv(value: object) -> Cell:
    return value.isoformat() if isinstance(value, date) else ""


def _percent_json(value: object) -> JsonCell:
    return float(value) if isinstance(value, Decimal) else None


def _percent_csv(value: object) -> Cell:
    return value if isinstance(value, Decimal) else ""


COMPLIANCE_COLUMNS: Final = (
    ComplianceColumn("name", "name", _as_is, _text),
    ComplianceColumn("id", "id", _as_is, _text),
    ComplianceColumn("metric", "metricName", _as_is, _text),
    ComplianceColumn("entitled", "entitled", _exact_json, _exact_csv),
    ComplianceColumn("quantity", "metricQuantity", _exact_json, _exact_csv),
    ComplianceColumn("peak_date", "metricPeakDate", _date_json, _date_csv),
    ComplianceColumn("headroom", "headroom", _exact_json, _exact_csv),
    ComplianceColumn("used_percent", "usedPercent", _percent_json, _percent_csv),
    ComplianceColumn("status", "status", _as_is, _text),
)
COMPLIANCE_API_NAMES: Final = tuple(column.api_name for column in COMPLIANCE_COLUMNS)


def compliance_json(row: ComplianceRow) -> dict[str, JsonCell]:
    """``row`` as a JSON object of ``/compliance``, in the API's order."""
    return {c.api_name: c.json(getattr(row, c.attribute)) for c in COMPLIANCE_COLUMNS}


def compliance_cells(row: ComplianceRow) -> tuple[Cell, ...]:
    """``row``'s CSV cells, in ``COMPLIANCE_API_NAMES`` order."""
    return tuple(c.csv(getattr(row, c.attribute)) for c in COMPLIANCE_COLUMNS)


def status_of(quantity: Fraction | int, entitled: Fraction) -> Status:
    """The status of ``quantity`` used against ``entitled`` (exact comparison)."""
    if entitled <= 0:
        return "UNENTITLED" if quantity > 0 else "OK"
    if quantity > entitled:
        return "OVER"
    if quantity * 100 >= entitled * NEAR_PERCENT:
        return "NEAR"
    return "OK"


def used_percent(quantity: Fraction | int, entitled: Fraction) -> Decimal | None:
    """``quantity`` as a percentage of ``entitled``, rounded down to 2 decimals (``None``: 0)."""
    if entitled <= 0:
        return None
    share = Fraction(quantity) * 100 / entitled
    exact = Decimal(share.numerator) / Decimal(share.denominator)
    return exact.quantize(Decimal("0.01"), rounding=ROUND_FLOOR)


def compliance_row(
    *, name: str, key: ProductKey, quantity: int, peak_date: date | None, entitled: Fraction
) -> ComplianceRow:
    """One row, its headroom, percentage and status computed from its figures."""
    product_id, metric = key
    return ComplianceRow(
        name=name,
        id=product_id,
        metric=metric,
        entitled=entitled,
        quantity=quantity,
        peak_date=peak_date,
        headroom=entitled - quantity,
        used_percent=used_percent(quantity, entitled),
        status=status_of(quantity, entitled),
    )


def compliance_rows(
    peaks: Iterable[PeriodPeak[ProductUsage]],
    entitlements: Entitlements,
    *,
    period: DatePeriod,
    metric: str | None = None,
) -> list[ComplianceRow]:
    """The rows of ``/compliance`` over ``period`` (only ``metric``'s when given), sorted."""
    rows: dict[ProductKey, ComplianceRow] = {}
    for peak in peaks:
        usage = peak.row
        key = (usage.id, usage.metric)
        if metric is not None and usage.metric != metric:
            continue
        rows[key] = compliance_row(
            name=usage.name,
            key=key,
            quantity=usage.quantity,
            peak_date=peak.peak_date,
            entitled=entitlements.quantity_on(key, peak.peak_date),
        )
    for key, name in entitlements.names_in(period).items():
        if key in rows or (metric is not None and key[1] != metric):
            continue
        rows[key] = compliance_row(
            name=name,
            key=key,
            quantity=0,
            peak_date=None,
            entitled=entitlements.highest_in(key, period),
        )
    return sorted(rows.values(), key=lambda row: (row.name, row.id, row.metric))
