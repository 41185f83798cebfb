"""Service-account tokens checked by the fake Kubernetes API through the real client (SPEC 4.5)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from kubernetes import client

from license_service.auth.identities import Denied, Identity
from license_service.auth.kubernetes_reviews import KubernetesReviews
from license_service.auth.service_accounts import (
    DEFAULT_CACHE_TTL,
    DEFAULT_DENIAL_TTL,
    ServiceAccountAuthenticator,
)
from license_service.errors import ConfigurationError
from tests.auth.clocks import FakeClock
from tests.auth.kubernetes_accounts import (
    ACCESS_REVIEWS,
    OUTSIDER,
    OUTSIDER_TOKEN,
    READER,
    READER_TOKEN,
    TOKEN_REVIEWS,
    UNKNOWN_TOKEN,
    Switch,
    ask,
    declare_accounts,
    denial,
    reviews,
)
from tests.kubernetes_fake.server import FakeApiServer

READER_IDENTITY = Identity(method="service-account", name=READER)


class Accounts:
    """A service-account authenticator on the fake, with a clock and a switch the test moves."""

    def __init__(
        self,
        kube_client: client.ApiClient,
        *,
        timeout: timedelta = timedelta(seconds=2),
        cache_ttl: timedelta = DEFAULT_CACHE_TTL,
        denial_ttl: timedelta = DEFAULT_DENIAL_TTL,
    ) -> None:
        self.clock = FakeClock()
        self.enabled = Switch()
        self.authenticator = ServiceAccountAuthenticator(
            KubernetesReviews(kube_client, timeout=timeout),
            enabled=self.enabled,
            clock=self.clock,
            cache_ttl=cache_ttl,
            denial_ttl=denial_ttl,
        )

    def __call__(self, bearer: str | None, path: str = "/products") -> Identity | Denied:
        return ask(self.authenticator, bearer=bearer, path=path)


@pytest.fixture
def accounts(fake_api: FakeApiServer, kube_client: client.ApiClient) -> Accounts:
    declare_accounts(fake_api)
    return Accounts(kube_client)


def test_an_account_allowed_on_the_path_is_let_in_as_its_user(accounts: Accounts) -> None:
    assert accounts(READER_TOKEN) == READER_IDENTITY


def test_an_account_is_allowed_through_a_rule_for_one_of_its_groups(
    fake_api: FakeApiServer, accounts: Accounts
) -> None:
    fake_api.allow("system:serviceaccounts:ibm-licensing", "/snapshot", "get")

    assert accounts(READER_TOKEN, path="/snapshot") == READER_IDENTITY


def test_access_is_reviewed_for_the_requested_path(accounts: Accounts) -> None:
    allowed = accounts(READER_TOKEN, path="/products")
    refused = denial(accounts(READER_TOKEN, path="/snapshot"))

    assert allowed == READER_IDENTITY
    assert (refused.status, refused.reason) == (403, "forbidden")


def test_a_refused_account_is_told_who_it_is_the_path_and_the_role_to_bind(
    accounts: Accounts,
) -> None:
    refused = denial(accounts(OUTSIDER_TOKEN, path="/snapshot"))

    assert refused.status == 403
    assert OUTSIDER in refused.message
    assert "service account builder in namespace team-a" in refused.message
    assert "/snapshot" in refused.message
    assert "ClusterRole ibm-licensing-default-reader" in refused.message
    assert "--serviceaccount=team-a:builder" in refused.message
    assert OUTSIDER_TOKEN not in refused.message


def test_a_token_kubernetes_does_not_authenticate_is_refused_401_without_an_access_review(
    fake_api: FakeApiServer, accounts: Accounts
) -> None:
    refused = denial(accounts(UNKNOWN_TOKEN))

    assert (refused.status, refused.reason) == (401, "unauthenticated")
    assert "Kubernetes does not accept the bearer token" in refused.message
    assert UNKNOWN_TOKEN not in refused.message
    assert reviews(fake_api) == {"token": 1}


def test_a_request_without_a_bearer_token_is_refused_401(accounts: Accounts) -> None:
    refused = denial(accounts(None))

    assert (refused.status, refused.reason) == (401, "missing")
    assert "Authorization: Bearer" in refused.message


def test_turned_off_any_bearer_token_is_refused_401_without_asking_kubernetes(
    fake_api: FakeApiServer, accounts: Accounts
) -> None:
    accounts.enabled.on = False

    refused = denial(accounts(READER_TOKEN))

    assert (refused.status, refused.reason) == (401, "service-account-disabled")
    assert "service-account tokens are turned off" in refused.message
    assert "kubeRBACAuthEnabled: false" in refused.message
    assert reviews(fake_api) == {}


def test_turned_back_on_accounts_are_let_in_again_at_once(accounts: Accounts) -> None:
    accounts.enabled.on = False
    off = accounts(READER_TOKEN)
    accounts.enabled.on = True

    assert isinstance(off, Denied)
    assert accounts(READER_TOKEN) == READER_IDENTITY


# -- failing closed ------------------------------------------------------------------------


def unavailable(decision: Identity | Denied) -> Denied:
    refused = denial(decision)
    assert (refused.status, refused.reason) == (503, "kubernetes-unavailable")
    assert "never granted" in refused.message
    return refused


def test_with_the_api_server_stopped_the_answer_is_503(
    fake_api: FakeApiServer, accounts: Accounts
) -> None:
    fake_api.stop()

    refused = unavailable(accounts(READER_TOKEN))

    assert "could not be reached" in refused.message
    assert READER_TOKEN not in refused.message


@pytest.mark.parametrize("review", [TOKEN_REVIEWS, ACCESS_REVIEWS], ids=["token", "access"])
@pytest.mark.parametrize("status", [500, 503, 429])
def test_an_error_status_of_either_review_is_answered_503_never_allowed(
    fake_api: FakeApiServer, accounts: Accounts, review: str, status: int
) -> None:
    fake_api.faults.fail(1, status=status, path=review)

    refused = unavailable(accounts(READER_TOKEN))

    assert f"answered HTTP {status}" in refused.message


def test_a_connection_cut_mid_answer_is_answered_503(
    fake_api: FakeApiServer, accounts: Accounts
) -> None:
    fake_api.faults.drop(1, path=ACCESS_REVIEWS)

    unavailable(accounts(READER_TOKEN))


def test_an_api_server_slower_than_the_timeout_is_answered_503(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    declare_accounts(fake_api)
    hurried = Accounts(kube_client, timeout=timedelta(seconds=0.2))
    fake_api.faults.delay(0.6, count=1, path=TOKEN_REVIEWS)

    refused = unavailable(hurried(READER_TOKEN))

    assert "did not answer" in refused.message


def test_refusing_license_service_itself_is_503_naming_the_permissions_it_needs(
    fake_api: FakeApiServer, accounts: Accounts
) -> None:
    fake_api.require_caller_token("the-real-service-account-token")

    refused = unavailable(accounts(READER_TOKEN))

    assert "answered HTTP 401 to License Service" in refused.message
    assert "create on tokenreviews" in refused.message
    assert "subjectaccessreviews" in refused.message


def test_a_503_is_not_remembered_the_next_request_asks_again(
    fake_api: FakeApiServer, accounts: Accounts
) -> None:
    fake_api.faults.fail(1, status=500, path=TOKEN_REVIEWS)

    first = accounts(READER_TOKEN)
    second = accounts(READER_TOKEN)

    assert denial(first).status == 503
    assert second == READER_IDENTITY


def test_an_allowed_account_is_refused_503_once_its_cached_answer_expires_while_the_api_is_down(
    fake_api: FakeApiServer, accounts: Accounts
) -> None:
    allowed = accounts(READER_TOKEN)
    fake_api.stop()
    accounts.clock.advance(30)

    assert allowed == READER_IDENTITY
    unavailable(accounts(READER_TOKEN))


# -- the cache -----------------------------------------------------------------------------


def test_a_second_request_within_the_cache_time_asks_kubernetes_nothing(
    fake_api: FakeApiServer, accounts: Accounts
) -> None:
    first = accounts(READER_TOKEN)
    accounts.clock.advance(29)
    second = accounts(READER_TOKEN)

    assert first == second == READER_IDENTITY
    assert reviews(fake_api) == {"token": 1, "access": 1}


def test_an_allowed_answer_is_asked_again_after_the_cache_time(
    fake_api: FakeApiServer, accounts: Accounts
) -> None:
    accounts(READER_TOKEN)
    accounts.clock.advance(30)
    accounts(READER_TOKEN)

    assert reviews(fake_api) == {"token": 2, "access": 2}


def test_a_revoked_role_takes_effect_once_the_cached_answer_expires(
    fake_api: FakeApiServer, accounts: Accounts
) -> None:
    accounts(READER_TOKEN)
    fake_api.revoke(READER)
    still_cached = accounts(READER_TOKEN)
    accounts.clock.advance(30)

    assert still_cached == READER_IDENTITY
    assert denial(accounts(READER_TOKEN)).status == 403


def test_each_path_is_cached_on_its_own(fake_api: FakeApiServer, accounts: Accounts) -> None:
    accounts(READER_TOKEN, path="/products")
    refused = accounts(READER_TOKEN, path="/snapshot")

    assert denial(refused).status == 403
    assert reviews(fake_api) == {"token": 2, "access": 2}


def test_a_refusal_is_remembered_only_briefly_so_a_new_binding_applies_within_seconds(
    fake_api: FakeApiServer, accounts: Accounts
) -> None:
    refused = accounts(OUTSIDER_TOKEN)
    fake_api.allow(OUTSIDER, "/products", "get")
    accounts.clock.advance(4)
    still_refused = accounts(OUTSIDER_TOKEN)
    accounts.clock.advance(1)

    assert denial(refused).status == denial(still_refused).status == 403
    assert accounts(OUTSIDER_TOKEN) == Identity("service-account", OUTSIDER)


def test_an_unauthenticated_token_is_remembered_only_briefly(
    fake_api: FakeApiServer, accounts: Accounts
) -> None:
    accounts(UNKNOWN_TOKEN)
    fake_api.add_user(UNKNOWN_TOKEN, READER)
    accounts.clock.advance(4)
    cached = accounts(UNKNOWN_TOKEN)
    accounts.clock.advance(1)

    assert denial(cached).status == 401
    assert accounts(UNKNOWN_TOKEN) == READER_IDENTITY
    assert reviews(fake_api)["token"] == 2


def test_refusals_can_be_left_uncached(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    declare_accounts(fake_api)
    uncached = Accounts(kube_client, denial_ttl=timedelta(0))

    uncached(OUTSIDER_TOKEN)
    uncached(OUTSIDER_TOKEN)

    assert reviews(fake_api) == {"token": 2, "access": 2}


def test_a_shorter_cache_time_can_be_configured(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    declare_accounts(fake_api)
    brief = Accounts(kube_client, cache_ttl=timedelta(seconds=2), denial_ttl=timedelta(seconds=1))

    brief(READER_TOKEN)
    brief.clock.advance(2)
    brief(READER_TOKEN)

    assert reviews(fake_api) == {"token": 2, "access": 2}


@pytest.mark.parametrize(
    "cache",
    [
        {"cache_ttl": timedelta(seconds=61)},
        {"cache_ttl": timedelta(seconds=-1)},
        {"cache_ttl": timedelta(seconds=10), "denial_ttl": timedelta(seconds=11)},
        {"denial_ttl": timedelta(seconds=-1)},
    ],
    ids=["over-60-s", "negative", "refusals-longer-than-answers", "negative-refusals"],
)
def test_a_cache_time_over_60_seconds_or_inconsistent_is_refused(
    kube_client: client.ApiClient, cache: dict[str, timedelta]
) -> None:
    with pytest.raises(ConfigurationError, match="cache time"):
        Accounts(kube_client, **cache)


def test_a_timeout_that_is_not_positive_is_refused(kube_client: client.ApiClient) -> None:
    with pytest.raises(ConfigurationError, match="timeout 0:00:00 is not positive"):
        KubernetesReviews(kube_client, timeout=timedelta(0))


# -- logs ----------------------------------------------------------------------------------


def test_decisions_are_logged_with_method_and_identity_but_never_the_token(
    caplog: pytest.LogCaptureFixture, fake_api: FakeApiServer, accounts: Accounts
) -> None:
    caplog.set_level(logging.DEBUG, logger="license_service.auth")

    accounts(READER_TOKEN)
    accounts(READER_TOKEN)
    accounts(OUTSIDER_TOKEN, path="/snapshot")
    accounts(UNKNOWN_TOKEN)
    fake_api.stop()
    accounts(READER_TOKEN, path="/health")

    messages = [r.getMessage() for r in caplog.records if r.name == "license_service.auth"]
    allowed, cached, forbidden, unauthenticated, down = messages
    assert f"Authenticated method=service-account identity={READER} credential=bearer" in allowed
    assert "cached decision" in cached
    assert "cached" not in allowed
    assert "status=403 reason=forbidden" in forbidden
    assert f"identity={OUTSIDER}" in forbidden
    assert "status=401 reason=unauthenticated" in unauthenticated
    assert "TokenReview: [invalid bearer token" in unauthenticated
    assert "status=503 reason=kubernetes-unavailable" in down
    for message in (record.getMessage() for record in caplog.records):
        for token in (READER_TOKEN, OUTSIDER_TOKEN, UNKNOWN_TOKEN):
            assert token not in message
