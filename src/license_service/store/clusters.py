"""Which clusters a database holds data of (for the multi-cluster reporter and status pages)."""

from __future__ import annotations

from sqlalchemy import Connection, select, union

from license_service.metering.cluster_view import ClusterId
from license_service.store.tables import (
    bundled_product_daily_peaks,
    missed_samples,
    product_daily_peaks,
    samples,
    sampling_coverage,
    service_daily_peaks,
)


def cluster_ids(connection: Connection) -> list[ClusterId]:
    """The ids of every cluster with samples, peaks or sampling records, sorted."""
    statement = union(
        *(
            select(table.c.cluster_id).distinct()
            for table in (
                samples,
                product_daily_peaks,
                bundled_product_daily_peaks,
                service_daily_peaks,
                sampling_coverage,
                missed_samples,
            )
        )
    )
    return sorted(ClusterId(cluster_id) for cluster_id in connection.scalars(statement))
