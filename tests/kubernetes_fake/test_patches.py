"""PATCH: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge patch as
kubectl sends it, and server-side apply; first as pure functions, then through the client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .manifests import ibm_licensing_manifest, pod_manifest
from .patches import apply_json_patch, apply_merge_patch, apply_strategic_merge_patch
from .server import FakeApiServer
from .statuses import ApiError


@pytest.mark.parametrize(
    ("target", "patch", "expected"),
    [
        # The examples of RFC 7386, appendix A.
        pytest.param({"a": "b"}, {"a": "c"}, {"a": "c"}, id="replace-value"),
        pytest.param({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}, id="add-key"),
        pytest.param({"a": "b"}, {"a": None}, {}, id="null-deletes"),
        pytest.param({"a": ["b"]}, {"a": "c"}, {"a": "c"}, id="array-replaced-by-scalar"),
        pytest.param({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}, id="scalar-replaced-by-array"),
        pytest.param(
            {"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}, id="nested"
        ),
        pytest.param({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}, id="arrays-replace"),
        pytest.param({"e": None}, {"a": 1}, {"e": None, "a": 1}, id="existing-null-kept"),
    ],
)
def test_merge_patch_follows_rfc_7386(target: Any, patch: Any, expected: Any) -> None:
    assert apply_merge_patch(target, patch) == expected


def test_merge_patch_leaves_its_inputs_unchanged() -> None:
    target = {"spec": {"a": 1}}

    apply_merge_patch(target, {"spec": {"a": 2}})

    assert target == {"spec": {"a": 1}}


@pytest.mark.parametrize(
    ("operations", "expected"),
    [
        pytest.param([{"op": "add", "path": "/b", "value": 2}], {"a": [1, 2], "b": 2}, id="add"),
        pytest.param([{"op": "add", "path": "/a/-", "value": 3}], {"a": [1, 2, 3]}, id="append"),
        pytest.param([{"op": "add", "path": "/a/0", "value": 0}], {"a": [0, 1, 2]}, id="insert"),
        pytest.param([{"op": "remove", "path": "/a/1"}], {"a": [1]}, id="remove"),
        pytest.param([{"op": "replace", "path": "/a", "value": "x"}], {"a": "x"}, id="replace"),
        pytest.param([{"op": "move", "from": "/a", "path": "/c"}], {"c": [1, 2]}, id="move"),
        pytest.param(
            [{"op": "copy", "from": "/a", "path": "/c"}], {"a": [1, 2], "c": [1, 2]}, id="copy"
        ),
        pytest.param([{"op": "test", "path": "/a/0", "value": 1}], {"a": [1, 2]}, id="test"),
        pytest.param(
            [{"op": "add", "path": "/m~1n", "value": 1}], {"a": [1, 2], "m/n": 1}, id="escape"
        ),
    ],
)
def test_json_patch_follows_rfc_6902(operations: list[Any], expected: Any) -> None:
    assert apply_json_patch({"a": [1, 2]}, operations) == expected


@pytest.mark.parametrize(
    "operations",
    [
        pytest.param([{"op": "test", "path": "/a/0", "value": 9}], id="failed-test"),
        pytest.param([{"op": "remove", "path": "/missing"}], id="remove-missing"),
        pytest.param([{"op": "replace", "path": "/x/y", "value": 1}], id="replace-missing"),
    ],
)
def test_a_json_patch_that_does_not_apply_answers_422(operations: list[Any]) -> None:
    with pytest.raises(ApiError) as raised:
        apply_json_patch({"a": [1, 2]}, operations)

    assert raised.value.code == 422


def _pod_spec(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"containers": list(containers)}}


def test_strategic_merge_merges_containers_by_name() -> None:
    target = _pod_spec({"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"})
    patch = {
        "spec": {
            "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
            "containers": [{"name": "b", "image": "b:2"}],
        }
    }

    merged = apply_strategic_merge_patch(target, patch)

    assert merged == _pod_spec({"name": "a", "image": "a:1"}, {"name": "b", "image": "b:2"})


def test_strategic_merge_deletes_a_list_element_by_its_merge_key() -> None:
    target = _pod_spec({"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"})

    merged = apply_strategic_merge_patch(
        target, {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}
    )

    assert merged == _pod_spec({"name": "b", "image": "b:1"})


def test_strategic_merge_understands_retain_keys_and_primitive_list_deletes() -> None:
    target = {"metadata": {"finalizers": ["x", "y"]}, "spec": {"a": 1, "b": 2}}
    patch = {
        "metadata": {"$deleteFromPrimitiveList/finalizers": ["x"], "finalizers": ["z"]},
        "spec": {"$retainKeys": ["a", "c"], "c": 3},
    }

    merged = apply_strategic_merge_patch(target, patch)

    assert merged == {"metadata": {"finalizers": ["y", "z"]}, "spec": {"a": 1, "c": 3}}


def test_strategic_merge_replaces_lists_without_a_merge_key() -> None:
    target = {"spec": {"tolerations": [{"key": "a"}]}}

    merged = apply_strategic_merge_patch(target, {"spec": {"tolerations": [{"key": "b"}]}})

    assert merged == {"spec": {"tolerations": [{"key": "b"}]}}


def test_a_json_patch_through_the_client_changes_the_pod(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.create(pod_manifest("web", labels={"a": "1"}))

    patched = client.CoreV1Api(kube_client).patch_namespaced_pod(
        "web", "default", [{"op": "replace", "path": "/metadata/labels/a", "value": "2"}]
    )

    assert patched.metadata.labels == {"a": "2"}


def test_a_patch_carrying_a_stale_resource_version_answers_409(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    created = fake_api.create(pod_manifest("web"))
    fake_api.create(pod_manifest("other"))
    core = client.CoreV1Api(kube_client)
    core.patch_namespaced_pod("web", "default", {"metadata": {"labels": {"a": "1"}}})

    with pytest.raises(ApiException) as raised:
        core.patch_namespaced_pod(
            "web",
            "default",
            {
                "metadata": {
                    "labels": {"a": "2"},
                    "resourceVersion": created["metadata"]["resourceVersion"],
                }
            },
        )

    assert raised.value.status == 409


def test_strategic_merge_patch_on_a_custom_resource_answers_415(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.create(ibm_licensing_manifest())

    with pytest.raises(ApiException) as raised:
        client.CustomObjectsApi(kube_client).patch_cluster_custom_object(
            "operator.ibm.com",
            "v1alpha1",
            "ibmlicensings",
            "instance",
            {"spec": {"a": 1}},
            _content_type="application/strategic-merge-patch+json",
        )

    assert raised.value.status == 415


def test_server_side_apply_creates_and_then_updates_the_object(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    custom = client.CustomObjectsApi(kube_client)
    path = ("operator.ibm.com", "v1alpha1", "ibmlicensings", "instance")

    def apply(spec: dict[str, Any]) -> Any:
        return custom.patch_cluster_custom_object(
            *path,
            ibm_licensing_manifest(spec=spec),
            field_manager="test",
            _content_type="application/apply-patch+yaml",
        )

    # Upstream answers 201 when an apply creates; this client maps only 200 and gives None.
    assert apply({"datasource": "datacollector"}) is None
    created = fake_api.get("ibmlicensings", "instance")
    updated = apply({"datasource": "datacollector", "httpsEnable": True})

    assert created is not None
    assert created["metadata"]["generation"] == 1
    assert updated["spec"] == {"datasource": "datacollector", "httpsEnable": True}
    assert updated["metadata"]["generation"] == 2
    assert updated["metadata"]["uid"] == created["metadata"]["uid"]


def test_server_side_apply_without_a_field_manager_answers_400(
    kube_client: client.ApiClient,
) -> None:
    with pytest.raises(ApiException) as raised:
        client.CustomObjectsApi(kube_client).patch_cluster_custom_object(
            "operator.ibm.com",
            "v1alpha1",
            "ibmlicensings",
            "instance",
            ibm_licensing_manifest(),
            _content_type="application/apply-patch+yaml",
        )

    assert raised.value.status == 400
    assert "fieldManager" in json.loads(raised.value.body)["message"]
