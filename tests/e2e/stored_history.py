"""Days of usage written into a data directory before a real service starts on it.

The served dump (``tests/fixtures/dumps/cluster.json``) measures IBM MQ Advanced at
4 VPC today; ``write_history`` stores earlier daily peaks of it (one sample per day) in
the data directory's SQLite store, for the dump's cluster, so that charts and
compliance have a period to show. ``entitlements_file`` writes an entitlements YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Final

from license_service.metering.cluster_view import ClusterId
from license_service.metering.usage_rows import ProductUsage
from license_service.store.database import Database, sqlite_url
from tests.store.sample_builders import store

DUMP_CLUSTER: Final = ClusterId("c87e24a7-b69a-5dcd-ac8d-571b2faabde7")
MQ_ID: Final = "c661609261d5471fb4ff8970a36bccea"
MQ_NAME: Final = "IBM MQ Advanced"
MQ_TODAY: Final = 4
VPC: Final = "VIRTUAL_PROCESSOR_CORE"


def write_history(data_dir: Path, peaks: Mapping[date, int]) -> None:
    """Store one sample of IBM MQ Advanced per day of ``peaks`` (at noon UTC)."""
    data_dir.mkdir(mode=0o700, exist_ok=True)
    database = Database.open(sqlite_url(data_dir / "license-service.db"))
    try:
        for day, quantity in sorted(peaks.items()):
            store(
                database,
                datetime.combine(day, time(12), tzinfo=UTC),
                ProductUsage(MQ_NAME, MQ_ID, VPC, quantity),
                cluster_id=DUMP_CLUSTER,
            )
    finally:
        database.dispose()
    (data_dir / "license-service.db").chmod(0o600)


def entitlements_file(path: Path, quantity: int | str) -> Path:
    """An entitlements file entitling IBM MQ Advanced to ``quantity`` VPC, from 2020 on."""
    path.write_text(
        f"- name: {MQ_NAME}\n  productId: {MQ_ID}\n  metricName: {VPC}\n"
        f"  quantity: {quantity}\n  validFrom: 2020-01-01\n",
        encoding="utf-8",
    )
    return path
