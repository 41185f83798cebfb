"""Attacks on authentication: guessing, timing, oversized tokens, and a Kubernetes API that fails.

- Brute force through HTTP is slowed (429 with ``Retry-After``), for the right token
  too while the client is blocked, and every refusal is logged without the token.
- Token comparison goes through ``hmac.compare_digest`` on two fixed-length digests,
  as many comparisons whatever was presented; a coarse timing check backs it up.
- A token far longer than any real one is refused before it is compared or sent to
  the Kubernetes API.
- Bearer checks fail closed: see ``tests/auth/test_service_accounts.py`` (API stopped,
  5xx and 429 answers, a connection cut, a slow answer: 503, never allowed) and
  ``tests/e2e/kubernetes/test_service_account_tokens.py`` (the same through HTTP).
"""

from __future__ import annotations

import hmac
import logging
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from kubernetes import client
from starlette.testclient import TestClient

from license_service.auth import token_comparison
from license_service.auth.authenticator_chain import AuthenticatorChain
from license_service.auth.authenticators import ApiTokenAuthenticator
from license_service.auth.credentials import MAX_CREDENTIAL_LENGTH, Credentials
from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.auth.identities import Denied, Identity
from license_service.auth.kubernetes_reviews import KubernetesReviews
from license_service.auth.service_accounts import ServiceAccountAuthenticator
from license_service.tokens.followed import TokenState
from tests.auth.clocks import FakeClock
from tests.auth.kubernetes_accounts import (
    READER_TOKEN,
    Switch,
    ask,
    declare_accounts,
    reviews,
)
from tests.hostile.conftest import TOKEN
from tests.kubernetes_fake.server import FakeApiServer

HUGE_TOKEN = "A" * 100_000


class FixedTokens:
    """A token source holding ``tokens``."""

    def __init__(self, *tokens: str) -> None:
        self.state = TokenState(tokens=tokens)

    def current(self) -> TokenState:
        return self.state


# --- Brute force through HTTP -------------------------------------------------------------


def test_guessing_is_slowed_to_429_and_every_refusal_is_logged_without_the_guess(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    guesses = [f"{TOKEN[:-2]}{index:02d}" for index in range(10)]
    caplog.set_level(logging.INFO)

    answers = [client.get("/products", params={"token": guess}) for guess in guesses]
    blocked = client.get("/products", params={"token": "another-guess-0000000"})
    right_token_while_blocked = client.get("/products", params={"token": TOKEN})

    assert [answer.status_code for answer in answers] == [401] * 10
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) == 60
    assert right_token_while_blocked.status_code == 429
    refusals = [
        record.getMessage() for record in caplog.records if record.name == "license_service.auth"
    ]
    assert sum("reason=invalid" in line for line in refusals) == 10
    assert sum("reason=rate-limited" in line for line in refusals) == 2
    # The service's own lines (the test's HTTP client logs the URLs it asked).
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("license_service")]
    logged = "\n".join(ours) + "".join(answer.text for answer in [*answers, blocked])
    assert any("GET /products?token=*** 429" in line for line in ours)
    for secret in [*guesses, TOKEN, "another-guess-0000000"]:
        assert secret not in logged


def test_bearer_guesses_are_slowed_like_url_guesses(client: TestClient) -> None:
    for index in range(10):
        wrong = {"Authorization": f"Bearer wrong-bearer-token-{index:04d}"}
        assert client.get("/health", headers=wrong).status_code == 401

    answer = client.get("/health", headers={"Authorization": f"Bearer {TOKEN}"})

    assert answer.status_code == 429


# --- Constant-time comparison ---------------------------------------------------------------

PRESENTED = {
    "empty": "",
    "one character": "H",
    "all but the last character": TOKEN[:-1] + "x",
    "a prefix": TOKEN[:12],
    "the token and more": TOKEN + "x",
    "100,000 characters": HUGE_TOKEN[:MAX_CREDENTIAL_LENGTH],
    "the token": TOKEN,
}


