"""Fixtures of the deployment tests: the fake API server and the real kubectl against it."""

from tests.kubernetes_fake.fixtures import fake_api, kubectl

__all__ = ["fake_api", "kubectl"]
