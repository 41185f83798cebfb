"""Service accounts declared on the fake API server, and what the tests read back from it.

The reader is a service account the fake authenticates by its token and lets ``get``
``/products`` only (tests grant more); ``reviews`` counts the TokenReviews and
SubjectAccessReviews the fake received, from its request log.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Final

from license_service.auth.authenticators import Authenticator
from license_service.auth.credentials import Credentials
from license_service.auth.identities import Denied, Identity
from tests.kubernetes_fake.server import FakeApiServer

READER: Final = "system:serviceaccount:ibm-licensing:reader"
READER_TOKEN: Final = "eyJhbGciOiJSUzI1NiJ9.reader-account-token.c2lnbmF0dXJl"
READER_GROUPS: Final = ("system:serviceaccounts", "system:serviceaccounts:ibm-licensing")
OUTSIDER: Final = "system:serviceaccount:team-a:builder"
OUTSIDER_TOKEN: Final = "eyJhbGciOiJSUzI1NiJ9.outsider-account-token.c2lnbmF0dXJl"
UNKNOWN_TOKEN: Final = "eyJhbGciOiJSUzI1NiJ9.forged-account-token.c2lnbmF0dXJl"
CLIENT: Final = "192.0.2.20"
TOKEN_REVIEWS: Final = "/apis/authentication.k8s.io/v1/tokenreviews"
ACCESS_REVIEWS: Final = "/apis/authorization.k8s.io/v1/subjectaccessreviews"


def declare_accounts(fake_api: FakeApiServer) -> None:
    """The reader may get ``/products``; the outsider is authenticated but may get nothing."""
    fake_api.add_user(READER_TOKEN, READER, groups=READER_GROUPS, uid="uid-reader")
    fake_api.add_user(OUTSIDER_TOKEN, OUTSIDER, groups=("system:serviceaccounts",), uid="uid-b")
    fake_api.allow(READER, "/products", "get")


def reviews(fake_api: FakeApiServer) -> Counter[str]:
    """How many ``token`` and ``access`` reviews the fake received."""
    kinds = {TOKEN_REVIEWS: "token", ACCESS_REVIEWS: "access"}
    return Counter(
        kinds[record.path]
        for record in fake_api.requests
        if record.method == "POST" and record.path in kinds
    )


class Switch:
    """A setting the configuration watcher would give (``urlBasedEnabled``, ...)."""

    def __init__(self, on: bool = True) -> None:
        self.on = on

    def __call__(self) -> bool:
        return self.on


def ask(
    authenticator: Authenticator,
    *,
    bearer: str | None = None,
    url_token: str | None = None,
    path: str = "/products",
    client: str = CLIENT,
) -> Identity | Denied:
    """One request's decision."""
    return asyncio.run(
        authenticator.authenticate(
            Credentials(url_token=url_token, bearer=bearer), path=path, client=client
        )
    )


def denial(decision: Identity | Denied) -> Denied:
    """``decision``, which must be a refusal."""
    assert isinstance(decision, Denied), decision
    return decision
