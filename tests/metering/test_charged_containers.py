"""Which containers are charged: productChargedContainers (SPEC 2.3)."""

from __future__ import annotations

import pytest

from license_service.errors import InvalidPatternError
from license_service.metering.charged_containers import parse_charged_containers

NAMES = ("app", "app-worker", "istio-proxy", "log-shipper", "db")


def charged(raw: str | None) -> set[str]:
    selector = parse_charged_containers(raw)
    return {name for name in NAMES if selector.charges(name)}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(None, set(NAMES), id="absent-charges-all"),
        pytest.param("All", set(NAMES), id="All"),
        pytest.param("aLL", set(NAMES), id="all-any-case"),
        pytest.param("", set(), id="empty-charges-none"),
        pytest.param("app", {"app"}, id="exact-name-only"),
        pytest.param(" app , db ", {"app", "db"}, id="comma-list-blanks-ignored"),
        pytest.param("app;db", {"app", "db"}, id="semicolon-list"),
        pytest.param("app.*", {"app", "app-worker"}, id="regex-whole-name"),
        pytest.param("pp", set(), id="exact-name-is-not-a-substring"),
        pytest.param("p+", set(), id="regex-must-match-whole-name"),
        pytest.param(
            "!istio-proxy", {"app", "app-worker", "log-shipper", "db"}, id="only-exclusions"
        ),
        pytest.param("!istio-proxy;!log-.*", {"app", "app-worker", "db"}, id="several-exclusions"),
        pytest.param("app.*,!app-worker", {"app"}, id="exclusion-wins-over-inclusion"),
        pytest.param("app-worker,!app-.*", set(), id="regex-exclusion-wins-over-exact"),
        pytest.param("app.v1", set(), id="dot-alone-is-an-exact-name"),
        pytest.param("(app|db)", {"app", "db"}, id="alternation"),
        pytest.param(
            "All;!istio-proxy", set(NAMES) - {"istio-proxy"}, id="all-in-a-list-then-exclusion"
        ),
        pytest.param("db,all", set(NAMES), id="all-inside-a-list-charges-all"),
    ],
)
def test_charged_containers_follow_the_spec(raw: str | None, expected: set[str]) -> None:
    assert charged(raw) == expected


def test_invalid_regular_expression_is_reported_with_its_position() -> None:
    with pytest.raises(InvalidPatternError, match=r"entry 2 'app\[' is not a valid regular"):
        parse_charged_containers("db,app[")


def test_every_invalid_entry_is_reported() -> None:
    with pytest.raises(InvalidPatternError) as raised:
        parse_charged_containers("(,ok,!,*x")
    message = str(raised.value)
    assert "entry 1" in message
    assert "entry 3" in message
    assert "entry 4" in message
