"""The collector's cache keeps the pods' cells for explanations (SPEC 9) as objects change."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from license_service.cluster.kubernetes.cluster_cache import ClusterCache
from license_service.cluster.kubernetes.resource_kinds import NODES, PODS
from license_service.metering.explanation_cells import CellIndex
from tests.metering.cluster_builders import node, pod, product
from tests.metering.test_explanation_cells import by_names

NOW = datetime(2026, 12, 7, tzinfo=UTC)


def fresh(cache: ClusterCache) -> object:
    view = cache.view()
    return by_names(CellIndex.of(view.pods, view.nodes).cells())


def test_a_list_leaves_the_cells_to_the_next_view_which_counts_them() -> None:
    cache = ClusterCache()
    cache.replace(NODES.name, {("", "n1"): node("n1", "4")}, at=NOW)
    listed = {("apps", f"p{n}"): pod(f"p{n}", "n1", product("db2"), "1") for n in range(3)}
    cache.replace(PODS.name, listed, at=NOW)

    view = cache.view()

    assert view.cells is not None
    assert by_names(view.cells) == fresh(cache)
    assert (
        sum(row.counts[cell] & 0xFFFF for row in view.cells.rows.values() for cell in row.counts)
        == 3
    )


def test_names_no_pod_uses_any_more_are_dropped_by_counting_afresh() -> None:
    cache = ClusterCache()
    cache.replace(PODS.name, {}, at=NOW)
    epoch = cache.view().cells.epoch  # type: ignore[union-attr]
    for number in range(5_000):  # pods of workloads that come and go (Jobs, say)
        gone = pod(f"job-{number}", "n1", product("db2"), "1")
        cache.apply(PODS.name, [(("apps", gone.name), gone)], at=NOW)
        cache.apply(PODS.name, [(("apps", gone.name), None)], at=NOW)
    kept = pod("kept", "n1", product("db2"), "2")
    cache.apply(PODS.name, [(("apps", "kept"), kept)], at=NOW)

    cells = cache.view().cells

    assert cells is not None
    assert cells.epoch != epoch
    assert cells.workload_count == 1
    assert by_names(cells) == fresh(cache)


def test_an_event_that_changes_nothing_counted_leaves_the_cells_untouched() -> None:
    # Most MODIFIED events change fields the view does not hold (status, heartbeats): the
    # cells are neither recounted nor copied for them.
    cache = ClusterCache()
    one = pod("one", "n1", product("db2"), "1")
    cache.replace(PODS.name, {("apps", "one"): one}, at=NOW)
    before = cache.view().cells
    assert before is not None

    cache.apply(PODS.name, [(("apps", "one"), replace(one))], at=NOW)
    after = cache.view().cells

    assert after is not None
    (row_before,) = before.rows.values()
    (row_after,) = after.rows.values()
    assert row_after.counts is row_before.counts
