"""What the service asks Kubernetes about a service-account token, and the answers (SPEC 4.5).

``AccessReviewer`` is the small interface between the decision
(``service_accounts``) and the Kubernetes API (``kubernetes_reviews``, the only
auth module that imports the client): a TokenReview says whose a token is, a
SubjectAccessReview whether that user may use a verb on a non-resource path. The
answers are plain values; none holds the token.

A reviewer that cannot get an answer (API unreachable, 5xx, timeout, an answer it
cannot read) raises ``ClusterError`` and never guesses: the caller refuses with 503.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ReviewedUser:
    """Whom the TokenReview authenticated the token as, as the SubjectAccessReview needs it."""

    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NotAuthenticated:
    """The TokenReview did not authenticate the token; ``error`` is the API server's reason."""

    error: str


@dataclass(frozen=True, slots=True)
class AccessAnswer:
    """The SubjectAccessReview's answer; ``reason`` and ``evaluation_error`` are for logs."""

    allowed: bool
    reason: str = ""
    evaluation_error: str = ""


class AccessReviewer(Protocol):
    """Asks the Kubernetes API about tokens and access; raises ``ClusterError`` on no answer."""

    async def review_token(self, token: str) -> ReviewedUser | NotAuthenticated:
        """Whose ``token`` is (TokenReview)."""
        ...

    async def review_access(self, user: ReviewedUser, *, path: str, verb: str) -> AccessAnswer:
        """Whether ``user`` may use ``verb`` on the non-resource URL ``path``."""
        ...
