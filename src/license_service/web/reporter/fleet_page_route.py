"""The Reporter's page ``GET /`` (SPEC 11) and the HTML refusal of its pages.

``/`` takes SPEC 3's period (``dateFrom``/``dateTo``, 400 when malformed) and
``metricName``, gathers the page in a worker thread (``fleet_page``) and renders it
with License Service's page machinery: Jinja2 with autoescape, the per-response nonce'd
style and one script (``fleet_page_script``: the tab keeps the ``?token=``), no caching,
no referrer (``page_responses``). A browser refused at ``/`` or ``/status`` (``Accept``
prefers HTML) gets ``fleet_refusal_page``: the refusal's message and how to pass the
Reporter token, and the same script, which opens the page again with the token the tab
kept; API clients keep the JSON error.
"""

from __future__ import annotations

import functools
import http
import secrets
from collections.abc import Mapping
from typing import Final

import anyio
from jinja2 import Environment, Template
from starlette.requests import Request
from starlette.responses import Response

from license_service.auth.identities import Denied
from license_service.metering.periods import DatePeriod
from license_service.web.authentication import Endpoint
from license_service.web.pages.page_responses import page_environment, page_response
from license_service.web.reporter.fleet_page import fleet_page
from license_service.web.reporter.fleet_page_templates import FLEET_TEMPLATES
from license_service.web.reporter.reporter_state import ReporterState
from license_service.web.reports.period_parameters import metric_from, period_from

PAGE_PATH: Final = "/"
REPORTER_PAGES: Final = frozenset({PAGE_PATH, "/status"})
"""The Reporter's HTML pages: a browser refused at one gets ``fleet_refusal_page``."""


def page_endpoint(state: ReporterState) -> Endpoint:
    """The handler of the Reporter's ``GET /``."""
    template = _environment().get_template("fleet.html")

    def render(nonce: str, period: DatePeriod, metric: str | None) -> str:
        return template.render(nonce=nonce, page=fleet_page(state, period, metric))

    async def answer(request: Request) -> Response:
        period = period_from(request.query_params, today=state.today())
        metric = metric_from(request.query_params)
        nonce = secrets.token_urlsafe(18)
        html = await anyio.to_thread.run_sync(functools.partial(render, nonce, period, metric))
        return page_response(html, nonce=nonce, script=True)

    return answer


def fleet_refusal_page(denied: Denied, *, headers: Mapping[str, str]) -> Response:
    """The HTML answer to ``denied`` at a Reporter page, with its status and ``headers``."""
    nonce = secrets.token_urlsafe(18)
    html = _refusal_template().render(
        nonce=nonce,
        status=denied.status,
        phrase=http.HTTPStatus(denied.status).phrase,
        message=denied.message,
    )
    return page_response(
        html, nonce=nonce, script=True, status=denied.status, headers=dict(headers)
    )


@functools.cache
def _environment() -> Environment:
    return page_environment(FLEET_TEMPLATES)


@functools.cache
def _refusal_template() -> Template:
    return _environment().get_template("fleet_refused.html")
