"""Asking the Kubernetes API whose a token is and what it may do (SPEC 4.5).

``KubernetesReviews`` is the ``AccessReviewer`` of a running cluster and the only
auth module that imports the ``kubernetes`` client. It creates a ``TokenReview``
(``authentication.k8s.io/v1``) and a ``SubjectAccessReview``
(``authorization.k8s.io/v1``, ``nonResourceAttributes``) through the client's typed
API (the reviews are small), each in a worker thread with a deadline, so a hung API
server holds a request for at most ``timeout``.

Guarantees:
- fail closed: no answer (connection refused or cut, timeout, any non-2xx status,
  an answer without the fields the decision needs) raises ``ClusterError``, never
  returns an "authenticated" or "allowed" answer;
- no token in any message: the errors name the review, the HTTP status or the kind
  of failure, never the request, its headers or the server's body;
- the client's model objects stay here: answers are ``access_reviews`` values.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Final, TypeVar

import urllib3.exceptions
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from license_service.auth.access_reviews import AccessAnswer, NotAuthenticated, ReviewedUser
from license_service.errors import ClusterError, ConfigurationError

DEFAULT_TIMEOUT: Final = timedelta(seconds=5)
_RBAC_HINT: Final = (
    "License Service's own service account needs create on tokenreviews "
    "(authentication.k8s.io) and subjectaccessreviews (authorization.k8s.io)"
)

_Answer = TypeVar("_Answer")


class KubernetesReviews:
    """TokenReview and SubjectAccessReview through ``api_client``, each within ``timeout``."""

    def __init__(
        self, api_client: client.ApiClient, *, timeout: timedelta = DEFAULT_TIMEOUT
    ) -> None:
        if timeout <= timedelta(0):
            raise ConfigurationError(
                f"the Kubernetes review timeout {timeout} is not positive; give a few seconds"
            )
        self._authentication = client.AuthenticationV1Api(api_client)
        self._authorization = client.AuthorizationV1Api(api_client)
        self._seconds = timeout.total_seconds()

    async def review_token(self, token: str) -> ReviewedUser | NotAuthenticated:
        """Whose ``token`` is, by a TokenReview; raises ``ClusterError`` when there is no answer."""
        body = client.V1TokenReview(
            api_version="authentication.k8s.io/v1",
            kind="TokenReview",
            spec=client.V1TokenReviewSpec(token=token),
        )
        review = await self._ask(
            "TokenReview",
            lambda: self._authentication.create_token_review(
                body, _request_timeout=(self._seconds, self._seconds)
            ),
        )
        return token_answer(review)

    async def review_access(self, user: ReviewedUser, *, path: str, verb: str) -> AccessAnswer:
        """Whether ``user`` may use ``verb`` on ``path``, by a SubjectAccessReview."""
        body = client.V1SubjectAccessReview(
            api_version="authorization.k8s.io/v1",
            kind="SubjectAccessReview",
            spec=client.V1SubjectAccessReviewSpec(
                user=user.username,
                uid=user.uid or None,
                groups=list(user.groups),
                extra={key: list(values) for key, values in user.extra.items()} or None,
                non_resource_attributes=client.V1NonResourceAttributes(path=path, verb=verb),
            ),
        )
        review = await self._ask(
            "SubjectAccessReview",
            lambda: self._authorization.create_subject_access_review(
                body, _request_timeout=(self._seconds, self._seconds)
            ),
        )
        return access_answer(review)

    async def _ask(self, review: str, call: Callable[[], _Answer]) -> _Answer:
        """Run the blocking ``call`` in a thread; no answer within the deadline is an error."""
        try:
            return await asyncio.wait_for(asyncio.to_thread(call), timeout=self._seconds)
        except TimeoutError as error:
            raise ClusterError(
                f"the Kubernetes API did not answer the {review} within {self._seconds:g} s"
            ) from error
        # Whatever the client raises (its own, urllib3's, a decoding error), the answer is
        # unknown, and an unknown answer must never grant access.
        except Exception as error:
            raise ClusterError(
                f"the Kubernetes API could not answer the {review}: {_cause(error)}"
            ) from error


def token_answer(review: client.V1TokenReview) -> ReviewedUser | NotAuthenticated:
    """The user a TokenReview answer names, or why it did not authenticate; pure."""
    status = review.status
    if status is None:
        raise ClusterError("the Kubernetes API answered the TokenReview without a status")
    if status.authenticated is not True:
        return NotAuthenticated(status.error or "the token was not authenticated")
    user = status.user
    if user is None or not user.username:
        raise ClusterError(
            "the Kubernetes API authenticated the token in its TokenReview answer but named no user"
        )
    return ReviewedUser(
        username=user.username,
        uid=user.uid or "",
        groups=tuple(user.groups or ()),
        extra={key: tuple(values) for key, values in (user.extra or {}).items()},
    )


def access_answer(review: client.V1SubjectAccessReview) -> AccessAnswer:
    """Whether a SubjectAccessReview answer allows the request; pure."""
    status = review.status
    if status is None:
        raise ClusterError("the Kubernetes API answered the SubjectAccessReview without a status")
    # Upstream leaves false booleans out; "denied" wins over a contradictory "allowed".
    allowed = status.allowed is True and status.denied is not True
    return AccessAnswer(
        allowed=allowed,
        reason=status.reason or "",
        evaluation_error=status.evaluation_error or "",
    )


def _cause(error: Exception) -> str:
    """A short, secret-free account of ``error``: never its text, which may echo the request."""
    if isinstance(error, ApiException):
        if error.status in (401, 403):
            return f"it answered HTTP {error.status} to License Service; {_RBAC_HINT}"
        if not error.status:
            return f"the request could not be sent ({error.__class__.__name__})"
        return f"it answered HTTP {error.status}"
    if isinstance(error, urllib3.exceptions.MaxRetryError):
        reason = error.reason if error.reason is not None else error
        return f"it could not be reached ({reason.__class__.__name__})"
    if isinstance(error, urllib3.exceptions.ReadTimeoutError):
        return "it did not answer in time"
    if isinstance(error, urllib3.exceptions.HTTPError | OSError):
        return f"the connection failed ({error.__class__.__name__})"
    return f"its answer could not be read ({error.__class__.__name__})"
