"""TokenReview and SubjectAccessReview through the real client, answered from the users and
rules a test declares (how the service checks service-account tokens, SPEC 4.5)."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .server import FakeApiServer

READER = "system:serviceaccount:ibm-common-services:license-reader"


def _token_review(kube_client: client.ApiClient, token: str) -> client.V1TokenReview:
    return client.AuthenticationV1Api(kube_client).create_token_review(
        client.V1TokenReview(spec=client.V1TokenReviewSpec(token=token))
    )


def _may_get(kube_client: client.ApiClient, path: str, *, user: str, groups: list[str]) -> bool:
    review = client.AuthorizationV1Api(kube_client).create_subject_access_review(
        client.V1SubjectAccessReview(
            spec=client.V1SubjectAccessReviewSpec(
                user=user,
                groups=groups,
                non_resource_attributes=client.V1NonResourceAttributes(path=path, verb="get"),
            )
        )
    )
    allowed: bool = review.status.allowed
    return allowed


def test_a_declared_token_authenticates_as_its_user(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.add_user("reader-token", READER, groups=["system:serviceaccounts"], uid="u-1")

    review = _token_review(kube_client, "reader-token")

    assert review.status.authenticated is True
    assert review.status.user.username == READER
    assert review.status.user.groups == ["system:serviceaccounts"]
    assert review.status.user.uid == "u-1"


def test_an_unknown_token_is_not_authenticated(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.add_user("reader-token", READER)

    review = _token_review(kube_client, "forged")

    assert not review.status.authenticated
    assert review.status.error


def test_a_removed_user_is_no_longer_authenticated(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.add_user("reader-token", READER)
    fake_api.remove_user("reader-token")

    assert not _token_review(kube_client, "reader-token").status.authenticated


def test_a_user_allowed_on_a_path_may_get_it_and_nothing_else(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.allow(READER, "/products", "get")

    assert _may_get(kube_client, "/products", user=READER, groups=[])
    assert not _may_get(kube_client, "/snapshot", user=READER, groups=[])
    assert not _may_get(kube_client, "/products", user="someone-else", groups=[])


def test_a_rule_for_a_group_applies_to_its_members(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.allow("license-readers", "/products", "get")

    assert _may_get(kube_client, "/products", user=READER, groups=["license-readers"])
    assert not _may_get(kube_client, "/products", user=READER, groups=["others"])


def test_a_path_ending_in_a_star_allows_every_path_under_it(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.allow(READER, "/products*", "*")

    assert _may_get(kube_client, "/products", user=READER, groups=[])
    assert _may_get(kube_client, "/products/bundled", user=READER, groups=[])
    assert not _may_get(kube_client, "/status", user=READER, groups=[])


def test_a_rule_for_another_verb_does_not_allow_get(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.allow(READER, "/products", "post")

    assert not _may_get(kube_client, "/products", user=READER, groups=[])


def test_revoked_rules_no_longer_allow(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.allow(READER, "/products", "get")
    fake_api.revoke(READER)

    assert not _may_get(kube_client, "/products", user=READER, groups=[])


def test_resource_attribute_reviews_are_denied_unless_allowed(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.allow_resource(READER, "list", "pods")
    authorization = client.AuthorizationV1Api(kube_client)

    def may(verb: str, resource: str) -> bool:
        review = authorization.create_subject_access_review(
            client.V1SubjectAccessReview(
                spec=client.V1SubjectAccessReviewSpec(
                    user=READER,
                    resource_attributes=client.V1ResourceAttributes(
                        verb=verb, resource=resource, namespace="default"
                    ),
                )
            )
        )
        allowed: bool = review.status.allowed
        return allowed

    assert may("list", "pods")
    assert not may("delete", "pods")
    assert not may("list", "secrets")


def test_a_review_without_attributes_answers_400(kube_client: client.ApiClient) -> None:
    with pytest.raises(ApiException) as raised:
        client.AuthorizationV1Api(kube_client).create_subject_access_review(
            client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(user=READER))
        )

    assert raised.value.status == 400
