"""Patterns from ``productChargedContainers`` cannot stall the service, and mean what ``re`` means.

Anyone who may create a pod writes the annotation. Patterns are run by RE2 (linear
time); what RE2 refuses is an invalid pattern with a reason, and the value, each
entry, the number of patterns and each pattern's memory are bounded.
"""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from license_service.errors import InvalidPatternError
from license_service.metering.charged_containers import (
    MAX_PATTERN_LENGTH,
    MAX_PATTERNS,
    MAX_VALUE_LENGTH,
    ChargedContainers,
    parse_charged_containers,
)
from license_service.metering.cluster_view import Container
from license_service.metering.measuring import measure
from license_service.metering.settings import MeteringSettings
from tests.metering.cluster_builders import node, pod, product, view
from tests.soak import soak_or

# Each takes Python's backtracking ``re`` exponential (or worse) time on a long name.
CATASTROPHIC = (
    "(a+)+$",
    "(a|a)*b",
    "(a|aa)+$",
    "(a*)*b",
    "(.*a){20}",
    "([a-z]+)*[0-9]",
    "(\\w+\\s?)*$",
)
LONG_NAME = "a" * 50_000 + "!"


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_a_catastrophic_pattern_is_matched_in_linear_time(pattern: str) -> None:
    selector = parse_charged_containers(f"{pattern},db")

    started = time.perf_counter()
    for _ in range(20):
        charged = selector.charges(LONG_NAME)
    elapsed = time.perf_counter() - started

    # 20 matches of a 50,001-character name; Python's re would not finish one in hours.
    assert elapsed < 2.0, f"{pattern!r} took {elapsed:.2f} s"
    assert charged is False
    assert selector.charges("db")


def test_a_measurement_with_catastrophic_patterns_on_every_pod_stays_fast() -> None:
    pods = [
        pod(
            f"evil-{index}",
            "n1",
            product(f"p{index}", productChargedContainers=CATASTROPHIC[index % len(CATASTROPHIC)]),
            containers=(Container("a" * 5_000 + "!", "1"), Container("sidecar", "1")),
        )
        for index in range(200)
    ]
    cluster = view(*pods, nodes=(node("n1", "64"),))

    started = time.perf_counter()
    measurement = measure(cluster, MeteringSettings())
    elapsed = time.perf_counter() - started

    assert elapsed < 5.0
    assert len(measurement.products) == 200
    assert measurement.incomplete_annotations == ()


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        pytest.param("app(?=-v2)", "look-around assertions are not supported", id="lookahead"),
        pytest.param(
            "(?!istio).*", "add an exclusion entry such as '!istio-.*'", id="neg-lookahead"
        ),
        pytest.param("(?<=x)y", "look-around assertions are not supported", id="lookbehind"),
        pytest.param("(?<!x)y", "look-around assertions are not supported", id="neg-lookbehind"),
        pytest.param("(a)\\1", "backreferences are not supported", id="backreference"),
        pytest.param("(?P<x>a)(?P=x)", "backreferences are not supported", id="named-backref"),
        pytest.param("(?>a+)b", "atomic groups and possessive quantifiers", id="atomic-group"),
        pytest.param("a*+b", "atomic groups and possessive quantifiers", id="possessive"),
        pytest.param("app[", "missing ]", id="unclosed-class"),
        pytest.param("(a){1001}", "invalid repetition size", id="repetition-over-1000"),
        pytest.param("(.{1000}){2}", "invalid repetition size", id="nested-repetition"),
        pytest.param("\\p{L}{200}", "more memory than the 256 KiB allowed", id="too-much-memory"),
        pytest.param("\ud800.*", "lone surrogate", id="lone-surrogate"),
    ],
)
def test_a_pattern_re2_cannot_run_is_refused_saying_why(pattern: str, reason: str) -> None:
    with pytest.raises(InvalidPatternError) as raised:
        parse_charged_containers(f"db,{pattern}")

    message = str(raised.value)
    assert "entry 2" in message
    assert reason in message
    assert "RE2" in message


