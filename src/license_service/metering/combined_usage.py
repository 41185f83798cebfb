"""One day's usage when uploaded values join the measured ones (SPEC 10).

The rule, decided here once:

- an uploaded value and a measured daily peak of the same row (same product and metric;
  for a bundled product, also the same Cloud Pak, Cloud Pak metric and ratio) on the
  same day are not added: the day's value is the higher of the two. Both say how much
  of one product ran that day, and a vendor that both annotates its pods and uploads
  would otherwise be counted twice; an operator who corrects a day by hand uploads the
  corrected total (``MAX``);
- a Cloud Pak's day value is its measured converted sum (``M``: the highest, over the
  day's samples, of the sum of its bundled products' converted values, exact) plus
  what the uploads add, rounded up once (SPEC 2.6, 10): an uploaded bundled product
  adds its converted value, less the converted measured peak of the same row that day
  (never below zero). When ``M`` is not known exactly (the day's raw samples are
  pruned after 62 days) the Cloud Pak's stored, rounded peak stands in for it.

Rows of keys no upload touches are returned as they are. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final, TypeVar

from license_service.metering.uploads import UploadedDay
from license_service.metering.usage import FREE
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    PRODUCT_ROWS,
    BundledProductUsage,
    ProductUsage,
)

CloudpakKey = tuple[str, str]
"""A Cloud Pak's row key in ``/products``: its id and its metric."""

_NO_DAY: Final = UploadedDay()
_Row = TypeVar("_Row", ProductUsage, BundledProductUsage)


@dataclass(frozen=True, slots=True)
class DayUsage:
    """The product and bundled product rows of one day."""

    products: tuple[ProductUsage, ...] = ()
    bundled_products: tuple[BundledProductUsage, ...] = ()


def combined_day(
    measured: DayUsage,
    uploaded: UploadedDay = _NO_DAY,
    *,
    measured_sums: Mapping[CloudpakKey, Fraction] | None = None,
) -> DayUsage:
    """``measured`` with ``uploaded`` joined by the rule of this module, rows sorted.

    ``measured_sums``: each Cloud Pak's exact measured converted sum that day, where known.
    """
    bundled = _higher(
        BUNDLED_PRODUCT_ROWS.key_of, measured.bundled_products, uploaded.bundled_products
    )
    products = _higher(PRODUCT_ROWS.key_of, measured.products, uploaded.products)
    measured_bundled = {BUNDLED_PRODUCT_ROWS.key_of(row): row for row in measured.bundled_products}
    extras: dict[CloudpakKey, Fraction] = {}
    names: dict[CloudpakKey, str] = {}
    for row in uploaded.bundled_products:
        key = (row.cloudpak_id, row.cloudpak_metric)
        before = measured_bundled.get(BUNDLED_PRODUCT_ROWS.key_of(row))
        counted = before.converted_quantity if before is not None else Fraction(0)
        extras[key] = extras.get(key, Fraction(0)) + max(
            Fraction(0), row.converted_quantity - counted
        )
        names[key] = min(names.get(key, row.cloudpak_name), row.cloudpak_name)
    sums = measured_sums or {}
    for key, extra in extras.items():
        stored = products.get(key)
        base = sums.get(key, Fraction(stored.quantity) if stored is not None else Fraction(0))
        cloudpak_id, metric = key
        value = 0 if metric == FREE else math.ceil(base + extra)
        name = stored.name if stored is not None else names[key]
        products[key] = ProductUsage(name, cloudpak_id, metric, value)
    return DayUsage(tuple(sorted(products.values())), tuple(sorted(bundled.values())))


def _higher(
    key: Callable[[Sequence[Any]], Hashable], measured: Iterable[_Row], uploaded: Iterable[_Row]
) -> dict[Hashable, _Row]:
    """Rows by key: the measured ones, each replaced by an uploaded one of higher value."""
    rows = {key(row): row for row in measured}
    for row in uploaded:
        found = rows.get(key(row))
        if found is None or _value(row) > _value(found):
            rows[key(row)] = row
    return rows


def _value(row: ProductUsage | BundledProductUsage) -> int:
    return row.quantity if isinstance(row, ProductUsage) else row.measured_quantity
