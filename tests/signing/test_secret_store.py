"""The signing key's Secret: created once, never overwritten, the same for racing replicas."""

from __future__ import annotations

import base64

import pytest
from kubernetes import client

from license_service.errors import AuditError
from license_service.signing.secret_store import (
    SIGNING_KEY_KEY,
    SIGNING_KEY_SECRET,
    load_or_create_signing_key_pem,
    signing_key_secret_manifest,
)
from tests.kubernetes_fake.manifests import namespace_manifest
from tests.kubernetes_fake.server import FakeApiServer

NAMESPACE = "licensing"
FIRST = b"-----BEGIN PRIVATE KEY-----\nfirst\n-----END PRIVATE KEY-----\n"
SECOND = b"-----BEGIN PRIVATE KEY-----\nsecond\n-----END PRIVATE KEY-----\n"


@pytest.fixture(autouse=True)
def namespace(fake_api: FakeApiServer) -> None:
    fake_api.create(namespace_manifest(NAMESPACE))


def stored_key(api: FakeApiServer) -> bytes:
    secret = api.get("secrets", SIGNING_KEY_SECRET, namespace=NAMESPACE)
    assert secret is not None
    return base64.b64decode(secret["data"][SIGNING_KEY_KEY])


def test_a_missing_key_is_generated_once_and_kept_in_its_secret(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    generated: list[bytes] = []

    def generate() -> bytes:
        generated.append(FIRST if not generated else SECOND)
        return generated[-1]

    first = load_or_create_signing_key_pem(kube_client, namespace=NAMESPACE, generate=generate)
    again = load_or_create_signing_key_pem(kube_client, namespace=NAMESPACE, generate=generate)

    assert first == again == FIRST
    assert generated == [FIRST]
    assert stored_key(fake_api) == FIRST


def test_a_replica_that_loses_the_race_uses_the_key_of_the_winner(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    def generate_while_another_replica_creates_its_own() -> bytes:
        fake_api.create(
            signing_key_secret_manifest(FIRST, namespace=NAMESPACE, name=SIGNING_KEY_SECRET)
        )
        return SECOND

    kept = load_or_create_signing_key_pem(
        kube_client, namespace=NAMESPACE, generate=generate_while_another_replica_creates_its_own
    )

    assert kept == FIRST
    assert stored_key(fake_api) == FIRST


def test_a_secret_without_the_key_is_refused_not_replaced(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    manifest = signing_key_secret_manifest(FIRST, namespace=NAMESPACE, name=SIGNING_KEY_SECRET)
    manifest["data"] = {"tls.key": manifest["data"][SIGNING_KEY_KEY]}
    fake_api.create(manifest)

    with pytest.raises(AuditError, match=r"has no key 'signing-key\.pem': restore the key"):
        load_or_create_signing_key_pem(kube_client, namespace=NAMESPACE, generate=lambda: SECOND)

    secret = fake_api.get("secrets", SIGNING_KEY_SECRET, namespace=NAMESPACE)
    assert secret is not None
    assert set(secret["data"]) == {"tls.key"}
