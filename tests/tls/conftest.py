"""Fixtures of the TLS tests: the fake Kubernetes API server and the real client on it."""

from tests.kubernetes_fake.fixtures import fake_api, kube_client

__all__ = ["fake_api", "kube_client"]
