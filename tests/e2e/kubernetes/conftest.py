"""Fixtures of the end-to-end tests on a live (fake) cluster: the API server, kubectl, a cluster.

``cluster`` is a fake API server holding the seed's namespace, a worker node and a kept
signing key, with ``start()`` running ``license-service serve --kubeconfig ...`` against
it; every service started is stopped after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.kubernetes.cluster import Cluster
from tests.kubernetes_fake.fixtures import fake_api, kubectl
from tests.kubernetes_fake.server import FakeApiServer

__all__ = ["cluster", "fake_api", "kubectl"]


@pytest.fixture
def cluster(fake_api: FakeApiServer, tmp_path: Path, signing_key_pem: bytes) -> Iterator[Cluster]:
    prepared = Cluster.prepare(fake_api, tmp_path, signing_key_pem=signing_key_pem)
    yield prepared
    prepared.stop_all()
