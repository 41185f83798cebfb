"""Changes made through the API reach ``current()`` through the watches, without re-listing."""

from __future__ import annotations

from kubernetes import client

from license_service.cluster.kubernetes import KubernetesSource
from license_service.metering.cluster_view import Container, Namespace, Node
from license_service.metering.explanation_cells import LOW_BITS, CellIndex, replay_log
from tests.cluster.kubernetes.conftest import StartSource
from tests.cluster.kubernetes.polling import eventually
from tests.kubernetes_fake.manifests import namespace_manifest, node_manifest, pod_manifest
from tests.kubernetes_fake.server import FakeApiServer
from tests.metering.test_explanation_cells import by_names


def pod_names(source: KubernetesSource) -> list[str]:
    """The names of the pods in the current view, sorted."""
    return sorted(pod.name for pod in source.current().view.pods)


def synced(source: KubernetesSource) -> None:
    """Wait until the source is synchronised."""
    eventually(lambda: source.current().synced, what="sync")


def test_pods_created_changed_and_deleted_through_the_api_follow_in_the_view(
    fake_api: FakeApiServer, kube_client: client.ApiClient, start_source: StartSource
) -> None:
    core = client.CoreV1Api(kube_client)
    core.create_namespaced_pod("default", pod_manifest("kept", phase="Running"))
    source = start_source()
    synced(source)

    core.create_namespaced_pod("default", pod_manifest("added", phase="Pending", cpu_limit="2"))
    eventually(lambda: pod_names(source) == ["added", "kept"], what="the new pod")
    core.patch_namespaced_pod_status("added", "default", {"status": {"phase": "Running"}})
    eventually(
        lambda: any(pod.name == "added" and pod.running for pod in source.current().view.pods),
        what="the pod running",
    )
    core.delete_namespaced_pod("kept", "default")
    eventually(lambda: pod_names(source) == ["added"], what="the deletion")

    (added,) = source.current().view.pods
    assert added.containers == (Container("main", "2"),)
    snapshot = source.counters.snapshot()
    assert snapshot.events[("pods", "ADDED")] == 1
    assert snapshot.events[("pods", "MODIFIED")] == 1
    assert snapshot.events[("pods", "DELETED")] == 1
    assert snapshot.relists == {}
    assert sum(1 for r in fake_api.requests if r.path == "/api/v1/pods" and not r.is_watch) == 1


def test_nodes_and_namespaces_are_watched_too(
    fake_api: FakeApiServer, kube_client: client.ApiClient, start_source: StartSource
) -> None:
    core = client.CoreV1Api(kube_client)
    source = start_source()
    synced(source)

    core.create_node(node_manifest("node-a", cpu="16"))
    core.patch_node("node-a", {"metadata": {"labels": {"license-service/pvu-per-core": "100"}}})
    core.create_namespace(namespace_manifest("team-b"))

    eventually(
        lambda: (
            Node("node-a", cpu_capacity="16", pvu_per_core="100") in source.current().view.nodes
        ),
        what="the labelled node",
    )
    eventually(
        lambda: any(ns.name == "team-b" for ns in source.current().view.namespaces),
        what="the new namespace",
    )
    core.delete_namespace("team-b")
    eventually(
        lambda: all(ns.name != "team-b" for ns in source.current().view.namespaces),
        what="the namespace deletion",
    )
    assert all(type(namespace) is Namespace for namespace in source.current().view.namespaces)


def test_the_view_is_the_same_object_until_something_changes(
    fake_api: FakeApiServer, start_source: StartSource
) -> None:
    source = start_source()
    synced(source)
    first = source.current().view

    assert source.current().view is first  # bookmarks arrive, nothing changed

    fake_api.create(pod_manifest("new"))
    changed = eventually(lambda: source.current().view is not first and source.current().view)
    assert [pod.name for pod in changed.pods] == ["new"]


def test_replicas_of_one_workload_share_their_containers_and_annotations(
    fake_api: FakeApiServer, start_source: StartSource
) -> None:
    for index in range(3):
        manifest = pod_manifest(f"replica-{index}", node_name="node-1", phase="Running")
        manifest["metadata"]["annotations"] = {"productID": "p", "productName": "P"}
        fake_api.create(manifest)
    source = start_source()
    synced(source)

    first, *others = source.current().view.pods
    assert all(pod.containers is first.containers for pod in others)
    assert all(pod.annotations is first.annotations for pod in others)
    assert all(pod.node_name is first.node_name for pod in others)


def licensed_pod(name: str, *, node: str, cpu: str) -> dict[str, object]:
    manifest = pod_manifest(name, node_name=node, phase="Running", cpu_limit=cpu)
    manifest["metadata"]["annotations"] = {  # type: ignore[index]
        "productID": "db2",
        "productName": "Db2",
        "productMetric": "VIRTUAL_PROCESSOR_CORE",
    }
    return manifest


def test_the_view_carries_the_pods_cells_for_explanations_as_watch_events_arrive(
    kube_client: client.ApiClient, start_source: StartSource
) -> None:
    # The cells follow each event (no pass over the pods at a sample): always what
    # counting the view's pods afresh gives, and the log names the view's nodes.
    core = client.CoreV1Api(kube_client)
    core.create_node(node_manifest("node-a", cpu="16"))
    core.create_namespaced_pod("default", licensed_pod("one", node="node-a", cpu="2"))
    source = start_source()
    synced(source)

    def matches() -> bool:
        view = source.current().view
        assert view.cells is not None
        fresh = CellIndex.of(view.pods, view.nodes).cells()
        replayed = replay_log(view.cells.log[: view.cells.log_length])
        return by_names(view.cells) == by_names(fresh) and {
            node.name: node for node in replayed.node_states
        } == {node.name: node for node in view.nodes}

    eventually(matches, what="the listed pod's cells")
    first = source.current().view.cells
    core.create_namespaced_pod("default", licensed_pod("two", node="node-a", cpu="3"))
    core.create_node(node_manifest("node-b", cpu="8"))
    eventually(lambda: len(source.current().view.pods) == 2, what="the second pod")
    eventually(lambda: len(source.current().view.nodes) == 2, what="the second node")
    eventually(matches, what="the cells after the added pod")
    core.delete_namespaced_pod("one", "default")
    core.delete_node("node-a")
    eventually(lambda: len(source.current().view.nodes) == 1, what="the node's deletion")
    eventually(matches, what="the cells after the deletions")

    assert first is not None
    assert sum(len(row.counts) for row in first.rows.values()) == 1
    ((count, load),) = by_names(source.current().view.cells).values()  # type: ignore[arg-type]
    assert (count & LOW_BITS, load) == (1, 3000)
