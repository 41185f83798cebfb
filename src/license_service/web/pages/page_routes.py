"""``/`` (SPEC 3.1) and ``/status`` (SPEC 3.7): HTML for people, escaped and self-contained.

Pages are rendered by Jinja2 with autoescape on (``page_templates``), so every value
from the cluster (product names, annotations, pod names) is shown as text. Each
answer carries a ``Content-Security-Policy`` whose nonce is new per response and
allows only the page's own inline style (and, on ``/``, its one script, which may
call this origin only); pages are never cached and never send a ``Referer`` (links
may hold ``?token=``): see ``page_responses``. ``/status`` takes a period as the
reports do (``dateFrom``/``dateTo``, 400 when malformed) and is gathered and rendered
in a worker thread.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from license_service.metering.periods import MAX_PERIOD_DAYS, DatePeriod
from license_service.web.app_state import AppState
from license_service.web.authentication import Endpoint, identity_of
from license_service.web.pages.page_links import APIS, links_of
from license_service.web.pages.page_responses import (
    content_security_policy,
    page_environment,
    page_response,
)
from license_service.web.pages.status_links import status_links
from license_service.web.pages.status_page import status_page
from license_service.web.reports.period_parameters import period_from

__all__ = [
    "content_security_policy",
    "index_endpoint",
    "page_environment",
    "page_response",
    "status_endpoint",
]


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
    """The handler of ``/status`` (authenticated by the app); a period as the reports take."""
    template = environment.get_template("status.html")

    def render(nonce: str, request: Request, period: DatePeriod) -> str:
        page = status_page(state, identity_of(request), period=period)
        links = status_links(today=state.today(), shown=period)
        return template.render(_common(state, nonce), page=page, links=links)

    async def answer(request: Request) -> Response:
        period = period_from(request.query_params, today=state.today())
        nonce = secrets.token_urlsafe(18)
        html = await run_in_threadpool(render, nonce, request, period)
        return page_response(html, nonce=nonce, script=False)

    return answer


def _common(state: AppState, nonce: str) -> Mapping[str, Any]:
    return {
        "nonce": nonce,
        "version": state.version,
        "cluster_id": state.cluster_id,
        "cluster_name": state.cluster_name,
    }
