"""Deciding who a request comes from: the ``Authenticator`` protocol and the API token (SPEC 4).

An authenticator returns an ``Identity`` or a ``Denied`` value and never raises
for a bad request, so the web layer maps both to responses in one place, and
authenticators can later be tried in turn (a service-account authenticator
after this one: a bearer token that is not the API token may be a Kubernetes
token; the first ``Identity`` wins, else the most specific ``Denied``).

``ApiTokenAuthenticator`` accepts the API token as ``?token=`` and as
``Authorization: Bearer <api token>`` while URL tokens are on. Guarantees:
- every presented credential is compared with every accepted token with
  ``hmac.compare_digest``, all comparisons made whatever their outcome, so the
  time taken does not say which token, or how much of one, matched;
- fail closed: no configured token (missing or invalid file) accepts nothing;
- clients that keep failing are refused with 429 before any comparison;
- each decision is logged on the ``license_service.auth`` logger with the method,
  identity, client, path and reason, never a token.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Final, Protocol

from license_service.auth.credentials import Credentials
from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.auth.identities import Denied, Identity
from license_service.auth.token_source import TokenSource

AUTH_LOGGER: Final = "license_service.auth"
logger = logging.getLogger(AUTH_LOGGER)

API_TOKEN_IDENTITY: Final = Identity(method="api-token", name="api-token")
_URL_TOKENS_OFF: Final = "URL tokens are turned off (spec.features.auth.urlBasedEnabled: false)"
_USE_SERVICE_ACCOUNT: Final = (
    "use a service-account token in the header Authorization: Bearer <token>"
)


class Authenticator(Protocol):
    """Turns a request's credentials into an ``Identity``, or says why it is refused."""

    async def authenticate(
        self, credentials: Credentials, *, path: str, client: str
    ) -> Identity | Denied:
        """Decide on a request for ``path`` from ``client`` (its address)."""
        ...


class ApiTokenAuthenticator:
    """Accepts the API token of ``tokens`` in the URL, or as a bearer token (SPEC 4.1, 4.5)."""

    def __init__(
        self,
        tokens: TokenSource,
        *,
        url_based_enabled: Callable[[], bool],
        limiter: FailedAttemptLimiter,
        clock: Callable[[], datetime],
    ) -> None:
        self._tokens = tokens
        self._url_based_enabled = url_based_enabled
        self._limiter = limiter
        self._clock = clock

    async def authenticate(
        self, credentials: Credentials, *, path: str, client: str
    ) -> Identity | Denied:
        """Accept the API token, or say why not; see the module docstring."""
        decision = self._decide(credentials, client=client)
        _log(decision, credentials, path=path, client=client)
        return decision

    def problem(self) -> str | None:
        """Why the configured API token cannot be used (for ``/health``), or ``None``."""
        return self._tokens.current().invalid_reason

    def _decide(self, credentials: Credentials, *, client: str) -> Identity | Denied:
        enabled = self._url_based_enabled()
        if not credentials.present:
            how = (
                "add ?token=<API token> to the URL or send the header "
                "Authorization: Bearer <API token>"
                if enabled
                else _USE_SERVICE_ACCOUNT
            )
            return Denied(401, "missing", f"this endpoint needs authentication: {how}")
        now = self._clock()
        wait = self._limiter.retry_after(client, now)
        if wait is not None:
            return Denied(
                429,
                "rate-limited",
                f"too many failed authentication attempts from {client}; "
                f"try again in {wait} s with a valid token",
                retry_after=wait,
            )
        if not enabled:
            if credentials.url_token is not None:
                return Denied(
                    401, "url-token-disabled", f"{_URL_TOKENS_OFF}; {_USE_SERVICE_ACCOUNT}"
                )
            return Denied(
                401,
                "url-token-disabled",
                f"{_URL_TOKENS_OFF}, so the API token is not accepted as a bearer token either; "
                f"{_USE_SERVICE_ACCOUNT}",
            )
        accepted = self._tokens.current().tokens
        if not accepted:
            return Denied(
                401,
                "configured-token-invalid",
                "the API token configured on the server is invalid, so API tokens are refused "
                "until an operator fixes it (`license-service token set`, or the token Secret); "
                "/health says why",
            )
        presented = [
            value for value in (credentials.url_token, credentials.bearer) if value is not None
        ]
        if _any_matches(presented, accepted):
            self._limiter.record_success(client)
            return API_TOKEN_IDENTITY
        self._limiter.record_failure(client, now)
        return Denied(
            401,
            "invalid",
            "the token is not this service's API token; get the current one with "
            "`license-service token get` (or from the token Secret) and try again",
        )


def _any_matches(presented: list[str], accepted: tuple[str, ...]) -> bool:
    """Whether any presented value equals any accepted token, compared in constant time.

    Every pair is compared even after a match, and values are compared as UTF-8
    bytes (``compare_digest`` refuses non-ASCII ``str``).
    """
    matched = False
    for candidate in presented:
        candidate_bytes = candidate.encode("utf-8", errors="surrogatepass")
        for token in accepted:
            matched |= hmac.compare_digest(candidate_bytes, token.encode("utf-8"))
    return matched


def _log(decision: Identity | Denied, credentials: Credentials, *, path: str, client: str) -> None:
    """Log one decision; the path and client are quoted so they cannot forge log lines."""
    presented = "+".join(
        name
        for name, value in (("url", credentials.url_token), ("bearer", credentials.bearer))
        if value is not None
    )
    if isinstance(decision, Identity):
        logger.info(
            "Authenticated method=%s identity=%s credential=%s client=%r path=%r",
            decision.method,
            decision.name,
            presented,
            client,
            path,
        )
    else:
        logger.warning(
            "Refused method=api-token status=%d reason=%s credential=%s client=%r path=%r",
            decision.status,
            decision.reason,
            presented or "none",
            client,
            path,
        )
