"""Restarts: in-thread and as a killed process, keeping or losing state as the test asks,
with resourceVersions that keep increasing when the state is kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from .client_setup import api_client
from .manifests import namespace_manifest, pod_manifest, token_secret_manifest
from .process import FakeApiProcess
from .server import FakeApiServer


def test_a_restart_that_keeps_state_keeps_objects_and_increasing_versions(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    core = client.CoreV1Api(kube_client)
    created = core.create_namespaced_pod("default", pod_manifest("kept"))

    fake_api.restart(keep_state=True)
    patched = core.patch_namespaced_pod("kept", "default", {"metadata": {"labels": {"a": "b"}}})

    assert patched.metadata.uid == created.metadata.uid
    assert int(patched.metadata.resource_version) > int(created.metadata.resource_version)


def test_after_a_restart_watches_from_older_versions_answer_410(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    old = fake_api.create(pod_manifest("a"))["metadata"]["resourceVersion"]
    fake_api.create(pod_manifest("b"))

    fake_api.restart(keep_state=True)

    with pytest.raises(ApiException) as raised:
        list(
            watch.Watch().stream(
                client.CoreV1Api(kube_client).list_namespaced_pod,
                "default",
                resource_version=old,
                timeout_seconds=5,
            )
        )
    assert raised.value.status == 410


def test_a_restart_can_keep_the_history_too(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    old = fake_api.create(pod_manifest("a"))["metadata"]["resourceVersion"]
    fake_api.create(pod_manifest("b"))

    fake_api.restart(keep_state=True, keep_history=True)
    watcher = watch.Watch()
    first = next(
        iter(
            watcher.stream(
                client.CoreV1Api(kube_client).list_namespaced_pod,
                "default",
                resource_version=old,
                timeout_seconds=5,
            )
        )
    )
    watcher.stop()

    assert (first["type"], first["object"].metadata.name) == ("ADDED", "b")


def test_a_restart_that_loses_state_starts_an_empty_cluster(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.create(pod_manifest("lost"))

    fake_api.restart(keep_state=False)

    assert client.CoreV1Api(kube_client).list_namespaced_pod("default").items == []
    assert fake_api.get("namespaces", "kube-system") is not None


def test_an_in_thread_server_with_a_state_file_restores_it_on_the_next_run(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.jsonl"
    with FakeApiServer(state_file=state) as first:
        first.create(pod_manifest("kept"))
        last_version = first.resource_version

    with FakeApiServer(state_file=state) as second:
        kept = second.get("pods", "kept", namespace="default")
        created = second.create(pod_manifest("new"))

    assert kept is not None
    assert int(created["metadata"]["resourceVersion"]) > last_version


def test_a_killed_process_keeps_its_state_through_the_state_file(tmp_path: Path) -> None:
    with FakeApiProcess(state_file=tmp_path / "state.jsonl") as fake:
        with api_client(fake.url) as kube_client:
            core = client.CoreV1Api(kube_client)
            core.create_namespace(namespace_manifest("ibm-common-services"))
            secret = core.create_namespaced_secret(
                "ibm-common-services", token_secret_manifest("t0ken")
            )
            core.delete_namespaced_secret("ibm-licensing-token", "ibm-common-services")
            before_kill = fake.control.resource_version
            recreated = core.create_namespaced_secret(
                "ibm-common-services", token_secret_manifest("t0ken2")
            )
        port = fake.port

        fake.kill()
        fake.start()

        with api_client(fake.url) as kube_client:
            core = client.CoreV1Api(kube_client)
            restored = core.read_namespaced_secret("ibm-licensing-token", "ibm-common-services")
            patched = core.patch_namespaced_secret(
                "ibm-licensing-token", "ibm-common-services", {"stringData": {"token": "t3"}}
            )

    assert fake.port == port
    assert restored.metadata.uid == recreated.metadata.uid != secret.metadata.uid
    assert restored.metadata.resource_version == recreated.metadata.resource_version
    assert int(patched.metadata.resource_version) > int(recreated.metadata.resource_version)
    assert int(recreated.metadata.resource_version) > before_kill


def test_a_process_restarted_without_its_state_starts_empty(tmp_path: Path) -> None:
    with FakeApiProcess(state_file=tmp_path / "state.jsonl") as fake:
        with api_client(fake.url) as kube_client:
            client.CoreV1Api(kube_client).create_namespaced_pod("default", pod_manifest("lost"))

        fake.restart(keep_state=False)

        with api_client(fake.url) as kube_client:
            pods = client.CoreV1Api(kube_client).list_namespaced_pod("default").items

    assert pods == []


def test_a_process_is_controlled_over_http_like_the_in_thread_server() -> None:
    with FakeApiProcess() as fake, api_client(fake.url) as kube_client:
        core = client.CoreV1Api(kube_client)
        old = core.create_namespaced_pod("default", pod_manifest("a")).metadata.resource_version
        core.create_namespaced_pod("default", pod_manifest("b"))
        fake.control.compact()
        fake.control.fail(1, status=503, path="/secrets$")

        with pytest.raises(ApiException) as expired:
            core.list_namespaced_pod("default", resource_version=old, limit=1)
        with pytest.raises(ApiException) as failed:
            core.list_namespaced_secret("default")
        logged = [(r["method"], r["path"]) for r in fake.control.requests()]

    assert expired.value.status == 410
    assert json.loads(failed.value.body)["code"] == 503
    assert logged[-2:] == [
        ("GET", "/api/v1/namespaces/default/pods"),
        ("GET", "/api/v1/namespaces/default/secrets"),
    ]
