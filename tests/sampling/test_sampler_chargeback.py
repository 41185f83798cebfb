"""The sampler under SPEC 8: exclusions and group labels apply from the next sample, never
backwards; the change of excludeNamespace is recorded and printed in data_condition.txt."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from typing import Any

from license_service.audit.snapshots import SnapshotContext, write_snapshot
from license_service.configuration.ibmlicensing import LicensingConfig, parse_ibmlicensing
from license_service.metering.chargeback_groups import GROUP_LABEL
from license_service.metering.cluster_view import ClusterView, Container, Namespace, Node, Pod
from license_service.metering.periods import DatePeriod
from license_service.metering.usage_rows import CHARGEBACK_PRODUCT_ROWS
from license_service.sampling.sampler import Sampler
from license_service.signing.keys import SigningKey
from license_service.store.database import Database
from license_service.store.period_peaks import period_peaks
from tests.audit.conftest import TEST_KEY_FILE
from tests.sampling.doubles import (
    CLUSTER,
    PRODUCT_ID,
    START,
    FixedSource,
    daily_peaks,
    state,
    stored_samples,
)

LIBERTY = {
    "productID": PRODUCT_ID,
    "productName": "IBM WebSphere Liberty",
    "productMetric": "VIRTUAL_PROCESSOR_CORE",
}


def two_teams(*, sandbox_group: str | None = None) -> ClusterView:
    """Four cores in team-a's namespace, two in the sandbox (labelled ``sandbox_group``)."""
    return ClusterView(
        pods=(
            Pod("team-a", "api-1", "node-1", (Container("liberty", "4"),), LIBERTY),
            Pod("sandbox-1", "trial-1", "node-1", (Container("liberty", "2"),), LIBERTY),
        ),
        nodes=(Node("node-1", "16"),),
        namespaces=(
            Namespace("team-a", labels={GROUP_LABEL: "team-a"}),
            Namespace("sandbox-1", labels={GROUP_LABEL: sandbox_group} if sandbox_group else {}),
        ),
    )


def config(**spec: Any) -> LicensingConfig:
    return parse_ibmlicensing(
        {"apiVersion": "operator.ibm.com/v1alpha1", "kind": "IBMLicensing", "spec": spec}
    )


def test_an_excluded_namespace_changes_the_numbers_from_the_next_sample_and_is_recorded(
    database: Database,
) -> None:
    configs = [config()]
    source = FixedSource(state(view=two_teams()))
    tick = Sampler(
        source,
        database,
        settings=lambda: configs[-1].metering,
        chargeback=lambda: configs[-1].chargeback_enabled,
        clock=lambda: START,
    )
    second = START + timedelta(minutes=5)

    tick.take_sample(START)
    configs.append(config(features={"excludeNamespace": " sandbox-.* "}))
    tick.take_sample(second)

    # 6 cores before the change, 4 from the sample after it; the day's peak keeps the 6.
    assert stored_samples(database) == [(START, 6), (second, 4)]
    assert daily_peaks(database) == {START.date().isoformat(): 6}
    assert tick.status().excluded_namespaces_since == second

    text = data_condition(database)
    assert "Excluded namespaces:   sandbox-.*, since 2026-03-04T10:05:00Z\n" in text
    assert (
        "    2026-03-04T10:05:00Z: threadsPerCore 1, node CPU capping on (capacity), "
        "default PVU per core 70, excluded namespaces sandbox-.*\n"
    ) in text


def test_a_label_change_moves_usage_into_the_group_from_the_next_sample(
    database: Database,
) -> None:
    source = FixedSource(state(view=two_teams()))
    tick = Sampler(
        source,
        database,
        settings=lambda: config().metering,
        chargeback=lambda: True,
        clock=lambda: START,
    )
    tomorrow = START + timedelta(days=1)

    tick.take_sample(START)
    assert group_peaks(database, START) == {"team-a": 4}
    source.state = state(view=two_teams(sandbox_group="team-a"), observed_at=tomorrow)
    tick.take_sample(tomorrow)

    # From the sample after the label: six cores in team-a; the day before keeps its four.
    assert group_peaks(database, START) == {"team-a": 4}
    assert group_peaks(database, tomorrow) == {"team-a": 6}
    status = tick.status()
    assert status.last_groups is not None
    assert [row.quantity for row in status.last_groups["team-a"].products] == [6]


def test_no_group_is_measured_while_chargeback_is_off(database: Database) -> None:
    tick = Sampler(
        FixedSource(state(view=two_teams())),
        database,
        settings=lambda: config().metering,
        clock=lambda: START,
    )
    tick.take_sample(START)
    assert group_peaks(database, START) == {}
    assert tick.status().last_groups == {}


def group_peaks(database: Database, at: Any) -> dict[str, int]:
    period = DatePeriod(at.date(), at.date())
    with database.read() as connection:
        peaks = period_peaks(connection, CHARGEBACK_PRODUCT_ROWS, cluster_id=CLUSTER, period=period)
    return {peak.row.group_name: peak.row.quantity for peak in peaks}


def data_condition(database: Database) -> str:
    out = io.BytesIO()
    write_snapshot(
        database,
        context=SnapshotContext(
            version="0.0.0",
            cluster_id=CLUSTER,
            cluster_name="test",
            generated_at=START + timedelta(hours=1),
            retention_sample_days=62,
            retention_peak_days=731,
        ),
        period=DatePeriod(START.date(), START.date()),
        signing_key=SigningKey.from_pem(TEST_KEY_FILE.read_bytes()),
        out=out,
    )
    return zipfile.ZipFile(out).read("data_condition.txt").decode()
