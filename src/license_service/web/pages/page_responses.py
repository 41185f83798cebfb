"""How every HTML answer is made: the Jinja2 environment and the headers of a page.

Shared by the pages (``page_routes``) and the HTML refusal of ``/status``
(``refusal_page``), so that each answers with the same strict policy: a
``Content-Security-Policy`` whose nonce is new per response and allows only the page's
own inline style (and, when ``script`` is set, its one script, which may call this
origin only), no caching, no ``Referer`` (links may hold ``?token=``), no framing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from jinja2 import DictLoader, Environment, StrictUndefined
from starlette.responses import HTMLResponse, Response

from license_service.web.pages.page_templates import TEMPLATES
from license_service.web.pages.word_breaks import word_parts

# ``data:`` images only for the empty icon of the layout, which spares browsers asking
# for a /favicon.ico that does not exist (a 404 in every page's console).
_BASE_POLICY: Final = (
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
    "img-src 'self' data:"
)


def page_environment(more: Mapping[str, str] | None = None) -> Environment:
    """The Jinja2 environment of the pages: autoescape on, undefined names are errors;
    ``more``: templates of another app (the Reporter's) beside the shared ones."""
    environment = Environment(
        loader=DictLoader({**TEMPLATES, **(more or {})}),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["word_parts"] = word_parts
    return environment


def content_security_policy(nonce: str, *, script: bool) -> str:
    """The policy of a page: its own nonce'd style (and script), nothing from elsewhere."""
    policy = f"{_BASE_POLICY}; style-src 'nonce-{nonce}'"
    if script:
        policy += f"; script-src 'nonce-{nonce}'; connect-src 'self'"
    return policy


def page_response(
    html: str,
    *,
    nonce: str,
    script: bool,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """An HTML answer with the page headers (CSP, no caching, no referrer, no framing)."""
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            **(headers or {}),
            "Content-Security-Policy": content_security_policy(nonce, script=script),
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
        },
    )
