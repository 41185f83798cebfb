"""Every parser of outside input, fuzzed: a correct value or the project's clear error, no crash.

Annotations, CPU quantities, ratios, report periods, tokens, credentials and the
``IBMLicensing`` document (as a mapping and as YAML text) get arbitrary and
adversarial input (hypothesis). The only exceptions allowed are the ``errors``
module's; values that are accepted are checked against an independent reading.
The regression cases at the top are inputs that crashed a parser before.
"""

from __future__ import annotations

import json
import math
import string
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from license_service.auth.credentials import bearer_token, credentials_from, redact_query
from license_service.cluster.dumps import parse_dump
from license_service.configuration.config_file import parse_licensing_yaml
from license_service.configuration.ibmlicensing import LicensingConfig, parse_ibmlicensing
from license_service.errors import (
    ConfigurationError,
    InputError,
    InvalidQuantityError,
    InvalidRatioError,
    InvalidTokenError,
    LicenseServiceError,
    RequestError,
)
from license_service.metering.cluster_view import LICENSE_ANNOTATIONS, ClusterView, Container
from license_service.metering.declarations import (
    MAX_VALUE_LENGTH,
    ProductDeclaration,
    read_declaration,
)
from license_service.metering.measuring import measure
from license_service.metering.periods import MAX_PERIOD_DAYS
from license_service.metering.quantities import parse_cpu_millicores
from license_service.metering.ratios import Ratio, parse_ratio
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage import AnnotationProblem
from license_service.tokens.rules import check_token, token_problem
from license_service.web.reports.period_parameters import format_from, period_from, report_query
from tests.metering.cluster_builders import node, pod, product, view
from tests.soak import soak_or

EXAMPLES = soak_or(100, 4_000)
TODAY = date(2026, 11, 28)
MEBIBYTE = 1024 * 1024

# Text as hostile clients write it: any code point (lone surrogates included), plus
# the characters parsers give a meaning to, often.
hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(
        alphabet=st.sampled_from(list("0123456789.:-+eEmkKiM ,;!*()[]|^$\\%&?#=\t\n")), max_size=30
    ),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=20),
)


def outcome(parse: Callable[[], Any]) -> Any:
    """What ``parse`` returns, or the project error it raises (any other exception escapes)."""
    try:
        return parse()
    except LicenseServiceError as error:
        return error


# --- Regressions: each of these raised ValueError, AttributeError or RecursionError -------


@pytest.mark.parametrize(
    ("parse", "raw", "error"),
    [
        pytest.param(
            parse_cpu_millicores, "1" * 5_000, InvalidQuantityError, id="quantity-5000-digits"
        ),
        pytest.param(
            parse_cpu_millicores,
            "1." + "1" * 5_000,
            InvalidQuantityError,
            id="quantity-long-decimal",
        ),
        pytest.param(parse_ratio, "1" * 5_000 + ":1", InvalidRatioError, id="ratio-5000-digits"),
        pytest.param(parse_ratio, "1:0." + "0" * 5_000 + "1", InvalidRatioError, id="ratio-tiny"),
    ],
)
def test_numbers_too_long_for_python_int_are_refused_clearly(
    parse: Callable[[str], object], raw: str, error: type[Exception]
) -> None:
    with pytest.raises(error, match="characters, more than the"):
        parse(raw)


@pytest.mark.parametrize(
    "raw",
    ["\u0663", "\uff11", "2\u0663m", "\u07c1k"],
    ids=["arabic-indic", "fullwidth", "mixed", "nko"],
)
def test_digits_of_other_scripts_are_not_a_kubernetes_quantity(raw: str) -> None:
    with pytest.raises(InvalidQuantityError, match="is not a Kubernetes quantity"):
        parse_cpu_millicores(raw)


def test_digits_of_other_scripts_are_not_a_ratio() -> None:
    with pytest.raises(InvalidRatioError, match="is not a positive number"):
        parse_ratio("\u0663:1")


