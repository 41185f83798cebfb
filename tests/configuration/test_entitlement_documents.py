"""The entitlements file (SPEC 13): read exactly, or refused naming item, field and fix."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from license_service.configuration.entitlement_documents import parse_entitlements
from license_service.errors import ConfigurationError

GOOD = """
- name: IBM MQ Advanced
  productId: mq
  metricName: VIRTUAL_PROCESSOR_CORE
  quantity: 16
  validFrom: 2026-01-01
  validTo: 2026-12-31
- {name: Extra, productId: mq, metricName: VIRTUAL_PROCESSOR_CORE, quantity: 2.5}
"""


def test_a_valid_file_gives_every_item_with_exact_quantities_and_dates() -> None:
    first, second = parse_entitlements(GOOD, source="f.yaml")
    assert (first.name, first.product_id, first.quantity) == ("IBM MQ Advanced", "mq", 16)
    assert (first.valid_from, first.valid_to) == (date(2026, 1, 1), date(2026, 12, 31))
    assert second.quantity == Fraction(5, 2)
    assert (second.valid_from, second.valid_to) == (None, None)


@pytest.mark.parametrize("text", ["", "# nothing bought yet\n", "---\n"])
def test_an_empty_file_means_no_entitlements(text: str) -> None:
    assert len(parse_entitlements(text, source="f.yaml")) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- {productId: a, metricName: M, quantity: 1}", "entitlements[0].name is missing: add it"),
        (
            "- {name: n, productId: a, metricName: M, quantity: -1}",
            "entitlements[0].quantity '-1' is not a positive number",
        ),
        (
            "- {name: n, productId: a, metricName: M, quantity: 1, validTo: 2026-13-01}",
            "entitlements[0].validTo '2026-13-01' is not a date: write YYYY-MM-DD",
        ),
        (
            "- {name: n, productId: a, metricName: M, quantity: 1, "
            "validFrom: 2026-02-01, validTo: 2026-01-01}",
            "entitlements[0].validTo 2026-01-01 is before validFrom 2026-02-01",
        ),
        (
            "- {name: n, productId: a, metricName: M, quantity: 1, validUntil: 2026-01-01}",
            "entitlements[0]: unknown field 'validUntil': remove it or use one of",
        ),
        (
            "- {name: n, productId: a, metricName: M, quantity: true}",
            "entitlements[0].quantity 'True' is not a positive number",
        ),
        ("- just text", "entitlements[0] is not a mapping"),
        ("name: n", "must be one YAML list of items"),
        ("- [unclosed", "not valid YAML"),
    ],
)
def test_an_invalid_file_is_refused_naming_item_field_and_fix(text: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_entitlements(text, source="f.yaml")
    assert str(caught.value).startswith("f.yaml: ")
    assert expected in str(caught.value)


def test_every_problem_is_reported_at_once_with_its_index() -> None:
    text = (
        GOOD + "- {name: a, productId: b, metricName: M, quantity: 0}\n- {name: a, productId: b}\n"
    )
    with pytest.raises(ConfigurationError) as caught:
        parse_entitlements(text, source="f.yaml")
    message = str(caught.value)
    assert "entitlements[2].quantity" in message
    assert "entitlements[3].metricName is missing" in message
    assert "entitlements[3].quantity is missing" in message
    assert "entitlements[0]" not in message
