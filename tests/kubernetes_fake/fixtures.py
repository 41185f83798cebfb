"""pytest fixtures for tests that talk to a fake API server.

Use them from another test folder's ``conftest.py``::

    from tests.kubernetes_fake.fixtures import fake_api, kube_client, kubectl  # noqa: F401

``fake_api`` is a running ``FakeApiServer`` (bookmarks every 0.1 s), ``kube_client`` a real
``kubernetes.client.ApiClient`` pointed at it, ``kubectl`` a ``Kubectl`` runner with a
kubeconfig in ``tmp_path`` (skipped when kubectl is absent, unless
LICENSE_SERVICE_REQUIRE_KUBECTL=1).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from .client_setup import api_client, write_kubeconfig
from .kubectl_runner import REQUIRE_KUBECTL_VARIABLE, Kubectl, find_kubectl, kubectl_required
from .server import FakeApiServer

TEST_BOOKMARK_INTERVAL_SECONDS = 0.1


@pytest.fixture
def fake_api() -> Iterator[FakeApiServer]:
    """A running fake API server, stopped after the test."""
    with FakeApiServer(bookmark_interval=TEST_BOOKMARK_INTERVAL_SECONDS) as api:
        yield api


@pytest.fixture
def kube_client(fake_api: FakeApiServer) -> Iterator[client.ApiClient]:
    """The real Kubernetes client, configured for ``fake_api``."""
    with api_client(fake_api.url) as kubernetes_client:
        yield kubernetes_client


@pytest.fixture
def kubectl(fake_api: FakeApiServer, tmp_path: Path) -> Kubectl:
    """The real kubectl, configured for ``fake_api``."""
    binary = find_kubectl()
    if binary is None:
        message = (
            "kubectl is not installed; install it (or set "
            f"{REQUIRE_KUBECTL_VARIABLE}=1 to make its absence a failure)"
        )
        if kubectl_required():
            pytest.fail(message)
        pytest.skip(message)
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", fake_api.url)
    return Kubectl(binary, kubeconfig, tmp_path / "kubectl-cache")
