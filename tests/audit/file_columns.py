"""The header of every CSV file of a snapshot, as the tests expect them (SPEC 5)."""

from __future__ import annotations

from typing import Final

from license_service.audit.csv_files import daily_columns, period_columns
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS, SERVICE_ROWS

PRODUCTS_COLUMNS: Final = period_columns(PRODUCT_ROWS)
PRODUCTS_DAILY_COLUMNS: Final = daily_columns(PRODUCT_ROWS)
BUNDLED_PRODUCTS_COLUMNS: Final = period_columns(BUNDLED_PRODUCT_ROWS)
BUNDLED_PRODUCTS_DAILY_COLUMNS: Final = daily_columns(BUNDLED_PRODUCT_ROWS)
SERVICES_COLUMNS: Final = period_columns(SERVICE_ROWS)
COMPLIANCE_COLUMNS: Final = (
    "name", "id", "metricName", "entitled", "metricQuantity", "metricPeakDate",
    "headroom", "usedPercent", "status", "clusterId",
)  # fmt: skip
# SPEC 10, written out: the test holds the code to the SPEC's text, not to itself.
UPLOADS_COLUMNS: Final = (
    "receivedAt",
    "date",
    "productId",
    "productName",
    "productMetric",
    "metricValue",
    "aggregationPolicy",
    "cloudpakId",
    "submissionId",
    "clusterId",
)
