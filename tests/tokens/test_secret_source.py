"""The API token from its Secret: used at once, refused when invalid, rotated with a grace."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from kubernetes import client

from license_service.cluster.kubernetes.api_connection import ApiConnection
from license_service.tokens.followed import TokenState
from license_service.tokens.secret_source import SecretTokenSource
from license_service.tokens.secret_store import TokenReading, TokenSecret, TokenSecretWatch
from tests.auth.clocks import FakeClock
from tests.cluster.kubernetes.polling import eventually
from tests.cluster.kubernetes.watched_objects import FAST_OPTIONS
from tests.kubernetes_fake.client_setup import write_kubeconfig
from tests.kubernetes_fake.manifests import namespace_manifest, token_secret_manifest
from tests.kubernetes_fake.server import FakeApiServer

NAMESPACE = "ibm-common-services"
TOKEN = "Zq7mW2xK9pL4vR8tYb3N"
ROTATED = "Rotated7Token8Value9Abcd"
GENERATED = "Generated1Token2Value3Ab"

StartTokens = Callable[..., SecretTokenSource]


@pytest.fixture
def connection(fake_api: FakeApiServer, tmp_path: Path) -> Iterator[ApiConnection]:
    fake_api.create(namespace_manifest(NAMESPACE))
    opened = ApiConnection.from_kubeconfig(
        write_kubeconfig(tmp_path / "kc", fake_api.url), context=None
    )
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def start_tokens(connection: ApiConnection, clock: FakeClock) -> Iterator[StartTokens]:
    started: list[SecretTokenSource] = []

    def start(*, grace_seconds: float = 0, name: str = "ibm-licensing-token") -> SecretTokenSource:
        def open_watch(
            secret_name: str, on_reading: Callable[[TokenReading], None]
        ) -> TokenSecretWatch:
            return TokenSecretWatch(
                TokenSecret(connection.api_client, namespace=NAMESPACE, name=secret_name),
                on_reading=on_reading,
                new_token=lambda: GENERATED,
                counters=connection.counters,
                options=FAST_OPTIONS,
                clock=clock,
            )

        tokens = SecretTokenSource(
            secret_name=name,
            open_watch=open_watch,
            grace_period=timedelta(seconds=grace_seconds),
            clock=clock,
            fix_hint="run `license-service token set`",
        )
        started.append(tokens)
        tokens.start()
        assert tokens.wait_ready(5)
        return tokens

    yield start
    for tokens in started:
        tokens.stop()


def set_token(
    kube_client: client.ApiClient, value: str, *, name: str = "ibm-licensing-token"
) -> None:
    core = client.CoreV1Api(kube_client)
    secret = core.read_namespaced_secret(name, NAMESPACE)
    secret.data = {"token": base64.b64encode(value.encode()).decode()}
    core.replace_namespaced_secret(name, NAMESPACE, secret)


def test_the_token_of_the_secret_is_accepted(
    fake_api: FakeApiServer, start_tokens: StartTokens
) -> None:
    fake_api.create(token_secret_manifest(TOKEN))

    tokens = start_tokens()

    assert tokens.current() == TokenState(tokens=(TOKEN,))
    assert tokens.label == f"Secret {NAMESPACE}/ibm-licensing-token"


def test_a_missing_secret_is_created_and_its_new_token_accepted(
    fake_api: FakeApiServer, start_tokens: StartTokens
) -> None:
    tokens = start_tokens()

    assert tokens.current().tokens == (GENERATED,)
    assert fake_api.get("secrets", "ibm-licensing-token", namespace=NAMESPACE) is not None


def test_a_new_value_replaces_the_old_one_at_once(
    fake_api: FakeApiServer, kube_client: client.ApiClient, start_tokens: StartTokens
) -> None:
    fake_api.create(token_secret_manifest(TOKEN))
    tokens = start_tokens()

    set_token(kube_client, ROTATED)

    eventually(lambda: tokens.current().tokens == (ROTATED,), what="the rotated token")


def test_an_invalid_value_fails_closed_and_says_where_without_the_token(
    fake_api: FakeApiServer, kube_client: client.ApiClient, start_tokens: StartTokens
) -> None:
    fake_api.create(token_secret_manifest(TOKEN))
    tokens = start_tokens(grace_seconds=600)

    set_token(kube_client, "has a space in it 123456")

    eventually(lambda: not tokens.current().tokens, what="the invalid token refused")
    reason = tokens.current().invalid_reason or ""
    assert "the configured API token in Secret ibm-common-services/ibm-licensing-token" in reason
    assert "character ' ' (U+0020 SPACE) at position 4" in reason
    assert "run `license-service token set`" in reason
    assert "has a space" not in reason


def test_with_a_grace_period_the_previous_token_stays_accepted_until_it_ends(
    fake_api: FakeApiServer,
    kube_client: client.ApiClient,
    start_tokens: StartTokens,
    clock: FakeClock,
) -> None:
    fake_api.create(token_secret_manifest(TOKEN))
    tokens = start_tokens(grace_seconds=60)

    set_token(kube_client, ROTATED)
    eventually(lambda: tokens.current().tokens[0] == ROTATED, what="the rotated token")
    assert tokens.current().tokens == (ROTATED, TOKEN)
    clock.advance(61)

    assert tokens.current().tokens == (ROTATED,)


def test_a_deleted_secret_is_recreated_and_the_old_token_no_longer_accepted(
    fake_api: FakeApiServer, kube_client: client.ApiClient, start_tokens: StartTokens
) -> None:
    fake_api.create(token_secret_manifest(TOKEN))
    tokens = start_tokens(grace_seconds=600)

    client.CoreV1Api(kube_client).delete_namespaced_secret("ibm-licensing-token", NAMESPACE)

    eventually(lambda: tokens.current().tokens == (GENERATED,), what="the new token")


def test_a_new_secret_name_is_followed_and_the_old_secret_ignored(
    fake_api: FakeApiServer, kube_client: client.ApiClient, start_tokens: StartTokens
) -> None:
    fake_api.create(token_secret_manifest(TOKEN))
    fake_api.create(token_secret_manifest(ROTATED, name="other-token"))
    tokens = start_tokens()

    tokens.use_secret("other-token")
    eventually(lambda: tokens.current().tokens == (ROTATED,), what="the other Secret's token")
    set_token(kube_client, "Ignored1Token2Value3Abcd")

    assert tokens.label == f"Secret {NAMESPACE}/other-token"
    assert tokens.current().tokens == (ROTATED,)
    assert tokens.running
