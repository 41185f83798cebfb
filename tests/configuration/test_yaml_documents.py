"""YAML is read with YAML 1.2 core types: what looks like text in Kubernetes stays text."""

from __future__ import annotations

import math

import pytest
import yaml

from license_service.configuration.yaml_documents import describe_yaml_error, load_yaml_documents


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
