"""The HTTP API fuzzed from its own OpenAPI document (schemathesis), with and without tokens.

The document is read from ``/openapi.json`` of the real app over a real SQLite
store holding data (formula and HTML names included). For every operation,
schemathesis generates requests that fit the document (positive) and that break it
(negative), sent with the API token in the URL, as a bearer token, or with whatever
credentials it makes up (none, or wrong ones, which the failed-attempt limiter soon
answers 429). Every response must pass schemathesis' checks: no 5xx, a documented
status, content type and headers, a body valid against its schema, invalid input
refused, unsupported methods answered 405, and no access without a valid token.

Not checked: ``positive_data_acceptance`` (a request that fits the document is not
always acceptable: the document cannot say that ``dateFrom`` must not follow
``dateTo`` nor ``dateTo`` today, answered 400), and ``ignored_auth`` when the test
itself adds the valid token. Skipped: invalid (structured) values that schemathesis
serialises into one plain value or none, which may break nothing once sent.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, given, reject, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance
from starlette.applications import Starlette
from starlette.testclient import TestClient

from license_service.web.application import PROTECTED_PATHS, PUBLIC_PATHS
from tests.hostile.conftest import TOKEN
from tests.soak import soak_or

EXAMPLES = soak_or(12, 400)
Credential = Literal["url-token", "bearer-token", "generated"]
# Operations without parameters have no invalid request to generate.
PARAMETERLESS = {"/", "/version", "/livez", "/readyz", "/openapi.json"}
# Their one parameter, the token, takes any string: only a made-up header breaks them.
TOKEN_ONLY = {"/health", "/status"}


def fuzz(app: Starlette, path: str, mode: GenerationMode, credential: Credential) -> Counter[int]:
    """Run schemathesis on ``GET path``; the statuses answered, counted."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operation = schema["/" if path == "/" else path]["GET"]
    statuses: Counter[int] = Counter()
    excluded = [positive_data_acceptance]
    if credential != "generated":
        excluded.append(ignored_auth)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def run(case: schemathesis.Case) -> None:
        if credential == "url-token":
            case.query = {**(case.query or {}), "token": TOKEN}
        elif credential == "bearer-token":
            case.query = {
                name: value for name, value in (case.query or {}).items() if name != "token"
            }
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {TOKEN}"}
        response = case.call()
        if flattened(case, response.request.url):
            reject()
        case.validate_response(response, excluded_checks=excluded)
        statuses[response.status_code] += 1

    run()
    return statuses


def flattened(case: schemathesis.Case, sent_url: str) -> list[str]:
    """The parameters given a structured (invalid) value that the request sent as one or none.

    Schemathesis flattens an object or array into repeated values (which the API
    refuses), but some into a single string or into nothing: the server then sees an
    ordinary value, or no parameter, and the request may break nothing at all.
    """
    sent = Counter(name for name, _ in parse_qsl(urlsplit(sent_url).query, keep_blank_values=True))
    return [
        name
        for name, value in (case.query or {}).items()
        if not isinstance(value, str) and sent[name] < 2
    ]


OPERATIONS = [*PROTECTED_PATHS, *PUBLIC_PATHS]
NEEDS_DATA = frozenset({"/usage_explained"})


@pytest.mark.soak
@pytest.mark.parametrize("credential", ["url-token", "bearer-token", "generated"])
@pytest.mark.parametrize("path", OPERATIONS)
def test_requests_that_fit_the_document_get_documented_answers(
    app: Starlette, path: str, credential: Credential
) -> None:
    statuses = fuzz(app, path, GenerationMode.POSITIVE, credential)

    assert sum(statuses.values()) >= 1
    assert not [status for status in statuses if status >= 500]
    if path in PROTECTED_PATHS and credential != "generated":
        # On an empty store, /usage_explained has nothing to explain: 404 is getting through.
        through = statuses[200] + (statuses[404] if path in NEEDS_DATA else 0)
        assert through >= 1, f"the valid token never got through: {statuses}"


@pytest.mark.soak
@pytest.mark.parametrize("credential", ["url-token", "generated"])
@pytest.mark.parametrize("path", [path for path in OPERATIONS if path not in PARAMETERLESS])
def test_requests_that_break_the_document_are_refused_with_documented_answers(
    app: Starlette, path: str, credential: Credential
) -> None:
    statuses = fuzz(app, path, GenerationMode.NEGATIVE, credential)

    # Which answers must be refusals is schemathesis' call (negative_data_rejection): a
    # case can break the document only where the API is lenient on purpose (a made-up
    # Authorization header next to a valid ?token=).
    assert sum(statuses.values()) >= 1
    assert not [status for status in statuses if status >= 500]
    if path not in TOKEN_ONLY:
        assert any(400 <= status < 500 for status in statuses), statuses


@pytest.mark.parametrize("path", ["/snapshot", "/products", "/bundled_products", "/services"])
def test_a_period_at_the_start_of_the_calendar_is_refused_not_a_500(
    client: TestClient, path: str
) -> None:
    # Found by this fuzzing: year 1 made the snapshot's gap arithmetic overflow (500).
    answer = client.get(
        path, params={"dateFrom": "0001-01-01", "dateTo": "0003-01-01", "token": TOKEN}
    )

    assert answer.status_code == 400
    assert "is before 1970-01-01" in answer.json()["message"]


@pytest.mark.parametrize(
    "query",
    [
        f"dateFrom=&dateFrom=2026-11-01&dateTo=2026-11-02&token={TOKEN}",
        f"format=xml&format=csv&token={TOKEN}",
        f"metricName=A&metricName=B&token={TOKEN}",
        f"token=wrong-token-000000000&token={TOKEN}",
    ],
    ids=["dateFrom", "format", "metricName", "token"],
)
def test_a_parameter_given_twice_is_refused_not_guessed(client: TestClient, query: str) -> None:
    # Schemathesis sends an array parameter repeated; the last value used to win, so a
    # request breaking the document could be answered 200 (a rare negative-run failure).
    answer = client.get(f"/services?{query}")

    assert answer.status_code == 400
    assert "given more than once" in answer.json()["message"]
