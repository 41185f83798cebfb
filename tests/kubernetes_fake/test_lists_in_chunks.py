"""Lists: consistent snapshots, pages with limit/continue, 410 for expired continue tokens,
and the resourceVersion semantics of "API concepts" (retrieving large results in chunks)."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .manifests import namespace_manifest, pod_manifest
from .server import FakeApiServer


def _names(pod_list: client.V1PodList) -> list[str]:
    return [pod.metadata.name for pod in pod_list.items]


def test_a_list_carries_the_resource_version_of_the_latest_write(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.create(pod_manifest("a"))
    fake_api.create(namespace_manifest("later"))

    listed = client.CoreV1Api(kube_client).list_namespaced_pod("default")

    assert listed.metadata.resource_version == str(fake_api.resource_version)
    assert listed.metadata._continue is None


def test_pages_return_every_object_once_from_the_snapshot_of_the_first_page(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    core = client.CoreV1Api(kube_client)
    fake_api.load(pod_manifest(f"pod-{i}") for i in range(7))
    first = core.list_namespaced_pod("default", limit=3)
    # Changes after the first page must not show in the later pages.
    core.delete_namespaced_pod("pod-5", "default")
    fake_api.create(pod_manifest("pod-9"))
    second = core.list_namespaced_pod("default", limit=3, _continue=first.metadata._continue)
    third = core.list_namespaced_pod("default", limit=3, _continue=second.metadata._continue)

    assert _names(first) + _names(second) + _names(third) == [f"pod-{i}" for i in range(7)]
    assert third.metadata._continue is None
    versions = {page.metadata.resource_version for page in (first, second, third)}
    assert len(versions) == 1


def test_a_page_filled_by_a_label_selector_holds_limit_matching_objects(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.load(
        pod_manifest(f"pod-{i}", labels={"app": "x" if i % 2 else "y"}) for i in range(10)
    )

    page = client.CoreV1Api(kube_client).list_namespaced_pod(
        "default", limit=2, label_selector="app=x"
    )

    assert _names(page) == ["pod-1", "pod-3"]
    assert page.metadata._continue


def test_a_continue_token_older_than_compaction_answers_410_expired_with_a_fresh_token(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    core = client.CoreV1Api(kube_client)
    fake_api.load(pod_manifest(f"pod-{i}") for i in range(4))
    first = core.list_namespaced_pod("default", limit=2)
    fake_api.create(pod_manifest("pod-new"))
    fake_api.compact()

    with pytest.raises(ApiException) as raised:
        core.list_namespaced_pod("default", limit=2, _continue=first.metadata._continue)

    status = json.loads(raised.value.body)
    assert raised.value.status == 410
    assert (status["reason"], status["code"]) == ("Expired", 410)
    inconsistent = core.list_namespaced_pod(
        "default", limit=10, _continue=status["metadata"]["continue"]
    )
    assert _names(inconsistent) == ["pod-2", "pod-3", "pod-new"]


def test_a_malformed_continue_token_answers_400(kube_client: client.ApiClient) -> None:
    with pytest.raises(ApiException) as raised:
        client.CoreV1Api(kube_client).list_namespaced_pod("default", _continue="not-a-token")

    assert raised.value.status == 400


def test_an_exact_list_at_an_older_resource_version_shows_the_state_then(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    core = client.CoreV1Api(kube_client)
    before = fake_api.create(pod_manifest("old"))["metadata"]["resourceVersion"]
    fake_api.create(pod_manifest("new"))
    fake_api.delete("pods", "old", namespace="default")

    then = core.list_namespaced_pod(
        "default", resource_version=before, resource_version_match="Exact"
    )

    assert _names(then) == ["old"]
    assert then.metadata.resource_version == before
    assert _names(core.list_namespaced_pod("default")) == ["new"]


def test_an_exact_list_before_the_compaction_answers_410(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    before = fake_api.create(pod_manifest("old"))["metadata"]["resourceVersion"]
    fake_api.create(pod_manifest("new"))
    fake_api.compact()

    with pytest.raises(ApiException) as raised:
        client.CoreV1Api(kube_client).list_namespaced_pod(
            "default", resource_version=before, resource_version_match="Exact"
        )

    assert raised.value.status == 410


def test_a_list_from_a_future_resource_version_answers_504_too_large(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    with pytest.raises(ApiException) as raised:
        client.CoreV1Api(kube_client).list_namespaced_pod(
            "default", resource_version=str(fake_api.resource_version + 10)
        )

    assert raised.value.status == 504


def test_a_list_of_all_namespaces_has_no_kind_on_items_as_upstream(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.create(namespace_manifest("other"))
    fake_api.create(pod_manifest("a", namespace="other"))
    fake_api.create(pod_manifest("b"))

    raw = client.CoreV1Api(kube_client).list_pod_for_all_namespaces(_preload_content=False)
    body = json.loads(raw.data)

    assert [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in body["items"]] == [
        ("default", "b"),
        ("other", "a"),
    ]
    assert (body["kind"], body["apiVersion"]) == ("PodList", "v1")
    assert all("kind" not in item for item in body["items"])


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param("app=web", ["web-prod", "web-test"], id="equals"),
        pytest.param("app==web", ["web-prod", "web-test"], id="double-equals"),
        pytest.param("app!=web", ["db", "unlabelled"], id="not-equals-includes-missing-key"),
        pytest.param("env in (prod,staging)", ["db", "web-prod"], id="in"),
        pytest.param("env notin (prod)", ["db", "unlabelled", "web-test"], id="notin"),
        pytest.param("env", ["db", "web-prod", "web-test"], id="exists"),
        pytest.param("!env", ["unlabelled"], id="does-not-exist"),
        pytest.param("app=web,env=prod", ["web-prod"], id="conjunction"),
    ],
)
def test_label_selectors_select_as_upstream(
    fake_api: FakeApiServer, kube_client: client.ApiClient, selector: str, expected: list[str]
) -> None:
    fake_api.load(
        [
            pod_manifest("web-prod", labels={"app": "web", "env": "prod"}),
            pod_manifest("web-test", labels={"app": "web", "env": "test"}),
            pod_manifest("db", labels={"app": "db", "env": "staging"}),
            pod_manifest("unlabelled"),
        ]
    )

    selected = client.CoreV1Api(kube_client).list_namespaced_pod("default", label_selector=selector)

    assert sorted(_names(selected)) == expected


def test_a_malformed_label_selector_answers_400(kube_client: client.ApiClient) -> None:
    with pytest.raises(ApiException) as raised:
        client.CoreV1Api(kube_client).list_namespaced_pod("default", label_selector="app in x")

    assert raised.value.status == 400


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param("metadata.name=a", [("default", "a")], id="name"),
        pytest.param("metadata.namespace=other", [("other", "c")], id="namespace"),
        pytest.param("spec.nodeName=node-1", [("default", "a"), ("other", "c")], id="node"),
        pytest.param("spec.nodeName=", [("default", "b")], id="unscheduled"),
        pytest.param("spec.nodeName!=node-1", [("default", "b")], id="not-on-node"),
    ],
)
def test_field_selectors_select_by_name_namespace_and_node(
    fake_api: FakeApiServer,
    kube_client: client.ApiClient,
    selector: str,
    expected: list[tuple[str, str]],
) -> None:
    fake_api.create(namespace_manifest("other"))
    fake_api.load(
        [
            pod_manifest("a", node_name="node-1"),
            pod_manifest("b"),
            pod_manifest("c", namespace="other", node_name="node-1"),
        ]
    )

    selected = client.CoreV1Api(kube_client).list_pod_for_all_namespaces(field_selector=selector)

    assert [(p.metadata.namespace, p.metadata.name) for p in selected.items] == expected


def test_an_unsupported_field_selector_answers_400(kube_client: client.ApiClient) -> None:
    with pytest.raises(ApiException) as raised:
        client.CoreV1Api(kube_client).list_namespaced_pod(
            "default", field_selector="spec.containers=x"
        )

    assert raised.value.status == 400
    assert "field label not supported" in json.loads(raised.value.body)["message"]
