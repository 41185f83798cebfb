"""Fixtures of the CLI tests: the fake Kubernetes API server for the cluster variants."""

from tests.kubernetes_fake.fixtures import fake_api, kube_client, kubectl

__all__ = ["fake_api", "kube_client", "kubectl"]
