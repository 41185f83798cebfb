"""Worked examples of the metering rules, one per rule, written from SPEC section 2."""

from __future__ import annotations

from fractions import Fraction

import pytest

from license_service.metering.cluster_view import ClusterView, Container, Node
from license_service.metering.measuring import measure
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage import AnnotationProblem, PodRef, UnknownNode, UnmeasuredProduct
from license_service.metering.usage_rows import ProductUsage
from tests.metering.cluster_builders import MVS, PVU, VPC, bundled, node, pod, product, view

DEFAULT = MeteringSettings()
NODES = (node("n8", "8"), node("n4", "4"), node("n16", "16"))


def quantities(cluster_view: ClusterView, settings: MeteringSettings = DEFAULT) -> dict[str, int]:
    return {row.id: row.quantity for row in measure(cluster_view, settings).products}


def test_vpc_is_the_sum_of_cpu_limits_rounded_up() -> None:
    cluster = view(
        pod("a", "n8", product(), "1500m", "700m"),
        pod("b", "n16", product(), "2"),
        nodes=NODES,
    )
    assert quantities(cluster) == {"p1": 5}  # 1.5 + 0.7 + 2 = 4.2 -> 5


def test_rounding_happens_once_for_the_product_not_per_node() -> None:
    cluster = view(
        pod("a", "n8", product(), "500m"),
        pod("b", "n16", product(), "500m"),
        nodes=NODES,
    )
    assert quantities(cluster) == {"p1": 1}


def test_usage_on_a_node_is_capped_at_its_cpu_capacity() -> None:
    cluster = view(
        pod("a", "n4", product(), "3"),
        pod("b", "n4", product(), "3"),
        pod("c", "n8", product(), "1"),
        nodes=NODES,
    )
    assert quantities(cluster) == {"p1": 5}  # min(6, 4) + 1


def test_capping_can_use_allocatable_instead_of_capacity() -> None:
    cluster = view(
        pod("a", "big", product(), "10"),
        nodes=(node("big", "8", allocatable="6500m"),),
    )
    assert quantities(cluster) == {"p1": 8}
    assert quantities(cluster, MeteringSettings(capping_source="allocatable")) == {"p1": 7}


def test_capping_can_be_switched_off() -> None:
    cluster = view(pod("a", "n4", product(), "3", "3"), nodes=NODES)
    assert quantities(cluster, MeteringSettings(node_cpu_capping=False)) == {"p1": 6}


def test_capping_is_per_product_not_shared_between_products() -> None:
    cluster = view(
        pod("a", "n4", product("p1"), "4"),
        pod("b", "n4", product("p2", "Product Two"), "4"),
        nodes=NODES,
    )
    assert quantities(cluster) == {"p1": 4, "p2": 4}


def test_hyper_threading_divides_before_the_single_round_up() -> None:
    cluster = view(pod("a", "n8", product(), "5"), nodes=NODES)
    assert quantities(cluster, MeteringSettings(threads_per_core=2)) == {"p1": 3}  # 2.5 -> 3
    assert quantities(cluster, MeteringSettings(threads_per_core=4)) == {"p1": 2}  # 1.25 -> 2
    assert quantities(cluster, MeteringSettings(threads_per_core=8)) == {"p1": 1}


def test_container_without_cpu_limit_counts_as_its_whole_node() -> None:
    cluster = view(pod("a", "n16", product(), None, "1"), nodes=NODES)
    assert quantities(cluster) == {"p1": 16}  # 16 + 1 capped at 16


def test_container_without_limit_counts_as_the_node_even_when_capping_is_off() -> None:
    cluster = view(pod("a", "n16", product(), None), nodes=NODES)
    assert quantities(cluster, MeteringSettings(node_cpu_capping=False)) == {"p1": 16}


def test_pvu_multiplies_each_nodes_cores_by_its_rating() -> None:
    nodes = (node("rated", "8", pvu="100"), node("plain", "8"))
    cluster = view(
        pod("a", "rated", product(metric=PVU), "2"),
        pod("b", "plain", product(metric=PVU), "1500m"),
        nodes=nodes,
    )
    assert quantities(cluster) == {"p1": 305}  # 2 * 100 + 1.5 * 70
    # After hyper-threading: (200 + 105) / 2 = 152.5, rounded up once.
    assert quantities(cluster, MeteringSettings(threads_per_core=2)) == {"p1": 153}


