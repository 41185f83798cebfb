"""A Cloud Pak's day value when uploaded usage joins the measured one (SPEC 2.6, 10).

Measured, a Cloud Pak's value in a sample is the sum of its bundled products' converted
values, rounded up once; its day value is the highest over the day's samples, so
``ceil(M)`` with ``M`` the day's highest exact converted sum. Uploaded bundled
products add their converted day values to that sum before the single round-up:
``ceil(M + U)``. Both ``M`` and ``U`` only grow as samples and uploads arrive, so the
day value only grows, and the store keeps it with its usual "the higher wins" upsert.
Pure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction

from license_service.metering.usage import FREE, Measurement
from license_service.metering.usage_rows import BundledProductUsage

CloudpakKey = tuple[str, str]
"""A Cloud Pak's row key in ``/products``: its id and its metric."""


def converted_sums(rows: Iterable[BundledProductUsage]) -> dict[CloudpakKey, Fraction]:
    """Each Cloud Pak's exact sum of the converted values of ``rows`` (of one sample or day)."""
    sums: dict[CloudpakKey, Fraction] = {}
    for row in rows:
        key = (row.cloudpak_id, row.cloudpak_metric)
        sums[key] = sums.get(key, Fraction(0)) + row.converted_quantity
    return sums


def cloudpak_value(metric: str, *, measured: Fraction, uploaded: Fraction) -> int:
    """The Cloud Pak's day value: measured plus uploaded converted sums, rounded up once."""
    if metric == FREE:
        return 0
    return math.ceil(measured + uploaded)


def cloudpak_names(measurement: Measurement) -> dict[CloudpakKey, str]:
    """Each Cloud Pak's name in ``measurement``: its ``/products`` row's, else its bundled
    products' (the first by name, as ``measuring`` picks)."""
    names: dict[CloudpakKey, str] = {}
    for row in measurement.bundled_products:
        key = (row.cloudpak_id, row.cloudpak_metric)
        names[key] = min(names.get(key, row.cloudpak_name), row.cloudpak_name)
    for product in measurement.products:
        if (product.id, product.metric) in names:
            names[(product.id, product.metric)] = product.name
    return names
