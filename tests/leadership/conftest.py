"""Fixtures: the fake API server and the real client (for the Lease client's tests)."""

from tests.kubernetes_fake.fixtures import fake_api, kube_client, kubectl  # noqa: F401