def test_pvu_default_rating_is_configurable() -> None:
    cluster = view(pod("a", "n8", product(metric=PVU), "1"), nodes=NODES)
    assert quantities(cluster, MeteringSettings(default_pvu_per_core=120)) == {"p1": 120}


def test_pvu_caps_before_applying_the_rating() -> None:
    cluster = view(pod("a", "n4", product(metric=PVU), "6"), nodes=NODES)
    assert quantities(cluster) == {"p1": 280}  # min(6, 4) * 70


def test_invalid_pvu_label_falls_back_to_the_default_with_a_warning() -> None:
    cluster = view(
        pod("a", "odd", product(metric=PVU), "1"),
        nodes=(node("odd", "4", pvu="lots"),),
    )
    result = measure(cluster, DEFAULT)
    assert [row.quantity for row in result.products] == [70]
    assert any("pvu-per-core='lots'" in warning for warning in result.warnings)


def test_mvs_counts_distinct_nodes_with_a_charged_container() -> None:
    cluster = view(
        pod("a", "n8", product(metric=MVS), "1"),
        pod("b", "n8", product(metric=MVS), "1"),
        pod("c", "n4", product(metric=MVS), "0"),
        pod("d", "n16", product(metric=MVS, productChargedContainers=""), "1"),
        nodes=NODES,
    )
    assert quantities(cluster) == {"p1": 2}


def test_free_products_are_listed_with_quantity_zero() -> None:
    cluster = view(pod("a", "n8", product(metric="FREE"), "4"), nodes=NODES)
    assert measure(cluster, DEFAULT).products == (ProductUsage("Product One", "p1", "FREE", 0),)


def test_other_metrics_are_not_measured_but_reported() -> None:
    cluster = view(pod("a", "n8", product(metric="INSTALL"), "4"), nodes=NODES)
    result = measure(cluster, DEFAULT)
    assert result.products == ()
    assert result.unmeasured_metrics == (UnmeasuredProduct("p1", "Product One", "INSTALL"),)


def test_only_running_pods_are_counted() -> None:
    cluster = view(
        pod("a", "n8", product(), "1"),
        pod("b", "n8", product(), "3", running=False),
        nodes=NODES,
    )
    assert quantities(cluster) == {"p1": 1}


def test_pods_without_license_annotations_are_ignored_silently() -> None:
    result = measure(view(pod("a", "n8", {}, "4"), nodes=NODES), DEFAULT)
    assert result.products == ()
    assert result.incomplete_annotations == ()


def test_charged_containers_annotation_selects_what_counts() -> None:
    containers = (
        Container("app", "2"),
        Container("istio-proxy", "1"),
        Container("log-shipper", "500m"),
    )
    annotations = product(productChargedContainers="!istio-proxy")
    cluster = view(pod("a", "n8", annotations, containers=containers), nodes=NODES)
    assert quantities(cluster) == {"p1": 3}  # 2 + 0.5


def test_empty_charged_containers_lists_the_product_with_zero() -> None:
    cluster = view(pod("a", "n8", product(productChargedContainers=""), "4"), nodes=NODES)
    assert quantities(cluster) == {"p1": 0}


def test_pod_with_broken_annotations_is_reported_with_every_problem() -> None:
    broken = {
        "productName": "Broken",
        "cloudpakId": "cp1",
        "productCloudpakRatio": "2",
        "productChargedContainers": "app[",
    }
    cluster = view(
        pod("bad", "n8", broken, "4", namespace="team"),
        pod("good", "n8", product(), "1"),
        nodes=NODES,
    )
    result = measure(cluster, DEFAULT)
    assert quantities(cluster) == {"p1": 1}
    (reported,) = result.incomplete_annotations
    assert (reported.namespace, reported.name) == ("team", "bad")
    assert [problem.annotation for problem in reported.problems] == [
        "cloudpakName",
        "productChargedContainers",
        "productCloudpakRatio",
        "productID",
        "productMetric",
    ]


def test_blank_required_annotation_is_reported_as_empty() -> None:
    cluster = view(pod("a", "n8", product(productID=" "), "1"), nodes=NODES)
    (reported,) = measure(cluster, DEFAULT).incomplete_annotations
    assert reported.problems == (AnnotationProblem("productID", "empty"),)


def test_unparsable_cpu_limit_of_a_charged_container_excludes_the_pod() -> None:
    containers = (Container("app", "2 cores"), Container("side", "lots"))
    annotations = product(productChargedContainers="app")
    result = measure(view(pod("a", "n8", annotations, containers=containers), nodes=NODES), DEFAULT)
    assert result.products == ()
    (reported,) = result.incomplete_annotations
    assert [problem.annotation for problem in reported.problems] == [
        "containers[app].resources.limits.cpu"
    ]


