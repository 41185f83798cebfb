"""Connecting to a live cluster: Secrets ensured, namespace chosen, failures stop cleanly."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from kubernetes import client

from license_service.errors import ClusterError, ConfigurationError
from license_service.runtime.kubernetes_backends import KubernetesBackends
from license_service.runtime.kubernetes_start import connect_kubernetes
from license_service.runtime.options import KubernetesOptions, ServeOptions
from license_service.runtime.paths import DataDir
from license_service.signing.keys import SigningKey
from license_service.signing.secret_store import (
    SIGNING_KEY_KEY,
    SIGNING_KEY_SECRET,
    signing_key_secret_manifest,
)
from license_service.tokens.secret_store import TOKEN_SECRET_LABELS
from tests.cluster.kubernetes.polling import eventually
from tests.cluster.kubernetes.watched_objects import FAST_OPTIONS
from tests.kubernetes_fake.client_setup import write_kubeconfig
from tests.kubernetes_fake.manifests import (
    ibm_licensing_manifest,
    namespace_manifest,
    token_secret_manifest,
)
from tests.kubernetes_fake.server import FakeApiServer

TOKEN = "Zq7mW2xK9pL4vR8tYb3N"
Connect = Callable[..., KubernetesBackends]


def watch_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("license-service-watch")}


@pytest.fixture(scope="module")
def signing_pem() -> bytes:
    return SigningKey.generate().private_pem()


@pytest.fixture
def connect(fake_api: FakeApiServer, tmp_path: Path) -> Iterator[Connect]:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", fake_api.url)
    opened: list[KubernetesBackends] = []

    def run(**overrides: Any) -> KubernetesBackends:
        serve_overrides = {
            key: overrides.pop(key) for key in ("config_file", "token_file") if key in overrides
        }
        options = KubernetesOptions(kubeconfig=kubeconfig, watch=FAST_OPTIONS, **overrides)
        parts = connect_kubernetes(
            ServeOptions(kubernetes=options, **serve_overrides), clock=lambda: datetime.now(UTC)
        )
        opened.append(parts)
        return parts

    yield run
    for parts in opened:
        parts.close()


def with_signing_key(api: FakeApiServer, namespace: str, pem: bytes) -> None:
    api.create(namespace_manifest(namespace))
    api.create(signing_key_secret_manifest(pem, namespace=namespace, name=SIGNING_KEY_SECRET))


def test_a_first_start_creates_the_token_and_signing_key_secrets(
    fake_api: FakeApiServer, connect: Connect
) -> None:
    fake_api.create(namespace_manifest("ibm-common-services"))

    parts = connect()

    token_secret = fake_api.get("secrets", "ibm-licensing-token", namespace="ibm-common-services")
    key_secret = fake_api.get("secrets", SIGNING_KEY_SECRET, namespace="ibm-common-services")
    assert token_secret is not None
    assert key_secret is not None
    assert token_secret["metadata"]["labels"] == dict(TOKEN_SECRET_LABELS)
    token = base64.b64decode(token_secret["data"]["token"]).decode()
    assert len(token) == 24
    assert token.isalnum()
    assert parts.tokens is not None
    assert parts.tokens.current().tokens == (token,)
    key = SigningKey.from_pem(base64.b64decode(key_secret["data"][SIGNING_KEY_KEY]))
    assert key.fingerprint == parts.signing_key.fingerprint
    kube_system = fake_api.get("namespaces", "kube-system")
    assert kube_system is not None
    assert parts.cluster_id == kube_system["metadata"]["uid"]
    assert parts.namespace == "ibm-common-services"


def test_a_restart_keeps_the_token_and_the_signing_key(
    fake_api: FakeApiServer, connect: Connect, signing_pem: bytes
) -> None:
    with_signing_key(fake_api, "ibm-common-services", signing_pem)
    fake_api.create(token_secret_manifest(TOKEN))

    parts = connect()

    assert parts.tokens is not None
    assert parts.tokens.current().tokens == (TOKEN,)
    assert parts.signing_key.fingerprint == SigningKey.from_pem(signing_pem).fingerprint


def test_the_resource_chooses_the_namespace_and_the_secret_name(
    fake_api: FakeApiServer, connect: Connect, signing_pem: bytes
) -> None:
    with_signing_key(fake_api, "licensing", signing_pem)
    fake_api.create(token_secret_manifest(TOKEN, namespace="licensing", name="my-token"))
    fake_api.create(
        ibm_licensing_manifest(
            spec={"instanceNamespace": "licensing", "apiSecretToken": "my-token"}
        )
    )

    parts = connect()

    assert parts.namespace == "licensing"
    assert parts.tokens is not None
    assert parts.tokens.label == "Secret licensing/my-token"
    assert parts.tokens.current().tokens == (TOKEN,)


def test_the_namespace_flag_wins_over_the_resource(
    fake_api: FakeApiServer, connect: Connect, signing_pem: bytes
) -> None:
    with_signing_key(fake_api, "chosen", signing_pem)
    fake_api.create(ibm_licensing_manifest(spec={"instanceNamespace": "licensing"}))

    parts = connect(namespace="chosen")

    assert parts.namespace == "chosen"
    assert fake_api.get("secrets", "ibm-licensing-token", namespace="chosen") is not None


def test_a_configured_cluster_id_is_used_as_given(
    fake_api: FakeApiServer, connect: Connect, signing_pem: bytes
) -> None:
    with_signing_key(fake_api, "ibm-common-services", signing_pem)

    assert connect(cluster_id="prod-eu-1").cluster_id == "prod-eu-1"


def test_a_token_file_and_a_config_file_replace_the_secret_and_the_resource(
    fake_api: FakeApiServer, connect: Connect, signing_pem: bytes, tmp_path: Path
) -> None:
    with_signing_key(fake_api, "ibm-common-services", signing_pem)
    config_file = tmp_path / "ibmlicensing.yaml"
    config_file.write_text(
        "apiVersion: operator.ibm.com/v1alpha1\nkind: IBMLicensing\nmetadata:\n  name: file\n"
        "spec:\n  features:\n    auth:\n      urlBasedEnabled: false\n"
    )

    parts = connect(config_file=config_file, token_file=tmp_path / "token")

    assert parts.tokens is None
    assert parts.resource_watch is None
    assert parts.config.current().url_based_enabled is False
    assert fake_api.get("secrets", "ibm-licensing-token", namespace="ibm-common-services") is None


def test_an_invalid_resource_at_start_stops_it_and_leaves_nothing_running(
    fake_api: FakeApiServer, connect: Connect
) -> None:
    before = watch_threads()
    fake_api.create(ibm_licensing_manifest(spec={"features": {"auth": {"urlBasedEnabled": "no"}}}))

    with pytest.raises(ConfigurationError) as caught:
        connect()

    assert "spec.features.auth.urlBasedEnabled" in str(caught.value)
    assert "kubectl edit ibmlicensing" in str(caught.value)
    assert watch_threads() <= before


def test_an_api_server_that_is_down_fails_the_start_within_the_timeout(
    fake_api: FakeApiServer, connect: Connect
) -> None:
    before = watch_threads()
    fake_api.stop()

    with pytest.raises(ClusterError) as caught:
        connect(startup_timeout=timedelta(seconds=0.5))

    message = str(caught.value)
    assert message.startswith("reading the IBMLicensing resources did not succeed within 0.5 s")
    assert "cannot reach the API server" in message
    assert watch_threads() <= before


def test_closing_twice_is_harmless(fake_api: FakeApiServer, connect: Connect) -> None:
    fake_api.create(namespace_manifest("ibm-common-services"))
    parts = connect()

    parts.close()
    parts.close()

    assert parts.stopped_parts() == [
        "the Kubernetes collector",
        "the watch of the IBMLicensing resource",
        "the watch of the API token Secret ibm-common-services/ibm-licensing-token",
        "the watch of the entitlements ConfigMap ibm-common-services/license-service-entitlements",
        "the watch of the upload token Secret ibm-common-services/ibm-licensing-upload-token",
    ]


def test_watch_failures_are_shown_as_health_warnings(
    fake_api: FakeApiServer, connect: Connect, signing_pem: bytes
) -> None:
    with_signing_key(fake_api, "ibm-common-services", signing_pem)
    parts = connect()

    fake_api.faults.fail(None, status=503, path="/apis/operator.ibm.com")
    fake_api.drop_watches()

    warning = eventually(
        lambda: next((w for w in parts.warnings() if "HTTP 503" in w), None), what="a warning"
    )
    assert warning.startswith(
        "following the IBMLicensing resource: watch IBMLicensing resources: HTTP 503"
    )


def test_a_new_api_secret_token_in_the_resource_moves_to_that_secret(
    fake_api: FakeApiServer, connect: Connect, signing_pem: bytes, kube_client: client.ApiClient
) -> None:
    with_signing_key(fake_api, "ibm-common-services", signing_pem)
    fake_api.create(token_secret_manifest(TOKEN))
    fake_api.create(token_secret_manifest("Other1Token2Value3Abcdef", name="other-token"))
    fake_api.create(ibm_licensing_manifest(spec={}))
    parts = connect()
    assert parts.tokens is not None

    client.CustomObjectsApi(kube_client).patch_cluster_custom_object(
        "operator.ibm.com",
        "v1alpha1",
        "ibmlicensings",
        "instance",
        {"spec": {"apiSecretToken": "other-token"}},
    )

    eventually(
        lambda: (
            parts.tokens is not None
            and parts.tokens.current().tokens == ("Other1Token2Value3Abcdef",)
        ),
        what="the token of the other Secret",
    )
    assert parts.tokens.label == "Secret ibm-common-services/other-token"


def test_https_at_start_creates_a_self_signed_certificate_for_the_service_in_its_secret(
    fake_api: FakeApiServer, connect: Connect, signing_pem: bytes
) -> None:
    with_signing_key(fake_api, "licensing", signing_pem)
    fake_api.create(
        ibm_licensing_manifest(spec={"instanceNamespace": "licensing", "httpsEnable": True})
    )

    parts = connect()

    secret = fake_api.get("secrets", "license-service-tls", namespace="licensing")
    assert secret is not None
    assert parts.tls is not None
    assert base64.b64decode(secret["data"]["tls.crt"]) == parts.tls.certificate
    certificate = x509.load_pem_x509_certificate(parts.tls.certificate)
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "ibm-licensing-service-instance.licensing.svc" in names.get_values_for_type(x509.DNSName)


def test_without_https_no_certificate_secret_is_made(
    fake_api: FakeApiServer, connect: Connect, signing_pem: bytes
) -> None:
    with_signing_key(fake_api, "ibm-common-services", signing_pem)

    parts = connect()

    assert parts.tls is None
    assert fake_api.get("secrets", "license-service-tls", namespace="ibm-common-services") is None


def test_https_from_a_missing_custom_secret_stops_the_start_and_leaves_nothing_running(
    fake_api: FakeApiServer, connect: Connect, signing_pem: bytes
) -> None:
    before = watch_threads()
    with_signing_key(fake_api, "ibm-common-services", signing_pem)
    spec = {"httpsEnable": True, "httpsCertsSource": "custom"}
    fake_api.create(ibm_licensing_manifest(spec=spec))

    with pytest.raises(ClusterError, match="ibm-licensing-certs does not exist"):
        connect()

    assert watch_threads() <= before


def test_the_upload_token_lives_in_its_own_secret_and_a_new_value_is_used_live(
    fake_api: FakeApiServer, connect: Connect, kube_client: client.ApiClient
) -> None:
    fake_api.create(namespace_manifest("ibm-common-services"))
    parts = connect()

    secret = fake_api.get("secrets", "ibm-licensing-upload-token", namespace="ibm-common-services")
    assert secret is not None
    assert set(secret["data"]) == {"token-upload"}
    upload = base64.b64decode(secret["data"]["token-upload"]).decode()
    assert len(upload) == 24
    assert upload.isalnum()
    kept = parts.open_upload_tokens(DataDir(Path("unused")))
    assert kept.current().tokens == (upload,)
    assert parts.tokens is not None
    assert upload not in parts.tokens.current().tokens

    rotated = "Rotated1Upload2Token3Abc"
    secret["data"]["token-upload"] = base64.b64encode(rotated.encode()).decode()
    client.CoreV1Api(kube_client).replace_namespaced_secret(
        "ibm-licensing-upload-token", "ibm-common-services", secret
    )
    eventually(lambda: kept.current().tokens == (rotated,), what="the rotated upload token")


def test_the_upload_config_map_says_where_to_upload(
    fake_api: FakeApiServer, connect: Connect, signing_pem: bytes
) -> None:
    with_signing_key(fake_api, "ibm-common-services", signing_pem)

    connect()

    config_map = fake_api.get(
        "configmaps", "ibm-licensing-upload-config", namespace="ibm-common-services"
    )
    assert config_map is not None
    assert config_map["data"] == {
        "url": "http://ibm-licensing-service-instance.ibm-common-services.svc:8080"
    }


def test_with_https_the_upload_config_map_holds_the_certificate_to_trust(
    fake_api: FakeApiServer, connect: Connect, signing_pem: bytes
) -> None:
    with_signing_key(fake_api, "licensing", signing_pem)
    fake_api.create(
        ibm_licensing_manifest(spec={"instanceNamespace": "licensing", "httpsEnable": True})
    )

    parts = connect()

    config_map = fake_api.get("configmaps", "ibm-licensing-upload-config", namespace="licensing")
    assert config_map is not None
    assert parts.tls is not None
    assert config_map["data"] == {
        "url": "https://ibm-licensing-service-instance.licensing.svc:8080",
        "crt.pem": parts.tls.certificate.decode(),
    }
