"""The bounded cache of report bodies: one data version, LRU by entries and by bytes."""

from __future__ import annotations

import pytest

from license_service.metering.periods import DatePeriod
from license_service.web.reports.report_cache import BodyCache, BodyKey
from tests.store.sample_builders import CLUSTER, day

NOVEMBER = DatePeriod(day("2026-11-01"), day("2026-11-28"))


def key(report: str = "products", *, metric: str | None = None, csv: bool = False) -> BodyKey:
    return BodyKey(report, CLUSTER, NOVEMBER, metric, "csv" if csv else "json")


class Versions:
    """A data version the tests move by hand, as writes would."""

    def __init__(self) -> None:
        self.current = 7

    def __call__(self) -> int:
        return self.current


def test_a_kept_body_is_served_while_the_data_version_stays() -> None:
    versions = Versions()
    cache = BodyCache(versions)

    assert cache.get(key()) is None
    assert cache.put(key(), b"[1]", version=7)

    assert cache.get(key()) == b"[1]"
    assert cache.get(key(csv=True)) is None
    assert cache.get(key(metric="PROCESSOR_VALUE_UNIT")) is None
    assert cache.get(key("bundled_products")) is None


def test_a_new_data_version_drops_every_body() -> None:
    versions = Versions()
    cache = BodyCache(versions)
    cache.put(key(), b"[1]", version=7)
    cache.put(key(csv=True), b"a,b\r\n", version=7)

    versions.current = 8

    assert cache.get(key()) is None
    assert cache.get(key(csv=True)) is None
    assert (cache.entries, cache.kept_bytes) == (0, 0)


def test_a_body_computed_before_the_latest_write_is_not_kept() -> None:
    versions = Versions()
    cache = BodyCache(versions)
    versions.current = 8

    assert not cache.put(key(), b"[old]", version=7)

    assert cache.get(key()) is None


def test_the_least_recently_used_body_goes_first_when_entries_are_full() -> None:
    cache = BodyCache(Versions(), max_entries=2)
    cache.put(key("products"), b"p", version=7)
    cache.put(key("bundled_products"), b"b", version=7)
    assert cache.get(key("products")) == b"p"  # now the most recently used

    cache.put(key("services"), b"s", version=7)

    assert cache.get(key("bundled_products")) is None
    assert cache.get(key("products")) == b"p"
    assert cache.get(key("services")) == b"s"
    assert cache.entries == 2


def test_bytes_are_bounded_and_counted() -> None:
    cache = BodyCache(Versions(), max_bytes=100)
    cache.put(key("products"), b"p" * 25, version=7)
    cache.put(key("bundled_products"), b"b" * 25, version=7)
    cache.put(key("services"), b"s" * 25, version=7)
    cache.put(key("products", csv=True), b"c" * 25, version=7)
    assert cache.kept_bytes == 100

    cache.put(key("services", csv=True), b"x" * 10, version=7)

    assert cache.get(key("products")) is None
    assert cache.entries == 4
    assert cache.kept_bytes == 85


def test_a_body_larger_than_a_quarter_of_the_bound_is_not_kept() -> None:
    cache = BodyCache(Versions(), max_bytes=100)
    cache.put(key("bundled_products"), b"b" * 25, version=7)

    assert not cache.put(key(), b"x" * 26, version=7)

    assert cache.get(key()) is None
    assert cache.get(key("bundled_products")) == b"b" * 25


def test_putting_a_key_again_replaces_its_body_and_its_size() -> None:
    cache = BodyCache(Versions())
    cache.put(key(), b"[1,2,3]", version=7)

    cache.put(key(), b"[]", version=7)

    assert cache.get(key()) == b"[]"
    assert (cache.entries, cache.kept_bytes) == (1, 2)


def test_a_cache_without_room_is_refused() -> None:
    with pytest.raises(ValueError, match="max_entries=0"):
        BodyCache(Versions(), max_entries=0)
