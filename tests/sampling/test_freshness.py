"""A state may be sampled only when it is synchronised and at most 15 minutes old."""

from __future__ import annotations

from datetime import timedelta

from license_service.sampling.freshness import unusable_reason
from tests.sampling.doubles import START, state


def test_a_synchronised_current_state_can_be_sampled() -> None:
    assert unusable_reason(state(), START + timedelta(minutes=1)) is None


def test_a_state_exactly_fifteen_minutes_old_can_still_be_sampled() -> None:
    assert unusable_reason(state(), START + timedelta(minutes=15)) is None


def test_a_state_older_than_fifteen_minutes_cannot_be_sampled_and_says_how_old() -> None:
    reason = unusable_reason(state(), START + timedelta(minutes=16))
    assert reason is not None
    assert "16 minutes old" in reason
    assert START.isoformat() in reason


def test_an_unsynchronised_state_cannot_be_sampled_and_gives_the_sources_error() -> None:
    reason = unusable_reason(state(synced=False, last_error="watch of pods: 403 Forbidden"), START)
    assert reason is not None
    assert "not synchronised" in reason
    assert "403 Forbidden" in reason
