"""``--entitlements FILE`` followed by content (SPEC 13): a bad edit never applies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from license_service.entitlement_sources.file_source import EntitlementsFile
from license_service.errors import ConfigurationError

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def bought(quantity: str) -> str:
    return f"- {{name: MQ, productId: mq, metricName: VPC, quantity: {quantity}}}\n"


def test_an_invalid_file_at_start_stops_the_start_saying_item_field_and_flag(
    tmp_path: Path,
) -> None:
    path = tmp_path / "entitlements.yaml"
    path.write_text(bought("lots"))
    with pytest.raises(ConfigurationError) as caught:
        EntitlementsFile.load(path, clock=lambda: NOW)
    message = str(caught.value)
    assert "entitlements[0].quantity 'lots' is not a positive number" in message
    assert f"fix --entitlements {path}" in message


def test_a_missing_file_at_start_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="entitlements file not found"):
        EntitlementsFile.load(tmp_path / "absent.yaml", clock=lambda: NOW)


def test_edits_apply_and_a_bad_edit_keeps_the_previous_entitlements(tmp_path: Path) -> None:
    path = tmp_path / "entitlements.yaml"
    path.write_text(bought("4"))
    followed = EntitlementsFile.load(path, clock=lambda: NOW)
    assert [item.quantity for item in followed.current()] == [4]
    assert followed.check() is False  # unchanged content: nothing to do

    path.write_text(bought("0"))
    assert followed.check() is False
    [warning] = followed.warnings()
    assert "entitlements[0].quantity '0' is not a positive number" in warning
    assert "read from" in warning
    assert "stay in force" in warning
    assert [item.quantity for item in followed.current()] == [4]

    path.unlink()
    assert followed.check() is False
    assert [item.quantity for item in followed.current()] == [4]
    assert "entitlements file not found" in (followed.problem() or "")

    path.write_text(bought("6"))
    assert followed.check() is True
    assert [item.quantity for item in followed.current()] == [6]
    assert followed.problem() is None


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "entitlements.yaml"
    path.write_text(bought("4"))
    followed = EntitlementsFile.load(path, clock=lambda: NOW)
    path.write_bytes(b"- {name: \xff}\n")
    assert followed.check() is False
    assert "not UTF-8 text" in (followed.problem() or "")
