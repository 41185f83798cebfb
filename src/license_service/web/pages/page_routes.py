"""``/`` (SPEC 3.1) and ``/status`` (SPEC 3.7): HTML for people, escaped and self-contained.

Pages are rendered by Jinja2 with autoescape on (``page_templates``), so every value
from the cluster (product names, annotations, pod names) is shown as text. Each
answer carries a ``Content-Security-Policy`` whose nonce is new per response and
allows only the page's own inline style (and, on ``/``, its one script, which may
call this origin only); pages are never cached and never send a ``Referer`` (links
may hold ``?token=``). ``/status`` is gathered and rendered in a worker thread.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, Final

from jinja2 import DictLoader, Environment, StrictUndefined
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from license_service.metering.periods import MAX_PERIOD_DAYS, DatePeriod
from license_service.web.app_state import AppState
from license_service.web.authentication import Endpoint, identity_of
from license_service.web.middleware.security_headers import SECURITY_HEADERS
from license_service.web.pages.page_links import APIS, links_of
from license_service.web.pages.page_templates import TEMPLATES
from license_service.web.pages.status_page import status_page

# ``data:`` images only for the empty icon of the layout, which spares browsers asking
# for a /favicon.ico that does not exist (a 404 in every page's console).
_BASE_POLICY: Final = (
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
    "img-src 'self' data:"
)


def page_environment() -> Environment:
    """The Jinja2 environment of the pages: autoescape on, undefined names are errors."""
    return Environment(
        loader=DictLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def content_security_policy(nonce: str, *, script: bool) -> str:
    """The policy of a page: its own nonce'd style (and script), nothing from elsewhere."""
    policy = f"{_BASE_POLICY}; style-src 'nonce-{nonce}'"
    if script:
        policy += f"; script-src 'nonce-{nonce}'; connect-src 'self'"
    return policy


def page_response(html: str, *, nonce: str, script: bool) -> Response:
    """An HTML answer with the page headers (CSP, no caching, no referrer, no framing)."""
    return HTMLResponse(
        html,
        headers={
            **SECURITY_HEADERS,
            "Content-Security-Policy": content_security_policy(nonce, script=script),
            "X-Frame-Options": "DENY",
        },
    )


def index_endpoint(state: AppState, environment: Environment) -> Endpoint:
    """The handler of ``/``."""
    template = environment.get_template("index.html")

    async def answer(request: Request) -> Response:
        del request
        today = state.today()
        period = DatePeriod.ending(today)
        nonce = secrets.token_urlsafe(18)
        html = template.render(
            _common(state, nonce),
            today=today,
            period=period,
            max_days=MAX_PERIOD_DAYS,
            apis=[(api, links_of(api, period)) for api in APIS],
        )
        return page_response(html, nonce=nonce, script=True)

    return answer


def status_endpoint(state: AppState, environment: Environment) -> Endpoint:
    """The handler of ``/status`` (authenticated by the app)."""
    template = environment.get_template("status.html")

    def render(nonce: str, request: Request) -> str:
        page = status_page(state, identity_of(request))
        return template.render(_common(state, nonce), page=page)

    async def answer(request: Request) -> Response:
        nonce = secrets.token_urlsafe(18)
        html = await run_in_threadpool(render, nonce, request)
        return page_response(html, nonce=nonce, script=False)

    return answer


def _common(state: AppState, nonce: str) -> Mapping[str, Any]:
    return {
        "nonce": nonce,
        "version": state.version,
        "cluster_id": state.cluster_id,
        "cluster_name": state.cluster_name,
    }
