"""The service's one ``Authenticator``: the API token and service-account tokens together (SPEC 4).

``AuthenticatorChain`` routes a request's credentials:

- ``?token=`` goes to the API token authenticator only;
- ``Authorization: Bearer <x>``, while URL tokens are on, is first compared with the
  API token (in constant time, with any ``?token=``); if it is not the API token, and
  always while URL tokens are off (then nothing is compared, so no answer says
  whether a value is the API token), it goes to the service-account authenticator;
- with both methods off (or URL tokens off outside Kubernetes) nothing is accepted,
  and the 401 says so.

Failed attempts are limited here, for both methods, with one ``FailedAttemptLimiter``:
a client refused too often is answered 429 with ``Retry-After`` before any
comparison or Kubernetes call, so a flood of bad tokens of either kind is slowed
and never reaches the API server. A credential longer than any real token is
refused (401, a failed attempt) before it is compared or sent anywhere. What counts
is decided by the limiter (``FAILED_ATTEMPT_REASONS``): a wrong API token or a
token Kubernetes does not authenticate. A valid service-account token never
counts, even refused 403, nor does 503 (the Kubernetes API down is not the
client's fault), nor a request without credentials or for a method turned off.
An accepted credential clears the client's failures.

Every final decision is logged once (``log_decision``) with its method
(``api-token``, ``service-account``, or ``none`` when no method decided) and
identity, never a token.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from license_service.auth.authenticators import (
    URL_TOKENS_OFF,
    ApiTokenAuthenticator,
    log_decision,
)
from license_service.auth.credentials import Credentials, oversized_refusal
from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.auth.identities import Denied, Identity
from license_service.auth.service_accounts import (
    SERVICE_ACCOUNT_DISABLED,
    ServiceAccountAuthenticator,
)

_NO_KUBERNETES: Final = (
    "service-account tokens are not available (the service runs without the Kubernetes API)"
)
_BEARER_NOT_ACCEPTED: Final = "the bearer token is not an API token this service accepts, and "


@dataclass(frozen=True, slots=True)
class _Outcome:
    """A final decision and what its log line says besides it."""

    decision: Identity | Denied
    method: str
    user: str | None = None
    detail: str | None = None


class AuthenticatorChain:
    """Tries the API token, then a service-account token; limits failed attempts of both."""

    def __init__(
        self,
        api_tokens: ApiTokenAuthenticator,
        service_accounts: ServiceAccountAuthenticator | None = None,
        *,
        limiter: FailedAttemptLimiter,
        clock: Callable[[], datetime],
    ) -> None:
        self._api_tokens = api_tokens
        self._service_accounts = service_accounts
        self._limiter = limiter
        self._clock = clock

    async def authenticate(
        self, credentials: Credentials, *, path: str, client: str
    ) -> Identity | Denied:
        """Accept the request's credentials, or say why not; see the module docstring."""
        outcome = await self._decide(credentials, path=path, client=client)
        self._limiter.record(outcome.decision, client, self._clock())
        log_decision(
            outcome.decision,
            credentials,
            method=outcome.method,
            path=path,
            client=client,
            identity=outcome.user,
            detail=outcome.detail,
        )
        return outcome.decision

    def problem(self) -> str | None:
        """Why the configured API token cannot be used (for ``/health``), or ``None``."""
        return self._api_tokens.problem()

    async def _decide(self, credentials: Credentials, *, path: str, client: str) -> _Outcome:
        url_on = self._api_tokens.enabled()
        accounts = self._service_accounts
        accounts_on = accounts is not None and accounts.enabled()
        if not url_on and not accounts_on:
            return _Outcome(self._no_method(), "none")
        if not credentials.present:
            missing = _missing(self._api_tokens.kind.name, url_on=url_on, accounts_on=accounts_on)
            return _Outcome(missing, "none")
        refusal = self._limiter.refusal(client, self._clock())
        if refusal is not None:
            return _Outcome(refusal, "none")
        # Neither compared nor sent to the Kubernetes API: no real token is that long.
        too_long = oversized_refusal(credentials)
        if too_long is not None:
            return _Outcome(too_long, "none")
        api_decision = self._api_tokens.check(credentials)
        if isinstance(api_decision, Identity) or credentials.bearer is None:
            return _Outcome(api_decision, "api-token")
        # A bearer token that is not the API token, or URL tokens are off.
        if accounts is None or not accounts_on:
            off = _NO_KUBERNETES if accounts is None else SERVICE_ACCOUNT_DISABLED
            return _Outcome(_with_note(api_decision, f"; {off}"), "api-token")
        account = await accounts.decide(credentials.bearer, path=path)
        decision = account.decision
        if isinstance(decision, Denied) and decision.reason == "unauthenticated":
            decision = (
                _with_prefix(decision, _BEARER_NOT_ACCEPTED)
                if url_on
                else _with_note(
                    decision, f"; {URL_TOKENS_OFF}, so the API token is not accepted either"
                )
            )
        return _Outcome(decision, "service-account", account.user, account.note())

    def _no_method(self) -> Denied:
        accounts = _NO_KUBERNETES if self._service_accounts is None else SERVICE_ACCOUNT_DISABLED
        return Denied(
            401,
            "no-method",
            f"no authentication method is on: {URL_TOKENS_OFF} and {accounts}; an operator "
            "must turn one on in the IBMLicensing resource",
        )


def _missing(token: str, *, url_on: bool, accounts_on: bool) -> Denied:
    """The refusal of a request without credentials; ``token`` names the accepted token."""
    if url_on and accounts_on:
        how = (
            f"add ?token=<{token}> to the URL, or send the header "
            f"Authorization: Bearer <{token} or service-account token>"
        )
    elif url_on:
        how = f"add ?token=<{token}> to the URL or send the header Authorization: Bearer <{token}>"
    else:
        how = (
            "send a service-account token in the header Authorization: Bearer <token> "
            f"({URL_TOKENS_OFF})"
        )
    return Denied(401, "missing", f"this endpoint needs authentication: {how}")


def _with_note(denied: Denied, note: str) -> Denied:
    return dataclasses.replace(denied, message=denied.message + note)


def _with_prefix(denied: Denied, prefix: str) -> Denied:
    return dataclasses.replace(denied, message=prefix + denied.message)
