"""The simulated cluster: deterministic by seed, realistic load, every metering feature present."""

from __future__ import annotations

import re
import uuid
import zoneinfo
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from license_service.cluster.simulated import SimulatedCluster, SimulatedClusterSource
from license_service.metering.cluster_view import LICENSE_ANNOTATIONS, ClusterView
from license_service.metering.measuring import measure
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage import Measurement
from license_service.metering.usage_rows import ProductUsage

AFTERNOON = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)  # a Wednesday
NIGHT = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
CLOUD_PAK_ID = "c8b82d189e7545f0892db9ef2731b90d"
LIBERTY_ID = "e7daa2b6fd4a4ac7bd9e1a31e3ab7e60"


def measured(view: ClusterView, settings: MeteringSettings | None = None) -> Measurement:
    return measure(view, settings or MeteringSettings())


def product(measurement: Measurement, product_id: str) -> ProductUsage:
    (row,) = (row for row in measurement.products if row.id == product_id)
    return row


def through_the_day(day: date, *, minutes: int = 5) -> list[datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return [start + timedelta(minutes=minutes * step) for step in range(24 * 60 // minutes)]


# Determinism


def test_the_same_seed_and_instant_give_equal_views() -> None:
    assert SimulatedCluster(seed=7).view_at(AFTERNOON) == SimulatedCluster(seed=7).view_at(
        AFTERNOON
    )


def test_an_instant_in_another_timezone_gives_the_view_of_the_same_moment() -> None:
    berlin = AFTERNOON.astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))
    assert SimulatedCluster(seed=7).view_at(berlin) == SimulatedCluster(seed=7).view_at(AFTERNOON)


def test_different_seeds_give_different_clusters() -> None:
    first, second = SimulatedCluster(seed=1), SimulatedCluster(seed=2)
    assert first.view_at(AFTERNOON) != second.view_at(AFTERNOON)
    assert first.cluster_id != second.cluster_id


def test_the_cluster_id_is_a_fixed_uuid_derived_from_the_seed() -> None:
    cluster_id = SimulatedCluster(seed=42).cluster_id
    assert cluster_id == SimulatedCluster(seed=42).cluster_id
    assert str(uuid.UUID(cluster_id)) == cluster_id
    kube_system = next(
        namespace
        for namespace in SimulatedCluster(seed=42).view_at(AFTERNOON).namespaces
        if namespace.name == "kube-system"
    )
    assert kube_system.uid == cluster_id


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="no timezone"):
        SimulatedCluster().view_at(datetime(2026, 3, 4, 14, 0))


# Shape of the cluster


def test_the_cluster_has_a_dozen_nodes_from_4_to_64_cpus_with_pvu_ratings() -> None:
    nodes = SimulatedCluster().view_at(AFTERNOON).nodes
    cpus = sorted(int(node.cpu_capacity or "0") for node in nodes)
    assert len(nodes) == 12
    assert len({node.name for node in nodes}) == 12
    assert (cpus[0], cpus[-1]) == (4, 64)
    assert {node.pvu_per_core for node in nodes} == {None, "70", "100"}


def test_pods_carry_only_license_annotations_and_realistic_names() -> None:
    pods = SimulatedCluster().view_at(AFTERNOON).pods
    assert all(set(pod.annotations) <= LICENSE_ANNOTATIONS for pod in pods)
    assert len({(pod.namespace, pod.name) for pod in pods}) == len(pods)
    replica_set_pod = re.compile(r"payments-api-[bcdfghjklmnpqrstvwxz2456789]{10}-[a-z0-9]{5}")
    assert any(replica_set_pod.fullmatch(pod.name) for pod in pods)
    assert any(pod.name == "db2u-orders-0" for pod in pods)


def test_unlicensed_pods_run_beside_licensed_ones_and_are_ignored() -> None:
    view = SimulatedCluster().view_at(AFTERNOON)
    unlicensed = [pod for pod in view.pods if not pod.annotations]
    licensed_only = replace(view, pods=tuple(pod for pod in view.pods if pod.annotations))
    assert {pod.namespace for pod in unlicensed} >= {"kube-system", "monitoring"}
    assert measured(view) == measured(licensed_only)


# Every feature the metering rules know