def test_a_ratio_with_many_decimals_is_written_back_exactly() -> None:
    ratio = parse_ratio("0.333333333333333333333333333333:1")

    # Decimal's default 28 digits used to cut this to 0.3333333333333333333333333333.
    assert str(ratio) == "0.333333333333333333333333333333:1"
    assert parse_ratio(str(ratio)) == ratio


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "kind: IBMLicensing\nspec: !!int abc", "does not fit its type", id="bad-int-tag"
        ),
        pytest.param(
            "kind: IBMLicensing\nspec: !!float abc", "does not fit its type", id="bad-float-tag"
        ),
        pytest.param(
            'kind: IBMLicensing\nspec: !!int ""', "does not fit its type", id="empty-int-tag"
        ),
        pytest.param(
            "kind: IBMLicensing\nspec: !!timestamp abc", "does not fit its type", id="bad-timestamp"
        ),
        pytest.param(
            "kind: IBMLicensing\nspec: " + "1" * 5_000, "does not fit its type", id="huge-int"
        ),
        pytest.param("[" * 1_200, "nested too deeply", id="deep-flow"),
        pytest.param(
            "a:\n" + "".join("  " * depth + "- \n" for depth in range(1, 1500)),
            "not valid YAML",
            id="deep-block",
        ),
    ],
)
def test_yaml_that_crashed_the_loader_is_a_configuration_error(text: str, expected: str) -> None:
    with pytest.raises(ConfigurationError, match=expected):
        parse_licensing_yaml(text, source="config.yaml")


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000, '{"items": [' + "1" * 5_000 + "]}", "{" + '"a": {' * 3_000],
    ids=["deep-list", "huge-number", "deep-object"],
)
def test_a_cluster_dump_that_crashed_the_json_reader_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError, match="JSON that cannot be read"):
        parse_dump(text, source="dump.json")


dump_soup = st.lists(
    st.sampled_from(
        [
            '{"kind": "List", "items": [',
            '{"kind": "Pod", ',
            '"metadata": {',
            '"spec": {',
            '"containers": [',
            '"status": {"phase": "Running"}',
            '"name": "x"',
            "}",
            "]",
            ", ",
            '"annotations": {"productID": "p", "productName": "n", "productMetric": "FREE"}',
            '"resources": {"limits": {"cpu": "1e999"}}',
            "1" * 5_000,
            "null",
            "[",
            "{",
            "\ud800",
        ]
    ),
    max_size=25,
).map("".join)


@pytest.mark.soak
@settings(max_examples=EXAMPLES, deadline=None)
@given(text=st.one_of(dump_soup, st.text(max_size=100)))
def test_any_cluster_dump_is_a_view_or_an_input_error(text: str) -> None:
    result = outcome(lambda: parse_dump(text, source="dump.json"))

    assert isinstance(result, ClusterView | InputError)


def test_keys_that_are_not_text_are_reported_as_unknown_fields() -> None:
    text = "apiVersion: operator.ibm.com/v1alpha1\nkind: IBMLicensing\n~: 1\n2: 3\ntrue: 4\n"

    config = parse_licensing_yaml(text, source="config.yaml")

    assert config.warnings == ("IBMLicensing: ignored 3 unknown fields: None, 2, True",)


def test_a_list_that_holds_itself_through_an_alias_is_refused_without_recursion() -> None:
    # It was read (one level of List only); an alias inside the node it names expands
    # without end, so it is now refused like any alias bomb (issue 11.4).
    text = (
        "kind: List\n"
        "items:\n"
        "- {apiVersion: operator.ibm.com/v1alpha1, kind: IBMLicensing, spec: {logLevel: DEBUG}}\n"
        "- &loop {kind: List, items: [*loop]}\n"
    )

    with pytest.raises(ConfigurationError, match=r"line 4, column 30: the alias \*loop is inside"):
        parse_licensing_yaml(text, source="config.yaml")


# --- Annotations --------------------------------------------------------------------------

