"""``unmeasuredMetrics`` without the products whose values arrive by upload (SPEC 2.5, 10).

A product with a metric no pod resource shows is listed under ``/health``'s
``unmeasuredMetrics`` "until usage arrives through the upload API": once any value of
that product and metric is stored, it leaves the list. Read at each ``/health``, on a
follower too (``without_uploaded_rows``: the rows the leader shared, as it measured them).
"""

from __future__ import annotations

import dataclasses

from license_service.errors import StorageError
from license_service.metering.api_rows import UnmeasuredMetricRow
from license_service.sampling.status import SamplerStatus
from license_service.store.uploads import uploaded_product_keys
from license_service.web.app_state import AppState


def without_uploaded(state: AppState, status: SamplerStatus) -> SamplerStatus:
    """``status`` whose latest measurement no longer lists products with uploaded values."""
    measurement = status.last_measurement
    if measurement is None or not measurement.unmeasured_metrics:
        return status
    try:
        with state.database.read() as connection:
            uploaded = uploaded_product_keys(connection, cluster_id=state.cluster_id)
    except StorageError:
        return status  # /health says the database is down; the list stays as measured
    kept = tuple(
        product
        for product in measurement.unmeasured_metrics
        if (product.id, product.metric) not in uploaded
    )
    if len(kept) == len(measurement.unmeasured_metrics):
        return status
    changed = dataclasses.replace(measurement, unmeasured_metrics=kept)
    return dataclasses.replace(status, last_measurement=changed)


def without_uploaded_rows(
    state: AppState, rows: list[UnmeasuredMetricRow]
) -> list[UnmeasuredMetricRow]:
    """``rows`` (the leader's, on a follower) without the products with uploaded values."""
    if not rows:
        return rows
    try:
        with state.database.read() as connection:
            uploaded = uploaded_product_keys(connection, cluster_id=state.cluster_id)
    except StorageError:
        return rows  # /health says the database is down; the list stays as measured
    return [row for row in rows if (row["productId"], row["metricName"]) not in uploaded]
