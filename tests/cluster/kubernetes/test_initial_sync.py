"""The first synchronisation: paged lists of pods, nodes and namespaces into the projection."""

from __future__ import annotations

import gc
import logging

import pytest
from kubernetes import client

from license_service.cluster.dumps import UNKNOWN_CLUSTER_ID
from license_service.cluster.kubernetes import KubernetesSource
from license_service.cluster.source import ClusterState
from license_service.metering.cluster_view import (
    LICENSE_ANNOTATIONS,
    ClusterId,
    Container,
    Namespace,
    Node,
    Pod,
)
from tests.cluster.kubernetes.conftest import StartSource
from tests.cluster.kubernetes.polling import eventually
from tests.kubernetes_fake.client_setup import api_client
from tests.kubernetes_fake.manifests import namespace_manifest, node_manifest, pod_manifest
from tests.kubernetes_fake.server import FakeApiServer


def synced_state(source: KubernetesSource) -> ClusterState:
    """The source's state once it is synchronised."""
    return eventually(lambda: (state := source.current()).synced and state, what="sync")


def annotated_pod(name: str, *, namespace: str = "default") -> dict[str, object]:
    """A running pod of a licensed product, with a non-license annotation too."""
    manifest = pod_manifest(name, namespace=namespace, node_name="node-1", phase="Running")
    manifest["metadata"]["annotations"] = {
        "productID": "p-1",
        "productName": "Product One",
        "productMetric": "VIRTUAL_PROCESSOR_CORE",
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
    }
    return manifest


def test_more_pods_than_one_page_are_all_listed_page_by_page(
    fake_api: FakeApiServer, start_source: StartSource
) -> None:
    fake_api.load(annotated_pod(f"web-{index:02}") for index in range(11))

    state = synced_state(start_source())

    assert sorted(pod.name for pod in state.view.pods) == [f"web-{i:02}" for i in range(11)]
    pod_pages = [
        request
        for request in fake_api.requests
        if request.path == "/api/v1/pods" and not request.is_watch
    ]
    assert [request.query.get("limit") for request in pod_pages] == ["4", "4", "4"]
    assert [bool(request.query.get("continue")) for request in pod_pages] == [False, True, True]


def client_model_objects() -> int:
    """How many objects of the client's model classes (``V1Pod``, ...) are alive."""
    # The collector freezes what is alive after each list; frozen objects are not
    # listed by gc.get_objects().
    gc.unfreeze()
    gc.collect()
    return sum(
        1
        for obj in gc.get_objects()
        if str(getattr(type(obj), "__module__", "")).startswith("kubernetes.client.models")
    )


def test_the_view_holds_projections_only(
    fake_api: FakeApiServer, start_source: StartSource
) -> None:
    fake_api.create(node_manifest("node-1", cpu="8"))
    fake_api.create(annotated_pod("licensed"))
    models_before = client_model_objects()

    state = synced_state(start_source())

    pod = next(pod for pod in state.view.pods if pod.name == "licensed")
    assert pod == Pod(
        namespace="default",
        name="licensed",
        node_name="node-1",
        containers=(Container("main", "1"),),
        annotations={
            "productID": "p-1",
            "productName": "Product One",
            "productMetric": "VIRTUAL_PROCESSOR_CORE",
        },
        running=True,
    )
    assert all(type(pod) is Pod for pod in state.view.pods)
    assert all(set(pod.annotations) <= LICENSE_ANNOTATIONS for pod in state.view.pods)
    assert state.view.nodes == (Node("node-1", cpu_capacity="8"),)
    assert all(type(namespace) is Namespace for namespace in state.view.namespaces)
    assert client_model_objects() == models_before


def test_namespaces_and_nodes_are_listed_too(
    fake_api: FakeApiServer, start_source: StartSource
) -> None:
    fake_api.create(namespace_manifest("team-a"))
    for index in range(5):
        fake_api.create(node_manifest(f"node-{index}", cpu="4"))

    state = synced_state(start_source())

    assert {namespace.name for namespace in state.view.namespaces} == {
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "team-a",
    }
    assert sorted(node.name for node in state.view.nodes) == [f"node-{i}" for i in range(5)]


def test_the_source_is_not_synced_until_every_first_list_completes(
    fake_api: FakeApiServer, start_source: StartSource
) -> None:
    fake_api.faults.fail(None, status=500, path="^/api/v1/pods$")
    source = start_source()

    failing = eventually(
        lambda: (state := source.current()).last_error and state, what="a failed list"
    )
    assert failing.synced is False
    assert failing.last_error is not None
    assert "list pods: HTTP 500" in failing.last_error
    assert failing.view.pods == ()

    fake_api.faults.clear()
    state = synced_state(source)
    assert state.last_error is None