annotation_values = st.one_of(
    hostile_text,
    st.sampled_from(["p1", "Product", "VIRTUAL_PROCESSOR_CORE", "2:1", "All", "", " ", "app.*"]),
)
annotation_sets = st.dictionaries(
    st.sampled_from(sorted(LICENSE_ANNOTATIONS)),
    annotation_values,
    max_size=len(LICENSE_ANNOTATIONS),
)


@pytest.mark.soak
@settings(max_examples=EXAMPLES, deadline=None)
@given(annotations=annotation_sets)
def test_any_annotations_give_nothing_a_declaration_or_every_problem(
    annotations: dict[str, str],
) -> None:
    reading = read_declaration(annotations)

    if not annotations:
        assert reading is None
    elif isinstance(reading, ProductDeclaration):
        assert reading.product_id == annotations["productID"].strip() != ""
        assert reading.product_name == annotations["productName"].strip() != ""
        assert reading.metric == annotations["productMetric"].strip() != ""
    else:
        assert isinstance(reading, tuple)
        assert reading
        assert all(isinstance(problem, AnnotationProblem) and problem.reason for problem in reading)


@pytest.mark.parametrize("key", sorted(LICENSE_ANNOTATIONS))
def test_a_one_mebibyte_annotation_is_a_problem_of_its_pod_and_others_are_counted(key: str) -> None:
    huge = "x" * MEBIBYTE
    annotations = product("evil", **{key: huge})
    cluster = view(
        pod("evil-0", "n1", annotations, "1"),
        pod("good-0", "n1", product("good", "Good product"), "2"),
        nodes=(node("n1", "8"),),
    )

    measurement = measure(cluster, MeteringSettings())

    assert [(row.id, row.quantity) for row in measurement.products] == [("good", 2)]
    [evil] = measurement.incomplete_annotations
    assert evil.name == "evil-0"
    [problem] = evil.problems
    assert problem.annotation == key
    assert str(len(huge)) in problem.reason
    assert len(problem.reason) < 1_000


def test_an_annotation_at_the_limit_is_still_read() -> None:
    reading = read_declaration(product("p", "n" * MAX_VALUE_LENGTH))

    assert isinstance(reading, ProductDeclaration)


def test_a_container_named_with_a_megabyte_is_matched_quickly() -> None:
    cluster = view(
        pod(
            "p-0",
            "n1",
            product("p", productChargedContainers="(a+)+$,!b.*"),
            containers=(Container("a" * MEBIBYTE + "!", "1"), Container("a", "1")),
        ),
        nodes=(node("n1", "8"),),
    )

    assert [row.quantity for row in measure(cluster, MeteringSettings()).products] == [1]


# --- CPU quantities -----------------------------------------------------------------------

_SUFFIXES = {
    "": 1,
    "m": Fraction(1, 1000),
    "k": 1000,
    "M": 10**6,
    "Ki": 1024,
    "Mi": 2**20,
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
}


@pytest.mark.soak
@settings(max_examples=EXAMPLES, deadline=None)
@given(raw=hostile_text)
def test_any_text_is_millicores_or_an_invalid_quantity_error(raw: str) -> None:
    result = outcome(lambda: parse_cpu_millicores(raw))

    assert isinstance(result, int | InvalidQuantityError)
    if isinstance(result, int):
        assert result >= 0
        assert raw.strip().isascii()


@pytest.mark.soak
@settings(max_examples=EXAMPLES, deadline=None)
@given(
    whole=st.integers(min_value=0, max_value=10**9),
    decimals=st.text(alphabet="0123456789", max_size=9),
    exponent=st.one_of(st.none(), st.integers(min_value=-30, max_value=30)),
    suffix=st.sampled_from(sorted(_SUFFIXES)),
)
def test_a_kubernetes_quantity_is_read_exactly_and_rounded_up(
    whole: int, decimals: str, exponent: int | None, suffix: str
) -> None:
    number = f"{whole}.{decimals}" if decimals else str(whole)
    raw = number + (f"e{exponent}" if exponent is not None else "") + suffix
    assume(exponent is None or suffix in {"", "m", "k", "M", "n", "u"})

    cores = (
        Fraction(Decimal(number)) * Fraction(_SUFFIXES[suffix]) * Fraction(10) ** (exponent or 0)
    )

    assert parse_cpu_millicores(raw) == math.ceil(cores * 1000)


