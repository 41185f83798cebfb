"""A refused request for ``/status`` from a browser gets a small HTML page that says how to get in.

A person who opens ``/status`` without a token is better served by a page than by the
raw JSON error: it says what was refused (the same message as the JSON body, escaped)
and how to get in (the API token on ``/``, or in the address; where to print it; the
service-account header). The answer keeps the refusal's status and headers
(``WWW-Authenticate``, ``Retry-After``) and the pages' strict policy, with no script.

Only pages get it, and only when the client asks for HTML (``Accept`` ranks
``text/html`` above JSON, as browsers do); API clients keep the JSON error of SPEC 3.
"""

from __future__ import annotations

import functools
import http
import secrets
from collections.abc import Mapping
from typing import Final

from jinja2 import Template
from starlette.responses import Response

from license_service.auth.identities import Denied
from license_service.web.pages.page_responses import page_environment, page_response

HTML_PAGES: Final = frozenset({"/status"})
_HTML_TYPES: Final = frozenset({"text/html", "application/xhtml+xml"})
_JSON_TYPES: Final = frozenset({"application/json", "application/*", "*/*"})


def prefers_html(accept: str | None) -> bool:
    """Whether an ``Accept`` header ranks HTML above JSON (a browser's does); pure."""
    html = json = 0.0
    for media_range in (accept or "").split(","):
        kind, *parameters = (part.strip() for part in media_range.split(";"))
        quality = _quality(parameters)
        if kind.lower() in _HTML_TYPES:
            html = max(html, quality)
        elif kind.lower() in _JSON_TYPES:
            json = max(json, quality)
    return html > json


def refusal_page(denied: Denied, *, headers: Mapping[str, str]) -> Response:
    """The HTML answer to ``denied``, with its status and ``headers``."""
    nonce = secrets.token_urlsafe(18)
    html = _template().render(
        nonce=nonce,
        status=denied.status,
        phrase=http.HTTPStatus(denied.status).phrase,
        message=denied.message,
    )
    return page_response(
        html, nonce=nonce, script=False, status=denied.status, headers=dict(headers)
    )


@functools.cache
def _template() -> Template:
    return page_environment().get_template("refused.html")


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0
