"""Fixtures of the signing key tests: the audit tests' keys, the fake Kubernetes API server."""

from tests.audit.conftest import other_signing_key, signing_key
from tests.kubernetes_fake.fixtures import fake_api, kube_client

__all__ = ["fake_api", "kube_client", "other_signing_key", "signing_key"]
