"""The review cache: expiry by a clock, a bound on its size, and no token kept (SPEC 4.5, 4.6)."""

from __future__ import annotations

import gc
from datetime import timedelta

import pytest

from license_service.auth.review_cache import ReviewCache
from license_service.errors import ConfigurationError
from tests.auth.clocks import FakeClock

TOKEN = "eyJhbGciOiJSUzI1NiJ9.cached-account-token.c2lnbmF0dXJl"
OTHER = "eyJhbGciOiJSUzI1NiJ9.other-account-token.c2lnbmF0dXJl"
TEN_SECONDS = timedelta(seconds=10)


def cache(max_entries: int = 100) -> tuple[ReviewCache[str], FakeClock]:
    clock = FakeClock()
    return ReviewCache(max_entries=max_entries, clock=clock), clock


def test_a_decision_is_found_for_the_same_token_and_path_until_it_expires() -> None:
    decisions, clock = cache()
    decisions.put(TOKEN, "/products", "allowed", ttl=TEN_SECONDS)

    clock.advance(9.9)
    fresh = decisions.get(TOKEN, "/products")
    clock.advance(0.1)

    assert fresh == "allowed"
    assert decisions.get(TOKEN, "/products") is None


def test_another_token_or_path_finds_nothing() -> None:
    decisions, _ = cache()
    decisions.put(TOKEN, "/products", "allowed", ttl=TEN_SECONDS)

    assert decisions.get(OTHER, "/products") is None
    assert decisions.get(TOKEN, "/snapshot") is None


def test_a_clock_set_back_does_not_stretch_a_decisions_life() -> None:
    decisions, clock = cache()
    decisions.put(TOKEN, "/products", "allowed", ttl=TEN_SECONDS)

    clock.advance(-3600)

    assert decisions.get(TOKEN, "/products") is None


def test_a_decision_with_no_time_to_live_is_not_kept() -> None:
    decisions, _ = cache()

    decisions.put(TOKEN, "/products", "refused", ttl=timedelta(0))

    assert decisions.get(TOKEN, "/products") is None
    assert len(decisions) == 0


def test_a_new_decision_replaces_the_old_one() -> None:
    decisions, _ = cache()
    decisions.put(TOKEN, "/products", "refused", ttl=TEN_SECONDS)

    decisions.put(TOKEN, "/products", "allowed", ttl=TEN_SECONDS)

    assert decisions.get(TOKEN, "/products") == "allowed"
    assert len(decisions) == 1


def test_when_full_the_least_recently_used_decision_is_forgotten() -> None:
    decisions, _ = cache(max_entries=2)
    decisions.put("token-a", "/products", "a", ttl=TEN_SECONDS)
    decisions.put("token-b", "/products", "b", ttl=TEN_SECONDS)
    decisions.get("token-a", "/products")

    decisions.put("token-c", "/products", "c", ttl=TEN_SECONDS)

    assert len(decisions) == 2
    assert decisions.get("token-b", "/products") is None
    assert decisions.get("token-a", "/products") == "a"
    assert decisions.get("token-c", "/products") == "c"


def test_a_flood_of_tokens_never_grows_the_cache_beyond_its_bound() -> None:
    decisions, _ = cache(max_entries=50)

    for number in range(1000):
        decisions.put(f"token-{number}", "/products", "refused", ttl=TEN_SECONDS)

    assert len(decisions) == 50


def test_clear_forgets_every_decision() -> None:
    decisions, _ = cache()
    decisions.put(TOKEN, "/products", "allowed", ttl=TEN_SECONDS)

    decisions.clear()

    assert decisions.get(TOKEN, "/products") is None


def test_the_cache_holds_no_reference_to_the_token() -> None:
    decisions, _ = cache()
    token = "".join(["eyJhbGciOiJSUzI1NiJ9", ".", "built-at-run-time"])  # not interned
    decisions.put(token, "/products", "allowed", ttl=TEN_SECONDS)

    reachable = _reachable_from(decisions)

    assert decisions.get(token, "/products") == "allowed"
    assert "/products" in reachable  # the walk does reach the keys
    assert not any(isinstance(value, str) and token in value for value in reachable)
    assert not any(isinstance(value, bytes) and token.encode() in value for value in reachable)


def test_a_size_below_one_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="review cache size 0 is invalid"):
        ReviewCache[str](max_entries=0, clock=FakeClock())


def _reachable_from(root: object) -> list[object]:
    """Every object reachable from ``root``'s own state (not its class or modules)."""
    seen: set[int] = set()
    found: list[object] = []
    pending = list(gc.get_referents(root))
    while pending:
        item = pending.pop()
        if id(item) in seen or isinstance(item, type) or callable(item):
            continue
        seen.add(id(item))
        found.append(item)
        pending.extend(gc.get_referents(item))
    return found
