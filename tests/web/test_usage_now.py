"""What /status says under "Usage now" about a change not counted yet (issue 12.6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from license_service.metering.ratios import ONE_TO_ONE
from license_service.metering.usage import Measurement
from license_service.metering.usage_rows import BundledProductUsage, ProductUsage
from license_service.web.pages.usage_now import usage_now_notes

NEXT = datetime(2026, 11, 28, 10, 5, tzinfo=UTC)
INTERVAL = timedelta(seconds=300)
MQ = ProductUsage("IBM MQ", "mq", "VIRTUAL_PROCESSOR_CORE", 4)
WAS = ProductUsage("WebSphere", "was", "PROCESSOR_VALUE_UNIT", 150)


def notes(shown: Measurement | None, measured_now: Measurement | None) -> tuple[str, str | None]:
    found = usage_now_notes(
        shown=shown, measured_now=measured_now, interval=INTERVAL, next_sample_at=NEXT
    )
    return found.schedule, found.changes


def test_the_schedule_says_when_the_next_sample_is_and_that_reports_follow_it() -> None:
    schedule, changes = notes(Measurement(products=(MQ,)), Measurement(products=(MQ,)))

    assert schedule == (
        "A sample every 300 s; next sample at 2026-11-28T10:05:00Z. Reports (/products and "
        "the others) and peaks change only at samples: a change in the cluster is counted at "
        "the next one."
    )
    assert changes is None


@pytest.mark.parametrize(
    ("before", "after", "said"),
    [
        ((MQ,), (MQ._replace(quantity=6),), "IBM MQ (VIRTUAL_PROCESSOR_CORE) 4 → 6"),
        ((MQ,), (MQ, WAS), "WebSphere (PROCESSOR_VALUE_UNIT) new: 150"),
        ((MQ, WAS), (MQ,), "WebSphere (PROCESSOR_VALUE_UNIT) gone: was 150"),
    ],
    ids=["more", "new", "gone"],
)
def test_a_change_names_the_product_and_when_it_counts(
    before: tuple[ProductUsage, ...], after: tuple[ProductUsage, ...], said: str
) -> None:
    _, changes = notes(Measurement(products=before), Measurement(products=after))

    assert changes == (
        f"The cluster has changed since this sample: {said}. The change is counted at the "
        "next sample, at 2026-11-28T10:05:00Z."
    )


def test_a_change_of_bundled_products_alone_is_said_too() -> None:
    bundled = BundledProductUsage(
        "ACE", "ace", "cp4i", "Cloud Pak", "", "VIRTUAL_PROCESSOR_CORE",
        "VIRTUAL_PROCESSOR_CORE", 2, ONE_TO_ONE,
    )  # fmt: skip

    _, changes = notes(
        Measurement(bundled_products=(bundled,)),
        Measurement(bundled_products=(bundled._replace(measured_quantity=3),)),
    )

    assert changes is not None
    assert "changed since this sample: bundled products or services." in changes


def test_many_changes_are_listed_five_then_counted() -> None:
    before = tuple(ProductUsage(f"P{n}", f"p{n}", "FREE", 0) for n in range(8))

    _, changes = notes(Measurement(), Measurement(products=before))

    assert changes is not None
    assert "P4 (FREE) new: 0; and 3 more." in changes
    assert "P5" not in changes


def test_nothing_is_said_of_changes_without_a_sample_or_a_usable_view() -> None:
    assert notes(None, Measurement(products=(MQ,)))[1] is None
    assert notes(Measurement(products=(MQ,)), None)[1] is None


def test_before_the_loop_waits_the_next_sample_is_soon() -> None:
    found = usage_now_notes(shown=None, measured_now=None, interval=INTERVAL, next_sample_at=None)

    assert found.schedule.startswith("A sample every 300 s; next sample soon.")
