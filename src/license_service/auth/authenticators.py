"""Deciding who a request comes from: the ``Authenticator`` protocol and the API token (SPEC 4).

An authenticator returns an ``Identity`` or a ``Denied`` value and never raises
for a bad request, so the web layer maps both to responses in one place, and
authenticators can be combined (``authenticator_chain``: the API token first, then
a bearer token that is not the API token goes to the service-account authenticator).

``ApiTokenAuthenticator`` accepts the API token as ``?token=`` and as
``Authorization: Bearer <api token>`` while URL tokens are on. ``check`` is the
decision alone (what the chain uses); ``authenticate`` adds the slow-down of a
``FailedAttemptLimiter`` when given one, and the log line. Guarantees:
- every presented credential is compared with every accepted token with
  ``hmac.compare_digest`` on their fixed-length SHA-256 digests (``token_comparison``),
  all comparisons made whatever their outcome, so the time taken does not say which
  token, how much of one, or how long a token matched;
- a credential longer than ``credentials.MAX_CREDENTIAL_LENGTH`` is refused as invalid unread;
- while URL tokens are off nothing is compared at all, so no answer says whether
  a value is the API token;
- fail closed: no configured token (missing or invalid file) accepts nothing;
- with a limiter, clients that keep failing are refused with 429 before any comparison;
- each decision is logged (``log_decision``) on the ``license_service.auth`` logger
  with the method, identity, client, path and reason, never a token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final, Protocol

from license_service.auth.credentials import Credentials, oversized_refusal
from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.auth.identities import Denied, Identity
from license_service.auth.token_comparison import any_same_token
from license_service.tokens.followed import TokenSource
from license_service.tokens.kinds import API_TOKEN, TokenKind

AUTH_LOGGER: Final = "license_service.auth"
logger = logging.getLogger(AUTH_LOGGER)

API_TOKEN_IDENTITY: Final = Identity(method="api-token", name="api-token")
URL_TOKENS_OFF: Final = "URL tokens are turned off (spec.features.auth.urlBasedEnabled: false)"
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

    def problem(self) -> str | None:
        """Why a configured credential cannot be used (for ``/health``), or ``None``."""
        ...


class ApiTokenAuthenticator:
    """Accepts the API token of ``tokens`` in the URL, or as a bearer token (SPEC 4.1, 4.5).

    Without a ``limiter`` it slows no one down (and ``clock`` is not needed): inside
    an ``AuthenticatorChain``, which limits failed attempts of every method, it is
    built without one.
    """

    def __init__(
        self,
        tokens: TokenSource,
        *,
        url_based_enabled: Callable[[], bool],
        limiter: FailedAttemptLimiter | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        kind: TokenKind = API_TOKEN,
    ) -> None:
        self._tokens = tokens
        self._kind = kind  # which token the messages name: the Reporter's has its own flag
        self._url_based_enabled = url_based_enabled
        self._limiter = limiter
        self._clock = clock

    async def authenticate(
        self, credentials: Credentials, *, path: str, client: str
    ) -> Identity | Denied:
        """Accept the API token, or say why not; see the module docstring."""
        refusal = None
        now = self._clock()
        if self._limiter is not None and credentials.present:
            refusal = self._limiter.refusal(client, now)
        decision = refusal or self.check(credentials)
        if self._limiter is not None:
            self._limiter.record(decision, client, now)
        log_decision(decision, credentials, method="api-token", path=path, client=client)
        return decision

    @property
    def kind(self) -> TokenKind:
        """Which token this authenticator accepts (its name is what messages call it)."""
        return self._kind

    def enabled(self) -> bool:
        """Whether URL tokens (and so the API token at all) are on now."""
        return self._url_based_enabled()

    def problem(self) -> str | None:
        """Why the configured API token cannot be used (for ``/health``), or ``None``."""
        return self._tokens.current().invalid_reason

    def check(self, credentials: Credentials) -> Identity | Denied:
        """The decision on ``credentials`` alone: no slow-down, nothing logged."""
        enabled = self._url_based_enabled()
        if not credentials.present:
            name = self._kind.name
            how = (
                f"add ?token=<{name}> to the URL or send the header Authorization: Bearer <{name}>"
                if enabled
                else _USE_SERVICE_ACCOUNT
            )
            return Denied(401, "missing", f"this endpoint needs authentication: {how}")
        if not enabled:
            if credentials.url_token is not None:
                return Denied(
                    401, "url-token-disabled", f"{URL_TOKENS_OFF}; {_USE_SERVICE_ACCOUNT}"
                )
            return Denied(
                401,
                "url-token-disabled",
                f"{URL_TOKENS_OFF}, so the API token is not accepted as a bearer token either; "
                f"{_USE_SERVICE_ACCOUNT}",
            )
        too_long = oversized_refusal(credentials)
        if too_long is not None:
            return too_long
        accepted = self._tokens.current().tokens
        if not accepted:
            return Denied(
                401,
                "configured-token-invalid",
                f"the {self._kind.name} configured on the server is invalid, so it is refused "
                "until an operator fixes it: the service log says why (the line 'API-token "
                "access refused: ...'); test a value with `license-service token check`, then "
                f"set it with `license-service token set{self._kind.flag}` (or in the token "
                "Secret)",
            )
        presented = [
            value for value in (credentials.url_token, credentials.bearer) if value is not None
        ]
        if any_same_token(presented, accepted):
            return API_TOKEN_IDENTITY
        if not any(presented):  # only ?token= with nothing after it (a bearer is never empty)
            return Denied(
                401,
                "invalid",
                f"the ?token= parameter is empty; put the {self._kind.name} after token= "
                f"(`license-service token get{self._kind.flag}` prints it)",
            )
        return Denied(
            401,
            "invalid",
            f"the token is not this service's {self._kind.name}; get the current one with "
            f"`license-service token get{self._kind.flag}` (or from the token Secret) and try "
            "again",
        )


def log_decision(
    decision: Identity | Denied,
    credentials: Credentials,
    *,
    method: str,
    path: str,
    client: str,
    identity: str | None = None,
    detail: str | None = None,
) -> None:
    """Log one decision with its method and identity, never a token.

    ``identity`` names the caller of a refusal when it is known (a service account
    refused 403); ``detail`` is a secret-free note (a review's reason, a failure).
    The path, client and detail are quoted and the identity escaped, so none of them
    can forge a log line.
    """
    presented = "+".join(
        name
        for name, value in (("url", credentials.url_token), ("bearer", credentials.bearer))
        if value is not None
    )
    extra = ""
    if identity is not None and isinstance(decision, Denied):
        extra += f" identity={_printable(identity)}"
    if detail:
        extra += f" detail={detail!r}"
    if isinstance(decision, Identity):
        logger.info(
            "Authenticated method=%s identity=%s credential=%s client=%r path=%r%s",
            decision.method,
            _printable(decision.name),
            presented,
            client,
            path,
            extra,
        )
    else:
        logger.warning(
            "Refused method=%s status=%d reason=%s credential=%s client=%r path=%r%s",
            method,
            decision.status,
            decision.reason,
            presented or "none",
            client,
            path,
            extra,
        )


def _printable(name: str) -> str:
    """``name`` as is when printable (user names are), else quoted with escapes."""
    return name if name.isprintable() and " " not in name else repr(name)
