"""``spec.features.excludeNamespace`` (SPEC 8): names or RE2 patterns, blanks trimmed,
a bad item refused by its position and text, the previous configuration kept."""

from __future__ import annotations

from typing import Any

import pytest

from license_service.config_sources.changes import describe_changes
from license_service.configuration.ibmlicensing import parse_ibmlicensing
from license_service.errors import ConfigurationError


def document(exclude: Any) -> dict[str, Any]:
    return {
        "apiVersion": "operator.ibm.com/v1alpha1",
        "kind": "IBMLicensing",
        "spec": {"features": {"excludeNamespace": exclude}},
    }


def test_items_are_trimmed_and_empty_ones_dropped() -> None:
    config = parse_ibmlicensing(document(" sandbox ,team-.*-test,, "))
    assert config.metering.excluded_namespaces == ("sandbox", "team-.*-test")


def test_absent_or_empty_excludes_nothing() -> None:
    assert parse_ibmlicensing(document(None)).metering.excluded_namespaces == ()
    assert parse_ibmlicensing(document("")).metering.excluded_namespaces == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ok, te(st", "item 2 'te(st' is not a valid regular expression (missing )"),
        ("(a)\\1", "item 1 '(a)\\\\1' is not a valid regular expression: backreferences"),
        (["a", "b"], "spec.features.excludeNamespace: a list"),
        (3, "spec.features.excludeNamespace: 3 is not allowed"),
    ],
)
def test_an_invalid_item_is_refused_by_position_and_text(value: Any, expected: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        parse_ibmlicensing(document(value))
    assert expected in str(refused.value)


def test_a_change_is_logged_in_the_document_s_words() -> None:
    before = parse_ibmlicensing(document(None))
    after = parse_ibmlicensing(document("sandbox-.*"))
    assert describe_changes(before, after) == [
        "spec.features.excludeNamespace: unset -> sandbox-.*"
    ]
