"""The usage rows (SPEC 3.2, 3.3, 3.6): one frozen type per kind, its key and its column table.

This is the one place the fields of a usage row are declared. ``PRODUCT_ROWS``,
``BUNDLED_PRODUCT_ROWS`` and ``SERVICE_ROWS`` (``row_specs.RowSpec``) give every
shape of a row: the ``measure`` document, the API's JSON and CSV, the snapshot's files,
the database tables and the SQL that reads them. To add a field: add it to the type and
to its table here (its place in the table is its place in the API), write a migration
for the tables, and test it.

Rows are NamedTuples: immutable, sorted as the API sorts them (field order is API
order; text compares by code point; a ratio by its value), and built from a database
tuple in one step.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any, Final, NamedTuple

from license_service.metering.ratios import Ratio
from license_service.metering.row_specs import (
    EXACT_NUMBER,
    INTEGER,
    PEAK_DATE,
    RATIO,
    TEXT,
    Column,
    RowSpec,
    with_leading_key,
)


class ProductUsage(NamedTuple):
    """A row of ``/products``: a stand-alone product, or a Cloud Pak (id = ``cloudpakId``)."""

    name: str
    id: str
    metric: str
    quantity: int


class BundledProductUsage(NamedTuple):
    """A row of ``/bundled_products``: a product counted towards a Cloud Pak."""

    product_name: str
    product_id: str
    cloudpak_id: str
    cloudpak_name: str
    cloudpak_version: str
    cloudpak_metric: str
    metric: str
    measured_quantity: int
    conversion: Ratio

    @property
    def converted_quantity(self) -> Fraction:
        """The measured quantity in Cloud Pak units, exact (``measured * b / a``)."""
        return self.conversion.convert(self.measured_quantity)


class ServiceUsage(NamedTuple):
    """A row of ``/services``: the share of one service of a bundled product."""

    cloudpak_id: str
    cloudpak_metric: str
    product_name: str
    product_id: str
    metric: str
    service_name: str
    service_id: str
    value: int


# Columns that several kinds of rows share, declared once.
_PRODUCT_NAME: Final = Column("product_name", "productName", TEXT)
_PRODUCT_ID: Final = Column("product_id", "productId", TEXT)
_CLOUDPAK_ID: Final = Column("cloudpak_id", "cloudpakId", TEXT)
_CLOUDPAK_METRIC: Final = Column("cloudpak_metric", "cloudpakMetricName", TEXT)
_METRIC: Final = Column("metric", "metricName", TEXT)

PRODUCT_ROWS: Final = RowSpec(
    ProductUsage,
    columns=(
        Column("name", "name", TEXT, database="product_name"),
        Column("id", "id", TEXT, database="product_id"),
        _METRIC,
        PEAK_DATE,
        Column("quantity", "metricQuantity", INTEGER),
    ),
    key=("id", "metric"),
    value="quantity",
)

BUNDLED_PRODUCT_ROWS: Final = RowSpec(
    BundledProductUsage,
    columns=(
        _PRODUCT_NAME,
        _PRODUCT_ID,
        _CLOUDPAK_ID,
        Column("cloudpak_name", "cloudpakName", TEXT, in_daily_file=False),
        Column("cloudpak_version", "cloudpakVersion", TEXT, in_daily_file=False),
        _CLOUDPAK_METRIC,
        _METRIC,
        PEAK_DATE,
        Column("measured_quantity", "metricMeasuredQuantity", INTEGER),
        Column("conversion", "metricConversion", RATIO),
        Column(
            "converted_quantity",
            "metricConvertedQuantity",
            EXACT_NUMBER,
            derived=True,
            reads=("measured_quantity", "conversion"),
        ),
    ),
    key=("cloudpak_id", "cloudpak_metric", "product_id", "metric", "conversion"),
    value="measured_quantity",
)

SERVICE_ROWS: Final = RowSpec(
    ServiceUsage,
    columns=(
        _CLOUDPAK_ID,
        _CLOUDPAK_METRIC,
        _PRODUCT_NAME,
        _PRODUCT_ID,
        _METRIC,
        Column("service_name", "serviceName", TEXT),
        Column("service_id", "serviceId", TEXT),
        Column("value", "serviceMetricValue", INTEGER),
        PEAK_DATE,
    ),
    key=("cloudpak_id", "cloudpak_metric", "product_id", "metric", "service_id"),
    value="value",
)

USAGE_ROWS: Final[tuple[RowSpec[Any], ...]] = (PRODUCT_ROWS, BUNDLED_PRODUCT_ROWS, SERVICE_ROWS)
"""Every kind of usage row, in the order the API and the snapshot list them."""

# SPEC 8: the rows of one chargeback group are the rows above with ``groupName`` first,
# derived (never copied), so every field of a product row is a field of a group's row.
GROUP_NAME: Final = Column("group_name", "groupName", TEXT)
CHARGEBACK_PRODUCT_ROWS: Final = with_leading_key(PRODUCT_ROWS, GROUP_NAME, "GroupProductUsage")
CHARGEBACK_BUNDLED_PRODUCT_ROWS: Final = with_leading_key(
    BUNDLED_PRODUCT_ROWS, GROUP_NAME, "GroupBundledProductUsage"
)
CHARGEBACK_SERVICE_ROWS: Final = with_leading_key(SERVICE_ROWS, GROUP_NAME, "GroupServiceUsage")

CHARGEBACK_ROWS: Final[Mapping[RowSpec[Any], RowSpec[Any]]] = {
    PRODUCT_ROWS: CHARGEBACK_PRODUCT_ROWS,
    BUNDLED_PRODUCT_ROWS: CHARGEBACK_BUNDLED_PRODUCT_ROWS,
    SERVICE_ROWS: CHARGEBACK_SERVICE_ROWS,
}
"""The group rows of each kind of usage row (a group's ``/products``, ... are read there)."""
