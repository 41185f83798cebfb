"""Discovery: what the real client (and kubectl, see test_kubectl_seed_steps) learns about
the served resources, from /api, /apis, the group versions and /version."""

from __future__ import annotations

import json

import pytest
from kubernetes import client, dynamic
from kubernetes.client.exceptions import ApiException


def test_version_reports_a_kubernetes_server_version(kube_client: client.ApiClient) -> None:
    info = client.VersionApi(kube_client).get_code()

    assert (info.major, info.minor) == ("1", "32")
    assert info.git_version.startswith("v1.32")


def test_core_group_serves_pods_nodes_namespaces_secrets_and_configmaps_with_their_scope(
    kube_client: client.ApiClient,
) -> None:
    assert client.CoreApi(kube_client).get_api_versions().versions == ["v1"]
    resources = client.CoreV1Api(kube_client).get_api_resources().resources

    scopes = {r.name: r.namespaced for r in resources if "/" not in r.name}

    assert scopes == {
        "pods": True,
        "nodes": False,
        "namespaces": False,
        "secrets": True,
        "configmaps": True,
    }


def test_named_groups_include_the_operator_and_review_groups(
    kube_client: client.ApiClient,
) -> None:
    groups = client.ApisApi(kube_client).get_api_versions().groups

    versions = {g.name: [v.group_version for v in g.versions] for g in groups}

    assert versions == {
        "operator.ibm.com": ["operator.ibm.com/v1alpha1"],
        "authentication.k8s.io": ["authentication.k8s.io/v1"],
        "authorization.k8s.io": ["authorization.k8s.io/v1"],
    }


def test_dynamic_client_discovers_ibmlicensing_as_a_cluster_scoped_resource(
    kube_client: client.ApiClient,
) -> None:
    discovered = dynamic.DynamicClient(kube_client).resources.get(
        api_version="operator.ibm.com/v1alpha1", kind="IBMLicensing"
    )

    assert (discovered.name, discovered.namespaced) == ("ibmlicensings", False)
    assert "watch" in discovered.verbs


def test_review_resources_only_allow_create(kube_client: client.ApiClient) -> None:
    resources = client.AuthenticationV1Api(kube_client).get_api_resources().resources

    assert [(r.name, r.verbs) for r in resources] == [("tokenreviews", ["create"])]


def test_a_resource_that_is_not_served_answers_404_with_a_not_found_status(
    kube_client: client.ApiClient,
) -> None:
    with pytest.raises(ApiException) as raised:
        client.CustomObjectsApi(kube_client).list_cluster_custom_object(
            "example.com", "v1", "widgets"
        )

    assert raised.value.status == 404
    assert json.loads(raised.value.body)["reason"] == "NotFound"
