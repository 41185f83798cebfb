"""Pointing the real clients at a fake: a ``kubernetes`` client configuration and a kubeconfig.

The fake speaks plain HTTP on 127.0.0.1, so neither needs certificates. The kubeconfig is the
one kubectl (and ``kubernetes.config.load_kube_config``) reads.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from kubernetes import client


def client_configuration(url: str, *, token: str | None = "fake-token") -> client.Configuration:
    """A client configuration for the fake at ``url`` (bearer ``token`` when given)."""
    configuration = client.Configuration(host=url)
    if token is not None:
        configuration.api_key = {"authorization": token}
        configuration.api_key_prefix = {"authorization": "Bearer"}
    return configuration


def api_client(url: str, *, token: str | None = "fake-token") -> client.ApiClient:
    """An ``ApiClient`` for the fake at ``url``; close it (or use ``with``) when done."""
    return client.ApiClient(client_configuration(url, token=token))


def write_kubeconfig(
    path: Path, url: str, *, token: str = "fake-token", namespace: str = "default"
) -> Path:
    """Write a kubeconfig whose current context is the fake at ``url``; return ``path``."""
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": url}}],
        "users": [{"name": "fake", "user": {"token": token}}],
        "contexts": [
            {"name": "fake", "context": {"cluster": "fake", "user": "fake", "namespace": namespace}}
        ],
        "current-context": "fake",
        "preferences": {},
    }
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path
