"""The HTTPS certificate's Secrets: self-signed created once and shared, custom only read."""

from __future__ import annotations

import base64

import pytest
from kubernetes import client

from license_service.errors import ClusterError
from license_service.tls.certificates import TlsPems
from license_service.tls.secret_store import (
    CUSTOM_TLS_SECRET,
    SELF_SIGNED_TLS_SECRET,
    load_or_create_self_signed_pems,
    read_custom_pems,
    tls_secret_manifest,
)
from tests.kubernetes_fake.manifests import namespace_manifest
from tests.kubernetes_fake.server import FakeApiServer

NAMESPACE = "licensing"
FIRST = TlsPems(certificate=b"first certificate", private_key=b"first key")
SECOND = TlsPems(certificate=b"second certificate", private_key=b"second key")


@pytest.fixture(autouse=True)
def namespace(fake_api: FakeApiServer) -> None:
    fake_api.create(namespace_manifest(NAMESPACE))


def stored_pems(api: FakeApiServer, name: str) -> tuple[str, TlsPems]:
    secret = api.get("secrets", name, namespace=NAMESPACE)
    assert secret is not None
    data = secret["data"]
    pems = TlsPems(
        certificate=base64.b64decode(data["tls.crt"]), private_key=base64.b64decode(data["tls.key"])
    )
    return secret["type"], pems


def test_a_missing_self_signed_certificate_is_generated_once_and_kept_in_a_tls_secret(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    generated: list[TlsPems] = []

    def generate() -> TlsPems:
        generated.append(FIRST if not generated else SECOND)
        return generated[-1]

    first = load_or_create_self_signed_pems(kube_client, namespace=NAMESPACE, generate=generate)
    again = load_or_create_self_signed_pems(kube_client, namespace=NAMESPACE, generate=generate)

    assert first == again == FIRST
    assert generated == [FIRST]
    assert stored_pems(fake_api, SELF_SIGNED_TLS_SECRET) == ("kubernetes.io/tls", FIRST)


def test_a_replica_that_loses_the_race_serves_the_certificate_of_the_winner(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    def generate_while_another_replica_creates_its_own() -> TlsPems:
        fake_api.create(
            tls_secret_manifest(FIRST, namespace=NAMESPACE, name=SELF_SIGNED_TLS_SECRET)
        )
        return SECOND

    kept = load_or_create_self_signed_pems(
        kube_client, namespace=NAMESPACE, generate=generate_while_another_replica_creates_its_own
    )

    assert kept == FIRST
    assert stored_pems(fake_api, SELF_SIGNED_TLS_SECRET)[1] == FIRST


def test_a_self_signed_secret_without_its_key_is_refused_not_replaced(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    manifest = tls_secret_manifest(FIRST, namespace=NAMESPACE, name=SELF_SIGNED_TLS_SECRET)
    del manifest["data"]["tls.key"]
    fake_api.create(manifest)

    with pytest.raises(ClusterError, match=r"has no key 'tls\.key'.*delete the Secret"):
        load_or_create_self_signed_pems(kube_client, namespace=NAMESPACE, generate=lambda: SECOND)

    secret = fake_api.get("secrets", SELF_SIGNED_TLS_SECRET, namespace=NAMESPACE)
    assert secret is not None
    assert set(secret["data"]) == {"tls.crt"}


def test_the_custom_secret_is_read_as_the_operator_wrote_it(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.create(tls_secret_manifest(SECOND, namespace=NAMESPACE, name=CUSTOM_TLS_SECRET))

    assert read_custom_pems(kube_client, namespace=NAMESPACE) == SECOND
    assert fake_api.get("secrets", SELF_SIGNED_TLS_SECRET, namespace=NAMESPACE) is None


def test_a_missing_custom_secret_says_how_to_create_it(kube_client: client.ApiClient) -> None:
    with pytest.raises(ClusterError) as raised:
        read_custom_pems(kube_client, namespace=NAMESPACE)

    message = str(raised.value)
    assert "spec.httpsCertsSource is custom but Secret licensing/ibm-licensing-certs does not" in (
        message
    )
    assert "kubectl create secret tls ibm-licensing-certs --namespace licensing" in message


def test_a_custom_secret_without_its_certificate_is_refused(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    manifest = tls_secret_manifest(SECOND, namespace=NAMESPACE, name=CUSTOM_TLS_SECRET)
    del manifest["data"]["tls.crt"]
    fake_api.create(manifest)

    with pytest.raises(ClusterError, match=r"ibm-licensing-certs has no key 'tls\.crt'"):
        read_custom_pems(kube_client, namespace=NAMESPACE)


def test_a_self_signed_secret_due_for_renewal_is_replaced_in_place(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    load_or_create_self_signed_pems(kube_client, namespace=NAMESPACE, generate=lambda: FIRST)
    before = fake_api.get("secrets", SELF_SIGNED_TLS_SECRET, namespace=NAMESPACE)
    assert before is not None

    kept = load_or_create_self_signed_pems(
        kube_client, namespace=NAMESPACE, generate=lambda: SECOND, due=lambda _pems: False
    )
    renewed = load_or_create_self_signed_pems(
        kube_client, namespace=NAMESPACE, generate=lambda: SECOND, due=lambda pems: pems == FIRST
    )

    assert (kept, renewed) == (FIRST, SECOND)
    assert stored_pems(fake_api, SELF_SIGNED_TLS_SECRET) == ("kubernetes.io/tls", SECOND)
    after = fake_api.get("secrets", SELF_SIGNED_TLS_SECRET, namespace=NAMESPACE)
    assert after is not None
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["metadata"]["labels"] == before["metadata"]["labels"]
