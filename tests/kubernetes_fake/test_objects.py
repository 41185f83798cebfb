"""Create, get, update, delete and deletecollection through the real client, with the
metadata and optimistic-concurrency rules of "API concepts" (resource versions)."""

from __future__ import annotations

import base64
import json

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .manifests import (
    ibm_licensing_manifest,
    namespace_manifest,
    pod_manifest,
    token_secret_manifest,
)
from .server import FakeApiServer


def _status_of(error: ApiException) -> dict[str, object]:
    body: dict[str, object] = json.loads(error.body)
    return body


def test_create_sets_uid_creation_timestamp_and_a_resource_version(
    kube_client: client.ApiClient,
) -> None:
    created = client.CoreV1Api(kube_client).create_namespaced_pod("default", pod_manifest("web-1"))

    assert created.metadata.uid
    assert created.metadata.creation_timestamp is not None
    assert int(created.metadata.resource_version) > 0
    assert created.status.phase == "Pending"


def test_resource_versions_increase_across_every_resource_on_each_write(
    kube_client: client.ApiClient,
) -> None:
    core = client.CoreV1Api(kube_client)
    versions = [
        core.create_namespace(namespace_manifest("team-a")).metadata.resource_version,
        core.create_namespaced_pod(
            "team-a", pod_manifest("p", namespace="team-a")
        ).metadata.resource_version,
        core.create_node(
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}
        ).metadata.resource_version,
        core.patch_namespaced_pod(
            "p", "team-a", {"metadata": {"labels": {"x": "1"}}}
        ).metadata.resource_version,
    ]

    numbers = [int(version) for version in versions]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 4


def test_creating_an_existing_name_answers_409_already_exists(
    kube_client: client.ApiClient,
) -> None:
    core = client.CoreV1Api(kube_client)
    core.create_namespaced_pod("default", pod_manifest("twin"))

    with pytest.raises(ApiException) as raised:
        core.create_namespaced_pod("default", pod_manifest("twin"))

    assert raised.value.status == 409
    assert _status_of(raised.value)["reason"] == "AlreadyExists"


def test_creating_in_a_missing_namespace_answers_404(kube_client: client.ApiClient) -> None:
    with pytest.raises(ApiException) as raised:
        client.CoreV1Api(kube_client).create_namespaced_secret(
            "nowhere", token_secret_manifest("t", namespace="nowhere")
        )

    assert raised.value.status == 404
    assert _status_of(raised.value)["message"] == 'namespaces "nowhere" not found'


def test_a_pod_without_an_image_is_invalid(kube_client: client.ApiClient) -> None:
    manifest = pod_manifest("broken")
    del manifest["spec"]["containers"][0]["image"]

    with pytest.raises(ApiException) as raised:
        client.CoreV1Api(kube_client).create_namespaced_pod("default", manifest)

    assert raised.value.status == 422
    assert "spec.containers[0].image" in str(_status_of(raised.value)["message"])


def test_an_uppercase_name_is_invalid(kube_client: client.ApiClient) -> None:
    with pytest.raises(ApiException) as raised:
        client.CoreV1Api(kube_client).create_namespaced_pod("default", pod_manifest("Web"))

    assert raised.value.status == 422


def test_generate_name_gets_a_random_suffix(kube_client: client.ApiClient) -> None:
    manifest = pod_manifest("ignored")
    manifest["metadata"] = {"generateName": "worker-"}

    created = client.CoreV1Api(kube_client).create_namespaced_pod("default", manifest)

    assert created.metadata.name.startswith("worker-")
    assert len(created.metadata.name) == len("worker-") + 5


def test_getting_a_missing_object_answers_404_not_found(kube_client: client.ApiClient) -> None:
    with pytest.raises(ApiException) as raised:
        client.CoreV1Api(kube_client).read_namespaced_secret("absent", "default")

    assert raised.value.status == 404
    assert _status_of(raised.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'secrets "absent" not found',
        "reason": "NotFound",
        "details": {"name": "absent", "kind": "secrets"},
        "code": 404,
    }


