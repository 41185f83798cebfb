"""Fixtures of the fake API server's own tests (shared with other folders via fixtures.py)."""

from .fixtures import fake_api, kube_client, kubectl

__all__ = ["fake_api", "kube_client", "kubectl"]
