"""The one gate of every data endpoint: authenticate, or answer the refusal (SPEC 4).

``requiring_authentication`` wraps an endpoint: it reads the credentials (pure
``auth.credentials``), asks the app's ``Authenticator`` and either calls the endpoint
with the caller's ``Identity`` in ``request.state.identity`` or answers the
``Denied`` value as a JSON error: 401 carries ``WWW-Authenticate: Bearer
realm="license-service"``, 429 carries ``Retry-After``. Refusals are counted by
reason. Decisions are logged by the authenticator itself (method and identity, never
a token); this gate logs nothing more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from license_service.auth.credentials import credentials_from
from license_service.auth.identities import Denied, Identity
from license_service.web.app_state import AppState
from license_service.web.error_responses import error_response

Endpoint = Callable[[Request], Awaitable[Response]]
WWW_AUTHENTICATE: Final = 'Bearer realm="license-service"'


def requiring_authentication(state: AppState, endpoint: Endpoint) -> Endpoint:
    """``endpoint`` behind the app's authenticator."""

    async def authenticated(request: Request) -> Response:
        client = request.client.host if request.client else "unknown"
        decision = await state.authenticator.authenticate(
            credentials_from(request.query_params, request.headers.get("authorization")),
            path=request.url.path,
            client=client,
        )
        if isinstance(decision, Denied):
            state.request_metrics.record_authentication_failure(decision.reason)
            return denied_response(decision)
        request.state.identity = decision
        return await endpoint(request)

    return authenticated


def identity_of(request: Request) -> Identity:
    """The caller the gate let in."""
    identity: Identity = request.state.identity
    return identity


def denied_response(denied: Denied) -> Response:
    """The JSON error answer of a refusal, with the headers its status requires."""
    headers: dict[str, str] = {}
    if denied.status == 401:
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    if denied.status == 429:
        headers["Retry-After"] = str(max(1, denied.retry_after or 1))
    return error_response(denied.status, denied.message, headers=headers)
