"""Reading the API server's review answers: who the user is, whether it is allowed, and
that an answer missing what the decision needs is an error, never a grant (SPEC 4.5)."""

from __future__ import annotations

import asyncio

import pytest
from kubernetes import client

from license_service.auth.access_reviews import AccessAnswer, NotAuthenticated, ReviewedUser
from license_service.auth.kubernetes_reviews import KubernetesReviews, access_answer, token_answer
from license_service.errors import ClusterError
from tests.auth.kubernetes_accounts import READER, READER_GROUPS, READER_TOKEN, declare_accounts
from tests.kubernetes_fake.server import FakeApiServer

EXTRA = {"authentication.kubernetes.io/pod-name": ["reader-7d9f"]}


def token_review(status: client.V1TokenReviewStatus | None) -> client.V1TokenReview:
    return client.V1TokenReview(spec=client.V1TokenReviewSpec(token="t"), status=status)


def access_review(
    status: client.V1SubjectAccessReviewStatus | None,
) -> client.V1SubjectAccessReview:
    return client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(), status=status)


def test_an_authenticated_token_names_its_user_uid_groups_and_extra() -> None:
    answer = token_answer(
        token_review(
            client.V1TokenReviewStatus(
                authenticated=True,
                user=client.V1UserInfo(
                    username=READER, uid="uid-1", groups=list(READER_GROUPS), extra=EXTRA
                ),
            )
        )
    )

    assert answer == ReviewedUser(
        username=READER,
        uid="uid-1",
        groups=READER_GROUPS,
        extra={"authentication.kubernetes.io/pod-name": ("reader-7d9f",)},
    )


@pytest.mark.parametrize(
    "status",
    [
        client.V1TokenReviewStatus(error="token has expired"),
        client.V1TokenReviewStatus(authenticated=False, user=client.V1UserInfo(username=READER)),
    ],
    ids=["left-out", "false"],
)
def test_a_token_not_authenticated_is_not_authenticated_whatever_else_the_answer_says(
    status: client.V1TokenReviewStatus,
) -> None:
    assert isinstance(token_answer(token_review(status)), NotAuthenticated)


def test_the_api_servers_reason_is_kept_for_the_log() -> None:
    answer = token_answer(token_review(client.V1TokenReviewStatus(error="token has expired")))

    assert answer == NotAuthenticated("token has expired")


@pytest.mark.parametrize(
    "status",
    [
        None,
        client.V1TokenReviewStatus(authenticated=True),
        client.V1TokenReviewStatus(authenticated=True, user=client.V1UserInfo(username="")),
    ],
    ids=["no-status", "no-user", "empty-username"],
)
def test_a_token_review_answer_without_status_or_user_is_an_error(
    status: client.V1TokenReviewStatus | None,
) -> None:
    with pytest.raises(ClusterError, match="TokenReview"):
        token_answer(token_review(status))


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (client.V1SubjectAccessReviewStatus(allowed=True), True),
        (client.V1SubjectAccessReviewStatus(allowed=False), False),
        (client.V1SubjectAccessReviewStatus(allowed=True, denied=True), False),
    ],
    ids=["allowed", "not-allowed", "contradictory-denied-wins"],
)
def test_only_an_allowed_access_review_that_is_not_denied_allows(
    status: client.V1SubjectAccessReviewStatus, allowed: bool
) -> None:
    assert access_answer(access_review(status)).allowed is allowed


def test_an_access_reviews_reason_and_evaluation_error_are_kept_for_the_log() -> None:
    status = client.V1SubjectAccessReviewStatus(
        allowed=False, reason="no RBAC rule", evaluation_error="webhook timed out"
    )

    assert access_answer(access_review(status)) == AccessAnswer(
        allowed=False, reason="no RBAC rule", evaluation_error="webhook timed out"
    )


def test_an_access_review_answer_without_status_is_an_error() -> None:
    with pytest.raises(ClusterError, match="SubjectAccessReview without a status"):
        access_answer(access_review(None))


def test_the_reviews_ask_the_api_server_for_the_user_and_path_given(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    declare_accounts(fake_api)
    reviews = KubernetesReviews(kube_client)

    user = asyncio.run(reviews.review_token(READER_TOKEN))
    assert isinstance(user, ReviewedUser)
    products = asyncio.run(reviews.review_access(user, path="/products", verb="get"))
    listing = asyncio.run(reviews.review_access(user, path="/products", verb="list"))
    snapshot = asyncio.run(reviews.review_access(user, path="/snapshot", verb="get"))

    assert (user.username, user.uid, user.groups) == (READER, "uid-reader", READER_GROUPS)
    assert (products.allowed, listing.allowed, snapshot.allowed) == (True, False, False)
    assert "/snapshot" in snapshot.reason
