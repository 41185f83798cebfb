"""Clients from a kubeconfig (path and context) or from the pod's service account."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from license_service.cluster.kubernetes import (
    KubernetesSource,
    in_cluster_api_client,
    kubeconfig_api_client,
)
from license_service.cluster.kubernetes.connection import USER_AGENT
from license_service.errors import ClusterError
from tests.cluster.kubernetes.conftest import StartSource
from tests.cluster.kubernetes.polling import eventually
from tests.kubernetes_fake.client_setup import write_kubeconfig
from tests.kubernetes_fake.manifests import pod_manifest
from tests.kubernetes_fake.server import FakeApiServer


def add_context(path: Path, *, name: str, server: str, token: str) -> None:
    """Add a cluster, user and context called ``name`` to the kubeconfig at ``path``."""
    document = yaml.safe_load(path.read_text())
    document["clusters"].append({"name": name, "cluster": {"server": server}})
    document["users"].append({"name": name, "user": {"token": token}})
    document["contexts"].append({"name": name, "context": {"cluster": name, "user": name}})
    path.write_text(yaml.safe_dump(document))


def test_a_kubeconfig_context_is_used_with_its_token_and_our_user_agent(
    fake_api: FakeApiServer, tmp_path: Path, start_source: StartSource
) -> None:
    fake_api.create(pod_manifest("web"))
    kubeconfig = write_kubeconfig(tmp_path / "config", "http://127.0.0.1:9", token="wrong")
    add_context(kubeconfig, name="reader", server=fake_api.url, token="reader-token")
    fake_api.require_caller_token("reader-token")

    with kubeconfig_api_client(kubeconfig, context="reader") as api:
        source: KubernetesSource = start_source(api)
        eventually(lambda: [pod.name for pod in source.current().view.pods] == ["web"])
        source.stop()

    pod_requests = [r for r in fake_api.requests if r.path == "/api/v1/pods"]
    assert {r.bearer_token for r in pod_requests} == {"reader-token"}
    assert {r.user_agent for r in pod_requests} == {USER_AGENT}


def test_a_missing_kubeconfig_is_a_cluster_error_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"

    with pytest.raises(ClusterError, match=r"nowhere\.yaml"):
        kubeconfig_api_client(missing)


def test_an_unknown_context_is_a_cluster_error_naming_it(
    fake_api: FakeApiServer, tmp_path: Path
) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "config", fake_api.url)

    with pytest.raises(ClusterError, match="context 'staging'"):
        kubeconfig_api_client(kubeconfig, context="staging")


def test_in_cluster_the_service_account_token_and_ca_are_used(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("service-account-token")
    (tmp_path / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    environ = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}

    with in_cluster_api_client(environ=environ, service_account_directory=tmp_path) as api:
        configuration = api.configuration
        assert configuration.host == "https://10.96.0.1:443"
        assert configuration.ssl_ca_cert == str(tmp_path / "ca.crt")
        assert configuration.get_api_key_with_prefix("BearerToken") == (
            "bearer service-account-token"
        )


def test_outside_a_cluster_the_in_cluster_client_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match="--kubeconfig") as raised:
        in_cluster_api_client(environ={}, service_account_directory=tmp_path)

    assert "Service host/port is not set" in str(raised.value)


def test_kubeconfig_files_are_merged_as_kubectl_merges_them(
    fake_api: FakeApiServer, tmp_path: Path, start_source: StartSource
) -> None:
    # The first file picks the context; the second defines it (and another current one).
    chooser = tmp_path / "chooser"
    chooser.write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "reader"})
    )
    clusters = write_kubeconfig(tmp_path / "clusters", "http://127.0.0.1:9", token="wrong")
    add_context(clusters, name="reader", server=fake_api.url, token="reader-token")
    fake_api.require_caller_token("reader-token")
    fake_api.create(pod_manifest("web"))
    environ = {"KUBECONFIG": f"{tmp_path / 'missing'}:{chooser}:{clusters}"}

    with kubeconfig_api_client(environ=environ) as api:
        assert api.configuration.host == fake_api.url
        source: KubernetesSource = start_source(api)
        eventually(lambda: [pod.name for pod in source.current().view.pods] == ["web"])
        source.stop()