def test_update_with_a_stale_resource_version_answers_409_conflict(
    kube_client: client.ApiClient,
) -> None:
    core = client.CoreV1Api(kube_client)
    first = core.create_namespaced_pod("default", pod_manifest("web"))
    core.patch_namespaced_pod("web", "default", {"metadata": {"labels": {"v": "2"}}})
    first.metadata.labels = {"v": "stale"}

    with pytest.raises(ApiException) as raised:
        core.replace_namespaced_pod("web", "default", first)

    assert raised.value.status == 409
    assert _status_of(raised.value)["reason"] == "Conflict"
    assert core.read_namespaced_pod("web", "default").metadata.labels == {"v": "2"}


def test_update_with_the_current_resource_version_succeeds(
    kube_client: client.ApiClient,
) -> None:
    core = client.CoreV1Api(kube_client)
    current = core.create_namespaced_pod("default", pod_manifest("web"))
    current.metadata.labels = {"tier": "front"}

    updated = core.replace_namespaced_pod("web", "default", current)

    assert updated.metadata.labels == {"tier": "front"}
    assert int(updated.metadata.resource_version) > int(current.metadata.resource_version)
    assert updated.metadata.uid == current.metadata.uid


def test_an_update_that_changes_nothing_keeps_the_resource_version(
    kube_client: client.ApiClient,
) -> None:
    core = client.CoreV1Api(kube_client)
    created = core.create_namespaced_pod("default", pod_manifest("web", labels={"a": "1"}))

    patched = core.patch_namespaced_pod("web", "default", {"metadata": {"labels": {"a": "1"}}})

    assert patched.metadata.resource_version == created.metadata.resource_version


def test_custom_resource_update_without_resource_version_answers_422(
    kube_client: client.ApiClient,
) -> None:
    custom = client.CustomObjectsApi(kube_client)
    custom.create_cluster_custom_object(
        "operator.ibm.com", "v1alpha1", "ibmlicensings", ibm_licensing_manifest()
    )

    with pytest.raises(ApiException) as raised:
        custom.replace_cluster_custom_object(
            "operator.ibm.com", "v1alpha1", "ibmlicensings", "instance", ibm_licensing_manifest()
        )

    assert raised.value.status == 422


def test_custom_resource_generation_counts_spec_changes_only(
    kube_client: client.ApiClient,
) -> None:
    custom = client.CustomObjectsApi(kube_client)
    path = ("operator.ibm.com", "v1alpha1", "ibmlicensings", "instance")
    created = custom.create_cluster_custom_object(*path[:3], ibm_licensing_manifest())
    custom.patch_cluster_custom_object(*path, {"metadata": {"labels": {"team": "a"}}})
    custom.patch_cluster_custom_object_status(*path, {"status": {"state": "Ready"}})
    changed = custom.patch_cluster_custom_object(
        *path, {"spec": {"features": {"auth": {"urlBasedEnabled": False}}}}
    )

    assert created["metadata"]["generation"] == 1
    assert changed["metadata"]["generation"] == 2
    assert changed["status"] == {"state": "Ready"}
    assert changed["spec"]["features"] == {"auth": {"urlBasedEnabled": False}}
    assert "namespace" not in changed["metadata"]


def test_secret_string_data_is_stored_as_base64_data(kube_client: client.ApiClient) -> None:
    core = client.CoreV1Api(kube_client)
    core.create_namespace(namespace_manifest("ibm-common-services"))
    core.create_namespaced_secret("ibm-common-services", token_secret_manifest("s3cr3tT0ken"))

    stored = core.read_namespaced_secret("ibm-licensing-token", "ibm-common-services")

    assert stored.data == {"token": base64.b64encode(b"s3cr3tT0ken").decode()}
    assert stored.string_data is None
    assert stored.type == "Opaque"


def test_patched_string_data_replaces_the_key_and_keeps_the_others(
    kube_client: client.ApiClient,
) -> None:
    core = client.CoreV1Api(kube_client)
    manifest = token_secret_manifest("old", namespace="default")
    manifest["data"] = {"other": base64.b64encode(b"kept").decode()}
    core.create_namespaced_secret("default", manifest)

    patched = core.patch_namespaced_secret(
        "ibm-licensing-token", "default", {"stringData": {"token": "new"}}
    )

    assert patched.data == {
        "other": base64.b64encode(b"kept").decode(),
        "token": base64.b64encode(b"new").decode(),
    }