def test_pod_on_an_unknown_node_is_measured_uncapped_and_reported() -> None:
    cluster = view(
        pod("a", "ghost", product(), "40", None),
        pod("b", "n4", product(), "1"),
        nodes=NODES,
    )
    result = measure(cluster, DEFAULT)
    assert quantities(cluster) == {"p1": 41}
    assert result.unknown_nodes == (
        UnknownNode("ghost", (PodRef("apps", "a"),), containers_without_limit=1),
    )


def test_node_without_capacity_is_not_capped_and_warned_about() -> None:
    cluster = view(
        pod("a", "bare", product(), "12"),
        nodes=(Node("bare", cpu_capacity=None),),
    )
    result = measure(cluster, DEFAULT)
    assert quantities(cluster) == {"p1": 12}
    assert any("'bare' has no status.capacity.cpu" in warning for warning in result.warnings)


def test_same_product_with_different_names_gives_one_row_with_the_smallest_name() -> None:
    cluster = view(
        pod("a", "n8", product(name="Zeta"), "1"),
        pod("b", "n8", product(name="Alpha"), "1"),
        nodes=NODES,
    )
    assert measure(cluster, DEFAULT).products == (ProductUsage("Alpha", "p1", VPC, 2),)


def test_same_product_id_with_two_metrics_gives_two_rows() -> None:
    cluster = view(
        pod("a", "n8", product(metric=VPC), "1"),
        pod("b", "n8", product(metric=PVU), "1"),
        nodes=NODES,
    )
    rows = measure(cluster, DEFAULT).products
    assert [(row.metric, row.quantity) for row in rows] == [(PVU, 70), (VPC, 1)]


def test_products_are_sorted_by_name_id_and_metric() -> None:
    cluster = view(
        pod("a", "n8", product("z", "B"), "1"),
        pod("b", "n8", product("y", "B"), "1"),
        pod("c", "n8", product("x", "A"), "1"),
        nodes=NODES,
    )
    assert [row.id for row in measure(cluster, DEFAULT).products] == ["x", "y", "z"]


class TestCloudPaks:
    """SPEC 2.6: bundled products, conversion, the Cloud Pak row."""

    def test_bundled_products_are_converted_and_summed_into_the_cloud_pak(self) -> None:
        cluster = view(
            pod("a", "n8", bundled("b1", "Bundled One", ratio="2:1"), "3"),
            pod("b", "n8", bundled("b2", "Bundled Two", ratio="1:1"), "1"),
            nodes=NODES,
        )
        result = measure(cluster, DEFAULT)
        converted = {row.product_id: row.converted_quantity for row in result.bundled_products}
        assert converted == {"b1": Fraction(3, 2), "b2": Fraction(1)}
        # 1.5 + 1 = 2.5, rounded up once for the Cloud Pak.
        assert result.products == (ProductUsage("Cloud Pak One", "cp1", VPC, 3),)

    def test_bundled_product_is_rounded_up_before_conversion(self) -> None:
        cluster = view(
            pod("a", "n8", bundled("b1", "Bundled One", ratio="2:1"), "500m"),
            pod("b", "n4", bundled("b1", "Bundled One", ratio="2:1"), "700m"),
            nodes=NODES,
        )
        (row,) = measure(cluster, DEFAULT).bundled_products
        assert row.measured_quantity == 2  # 1.2 -> 2, one group across nodes
        assert row.converted_quantity == 1
        assert str(row.conversion) == "2:1"

    def test_bundled_products_do_not_appear_as_products(self) -> None:
        cluster = view(
            pod("a", "n8", bundled("b1", "Bundled One"), "2"),
            pod("b", "n8", product("solo", "Solo"), "1"),
            nodes=NODES,
        )
        ids = [row.id for row in measure(cluster, DEFAULT).products]
        assert ids == ["cp1", "solo"]

    def test_cloud_pak_metric_defaults_to_the_product_metric(self) -> None:
        cluster = view(pod("a", "n8", bundled("b1", "B", metric=PVU), "1"), nodes=NODES)
        (cloudpak,) = measure(cluster, DEFAULT).products
        assert (cloudpak.metric, cloudpak.quantity) == (PVU, 70)

    def test_cloud_pak_metric_can_be_declared(self) -> None:
        annotations = bundled("b1", "B", ratio="1:2", cloudpakMetric="VIRTUAL_PROCESSOR_CORE")
        cluster = view(pod("a", "n8", annotations, "1"), nodes=NODES)
        result = measure(cluster, DEFAULT)
        assert result.products == (ProductUsage("Cloud Pak One", "cp1", VPC, 2),)
        (row,) = result.bundled_products
        assert (row.cloudpak_metric, row.metric) == (VPC, VPC)

    def test_bundled_product_with_unmeasurable_metric_is_reported_not_converted(self) -> None:
        cluster = view(pod("a", "n8", bundled("b1", "B", metric="USERS"), "4"), nodes=NODES)
        result = measure(cluster, DEFAULT)
        assert result.products == ()
        assert result.bundled_products == ()
        assert result.unmeasured_metrics == (UnmeasuredProduct("b1", "B", "USERS", "cp1"),)

    def test_cloud_pak_name_is_required_with_a_cloud_pak_id(self) -> None:
        annotations = product(cloudpakId="cp1")
        (reported,) = measure(
            view(pod("a", "n8", annotations, "1")), DEFAULT
        ).incomplete_annotations
        assert reported.problems[0].annotation == "cloudpakName"

    def test_services_measure_each_service_like_a_product(self) -> None:
        cluster = view(
            pod("a", "n8", bundled("b1", "B", serviceId="s1", serviceName="Search"), "1500m"),
            pod("b", "n4", bundled("b1", "B", serviceId="s1", serviceName="Search"), "1"),
            pod("c", "n8", bundled("b1", "B", serviceId="s2", serviceName="Index"), "2"),
            nodes=NODES,
        )
        result = measure(cluster, DEFAULT)
        values = {row.service_id: (row.service_name, row.value) for row in result.services}
        assert values == {"s1": ("Search", 3), "s2": ("Index", 2)}
        (row,) = result.bundled_products
        assert row.measured_quantity == 5  # 4.5 for the whole bundled product

    def test_service_id_without_name_is_a_problem(self) -> None:
        cluster = view(pod("a", "n8", bundled("b1", "B", serviceId="s1"), "1"), nodes=NODES)
        (reported,) = measure(cluster, DEFAULT).incomplete_annotations
        assert reported.problems == (
            AnnotationProblem("serviceName", "missing: required when serviceId is set"),
        )