def test_a_refused_pattern_says_nothing_on_standard_error(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(InvalidPatternError):
        parse_charged_containers("app(?=x),(a)\\1")

    # RE2 logs parse errors itself unless told not to.
    assert capfd.readouterr().err == ""


def test_an_oversized_value_is_refused_with_its_length_and_not_echoed() -> None:
    raw = "istio-proxy," * 100_000

    with pytest.raises(InvalidPatternError) as raised:
        parse_charged_containers(raw)

    message = str(raised.value)
    assert f"{len(raw)} characters, more than the {MAX_VALUE_LENGTH} allowed" in message
    assert len(message) < 500


def test_an_oversized_entry_is_refused() -> None:
    with pytest.raises(InvalidPatternError, match=f"more than the {MAX_PATTERN_LENGTH} allowed"):
        parse_charged_containers("a*" + "b" * MAX_PATTERN_LENGTH)


def test_at_most_so_many_patterns_are_compiled_for_one_value() -> None:
    allowed = ",".join(f"c{index}.*" for index in range(MAX_PATTERNS))
    assert parse_charged_containers(allowed).charges("c7-x")

    with pytest.raises(InvalidPatternError, match=f"more than the {MAX_PATTERNS} allowed"):
        parse_charged_containers(allowed + ",extra.*")


def test_many_exact_names_are_looked_up_not_scanned() -> None:
    names = [f"container-{index}" for index in range(700)]
    selector = parse_charged_containers(",".join(names))

    assert all(selector.charges(name) for name in names)
    assert not selector.charges("container-700")


def test_the_message_of_many_invalid_entries_stays_short() -> None:
    with pytest.raises(InvalidPatternError) as raised:
        parse_charged_containers(",".join(["("] * 3_000))

    message = str(raised.value)
    assert "and 2990 more invalid entries" in message
    assert len(message) < 3_000


def test_a_name_that_is_not_valid_text_matches_no_pattern_and_does_not_crash() -> None:
    including = parse_charged_containers("a.*")
    excluding = parse_charged_containers("!a.*")

    assert including.charges("a\ud800") is False
    assert excluding.charges("a\ud800") is True


# --- RE2 means what Python's re means, for the patterns both accept ---------------------

ALPHABET = "ab0-."
_atoms = st.one_of(
    st.sampled_from(["a", "b", "0", "-", "\\.", ".", "[ab]", "[^a]", "[0-9]", "[a-b0]", "\\d"]),
)


def _quantified(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(
        inner, st.sampled_from(["", "*", "+", "?", "{2}", "{3}", "*?", "+?", "??"])
    ).map(lambda pair: f"(?:{pair[0]}){pair[1]}" if pair[1] and len(pair[0]) > 1 else "".join(pair))


safe_patterns = st.recursive(
    _atoms,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=4).map("".join),
        st.tuples(inner, inner).map(lambda pair: f"{pair[0]}|{pair[1]}"),
        inner.map(lambda text: f"({text})"),
        _quantified(inner),
    ),
    max_leaves=8,
).map(lambda text: text if any(char in text for char in "*+?[(|^$\\") else f"({text})")
names = st.text(alphabet=ALPHABET, max_size=12)


@pytest.mark.soak
@settings(max_examples=soak_or(300, 5_000), deadline=None)
@given(pattern=safe_patterns, candidates=st.lists(names, min_size=1, max_size=8))
def test_re2_fullmatch_agrees_with_python_re_on_patterns_both_accept(
    pattern: str, candidates: list[str]
) -> None:
    python = re.compile(pattern)
    selector = parse_charged_containers(pattern)

    for name in candidates:
        assert selector.charges(name) == (python.fullmatch(name) is not None), (pattern, name)


@pytest.mark.soak
@settings(max_examples=soak_or(200, 3_000), deadline=None)
@given(raw=st.text(max_size=200), name=st.text(max_size=40))
def test_any_value_is_a_selector_or_an_invalid_pattern_error(raw: str, name: str) -> None:
    selector = selector_or_error(raw)

    if isinstance(selector, InvalidPatternError):
        assert str(selector).startswith("productChargedContainers ")
    else:
        assert isinstance(selector.charges(name), bool)


@pytest.mark.soak
@settings(max_examples=soak_or(200, 3_000), deadline=None)
@given(
    raw=st.text(alphabet=st.sampled_from(list("ab()[]{}*+?|^$\\!,;:=<>P1-.dws ")), max_size=60),
    name=st.text(alphabet="ab-1", max_size=10),
)
def test_regex_punctuation_soup_is_a_selector_or_an_invalid_pattern_error(
    raw: str, name: str
) -> None:
    selector = selector_or_error(raw)

    if isinstance(selector, InvalidPatternError):
        assert "Use container names or RE2 regular expressions" in str(selector)
    else:
        assert isinstance(selector.charges(name), bool)


def selector_or_error(raw: str) -> ChargedContainers | InvalidPatternError:
    """The parsed value, or the error it was refused with (any other exception escapes)."""
    try:
        return parse_charged_containers(raw)
    except InvalidPatternError as error:
        return error
