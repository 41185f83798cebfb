"""Service-account tokens, checked by the Kubernetes API (SPEC 4.5).

``ServiceAccountAuthenticator`` takes ``Authorization: Bearer <token>``, asks its
``AccessReviewer`` whose the token is (TokenReview), then whether that user, with
its groups, uid and extra, may ``get`` the requested path (SubjectAccessReview with
``nonResourceAttributes``). Answers:

- 401 ``unauthenticated``: Kubernetes does not authenticate the token;
- 403 ``forbidden``: it does, but the user may not get the path; the message names
  the user, the path and the ClusterRole ``ibm-licensing-default-reader`` to bind;
- 503 ``kubernetes-unavailable``: no answer (unreachable, 5xx, timeout, unreadable).
  Fail closed: nothing is ever allowed without both answers;
- 401 ``service-account-disabled`` while ``spec.features.kubeRBACAuthEnabled`` is
  false (read at every request, so the switch applies live).

Decisions are cached per token and path (``review_cache``: the key is a SHA-256
digest, never the token), so a client polling an endpoint does not cost two API
calls a request. How long:

- allowed: ``cache_ttl`` (default 30 s, at most 60 s as SPEC 4.5 requires): a
  revoked binding or deleted service account is noticed within that time;
- 401 and 403: ``denial_ttl`` (default 5 s): short, so that a role just bound takes
  effect almost at once, yet a client retrying a refused token in a loop costs the
  API server one review pair per 5 s (failed attempts are slowed down by the chain);
  a 403 that came with an ``evaluationError`` is not cached (the authorizer may
  answer differently once it recovers);
- 503: never; the next request asks again.

This authenticator does not slow clients down itself: ``authenticator_chain`` does,
for every method. ``authenticate`` logs its decision; ``decide`` (for the chain)
logs nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from license_service.auth.access_reviews import AccessReviewer, NotAuthenticated, ReviewedUser
from license_service.auth.authenticators import log_decision
from license_service.auth.credentials import Credentials
from license_service.auth.identities import Denied, Identity
from license_service.auth.review_cache import ReviewCache
from license_service.errors import ClusterError, ConfigurationError

DEFAULT_CACHE_TTL: Final = timedelta(seconds=30)
MAX_CACHE_TTL: Final = timedelta(seconds=60)
DEFAULT_DENIAL_TTL: Final = timedelta(seconds=5)
DEFAULT_CACHE_ENTRIES: Final = 10_000
READER_CLUSTER_ROLE: Final = "ibm-licensing-default-reader"
READER_TOKEN_SECRET: Final = "ibm-licensing-default-reader-token"  # noqa: S105 (a name)
REVIEWED_VERB: Final = "get"
SERVICE_ACCOUNT_DISABLED: Final = (
    "service-account tokens are turned off (spec.features.kubeRBACAuthEnabled: false)"
)
_SERVICE_ACCOUNT_USER: Final = "system:serviceaccount:"


@dataclass(frozen=True, slots=True)
class AccountDecision:
    """A decision on a service-account token, with what its log line needs (no secret).

    ``user`` is the reviewed user name, also when refused 403; ``detail`` the
    reviews' reason or the failure; ``cached`` whether no API call was made.
    """

    decision: Identity | Denied
    user: str | None = None
    detail: str | None = None
    cached: bool = False

    def note(self) -> str | None:
        """The ``detail`` of the log line."""
        if not self.cached:
            return self.detail
        return f"cached decision; {self.detail}" if self.detail else "cached decision"


class ServiceAccountAuthenticator:
    """Accepts a service-account bearer token that Kubernetes allows on the path (SPEC 4.5)."""

    def __init__(
        self,
        reviewer: AccessReviewer,
        *,
        enabled: Callable[[], bool],
        clock: Callable[[], datetime],
        cache_ttl: timedelta = DEFAULT_CACHE_TTL,
        denial_ttl: timedelta = DEFAULT_DENIAL_TTL,
        cache_entries: int = DEFAULT_CACHE_ENTRIES,
    ) -> None:
        if not timedelta(0) <= cache_ttl <= MAX_CACHE_TTL:
            raise ConfigurationError(
                f"the service-account cache time {cache_ttl} is invalid; give 0 to "
                f"{MAX_CACHE_TTL.total_seconds():g} s (SPEC 4.5: valid at most 60 s)"
            )
        if not timedelta(0) <= denial_ttl <= cache_ttl:
            raise ConfigurationError(
                f"the service-account refusal cache time {denial_ttl} is invalid; give 0 to "
                f"the cache time {cache_ttl}"
            )
        self._reviewer = reviewer
        self._enabled = enabled
        self._cache_ttl = cache_ttl
        self._denial_ttl = denial_ttl
        self._cache: ReviewCache[AccountDecision] = ReviewCache(
            max_entries=cache_entries, clock=clock
        )

    async def authenticate(
        self, credentials: Credentials, *, path: str, client: str
    ) -> Identity | Denied:
        """Accept the bearer token if Kubernetes allows it on ``path``; logs the decision."""
        if credentials.bearer is None:
            account = AccountDecision(
                Denied(
                    401,
                    "missing",
                    "this endpoint needs authentication: send a service-account token in the "
                    "header Authorization: Bearer <token>",
                )
            )
        elif not self.enabled():
            account = AccountDecision(disabled_denial())
        else:
            account = await self.decide(credentials.bearer, path=path)
        log_decision(
            account.decision,
            credentials,
            method="service-account",
            path=path,
            client=client,
            identity=account.user,
            detail=account.note(),
        )
        return account.decision

    def enabled(self) -> bool:
        """Whether service-account tokens are on now (``kubeRBACAuthEnabled``)."""
        return self._enabled()

    def problem(self) -> str | None:
        """Nothing to report: each request that cannot be checked is answered 503 itself."""
        return None

    async def decide(self, token: str, *, path: str) -> AccountDecision:
        """The decision on ``token`` for ``path``, cached or reviewed; logs nothing."""
        cached = self._cache.get(token, path)
        if cached is not None:
            return dataclasses.replace(cached, cached=True)
        account, ttl = await self._review(token, path=path)
        self._cache.put(token, path, account, ttl=ttl)
        return account

    async def _review(self, token: str, *, path: str) -> tuple[AccountDecision, timedelta]:
        """Ask Kubernetes; the decision and how long it may be cached."""
        try:
            user = await self._reviewer.review_token(token)
            if isinstance(user, NotAuthenticated):
                return (
                    AccountDecision(unauthenticated_denial(), detail=f"TokenReview: {user.error}"),
                    self._denial_ttl,
                )
            answer = await self._reviewer.review_access(user, path=path, verb=REVIEWED_VERB)
        except ClusterError as error:
            return (
                AccountDecision(
                    Denied(
                        503,
                        "kubernetes-unavailable",
                        f"the service-account token cannot be checked now: {error}; access is "
                        "never granted without the Kubernetes API's answer, try again later",
                    ),
                    detail=str(error),
                ),
                timedelta(0),
            )
        detail = "; ".join(
            f"SubjectAccessReview {name}: {text}"
            for name, text in (("reason", answer.reason), ("error", answer.evaluation_error))
            if text
        )
        if answer.allowed:
            identity = Identity(method="service-account", name=user.username)
            return AccountDecision(identity, user.username, detail or None), self._cache_ttl
        refused = AccountDecision(forbidden_denial(user, path), user.username, detail or None)
        return refused, timedelta(0) if answer.evaluation_error else self._denial_ttl


def unauthenticated_denial() -> Denied:
    """The 401 answer to a token the TokenReview did not authenticate."""
    return Denied(
        401,
        "unauthenticated",
        "Kubernetes does not accept the bearer token as a service-account token (its "
        "TokenReview did not authenticate it); send a current token, e.g. from `kubectl "
        "create token <service account> -n <namespace>` or the Secret "
        f"{READER_TOKEN_SECRET}",
    )


def disabled_denial() -> Denied:
    """The 401 answer to a bearer token while service-account tokens are off."""
    return Denied(
        401,
        "service-account-disabled",
        f"{SERVICE_ACCOUNT_DISABLED}; an operator can turn them on by removing "
        "kubeRBACAuthEnabled: false from the IBMLicensing resource",
    )


def forbidden_denial(user: ReviewedUser, path: str) -> Denied:
    """The 403 answer: who may not get ``path``, and the ClusterRole binding that would allow it."""
    name = user.username
    if name.startswith(_SERVICE_ACCOUNT_USER) and name.count(":") == 3:
        namespace, account = name.removeprefix(_SERVICE_ACCOUNT_USER).split(":")
        who = f"service account {account} in namespace {namespace}"
        subject = f"--serviceaccount={namespace}:{account}"
    else:
        who = f"user {name}"
        subject = f"--user={name}"
    return Denied(
        403,
        "forbidden",
        f"{who} ({name}) is authenticated but may not {REVIEWED_VERB} {path}: bind the "
        f"ClusterRole {READER_CLUSTER_ROLE} to it, e.g. `kubectl create clusterrolebinding "
        f"<binding name> --clusterrole={READER_CLUSTER_ROLE} {subject}`",
    )
