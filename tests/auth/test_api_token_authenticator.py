"""The API token authenticator: URL and bearer tokens, URL tokens off, fail closed, slow-down."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from license_service.auth.authenticators import ApiTokenAuthenticator, Authenticator
from license_service.auth.credentials import Credentials
from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.auth.identities import Denied, Identity
from license_service.tokens.file_source import TokenFile
from license_service.tokens.followed import TokenState
from tests.auth.clocks import FakeClock

TOKEN = "Zq7mW2xK9pL4vR8tYb3N"
PREVIOUS = "Hc5Jd8Fs2Ga6Kl9Qw4Er"
WRONG = "Zq7mW2xK9pL4vR8tYb3X"
CLIENT = "192.0.2.10"
API_TOKEN = Identity(method="api-token", name="api-token")


class FixedTokens:
    """A token source whose state the test sets."""

    def __init__(self, *tokens: str, invalid_reason: str | None = None) -> None:
        self.state = TokenState(tokens=tokens, invalid_reason=invalid_reason)

    def current(self) -> TokenState:
        return self.state


class Switch:
    """``spec.features.auth.urlBasedEnabled`` as the configuration watcher would give it."""

    def __init__(self, on: bool = True) -> None:
        self.on = on

    def __call__(self) -> bool:
        return self.on


class Setup:
    def __init__(self, tokens: FixedTokens | TokenFile | None = None) -> None:
        self.clock = FakeClock()
        self.url_tokens = Switch()
        self.tokens = tokens or FixedTokens(TOKEN)
        self.authenticator = ApiTokenAuthenticator(
            self.tokens,
            url_based_enabled=self.url_tokens,
            limiter=FailedAttemptLimiter(max_failures=10, window=timedelta(seconds=60)),
            clock=self.clock,
        )

    def __call__(
        self,
        *,
        url_token: str | None = None,
        bearer: str | None = None,
        client: str = CLIENT,
    ) -> Identity | Denied:
        authenticator: Authenticator = self.authenticator
        return asyncio.run(
            authenticator.authenticate(
                Credentials(url_token=url_token, bearer=bearer), path="/products", client=client
            )
        )


def denial(decision: Identity | Denied) -> Denied:
    assert isinstance(decision, Denied), decision
    return decision


def test_the_api_token_in_the_url_is_accepted() -> None:
    assert Setup()(url_token=TOKEN) == API_TOKEN


def test_the_api_token_as_a_bearer_token_is_accepted_while_url_tokens_are_on() -> None:
    assert Setup()(bearer=TOKEN) == API_TOKEN


def test_a_wrong_token_is_refused_as_invalid() -> None:
    refused = denial(Setup()(url_token=WRONG))

    assert (refused.status, refused.reason) == (401, "invalid")
    assert "license-service token get" in refused.message
    assert WRONG not in refused.message


@pytest.mark.parametrize(
    "presented",
    [TOKEN[:-1], TOKEN + "x", TOKEN.lower(), "", f" {TOKEN}", "é" * 20, "\udcff" * 3],
    ids=["prefix", "extension", "other-case", "empty", "leading-space", "non-ascii", "surrogate"],
)
def test_anything_but_the_exact_token_is_refused(presented: str) -> None:
    assert denial(Setup()(url_token=presented)).reason == "invalid"


def test_an_empty_url_token_is_refused_saying_it_is_empty() -> None:
    refused = denial(Setup()(url_token=""))

    assert (refused.status, refused.reason) == (401, "invalid")
    assert refused.message.startswith("the ?token= parameter is empty;")
    assert "not this service's API token" not in refused.message


def test_a_value_that_claims_equality_is_still_refused() -> None:
    class EqualToEverything(str):
        __slots__ = ()

        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = str.__hash__

    # Tokens are compared as bytes by hmac.compare_digest, never with ==.
    assert denial(Setup()(url_token=EqualToEverything(WRONG))).reason == "invalid"


def test_a_wrong_url_token_does_not_hide_a_right_bearer_token() -> None:
    assert Setup()(url_token=WRONG, bearer=TOKEN) == API_TOKEN


def test_the_previous_token_is_accepted_while_the_source_still_accepts_it() -> None:
    setup = Setup(FixedTokens(TOKEN, PREVIOUS))

    assert setup(url_token=PREVIOUS) == API_TOKEN
    assert setup(url_token=TOKEN) == API_TOKEN


def test_no_credentials_are_refused_as_missing_with_how_to_send_them() -> None:
    refused = denial(Setup()())

    assert (refused.status, refused.reason) == (401, "missing")
    assert "?token=" in refused.message
    assert "Authorization: Bearer" in refused.message


def test_a_url_token_while_url_tokens_are_off_points_to_service_account_tokens() -> None:
    setup = Setup()
    setup.url_tokens.on = False

    refused = denial(setup(url_token=TOKEN))

    assert (refused.status, refused.reason) == (401, "url-token-disabled")
    assert "URL tokens are turned off" in refused.message
    assert "spec.features.auth.urlBasedEnabled: false" in refused.message
    assert "service-account token" in refused.message
    assert "Authorization: Bearer" in refused.message


def test_the_api_token_as_a_bearer_token_is_refused_while_url_tokens_are_off() -> None:
    setup = Setup()
    setup.url_tokens.on = False

    refused = denial(setup(bearer=TOKEN))

    assert (refused.status, refused.reason) == (401, "url-token-disabled")
    assert "service-account token" in refused.message


def test_missing_credentials_while_url_tokens_are_off_point_to_service_account_tokens() -> None:
    setup = Setup()
    setup.url_tokens.on = False

    refused = denial(setup())

    assert refused.reason == "missing"
    assert "service-account token" in refused.message
    assert "?token=" not in refused.message


def test_turning_url_tokens_back_on_accepts_them_again_at_once() -> None:
    setup = Setup()
    setup.url_tokens.on = False
    off = setup(url_token=TOKEN)
    setup.url_tokens.on = True

    assert isinstance(off, Denied)
    assert setup(url_token=TOKEN) == API_TOKEN


def test_an_invalid_configured_token_fails_closed_and_health_says_why(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("my new token")
    setup = Setup(
        TokenFile(path, generate_if_missing=False, grace_period=timedelta(0), clock=FakeClock())
    )

    refused = denial(setup(url_token="my new token"))
    problem = setup.authenticator.problem()

    assert (refused.status, refused.reason) == (401, "configured-token-invalid")
    assert "the API token configured on the server is invalid" in refused.message
    assert "license-service token set" in refused.message
    assert problem is not None
    assert "character ' ' (U+0020 SPACE) at position 3" in problem
    assert "my new token" not in problem
    assert "my new token" not in refused.message


def test_the_invalid_configured_token_refusal_points_to_what_a_refused_caller_can_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "token"
    path.write_text("my new token")
    setup = Setup(
        TokenFile(path, generate_if_missing=False, grace_period=timedelta(0), clock=FakeClock())
    )

    refused = denial(setup(url_token="my new token"))

    # /health needs a token too: the refused caller cannot read it.
    assert "/health" not in refused.message
    assert "API-token access refused" in refused.message
    assert "license-service token check" in refused.message


def test_a_usable_configured_token_is_no_health_problem() -> None:
    setup = Setup()

    assert setup.authenticator.problem() is None


def test_the_eleventh_failure_in_a_minute_is_answered_429_with_retry_after() -> None:
    setup = Setup()
    first_ten = [denial(setup(url_token=WRONG)).status for _ in range(10)]

    refused = denial(setup(url_token=WRONG))

    assert first_ten == [401] * 10
    assert (refused.status, refused.reason, refused.retry_after) == (429, "rate-limited", 60)
    assert "try again in 60 s" in refused.message


def test_a_blocked_client_is_refused_even_with_the_right_token_until_the_window_passes() -> None:
    setup = Setup()
    for _ in range(10):
        setup(url_token=WRONG)
        setup.clock.advance(1)

    blocked = denial(setup(url_token=TOKEN))
    setup.clock.advance(50)  # the first failure, at 0 s, leaves the window at 60 s

    assert (blocked.status, blocked.retry_after) == (429, 50)
    assert setup(url_token=TOKEN) == API_TOKEN


def test_one_client_failing_does_not_block_another() -> None:
    setup = Setup()
    for _ in range(11):
        setup(url_token=WRONG, client="203.0.113.7")

    assert setup(url_token=TOKEN, client=CLIENT) == API_TOKEN
    assert denial(setup(url_token=TOKEN, client="203.0.113.7")).status == 429


def test_requests_without_credentials_or_with_url_tokens_off_do_not_count_as_failures() -> None:
    setup = Setup()
    for _ in range(11):
        setup()
    setup.url_tokens.on = False
    for _ in range(11):
        setup(url_token=WRONG)
    setup.url_tokens.on = True

    assert setup(url_token=TOKEN) == API_TOKEN


def test_decisions_are_logged_with_method_client_and_reason_but_never_a_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="license_service.auth")
    setup = Setup()

    setup(url_token=TOKEN)
    setup(bearer=WRONG)

    accepted, refused = (record.getMessage() for record in caplog.records)
    assert all(record.name == "license_service.auth" for record in caplog.records)
    assert "method=api-token identity=api-token credential=url" in accepted
    assert f"client='{CLIENT}'" in accepted
    assert "path='/products'" in accepted
    assert "reason=invalid credential=bearer" in refused
    for message in (accepted, refused):
        assert TOKEN not in message
        assert WRONG not in message


def test_a_client_or_path_cannot_forge_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="license_service.auth")
    setup = Setup()

    asyncio.run(
        setup.authenticator.authenticate(
            Credentials(url_token=WRONG),
            path="/products\nAuthenticated method=api-token",
            client="x\r\ny",
        )
    )

    assert "\n" not in caplog.records[0].getMessage()
    assert "\r" not in caplog.records[0].getMessage()
