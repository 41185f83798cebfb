"""Fixtures of the runtime tests: the fake Kubernetes API server and the real client."""

from tests.kubernetes_fake.fixtures import fake_api, kube_client, kubectl

__all__ = ["fake_api", "kube_client", "kubectl"]