UNSAFE = ["\x00", "\ud800", "\x1b", "\n", "\r", "\t", "\x7f", "\x85", "\u2028", "\u202e"]


@pytest.mark.parametrize("character", UNSAFE, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize(
    "key",
    [
        "productID",
        "productName",
        "productMetric",
        "productVersion",
        "productCloudpakRatio",
        "cloudpakName",
        "cloudpakVersion",
        "cloudpakMetric",
        "serviceId",
        "serviceName",
    ],
)
def test_a_value_no_store_can_hold_is_a_problem_of_its_pod_only(key: str, character: str) -> None:
    annotations = bundled("p2", "Two", ratio="1:1", serviceId="s1", serviceName="Service")
    annotations[key] = f"ab{character}c"
    bad, good = pod("bad", "n8", annotations, "4"), pod("good", "n8", product(), "1")
    cluster = view(bad, good, nodes=NODES)

    result = measure(cluster, DEFAULT)

    assert quantities(cluster) == {"p1": 1}
    (reported,) = result.incomplete_annotations
    assert reported.name == "bad"
    (problem,) = reported.problems
    assert problem.annotation == key
    assert f"(U+{ord(character):04X}" in problem.reason
    assert "at position 3 of 4" in problem.reason
    assert character not in problem.reason


def test_whitespace_around_a_value_is_not_part_of_it() -> None:
    annotations = product(productName="Product One\n", productID="\tp1 ")

    assert quantities(view(pod("a", "n8", annotations, "1"), nodes=NODES)) == {"p1": 1}


def test_charged_containers_may_be_listed_on_several_lines_but_hold_no_nul() -> None:
    listed = product(productChargedContainers="app,\n\tside;\r\nother\n")
    nul = product("p2", productChargedContainers="app\x00")
    cluster = view(
        pod("listed", "n8", listed, containers=(Container("side", "2"), Container("x", "4"))),
        pod("nul", "n8", nul, containers=(Container("app", "2"),)),
        nodes=NODES,
    )

    result = measure(cluster, DEFAULT)

    assert quantities(cluster) == {"p1": 2}
    (reported,) = result.incomplete_annotations
    assert reported.problems[0].annotation == "productChargedContainers"
    assert "U+0000 NULL" in reported.problems[0].reason
