"""The small fixed dataset of the golden snapshot files, stored through the real store.

Cluster ``cluster-a``, period 2026-11-01 to 2026-11-03, generated 2026-11-04 08:00 UTC:

- 2026-11-01, three samples (10:00, 10:05, 10:10): IBM MQ 4, 6, 5 VPC; a product whose
  name is a formula; Cloud Pak for Integration 4; bundled App Connect measured 3 at
  2:1 (converted 1.5) and API Connect measured 1 at 3:1 (converted 1/3, written
  0.333334); a service whose name starts with '-'.
- 2026-11-02, two samples (09:55, 10:20) around a recorded missed sample at 10:00
  ("cluster view not synchronised"): IBM MQ 6 again (the peak date stays 2026-11-01),
  WebSphere 150 PVU named '@SUM(1+1)', Db2 with a non-ASCII name.
- 2026-11-03: no sample (no rows, a gap).
- Settings: threadsPerCore 1 from 2026-10-31, 2 from 2026-11-02 12:00.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from license_service.audit.snapshots import SnapshotContext
from license_service.configuration.entitlement_documents import parse_entitlements
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.metering.settings import MeteringSettings
from license_service.store.database import Database
from license_service.store.sampling_coverage import record_missed_sample
from license_service.store.settings_history import record_settings
from tests.store.sample_builders import PVU, at, bundled, day, product, service, store

CLUSTER: Final = ClusterId("cluster-a")
PERIOD: Final = DatePeriod(day("2026-11-01"), day("2026-11-03"))
GENERATED_AT: Final = datetime(2026, 11, 4, 8, 0, tzinfo=UTC)
ENTITLEMENTS_FILE: Final = Path(__file__).parent.parent / "fixtures" / "audit" / "entitlements.yaml"
CONTEXT: Final = SnapshotContext(
    version="1.2.3",
    cluster_id=CLUSTER,
    cluster_name="Production, Frankfurt",
    generated_at=GENERATED_AT,
    retention_sample_days=62,
    retention_peak_days=731,
    entitlements=parse_entitlements(
        ENTITLEMENTS_FILE.read_text(encoding="utf-8"), source=str(ENTITLEMENTS_FILE)
    ),
)
MISSED_REASON: Final = "cluster view not synchronised"
FORMULA_NAME: Final = '=HYPERLINK("http://evil","x")'


def store_golden_dataset(db: Database) -> None:
    """Store the dataset above in ``db`` (an empty, migrated database)."""
    with db.begin() as connection:
        record_settings(
            connection, cluster_id=CLUSTER, at=at("2026-10-31"), settings=MeteringSettings()
        )
    for time, mq in (("10:00", 4), ("10:05", 6), ("10:10", 5)):
        store(
            db,
            at("2026-11-01", time),
            product("mq", mq, name="IBM MQ Advanced"),
            product("evil", 1, name=FORMULA_NAME),
            product("cp4i", 4, name="IBM Cloud Pak for Integration"),
            bundled(
                "ace",
                3,
                ratio="2:1",
                cloudpak_id="cp4i",
                product_name="App Connect Enterprise",
                cloudpak_name="IBM Cloud Pak for Integration",
                cloudpak_version="2023.4",
            ),
            bundled(
                "apic",
                1,
                ratio="3:1",
                cloudpak_id="cp4i",
                product_name='API Connect, "Enterprise"',
                cloudpak_name="IBM Cloud Pak for Integration",
                cloudpak_version="2023.4",
            ),
            service(
                "gw",
                2,
                product_id="apic",
                product_name='API Connect, "Enterprise"',
                service_name="-API Gateway",
                cloudpak_id="cp4i",
            ),
        )
    with db.begin() as connection:
        record_missed_sample(
            connection, cluster_id=CLUSTER, at=at("2026-11-02", "10:00"), reason=MISSED_REASON
        )
    for time in ("09:55", "10:20"):
        store(
            db,
            at("2026-11-02", time),
            product("mq", 6, name="IBM MQ Advanced"),
            product("was", 150, name="@SUM(1+1)", metric=PVU),
            product("db2", 2, name="Db2 Wärehouse — ünïcode"),
        )
    with db.begin() as connection:
        record_settings(
            connection,
            cluster_id=CLUSTER,
            at=at("2026-11-02", "12:00"),
            settings=MeteringSettings(threads_per_core=2),
        )