def test_the_cluster_id_is_the_uid_of_kube_system(
    fake_api: FakeApiServer, start_source: StartSource
) -> None:
    kube_system = fake_api.get("namespaces", "kube-system")
    assert kube_system is not None

    source = start_source()

    assert synced_state(source).cluster_id == kube_system["metadata"]["uid"]
    assert source.cluster_id == kube_system["metadata"]["uid"]


def test_a_configured_cluster_id_wins_over_kube_system(start_source: StartSource) -> None:
    source = start_source(cluster_id=ClusterId("prod-eu-1"))

    assert source.cluster_id == "prod-eu-1"
    assert synced_state(source).cluster_id == "prod-eu-1"


def test_without_kube_system_the_source_is_not_synced_and_says_why(
    start_source: StartSource,
) -> None:
    with (
        FakeApiServer(namespaces=("default",), bookmark_interval=0.1) as api,
        api_client(api.url) as other_client,
    ):
        source = start_source(other_client)
        state = eventually(
            lambda: (state := source.current()).last_error and state,
            what="the missing kube-system reported",
        )
        source.stop()

    assert state.synced is False
    assert state.cluster_id == UNKNOWN_CLUSTER_ID
    assert "kube-system was not found" in (state.last_error or "")


def test_a_pod_the_decoder_refuses_is_skipped_logged_once_and_the_others_are_kept(
    fake_api: FakeApiServer,
    kube_client: client.ApiClient,
    start_source: StartSource,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = pod_manifest("broken", phase="Running")
    broken["spec"]["containers"][0]["resources"]["limits"]["cpu"] = {"not": "a quantity"}
    fake_api.create(broken)
    fake_api.create(annotated_pod("fine"))
    source = start_source()
    synced_state(source)

    # The client's own models would refuse this pod too: ask it not to decode the answer.
    client.CoreV1Api(kube_client).patch_namespaced_pod(
        "broken", "default", {"metadata": {"labels": {"touched": "yes"}}}, _preload_content=False
    )
    eventually(
        lambda: source.counters.snapshot().errors.get(("pods", "decode")) == 2,
        what="the modified pod refused again",
    )

    assert [pod.name for pod in source.current().view.pods] == ["fine"]
    warnings = [r for r in caplog.records if "default/broken" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    # The message names the pod and the field, although the other pods decode straight from bytes.
    assert (
        "Pod default/broken: spec.containers[0].resources.limits.cpu is an object, not a string"
        in warnings[0].getMessage()
    )


def test_after_the_list_the_projections_are_out_of_the_garbage_collectors_sight(
    fake_api: FakeApiServer, start_source: StartSource
) -> None:
    fake_api.load(annotated_pod(f"web-{index:02}") for index in range(6))
    gc.unfreeze()

    state = synced_state(start_source())

    # gc.freeze: what the lists left alive is no longer walked by full collections.
    assert gc.get_freeze_count() > 0
    tracked = {id(obj) for obj in gc.get_objects()}
    assert all(id(pod) not in tracked for pod in state.view.pods)


def test_a_refused_pod_once_fixed_is_kept_and_is_logged_again_if_it_breaks_again(
    fake_api: FakeApiServer,
    kube_client: client.ApiClient,
    start_source: StartSource,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = pod_manifest("flaky", phase="Running")
    broken["spec"]["containers"][0]["resources"]["limits"]["cpu"] = ["2"]
    fake_api.create(broken)
    source = start_source()
    synced_state(source)
    core = client.CoreV1Api(kube_client)
    path = "/spec/containers/0/resources/limits/cpu"

    def set_cpu(value: object) -> None:
        patch = [{"op": "replace", "path": path, "value": value}]
        core.patch_namespaced_pod("flaky", "default", patch, _preload_content=False)

    set_cpu("2")
    eventually(lambda: source.current().view.pods, what="the fixed pod in the view")
    (pod,) = source.current().view.pods
    set_cpu(["2"])
    eventually(lambda: not source.current().view.pods, what="the broken pod out of the view")

    assert pod.containers == (Container("main", "2"),)
    warnings = [r.getMessage() for r in caplog.records if "default/flaky" in r.getMessage()]
    assert len(warnings) == 2, warnings
    assert all("spec.containers[0].resources.limits.cpu is a list" in text for text in warnings)
