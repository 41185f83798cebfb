"""The one gate of every data endpoint: authenticate, or answer the refusal (SPEC 4).

``requiring_authentication`` wraps an endpoint: it reads the credentials (pure
``auth.credentials``), asks the app's ``Authenticator`` and either calls the endpoint
with the caller's ``Identity`` in ``request.state.identity`` or answers the
``Denied`` value as a JSON error: 401 carries ``WWW-Authenticate: Bearer
realm="license-service"``, 429 carries ``Retry-After``. A browser refused at a page
(``/status``) gets the same refusal as a small HTML page that says how to get in
(``pages.refusal_page``). Refusals are counted by reason. Decisions are logged by
the authenticator itself (method and identity, never a token); this gate logs
nothing more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Final, Protocol

from starlette.requests import Request
from starlette.responses import Response

from license_service.auth.authenticators import Authenticator
from license_service.auth.credentials import credentials_from
from license_service.auth.identities import Denied, Identity
from license_service.web.error_responses import error_response
from license_service.web.middleware.request_metrics import RequestMetrics
from license_service.web.pages.refusal_page import HTML_PAGES, prefers_html, refusal_page

Endpoint = Callable[[Request], Awaitable[Response]]


class Gated(Protocol):
    """What the gate needs of an app's state: its authenticator and request metrics
    (License Service's ``AppState``, the Reporter's ``ReporterState``)."""

    @property
    def authenticator(self) -> Authenticator: ...

    @property
    def request_metrics(self) -> RequestMetrics: ...


class RefusalPage(Protocol):
    """What answers a browser refused at a page: an HTML page with the refusal's status."""

    def __call__(self, denied: Denied, *, headers: Mapping[str, str]) -> Response: ...


WWW_AUTHENTICATE: Final = 'Bearer realm="license-service"'


def requiring_authentication(
    state: Gated,
    endpoint: Endpoint,
    *,
    html_pages: Collection[str] = HTML_PAGES,
    html_refusal: RefusalPage = refusal_page,
) -> Endpoint:
    """``endpoint`` behind the app's authenticator; a browser refused at one of
    ``html_pages`` gets ``html_refusal`` (the Reporter passes its own: License Service's
    page speaks of License Service's token and start page)."""

    async def authenticated(request: Request) -> Response:
        client = request.client.host if request.client else "unknown"
        decision = await state.authenticator.authenticate(
            credentials_from(request.query_params, request.headers.get("authorization")),
            path=request.url.path,
            client=client,
        )
        if isinstance(decision, Denied):
            state.request_metrics.record_authentication_failure(decision.reason)
            if request.url.path in html_pages and prefers_html(request.headers.get("accept")):
                return html_refusal(decision, headers=refusal_headers(decision))
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
    return error_response(denied.status, denied.message, headers=refusal_headers(denied))


def refusal_headers(denied: Denied) -> dict[str, str]:
    """The headers a refusal's status requires (``WWW-Authenticate``, ``Retry-After``)."""
    headers: dict[str, str] = {}
    if denied.status == 401:
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    if denied.status == 429:
        headers["Retry-After"] = str(max(1, denied.retry_after or 1))
    return headers