# --- Ratios -------------------------------------------------------------------------------


@pytest.mark.soak
@settings(max_examples=EXAMPLES, deadline=None)
@given(raw=st.one_of(hostile_text, st.tuples(hostile_text, hostile_text).map(":".join)))
def test_any_text_is_a_ratio_or_an_invalid_ratio_error(raw: str) -> None:
    result = outcome(lambda: parse_ratio(raw))

    assert isinstance(result, Ratio | InvalidRatioError)
    if isinstance(result, Ratio):
        assert result.product_units > 0
        assert result.cloudpak_units > 0
        assert parse_ratio(str(result)) == result


decimal_numbers = st.decimals(
    min_value=Decimal("0.000001"), max_value=Decimal(10**12), places=6, allow_nan=False
)


@pytest.mark.soak
@settings(max_examples=EXAMPLES, deadline=None)
@given(product_units=decimal_numbers, cloudpak_units=decimal_numbers)
def test_a_ratio_of_two_positive_numbers_is_kept_exactly(
    product_units: Decimal, cloudpak_units: Decimal
) -> None:
    ratio = parse_ratio(f"{product_units:f}:{cloudpak_units:f}")

    assert ratio.product_units == Fraction(product_units)
    assert ratio.cloudpak_units == Fraction(cloudpak_units)
    assert ratio.convert(6) == 6 * Fraction(cloudpak_units) / Fraction(product_units)


# --- Report periods -----------------------------------------------------------------------

PERIOD_NAMES = ("dateFrom", "dateTo", "startDate", "endDate", "format", "metricName")
dates_as_text = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat)
query_values = st.one_of(
    dates_as_text,
    dates_as_text.map(lambda text: text.replace("-", "")),
    st.sampled_from(
        [
            "",
            "2026-02-30",
            "2026-13-01",
            "0000-01-01",
            "9999-12-31",
            "csv",
            "JSON",
            "\u0662\u0660\u0662\u0666-\u0661\u0661-\u0660\u0662",
        ]
    ),
    hostile_text,
)
queries = st.dictionaries(st.sampled_from(PERIOD_NAMES), query_values, max_size=6)


@pytest.mark.soak
@settings(max_examples=EXAMPLES, deadline=None)
@given(query=queries, today=st.dates(min_value=date(1, 3, 1), max_value=date(9999, 12, 31)))
def test_any_query_is_a_valid_period_or_a_request_error(query: dict[str, str], today: date) -> None:
    result = outcome(lambda: report_query(query, today=today))

    if isinstance(result, RequestError):
        assert str(result)
        return
    period = result.period
    assert period.first <= period.last <= today
    assert period.days <= MAX_PERIOD_DAYS
    assert result.format in {"json", "csv"}
    given_dates = {query.get(name) for name in ("dateFrom", "startDate") if query.get(name)}
    if given_dates:
        assert given_dates == {period.first.isoformat()}
    else:
        assert period.last == today


@pytest.mark.soak
@settings(max_examples=EXAMPLES, deadline=None)
@given(
    first=st.dates(min_value=TODAY - timedelta(days=2_000), max_value=TODAY),
    length=st.integers(min_value=0, max_value=1_000),
)
def test_a_period_within_the_rules_is_read_exactly(first: date, length: int) -> None:
    last = first + timedelta(days=length)
    query = {"dateFrom": first.isoformat(), "dateTo": last.isoformat()}
    result = outcome(lambda: period_from(query, today=TODAY))

    if last <= TODAY and length < MAX_PERIOD_DAYS:
        assert (result.first, result.last) == (first, last)
    else:
        assert isinstance(result, RequestError)


