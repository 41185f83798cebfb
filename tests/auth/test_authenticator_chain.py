"""The chain: the API token and service-account tokens together, one limit on failed attempts
(SPEC 4.4, 4.5, 4.6), against the fake Kubernetes API through the real client."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from kubernetes import client

from license_service.auth.authenticator_chain import AuthenticatorChain
from license_service.auth.authenticators import ApiTokenAuthenticator, Authenticator
from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.auth.identities import Denied, Identity
from license_service.auth.kubernetes_reviews import KubernetesReviews
from license_service.auth.service_accounts import ServiceAccountAuthenticator
from license_service.tokens.followed import TokenState
from tests.auth.clocks import FakeClock
from tests.auth.kubernetes_accounts import (
    CLIENT,
    OUTSIDER_TOKEN,
    READER,
    READER_TOKEN,
    UNKNOWN_TOKEN,
    Switch,
    ask,
    declare_accounts,
    denial,
    reviews,
)
from tests.kubernetes_fake.server import FakeApiServer

API_TOKEN = "Zq7mW2xK9pL4vR8tYb3N"
WRONG_API_TOKEN = "Zq7mW2xK9pL4vR8tYb3X"
API_TOKEN_IDENTITY = Identity(method="api-token", name="api-token")
READER_IDENTITY = Identity(method="service-account", name=READER)


class FixedTokens:
    """A token source whose state the test sets."""

    def __init__(self, *tokens: str, invalid_reason: str | None = None) -> None:
        self.state = TokenState(tokens=tokens, invalid_reason=invalid_reason)

    def current(self) -> TokenState:
        return self.state


class Chain:
    """The chain as the service builds it, with switches and a clock the test moves."""

    def __init__(
        self, kube_client: client.ApiClient | None, tokens: FixedTokens | None = None
    ) -> None:
        self.clock = FakeClock()
        self.url_tokens = Switch()
        self.service_accounts = Switch()
        self.tokens = tokens or FixedTokens(API_TOKEN)
        accounts = (
            None
            if kube_client is None
            else ServiceAccountAuthenticator(
                KubernetesReviews(kube_client, timeout=timedelta(seconds=2)),
                enabled=self.service_accounts,
                clock=self.clock,
            )
        )
        self.authenticator: Authenticator = AuthenticatorChain(
            ApiTokenAuthenticator(self.tokens, url_based_enabled=self.url_tokens),
            accounts,
            limiter=FailedAttemptLimiter(max_failures=10, window=timedelta(seconds=60)),
            clock=self.clock,
        )

    def __call__(
        self,
        *,
        bearer: str | None = None,
        url_token: str | None = None,
        path: str = "/products",
        client: str = CLIENT,
    ) -> Identity | Denied:
        return ask(self.authenticator, bearer=bearer, url_token=url_token, path=path, client=client)


@pytest.fixture
def chain(fake_api: FakeApiServer, kube_client: client.ApiClient) -> Chain:
    declare_accounts(fake_api)
    return Chain(kube_client)


# -- routing -------------------------------------------------------------------------------


def test_the_api_token_as_a_bearer_token_is_accepted_without_asking_kubernetes(
    fake_api: FakeApiServer, chain: Chain
) -> None:
    assert chain(bearer=API_TOKEN) == API_TOKEN_IDENTITY
    assert reviews(fake_api) == {}


def test_the_api_token_in_the_url_is_accepted(chain: Chain) -> None:
    assert chain(url_token=API_TOKEN) == API_TOKEN_IDENTITY


def test_a_service_account_token_is_accepted_while_url_tokens_are_on(chain: Chain) -> None:
    assert chain(bearer=READER_TOKEN) == READER_IDENTITY


def test_a_service_account_token_is_accepted_while_url_tokens_are_off(chain: Chain) -> None:
    chain.url_tokens.on = False

    assert chain(bearer=READER_TOKEN) == READER_IDENTITY


def test_a_wrong_url_token_does_not_hide_a_valid_service_account_token(chain: Chain) -> None:
    assert chain(bearer=READER_TOKEN, url_token=WRONG_API_TOKEN) == READER_IDENTITY


def test_a_service_account_token_in_the_url_is_not_sent_to_kubernetes(
    fake_api: FakeApiServer, chain: Chain
) -> None:
    refused = denial(chain(url_token=READER_TOKEN))

    assert (refused.status, refused.reason) == (401, "invalid")
    assert reviews(fake_api) == {}


def test_with_url_tokens_off_the_api_token_is_not_accepted_as_a_bearer_token(
    chain: Chain,
) -> None:
    chain.url_tokens.on = False

    refused = denial(chain(bearer=API_TOKEN))

    assert refused.status == 401
    assert "URL tokens are turned off" in refused.message
    assert "the API token is not accepted" in refused.message
    assert API_TOKEN not in refused.message


def test_with_url_tokens_off_a_url_token_is_refused_pointing_to_service_account_tokens(
    fake_api: FakeApiServer, chain: Chain
) -> None:
    chain.url_tokens.on = False

    refused = denial(chain(url_token=API_TOKEN))

    assert (refused.status, refused.reason) == (401, "url-token-disabled")
    assert "service-account token" in refused.message
    assert reviews(fake_api) == {}


def test_a_bearer_token_that_is_neither_is_refused_401_saying_both(chain: Chain) -> None:
    refused = denial(chain(bearer=UNKNOWN_TOKEN))

    assert (refused.status, refused.reason) == (401, "unauthenticated")
    assert "not an API token this service accepts" in refused.message
    assert "Kubernetes does not accept the bearer token" in refused.message


def test_a_service_account_without_the_role_is_refused_403(chain: Chain) -> None:
    refused = denial(chain(bearer=OUTSIDER_TOKEN))

    assert (refused.status, refused.reason) == (403, "forbidden")
    assert "ibm-licensing-default-reader" in refused.message


def test_with_service_account_tokens_off_a_bearer_that_is_not_the_api_token_is_refused(
    fake_api: FakeApiServer, chain: Chain
) -> None:
    chain.service_accounts.on = False

    refused = denial(chain(bearer=READER_TOKEN))
    api_token = chain(bearer=API_TOKEN)

    assert refused.status == 401
    assert "not this service's API token" in refused.message
    assert "service-account tokens are turned off" in refused.message
    assert "kubeRBACAuthEnabled: false" in refused.message
    assert api_token == API_TOKEN_IDENTITY
    assert reviews(fake_api) == {}


def test_with_both_methods_off_nothing_is_accepted_and_the_answer_says_why(
    fake_api: FakeApiServer, chain: Chain
) -> None:
    chain.url_tokens.on = False
    chain.service_accounts.on = False

    answers = [chain(bearer=READER_TOKEN), chain(url_token=API_TOKEN), chain()]

    for answer in answers:
        refused = denial(answer)
        assert (refused.status, refused.reason) == (401, "no-method")
        assert "urlBasedEnabled: false" in refused.message
        assert "kubeRBACAuthEnabled: false" in refused.message
    assert reviews(fake_api) == {}


@pytest.mark.parametrize(
    ("url_on", "accounts_on", "says", "does_not_say"),
    [
        (True, True, ["?token=", "service-account token"], []),
        (True, False, ["?token="], ["service-account"]),
        (False, True, ["service-account token", "URL tokens are turned off"], ["?token="]),
    ],
    ids=["both-on", "url-tokens-only", "service-accounts-only"],
)
def test_no_credentials_are_refused_401_naming_the_methods_that_are_on(
    chain: Chain, url_on: bool, accounts_on: bool, says: list[str], does_not_say: list[str]
) -> None:
    chain.url_tokens.on = url_on
    chain.service_accounts.on = accounts_on

    refused = denial(chain())

    assert (refused.status, refused.reason) == (401, "missing")
    for text in says:
        assert text in refused.message
    for text in does_not_say:
        assert text not in refused.message


def test_an_invalid_configured_api_token_is_a_health_problem_but_accounts_still_work(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    declare_accounts(fake_api)
    broken = Chain(kube_client, FixedTokens(invalid_reason="the token has a space at 3"))

    url_token = denial(broken(url_token="my token"))

    assert broken.authenticator.problem() == "the token has a space at 3"
    assert url_token.reason == "configured-token-invalid"
    assert broken(bearer=READER_TOKEN) == READER_IDENTITY


def test_a_usable_api_token_is_no_health_problem(chain: Chain) -> None:
    assert chain.authenticator.problem() is None


def test_outside_kubernetes_a_bearer_that_is_not_the_api_token_is_refused() -> None:
    alone = Chain(None)

    refused = denial(alone(bearer=READER_TOKEN))

    assert (refused.status, refused.reason) == (401, "invalid")
    assert "service-account tokens are not available" in refused.message
    assert alone(bearer=API_TOKEN) == API_TOKEN_IDENTITY


def test_outside_kubernetes_with_url_tokens_off_nothing_is_accepted() -> None:
    alone = Chain(None)
    alone.url_tokens.on = False

    refused = denial(alone(url_token=API_TOKEN))

    assert refused.reason == "no-method"
    assert "service-account tokens are not available" in refused.message


def test_the_api_down_answers_503_and_the_api_token_still_works(
    fake_api: FakeApiServer, chain: Chain
) -> None:
    fake_api.stop()

    refused = denial(chain(bearer=READER_TOKEN))

    assert (refused.status, refused.reason) == (503, "kubernetes-unavailable")
    assert chain(bearer=API_TOKEN) == API_TOKEN_IDENTITY


# -- failed attempts -----------------------------------------------------------------------


def test_valid_service_account_calls_never_count_as_failed_attempts(chain: Chain) -> None:
    answers = [chain(bearer=READER_TOKEN) for _ in range(25)]

    assert answers == [READER_IDENTITY] * 25


def test_a_known_account_refused_403_does_not_count_as_a_failed_attempt(chain: Chain) -> None:
    answers = [denial(chain(bearer=OUTSIDER_TOKEN)).status for _ in range(25)]

    assert answers == [403] * 25


def test_a_flood_of_unknown_bearer_tokens_is_slowed_before_reaching_kubernetes(
    fake_api: FakeApiServer, chain: Chain
) -> None:
    first_ten = [denial(chain(bearer=f"{UNKNOWN_TOKEN}-{n}")).status for n in range(10)]

    slowed = denial(chain(bearer=f"{UNKNOWN_TOKEN}-10"))
    also_slowed = denial(chain(bearer=READER_TOKEN))

    assert first_ten == [401] * 10
    assert (slowed.status, slowed.reason, slowed.retry_after) == (429, "rate-limited", 60)
    assert also_slowed.status == 429
    assert reviews(fake_api) == {"token": 10}


def test_wrong_tokens_of_both_kinds_count_together(chain: Chain) -> None:
    for number in range(5):
        chain(url_token=WRONG_API_TOKEN)
        chain(bearer=f"{UNKNOWN_TOKEN}-{number}")

    assert denial(chain(url_token=API_TOKEN)).status == 429


def test_a_wrong_bearer_token_counts_while_service_account_tokens_are_off(chain: Chain) -> None:
    chain.service_accounts.on = False
    for _ in range(10):
        chain(bearer=WRONG_API_TOKEN)

    assert denial(chain(bearer=API_TOKEN)).status == 429


def test_the_api_being_down_is_not_the_clients_failure(
    fake_api: FakeApiServer, chain: Chain
) -> None:
    fake_api.faults.fail(None, status=500)

    answers = [denial(chain(bearer=READER_TOKEN)).status for _ in range(15)]

    assert answers == [503] * 15


def test_requests_for_a_method_turned_off_do_not_count(chain: Chain) -> None:
    chain.url_tokens.on = False
    for _ in range(15):
        chain(url_token=WRONG_API_TOKEN)
    chain.url_tokens.on = True

    assert chain(url_token=API_TOKEN) == API_TOKEN_IDENTITY


def test_a_valid_service_account_token_clears_the_clients_failures(chain: Chain) -> None:
    for _ in range(9):
        chain(url_token=WRONG_API_TOKEN)
    chain(bearer=READER_TOKEN)
    for _ in range(9):
        chain(url_token=WRONG_API_TOKEN)

    assert chain(bearer=READER_TOKEN) == READER_IDENTITY


def test_a_slowed_client_may_try_again_once_its_failures_leave_the_window(chain: Chain) -> None:
    for number in range(10):
        chain(bearer=f"{UNKNOWN_TOKEN}-{number}")
    slowed = denial(chain(bearer=READER_TOKEN))
    chain.clock.advance(60)

    assert slowed.status == 429
    assert chain(bearer=READER_TOKEN) == READER_IDENTITY


def test_one_client_failing_does_not_slow_another(chain: Chain) -> None:
    for number in range(11):
        chain(bearer=f"{UNKNOWN_TOKEN}-{number}", client="203.0.113.7")

    assert chain(bearer=READER_TOKEN, client=CLIENT) == READER_IDENTITY


# -- logs ----------------------------------------------------------------------------------


def test_each_decision_is_logged_once_with_method_and_identity_but_never_a_token(
    caplog: pytest.LogCaptureFixture, chain: Chain
) -> None:
    caplog.set_level(logging.DEBUG, logger="license_service.auth")

    chain(bearer=API_TOKEN)
    chain(bearer=READER_TOKEN)
    chain(bearer=OUTSIDER_TOKEN, path="/snapshot")
    chain(bearer=UNKNOWN_TOKEN)
    chain()

    messages = [r.getMessage() for r in caplog.records if r.name == "license_service.auth"]
    api_token, reader, outsider, unknown, missing = messages
    assert "Authenticated method=api-token identity=api-token credential=bearer" in api_token
    assert f"Authenticated method=service-account identity={READER}" in reader
    assert "Refused method=service-account status=403 reason=forbidden" in outsider
    assert "identity=system:serviceaccount:team-a:builder" in outsider
    assert "Refused method=service-account status=401 reason=unauthenticated" in unknown
    assert "Refused method=none status=401 reason=missing credential=none" in missing
    for message in (record.getMessage() for record in caplog.records):
        for token in (API_TOKEN, READER_TOKEN, OUTSIDER_TOKEN, UNKNOWN_TOKEN):
            assert token not in message
