"""YAML is read with YAML 1.2 core types: what looks like text in Kubernetes stays text."""

from __future__ import annotations

import math

import pytest
import yaml

from license_service.configuration.yaml_documents import (
    MAX_ALIASED_VALUES,
    describe_yaml_error,
    load_yaml_documents,
)


@pytest.mark.parametrize(
    "scalar",
    ["no", "yes", "on", "off", "y", "2:1", "010", "1_000", "2026-11-20T08:00:00Z", "2026-11-20"],
)
def test_yaml_1_1_surprises_stay_strings(scalar: str) -> None:
    assert load_yaml_documents(f"value: {scalar}\n") == [{"value": scalar}]


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("true", True),
        ("False", False),
        ("12", 12),
        ("-3", -3),
        ("0", 0),
        ("0x1F", 31),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("~", None),
        ("null", None),
        ("", None),
    ],
)
def test_yaml_1_2_core_types_are_typed(scalar: str, value: object) -> None:
    loaded = load_yaml_documents(f"value: {scalar}\n")

    assert loaded == [{"value": value}]
    assert type(loaded[0]["value"]) is type(value)  # type: ignore[index]


def test_infinity_is_a_float() -> None:
    loaded = load_yaml_documents("value: .inf\n")

    assert loaded == [{"value": math.inf}]


def test_every_document_of_a_stream_is_returned() -> None:
    assert load_yaml_documents("a: 1\n---\nb: 2\n") == [{"a": 1}, {"b": 2}]


def test_an_error_is_described_on_one_line_with_its_place() -> None:
    with pytest.raises(yaml.YAMLError) as raised:
        load_yaml_documents("a: 1\nb: [2\n")

    description = describe_yaml_error(raised.value)
    assert description.startswith("line 3, column 1: ")
    assert "\n" not in description


def test_a_few_anchors_and_aliases_are_read_as_written() -> None:
    text = "base: &base {threadsPerCore: 2}\ncopy: *base\nmerged: {<<: *base, extra: 1}\n"

    assert load_yaml_documents(text) == [
        {
            "base": {"threadsPerCore": 2},
            "copy": {"threadsPerCore": 2},
            "merged": {"threadsPerCore": 2, "extra": 1},
        }
    ]


def test_aliases_reaching_more_values_than_the_budget_are_refused_where_they_stand() -> None:
    # 101 values, aliased 100 times: 10,100 values through aliases.
    text = "a: &a [" + ", ".join(["1"] * 100) + "]\nb: [" + ", ".join(["*a"] * 100) + "]\n"

    with pytest.raises(yaml.YAMLError) as raised:
        load_yaml_documents(text)

    assert describe_yaml_error(raised.value).startswith(
        f"line 2, column {5 + 4 * 99}: the alias *a makes the aliases of this YAML reach more "
        f"than {MAX_ALIASED_VALUES:,} values"
    )


def test_the_alias_budget_holds_for_the_whole_stream() -> None:
    document = (
        "a: &a [" + ", ".join(["1"] * 99) + "]\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    )

    assert len(load_yaml_documents("---\n".join([document] * 9))) == 9
    with pytest.raises(yaml.YAMLError, match="alias bomb"):
        load_yaml_documents("---\n".join([document] * 11))