@pytest.mark.soak
@settings(max_examples=EXAMPLES, deadline=None)
@given(raw=hostile_text)
def test_any_format_is_json_csv_or_a_request_error(raw: str) -> None:
    result = outcome(lambda: format_from({"format": raw}))

    assert result in {"json", "csv"} or isinstance(result, RequestError)


# --- Tokens and credentials ---------------------------------------------------------------


@pytest.mark.soak
@settings(max_examples=EXAMPLES, deadline=None)
@given(token=st.one_of(hostile_text, st.text(alphabet=string.printable, min_size=12, max_size=60)))
def test_any_token_is_accepted_or_refused_without_being_shown(token: str) -> None:
    problem = token_problem(token)
    result = outcome(lambda: check_token(token))

    assert (problem is None) == (result is None)
    if problem is not None:
        assert isinstance(result, InvalidTokenError)
        if len(token) >= 12:
            assert token not in str(result)
            assert token not in problem.description


@pytest.mark.soak
@settings(max_examples=EXAMPLES, deadline=None)
@given(
    authorization=st.one_of(
        st.none(), hostile_text, hostile_text.map(lambda text: f"Bearer {text}")
    )
)
def test_any_authorization_header_gives_a_bearer_token_or_none(authorization: str | None) -> None:
    token = bearer_token(authorization)

    if token is not None:
        assert authorization is not None
        assert token
        assert token in authorization
        assert not any(char in token for char in " \t")


token_values = st.text(
    alphabet=string.ascii_letters + string.digits + "-._~!$'()*,:@/", min_size=12, max_size=40
)
token_names = st.sampled_from(
    ["token", "TOKEN", "Token", "%74oken", "to%6Ben", "token ", "%54OKEN"]
)
other_parameters = st.lists(
    st.tuples(
        st.sampled_from(["dateFrom", "format", "x", "tokens", "my_token"]), st.text(max_size=10)
    ),
    max_size=4,
)


@pytest.mark.soak
@settings(max_examples=EXAMPLES, deadline=None)
@given(
    token=token_values,
    name=token_names,
    before=other_parameters,
    after=other_parameters,
    separator=st.sampled_from(["&", ";"]),
)
def test_a_token_in_any_spelling_of_the_parameter_is_redacted(
    token: str,
    name: str,
    before: list[tuple[str, str]],
    after: list[tuple[str, str]],
    separator: str,
) -> None:
    parts = [urlencode(before), f"{name}={quote(token, safe='')}", urlencode(after)]
    query = separator.join(part for part in parts if part)
    assume(quote(token, safe="") not in urlencode(before + after))

    logged = redact_query(query)

    assert quote(token, safe="") not in logged
    assert token not in logged
    assert "***" in logged


@pytest.mark.soak
@settings(max_examples=EXAMPLES, deadline=None)
@given(query=hostile_text, authorization=st.one_of(st.none(), hostile_text))
def test_any_query_and_header_give_credentials_without_error(
    query: str, authorization: str | None
) -> None:
    credentials = credentials_from({"token": query}, authorization)

    assert credentials.url_token == query
    assert repr(query) not in repr(credentials) or not query
    assert isinstance(redact_query(query), str)


# --- The IBMLicensing document --------------------------------------------------------------

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=10),
        st.sampled_from(["IBMLicensing", "operator.ibm.com/v1alpha1", "List", "DEBUG", "custom"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(max_size=8), children, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "spec",
                    "features",
                    "auth",
                    "urlBasedEnabled",
                    "hyperThreading",
                    "threadsPerCore",
                    "apiSecretToken",
                    "logLevel",
                    "sender",
                    "metadata",
                    "name",
                    "kind",
                    "apiVersion",
                    "nodeCpuCappingEnabled",
                    "chargebackRetentionPeriod",
                    "instanceNamespace",
                ]
            ),
            children,
            max_size=4,
        ),
    ),
    max_leaves=12,
)
documents = st.one_of(
    json_values,
    json_values.map(
        lambda spec: {
            "apiVersion": "operator.ibm.com/v1alpha1",
            "kind": "IBMLicensing",
            "spec": spec,
        }
    ),
)