def test_deleting_a_pod_answers_the_pod_and_removes_it(kube_client: client.ApiClient) -> None:
    core = client.CoreV1Api(kube_client)
    created = core.create_namespaced_pod("default", pod_manifest("web"))

    deleted = core.delete_namespaced_pod("web", "default")

    assert deleted.metadata.uid == created.metadata.uid
    assert int(deleted.metadata.resource_version) > int(created.metadata.resource_version)
    assert core.list_namespaced_pod("default").items == []


def test_deleting_a_secret_answers_a_success_status(kube_client: client.ApiClient) -> None:
    core = client.CoreV1Api(kube_client)
    core.create_namespaced_secret("default", token_secret_manifest("t", namespace="default"))

    answer = core.delete_namespaced_secret("ibm-licensing-token", "default")

    # This client types the answer as a plain object: it is the Status as sent.
    assert answer["status"] == "Success"
    assert answer["details"]["name"] == "ibm-licensing-token"


def test_delete_with_a_stale_precondition_answers_409(kube_client: client.ApiClient) -> None:
    core = client.CoreV1Api(kube_client)
    created = core.create_namespaced_pod("default", pod_manifest("web"))
    core.patch_namespaced_pod("web", "default", {"metadata": {"labels": {"x": "y"}}})

    with pytest.raises(ApiException) as raised:
        core.delete_namespaced_pod(
            "web",
            "default",
            body=client.V1DeleteOptions(
                preconditions=client.V1Preconditions(
                    resource_version=created.metadata.resource_version
                )
            ),
        )

    assert raised.value.status == 409
    assert core.read_namespaced_pod("web", "default").metadata.uid == created.metadata.uid


def test_delete_collection_with_a_label_selector_deletes_only_the_selected_pods(
    kube_client: client.ApiClient,
) -> None:
    core = client.CoreV1Api(kube_client)
    for name, app in (("a", "ibm-licensing-service-instance"), ("b", "other"), ("c", None)):
        labels = {"app": app} if app else {}
        core.create_namespaced_pod("default", pod_manifest(name, labels=labels))

    core.delete_collection_namespaced_pod(
        "default", label_selector="app=ibm-licensing-service-instance"
    )

    remaining = core.list_namespaced_pod("default").items
    assert sorted(p.metadata.name for p in remaining) == ["b", "c"]


def test_deleting_a_namespace_deletes_the_objects_in_it(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    core = client.CoreV1Api(kube_client)
    core.create_namespace(namespace_manifest("doomed"))
    core.create_namespaced_pod("doomed", pod_manifest("p", namespace="doomed"))
    core.create_namespaced_secret("doomed", token_secret_manifest("t", namespace="doomed"))
    core.create_namespaced_pod("default", pod_manifest("survivor"))

    core.delete_namespace("doomed")

    assert [p["metadata"]["name"] for p in fake_api.objects("pods")] == ["survivor"]
    assert fake_api.objects("secrets") == []


def test_the_status_subresource_changes_only_the_status(kube_client: client.ApiClient) -> None:
    core = client.CoreV1Api(kube_client)
    core.create_namespaced_pod("default", pod_manifest("web", labels={"a": "1"}))

    updated = core.patch_namespaced_pod_status(
        "web", "default", {"metadata": {"labels": {"a": "2"}}, "status": {"phase": "Running"}}
    )

    assert updated.status.phase == "Running"
    assert updated.metadata.labels == {"a": "1"}


def test_cluster_has_the_usual_namespaces_with_a_kube_system_uid(
    kube_client: client.ApiClient,
) -> None:
    core = client.CoreV1Api(kube_client)

    names = [n.metadata.name for n in core.list_namespace().items]

    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"]
    assert core.read_namespace("kube-system").metadata.uid


def test_objects_created_directly_are_served_like_created_ones(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    loaded = fake_api.load(pod_manifest(f"p{i}", node_name="n1") for i in range(3))

    pods = client.CoreV1Api(kube_client).list_pod_for_all_namespaces().items

    assert loaded == 3
    assert [p.spec.node_name for p in pods] == ["n1", "n1", "n1"]
