"""The chargeback groups' files of a snapshot (SPEC 8), written when chargeback is on.

``chargeback_products_<s>.csv`` (``groupName,name,id,metricName,metricPeakDate,
metricQuantity,clusterId``) and ``chargeback_products_daily_<s>.csv`` (``date,groupName,
name,id,metricName,metricQuantity,clusterId``): the product files of ``snapshots`` over
the groups' product rows (``usage_rows.CHARGEBACK_PRODUCT_ROWS``, ``groupName`` first),
streamed and folded the same way, so checksums and the signature cover them as the
other files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from license_service.audit.csv_files import period_csv
from license_service.audit.daily_files import DailyFile
from license_service.audit.snapshot_archive import SnapshotArchive
from license_service.audit.snapshot_names import SnapshotFiles
from license_service.metering.cluster_view import ClusterId
from license_service.metering.row_specs import RowSpec
from license_service.metering.usage_rows import CHARGEBACK_PRODUCT_ROWS
from license_service.store.daily_rows import DayRows


def chargeback_files(
    archive: SnapshotArchive,
    files: SnapshotFiles,
    daily_rows: Callable[[RowSpec[Any]], Iterator[DayRows]],
    *,
    cluster_id: ClusterId,
) -> dict[str, int]:
    """Add the two group files to ``archive``; return their row counts by file name."""
    daily = DailyFile(CHARGEBACK_PRODUCT_ROWS, cluster_id)
    archive.add_chunks(
        files.chargeback_products_daily, daily.chunks(daily_rows(CHARGEBACK_PRODUCT_ROWS))
    )
    peaks = daily.period_rows()
    archive.add_chunks(
        files.chargeback_products,
        period_csv(CHARGEBACK_PRODUCT_ROWS, peaks, cluster_id=cluster_id),
    )
    return {files.chargeback_products: len(peaks), files.chargeback_products_daily: daily.rows}
