"""A restart of the API server process: the collector reconnects and ends with the right view."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from license_service.cluster.kubernetes import KubernetesSource
from tests.cluster.kubernetes.conftest import StartSource
from tests.cluster.kubernetes.polling import eventually
from tests.kubernetes_fake.client_setup import api_client
from tests.kubernetes_fake.manifests import pod_manifest
from tests.kubernetes_fake.process import FakeApiProcess


def pod_names(source: KubernetesSource) -> list[str]:
    """The names of the pods in the current view, sorted (duplicates kept)."""
    return sorted(pod.name for pod in source.current().view.pods)


def test_a_killed_and_restarted_api_server_is_followed_without_double_counting(
    tmp_path: Path, start_source: StartSource
) -> None:
    with (
        FakeApiProcess(
            state_file=tmp_path / "state.jsonl", extra_arguments=("--bookmark-interval", "0.1")
        ) as fake,
        api_client(fake.url) as kube_client,
    ):
        core = client.CoreV1Api(kube_client)
        for name in ("a", "b", "c"):
            core.create_namespaced_pod("default", pod_manifest(name, phase="Running"))
        source = start_source(kube_client)
        eventually(lambda: source.current().synced and pod_names(source) == ["a", "b", "c"])

        fake.kill()
        outage = eventually(
            lambda: (state := source.current()).last_error and state, what="the outage noticed"
        )
        fake.start()  # same port, objects and versions kept in the state file
        core.delete_namespaced_pod("a", "default")
        core.create_namespaced_pod("default", pod_manifest("d", phase="Running"))

        eventually(lambda: pod_names(source) == ["b", "c", "d"], what="the view after restart")
        eventually(lambda: source.current().last_error is None, what="the error cleared")
        recovered = source.current()
        source.stop()

    assert outage.last_error is not None
    assert recovered.synced
    assert len(recovered.view.pods) == 3
