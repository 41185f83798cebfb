"""The rows of many clusters (SPEC 11): each usage row with ``clusterId`` first.

Derived from the usage rows (``row_specs.with_leading_key``), never copied: a field added
to a product row is a field of a cluster's product row too. The Reporter stores a
cluster's daily peaks in these shapes; its CSV files add ``clusterId`` from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from license_service.metering.row_specs import TEXT, Column, RowSpec, with_leading_key
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    PRODUCT_ROWS,
    SERVICE_ROWS,
)

CLUSTER_ID: Final = Column("cluster_id", "clusterId", TEXT)
CLUSTER_PRODUCT_ROWS: Final = with_leading_key(PRODUCT_ROWS, CLUSTER_ID, "ClusterProductUsage")
CLUSTER_BUNDLED_PRODUCT_ROWS: Final = with_leading_key(
    BUNDLED_PRODUCT_ROWS, CLUSTER_ID, "ClusterBundledProductUsage"
)
CLUSTER_SERVICE_ROWS: Final = with_leading_key(SERVICE_ROWS, CLUSTER_ID, "ClusterServiceUsage")
CLUSTER_ROWS: Final[Mapping[RowSpec[Any], RowSpec[Any]]] = {
    PRODUCT_ROWS: CLUSTER_PRODUCT_ROWS,
    BUNDLED_PRODUCT_ROWS: CLUSTER_BUNDLED_PRODUCT_ROWS,
    SERVICE_ROWS: CLUSTER_SERVICE_ROWS,
}
"""The cluster rows of each kind of usage row."""