@pytest.fixture
def comparisons(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The lengths of the two values of every ``hmac.compare_digest`` call made."""
    calls: list[tuple[int, int]] = []
    compare = hmac.compare_digest

    def recording(first: bytes, second: bytes) -> bool:
        calls.append((len(first), len(second)))
        return compare(first, second)

    monkeypatch.setattr(token_comparison.hmac, "compare_digest", recording)
    return calls


@pytest.mark.parametrize("presented", list(PRESENTED.values()), ids=list(PRESENTED))
def test_every_comparison_is_of_two_32_byte_digests(
    comparisons: list[tuple[int, int]], presented: str
) -> None:
    authenticator = ApiTokenAuthenticator(
        FixedTokens(TOKEN, "Previous-token-still-valid"), url_based_enabled=lambda: True
    )

    decision = authenticator.check(Credentials(url_token=presented, bearer=presented))

    assert isinstance(decision, Identity) == (presented == TOKEN)
    # Two presented values, two accepted tokens: four comparisons, whatever matched.
    assert comparisons == [(32, 32)] * 4


def test_the_digest_comparison_tells_nothing_about_the_length_or_the_prefix() -> None:
    for presented in PRESENTED.values():
        digest = token_comparison.token_digest(presented)
        assert len(digest) == 32
    assert token_comparison.same_token(TOKEN, TOKEN)
    assert not token_comparison.same_token(TOKEN[:-1] + "x", TOKEN)
    assert not token_comparison.same_token("\ud800", TOKEN)


def fastest_batch(check: Callable[[], object], *, batches: int, size: int) -> float:
    """The shortest time of ``batches`` runs of ``size`` calls: the least disturbed by load."""
    times = []
    for _ in range(batches):
        started = time.perf_counter()
        for _ in range(size):
            check()
        times.append(time.perf_counter() - started)
    return min(times)


def test_a_guess_matching_all_but_one_character_takes_as_long_as_one_matching_none() -> None:
    authenticator = ApiTokenAuthenticator(FixedTokens(TOKEN), url_based_enabled=lambda: True)
    near = Credentials(url_token=TOKEN[:-1] + "x")
    far = Credentials(url_token="x" * len(TOKEN))
    rounds: dict[str, list[float]] = {"near": [], "far": []}

    # Interleaved, so that load on the machine falls on both alike.
    for _ in range(7):
        rounds["near"].append(fastest_batch(lambda: authenticator.check(near), batches=5, size=300))
        rounds["far"].append(fastest_batch(lambda: authenticator.check(far), batches=5, size=300))

    near_time, far_time = statistics.median(rounds["near"]), statistics.median(rounds["far"])
    # Generous: a byte-by-byte comparison would not show here either (nanoseconds); this
    # catches a comparison that does work proportional to the matching prefix.
    assert 0.5 < near_time / far_time < 2.0, (near_time, far_time)


# --- Oversized tokens -----------------------------------------------------------------------


@pytest.mark.parametrize("where", ["url", "bearer"])
def test_a_100000_character_token_is_refused_unread_and_counted(where: str) -> None:
    clock = FakeClock()
    limiter = FailedAttemptLimiter(max_failures=2, window=timedelta(seconds=60))
    chain = AuthenticatorChain(
        ApiTokenAuthenticator(FixedTokens(TOKEN), url_based_enabled=lambda: True),
        limiter=limiter,
        clock=clock,
    )
    arguments = {"url_token": HUGE_TOKEN} if where == "url" else {"bearer": HUGE_TOKEN}

    first = ask(chain, **arguments)
    second = ask(chain, **arguments)
    third = ask(chain, **arguments)

    assert isinstance(first, Denied)
    assert (first.status, first.reason) == (401, "invalid")
    assert "100000 characters" in first.message
    assert HUGE_TOKEN[:100] not in first.message
    assert isinstance(second, Denied)
    assert isinstance(third, Denied)
    assert third.status == 429


def test_an_oversized_bearer_token_never_reaches_the_kubernetes_api(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    declare_accounts(fake_api)
    clock = FakeClock()
    chain = AuthenticatorChain(
        ApiTokenAuthenticator(FixedTokens(TOKEN), url_based_enabled=lambda: True),
        ServiceAccountAuthenticator(
            KubernetesReviews(kube_client, timeout=timedelta(seconds=2)),
            enabled=Switch(),
            clock=clock,
        ),
        limiter=FailedAttemptLimiter(),
        clock=clock,
    )

    refused = ask(chain, bearer=READER_TOKEN + "x" * MAX_CREDENTIAL_LENGTH)
    allowed = ask(chain, bearer=READER_TOKEN)

    assert isinstance(refused, Denied)
    assert refused.status == 401
    assert isinstance(allowed, Identity)
    assert reviews(fake_api) == {"token": 1, "access": 1}
    sent = [record.bearer_token for record in fake_api.requests]
    assert not any(token and len(token) > MAX_CREDENTIAL_LENGTH for token in sent)


def test_oversized_tokens_through_http_are_refused_and_not_echoed(client: TestClient) -> None:
    in_url = client.get("/products", params={"token": HUGE_TOKEN[:8_000]})
    as_bearer = client.get("/products", headers={"Authorization": f"Bearer {HUGE_TOKEN[:12_000]}"})
    in_huge_header = client.get("/products", headers={"Authorization": f"Bearer {HUGE_TOKEN}"})

    # Under the query limit but no token is that long: a wrong token. Over the token
    # limit: refused unread. Over the header limit: refused before authentication.
    assert in_url.status_code == 401
    assert as_bearer.status_code == 401
    assert "12000 characters" in as_bearer.json()["message"]
    assert in_huge_header.status_code == 431
    for answer in (in_url, as_bearer, in_huge_header):
        assert HUGE_TOKEN[:50] not in answer.text