@pytest.mark.soak
@settings(max_examples=EXAMPLES, deadline=None)
@given(document=documents)
def test_any_document_is_a_configuration_or_a_configuration_error(document: object) -> None:
    result = outcome(lambda: parse_ibmlicensing(document))

    assert isinstance(result, LicensingConfig | ConfigurationError)
    if isinstance(result, ConfigurationError):
        assert "is invalid" in str(result) or "not an IBMLicensing document" in str(result)


valid_specs = st.fixed_dictionaries(
    {},
    optional={
        "logLevel": st.sampled_from(["DEBUG", "INFO", "VERBOSE"]),
        "httpsEnable": st.booleans(),
        "chargebackRetentionPeriod": st.integers(min_value=1, max_value=10**6),
        "instanceNamespace": st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True),
        "features": st.fixed_dictionaries(
            {},
            optional={
                "auth": st.fixed_dictionaries({"urlBasedEnabled": st.booleans()}),
                "hyperThreading": st.fixed_dictionaries(
                    {"threadsPerCore": st.sampled_from([1, 2, 4, 8])}
                ),
            },
        ),
    },
)


@pytest.mark.soak
@settings(max_examples=EXAMPLES, deadline=None)
@given(spec=valid_specs)
def test_a_valid_document_is_read_as_written_also_as_yaml_text(spec: dict[str, Any]) -> None:
    document = {"apiVersion": "operator.ibm.com/v1alpha1", "kind": "IBMLicensing", "spec": spec}

    config = parse_ibmlicensing(document)
    # JSON is YAML 1.2, the YAML the loader reads (PyYAML's dumper writes 1.1).
    from_yaml = parse_licensing_yaml(json.dumps(document), source="config.yaml")

    assert from_yaml == config
    assert config.log_level == spec.get("logLevel", "INFO")
    assert config.https_enable == spec.get("httpsEnable", False)
    assert config.chargeback_retention_period == spec.get("chargebackRetentionPeriod", 62)
    assert config.instance_namespace == spec.get("instanceNamespace")
    features = spec.get("features", {})
    assert config.url_based_enabled == features.get("auth", {}).get("urlBasedEnabled", True)
    threads = features.get("hyperThreading", {}).get("threadsPerCore", 1)
    assert config.metering.threads_per_core == threads


yaml_soup = st.lists(
    st.sampled_from(
        [
            "kind: IBMLicensing\n",
            "apiVersion: operator.ibm.com/v1alpha1\n",
            "spec:\n",
            "  ",
            "features:",
            " {",
            "}",
            "[",
            "]",
            ", ",
            ": ",
            "- ",
            "&a ",
            "*a ",
            "!!int ",
            "!!float ",
            "!!str ",
            "!!binary ",
            "!!timestamp ",
            "!!python/object:os.system ",
            "<<: ",
            "? ",
            "---\n",
            "...\n",
            "|\n",
            ">\n",
            "'",
            '"',
            "#",
            "%YAML 1.1\n",
            "\t",
            "\n",
            "true",
            "no",
            "0x1F",
            "1e999",
            ".nan",
            "~",
            "null",
            "2:1",
            "logLevel",
            "threadsPerCore",
            "9" * 5_000,
            "\ufeff",
            "\x00",
            "\x85",
            "é",
        ]
    ),
    max_size=30,
).map("".join)


@pytest.mark.soak
@settings(max_examples=EXAMPLES, deadline=None)
@given(text=st.one_of(yaml_soup, st.text(max_size=200)))
def test_any_text_is_a_configuration_or_a_configuration_error_naming_the_file(text: str) -> None:
    result = outcome(lambda: parse_licensing_yaml(text, source="config.yaml"))

    assert isinstance(result, LicensingConfig | ConfigurationError)
    if isinstance(result, ConfigurationError):
        assert str(result).startswith("config.yaml: ")