def test_the_cloud_pak_row_adds_up_its_three_bundled_products() -> None:
    measurement = measured(SimulatedCluster().view_at(AFTERNOON))
    bundled = [row for row in measurement.bundled_products if row.cloudpak_id == CLOUD_PAK_ID]
    cloud_pak = product(measurement, CLOUD_PAK_ID)
    assert sorted(str(row.conversion) for row in bundled) == ["1:1", "2:1", "4:1"]
    total = sum(row.converted_quantity for row in bundled)
    assert cloud_pak.quantity == -(-total.numerator // total.denominator)
    assert cloud_pak.name == "IBM Cloud Pak for Integration"
    assert all(row.id not in {b.product_id for b in bundled} for row in measurement.products)


def test_a_bundled_product_is_split_into_services() -> None:
    services = measured(SimulatedCluster().view_at(AFTERNOON)).services
    assert {service.service_id for service in services} == {"orders-is", "billing-is"}
    assert all(service.value > 0 for service in services)


def test_stand_alone_vpc_pvu_and_mvs_products_are_measured() -> None:
    metrics = {
        row.metric: row.quantity for row in measured(SimulatedCluster().view_at(NIGHT)).products
    }
    # Db2: two 4-core pods, one on the 100-PVU node and one on a 70-PVU node.
    assert metrics["PROCESSOR_VALUE_UNIT"] == 4 * 100 + 4 * 70
    assert metrics["MANAGED_VIRTUAL_SERVER"] == 3
    assert metrics["VIRTUAL_PROCESSOR_CORE"] > 0


def test_the_free_product_is_listed_with_quantity_zero() -> None:
    rows = measured(SimulatedCluster().view_at(AFTERNOON)).products
    free = [row for row in rows if row.metric == "FREE"]
    assert [(row.name, row.quantity) for row in free] == [("IBM Licensing", 0)]


def test_the_pod_with_broken_annotations_is_reported_with_every_problem() -> None:
    (broken,) = measured(SimulatedCluster().view_at(AFTERNOON)).incomplete_annotations
    assert broken.namespace == "analytics"
    assert broken.name.startswith("report-builder-")
    assert {problem.annotation for problem in broken.problems} == {
        "productMetric",
        "productCloudpakRatio",
    }


def test_sidecars_are_not_charged() -> None:
    view = SimulatedCluster().view_at(AFTERNOON)
    without_exclusions = replace(
        view,
        pods=tuple(
            replace(
                pod,
                annotations={
                    key: value
                    for key, value in pod.annotations.items()
                    if key != "productChargedContainers"
                },
            )
            for pod in view.pods
        ),
    )
    liberty_containers = {
        container.name
        for pod in view.pods
        if pod.annotations.get("productID") == LIBERTY_ID
        for container in pod.containers
    }
    charged = product(measured(view), LIBERTY_ID).quantity
    everything = product(measured(without_exclusions), LIBERTY_ID).quantity
    assert "istio-proxy" in liberty_containers
    assert everything > charged


def test_the_pending_pod_is_not_counted() -> None:
    view = SimulatedCluster().view_at(AFTERNOON)
    pending = [pod for pod in view.pods if not pod.running]
    as_if_running = replace(view, pods=tuple(replace(pod, running=True) for pod in view.pods))
    assert len(pending) == 1
    assert (
        product(measured(as_if_running), LIBERTY_ID).quantity
        > product(measured(view), LIBERTY_ID).quantity
    )


def test_threads_per_core_two_halves_the_vpc_of_the_simulated_products() -> None:
    view = SimulatedCluster().view_at(NIGHT)
    one = product(measured(view), LIBERTY_ID).quantity
    two = product(measured(view, MeteringSettings(threads_per_core=2)), LIBERTY_ID).quantity
    assert two == -(-one // 2)


# Load over time


def test_load_rises_in_the_afternoon_and_falls_at_night() -> None:
    cluster = SimulatedCluster()
    night = product(measured(cluster.view_at(NIGHT)), LIBERTY_ID).quantity
    afternoon = product(measured(cluster.view_at(AFTERNOON)), LIBERTY_ID).quantity
    day = [
        product(measured(cluster.view_at(instant)), LIBERTY_ID).quantity
        for instant in through_the_day(AFTERNOON.date())
    ]
    assert afternoon > night
    assert len(set(day)) > 3


def test_daily_peaks_differ_between_days() -> None:
    cluster = SimulatedCluster(seed=3)
    peaks = [
        max(
            product(measured(cluster.view_at(instant)), CLOUD_PAK_ID).quantity
            for instant in through_the_day(date(2026, 3, 2) + timedelta(days=offset), minutes=15)
        )
        for offset in range(7)
    ]
    assert len(set(peaks)) > 1
    # The weekend (the last two days, a Saturday and a Sunday) is quieter than midweek.
    assert max(peaks[5:]) < max(peaks[:5])


# The ClusterSource adapter


def test_the_source_shows_the_cluster_at_the_clock_time_and_is_synced() -> None:
    cluster = SimulatedCluster(seed=5)
    state = SimulatedClusterSource(cluster, lambda: AFTERNOON).current()
    assert state.view == cluster.view_at(AFTERNOON)
    assert (state.synced, state.observed_at, state.source, state.last_error) == (
        True,
        AFTERNOON,
        "simulated",
        None,
    )
    assert state.cluster_id == cluster.cluster_id
