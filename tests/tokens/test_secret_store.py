"""The API token's Secret: read as the seed reads it, created with its labels, written, followed."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from kubernetes import client

from license_service.cluster.kubernetes.counters import CollectorCounters
from license_service.errors import ClusterError
from license_service.tokens.secret_store import (
    TOKEN_SECRET_LABELS,
    TokenReading,
    TokenSecret,
    TokenSecretWatch,
    token_reading,
)
from tests.cluster.kubernetes.polling import eventually
from tests.cluster.kubernetes.watched_objects import FAST_OPTIONS
from tests.kubernetes_fake.manifests import namespace_manifest, token_secret_manifest
from tests.kubernetes_fake.server import FakeApiServer

NAMESPACE = "ibm-common-services"
NAME = "ibm-licensing-token"
LABEL = f"Secret {NAMESPACE}/{NAME}"
TOKEN = "Zq7mW2xK9pL4vR8tYb3N"


def encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def stored_token(api: FakeApiServer, name: str = NAME) -> str | None:
    secret = api.get("secrets", name, namespace=NAMESPACE)
    return base64.b64decode(secret["data"]["token"]).decode() if secret else None


@pytest.fixture
def token_secret(fake_api: FakeApiServer, kube_client: client.ApiClient) -> TokenSecret:
    fake_api.create(namespace_manifest(NAMESPACE))
    return TokenSecret(kube_client, namespace=NAMESPACE, name=NAME)


class Readings:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[TokenReading] = []

    def __call__(self, reading: TokenReading) -> None:
        with self._lock:
            self.items.append(reading)

    def latest(self) -> TokenReading | None:
        with self._lock:
            return self.items[-1] if self.items else None


@pytest.fixture
def watches() -> Iterator[list[TokenSecretWatch]]:
    started: list[TokenSecretWatch] = []
    yield started
    for watch in started:
        watch.stop()


def start_watch(
    token_secret: TokenSecret, readings: Readings, watches: list[TokenSecretWatch]
) -> TokenSecretWatch:
    tokens = iter(["Generated1Token2Value3Ab", "Generated4Token5Value6Cd"])
    watch = TokenSecretWatch(
        token_secret,
        on_reading=readings,
        new_token=lambda: next(tokens),
        counters=CollectorCounters(),
        options=FAST_OPTIONS,
        clock=lambda: datetime.now(UTC),
    )
    watches.append(watch)
    watch.start()
    return watch


# -- reading a Secret (pure) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "value", "problem"),
    [
        pytest.param({"token": encoded(TOKEN)}, TOKEN, None, id="as-written"),
        pytest.param({"token": encoded(f"{TOKEN}\n")}, TOKEN, None, id="one-newline-dropped"),
        pytest.param({"token": encoded(f"{TOKEN}\r\n")}, TOKEN, None, id="crlf-dropped"),
        pytest.param({"token": encoded("has space")}, "has space", None, id="rules-not-applied"),
        pytest.param({}, None, f"the {LABEL} has no key 'token'", id="no-key"),
        pytest.param({"token": "!!!"}, None, "is not base64", id="not-base64"),
        pytest.param({"token": "/w=="}, None, "is not UTF-8 text (byte 1)", id="not-utf8"),
    ],
)
def test_a_secret_reads_as_its_token_or_says_why_not(
    data: dict[str, str], value: str | None, problem: str | None
) -> None:
    reading = token_reading({"metadata": {"name": NAME}, "data": data}, label=LABEL)

    assert reading.value == value
    if problem is None:
        assert reading.problem is None
    else:
        assert problem in (reading.problem or "")
    assert not reading.missing


def test_no_secret_reads_as_missing() -> None:
    reading = token_reading(None, label=LABEL)

    assert reading.missing
    assert reading.value is None
    assert reading.problem == f"the {LABEL} does not exist"


def test_the_repr_of_a_reading_never_shows_the_token() -> None:
    reading = token_reading({"data": {"token": encoded(TOKEN)}}, label=LABEL)

    assert TOKEN not in repr(reading)


# -- one-shot reads and writes ------------------------------------------------------------


def test_writing_a_missing_secret_creates_it_with_the_seed_labels(
    fake_api: FakeApiServer, token_secret: TokenSecret
) -> None:
    assert token_secret.write(TOKEN) == "created"

    secret = fake_api.get("secrets", NAME, namespace=NAMESPACE)
    assert secret is not None
    assert secret["metadata"]["labels"] == dict(TOKEN_SECRET_LABELS)
    assert secret["type"] == "Opaque"
    assert stored_token(fake_api) == TOKEN
    assert token_secret.read().value == TOKEN


def test_writing_keeps_the_secrets_other_keys_labels_and_annotations(
    fake_api: FakeApiServer, token_secret: TokenSecret
) -> None:
    manifest = token_secret_manifest("OldToken1234567890ab")
    manifest["metadata"]["labels"] = {"team": "finance"}
    manifest["metadata"]["annotations"] = {"note": "kept"}
    manifest["stringData"]["other"] = "kept too"
    fake_api.create(manifest)

    assert token_secret.write(TOKEN) == "updated"

    secret = fake_api.get("secrets", NAME, namespace=NAMESPACE)
    assert secret is not None
    assert stored_token(fake_api) == TOKEN
    assert base64.b64decode(secret["data"]["other"]) == b"kept too"
    assert secret["metadata"]["labels"] == {"team": "finance", **TOKEN_SECRET_LABELS}
    assert secret["metadata"]["annotations"] == {"note": "kept"}


def test_creating_leaves_an_existing_secret_alone(
    fake_api: FakeApiServer, token_secret: TokenSecret
) -> None:
    fake_api.create(token_secret_manifest(TOKEN))

    assert token_secret.create("Another1Token2Value3Xyz") is False
    assert stored_token(fake_api) == TOKEN


def test_a_refused_write_names_the_secret_and_the_rbac_rule_to_grant(
    fake_api: FakeApiServer, token_secret: TokenSecret
) -> None:
    fake_api.faults.fail(1, status=403, path="/api/v1/namespaces/ibm-common-services/secrets")

    with pytest.raises(ClusterError) as caught:
        token_secret.write(TOKEN)

    message = str(caught.value)
    assert message.startswith(f"get {LABEL}: HTTP 403")
    assert f"update on secrets in namespace {NAMESPACE}" in message
    assert TOKEN not in message


def test_writing_into_a_namespace_that_does_not_exist_says_to_give_the_namespace(
    kube_client: client.ApiClient,
) -> None:
    missing = TokenSecret(kube_client, namespace="nowhere", name=NAME)

    with pytest.raises(ClusterError, match="the namespace nowhere may not exist: give the"):
        missing.write(TOKEN)


# -- following the Secret -----------------------------------------------------------------


def test_a_missing_secret_is_created_with_a_random_token_and_the_seed_labels(
    fake_api: FakeApiServer, token_secret: TokenSecret, watches: list[TokenSecretWatch]
) -> None:
    readings = Readings()
    watch = start_watch(token_secret, readings, watches)

    assert watch.wait_listed(5)
    eventually(lambda: (r := readings.latest()) is not None and r.value, what="the token")
    assert readings.items[0].missing
    assert readings.latest() == TokenReading(LABEL, value="Generated1Token2Value3Ab")
    secret = fake_api.get("secrets", NAME, namespace=NAMESPACE)
    assert secret is not None
    assert secret["metadata"]["labels"] == dict(TOKEN_SECRET_LABELS)


def test_an_existing_secret_is_read_and_not_replaced(
    fake_api: FakeApiServer, token_secret: TokenSecret, watches: list[TokenSecretWatch]
) -> None:
    fake_api.create(token_secret_manifest(TOKEN))
    readings = Readings()

    start_watch(token_secret, readings, watches).wait_listed(5)

    assert [reading.value for reading in readings.items] == [TOKEN]
    assert stored_token(fake_api) == TOKEN


def test_a_new_value_and_a_deletion_are_followed(
    fake_api: FakeApiServer,
    token_secret: TokenSecret,
    kube_client: client.ApiClient,
    watches: list[TokenSecretWatch],
) -> None:
    fake_api.create(token_secret_manifest(TOKEN))
    readings = Readings()
    start_watch(token_secret, readings, watches).wait_listed(5)

    token_secret.write("Rotated7Token8Value9Abcd")
    eventually(
        lambda: readings.latest() == TokenReading(LABEL, value="Rotated7Token8Value9Abcd"),
        what="the new value",
    )
    client.CoreV1Api(kube_client).delete_namespaced_secret(NAME, NAMESPACE)

    eventually(
        lambda: readings.latest() == TokenReading(LABEL, value="Generated1Token2Value3Ab"),
        what="the recreated Secret",
    )
    assert any(reading.missing for reading in readings.items)
    assert stored_token(fake_api) == "Generated1Token2Value3Ab"


def test_a_creation_that_fails_is_retried_until_it_succeeds(
    fake_api: FakeApiServer, token_secret: TokenSecret, watches: list[TokenSecretWatch]
) -> None:
    fake_api.faults.fail(2, status=500, path="/api/v1/namespaces/ibm-common-services/secrets")
    readings = Readings()
    watch = start_watch(token_secret, readings, watches)

    assert watch.wait_listed(5)
    eventually(lambda: stored_token(fake_api) is not None, what="the Secret created")
    eventually(lambda: (r := readings.latest()) is not None and r.value, what="the token read")
