"""What ``/status`` says under "Usage now" about when a change in the cluster counts; pure.

Samples are the record: reports and peaks change only when a sample is stored, at the
aligned sampling instants. Taking an extra sample after each change would favour
short-lived states (a rolling update's surge) in the daily peaks, which a fixed rhythm
catches only as often as they last, and would break "samples taken of those
expected". So a change in the cluster (a new pod, a replaced dump) is seen at once but
counted at the next sample, and the page says so: when samples are taken and when the
next one is, and, while the cluster as seen now measures differently from the sample
shown, what changed and when that counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from license_service.metering.usage import Measurement
from license_service.metering.usage_rows import ProductUsage
from license_service.web.timestamps import utc_text

# Changes listed by name; the rest are counted.
_LISTED: Final = 5


@dataclass(frozen=True, slots=True)
class UsageNowNotes:
    """``schedule``: when samples (and so reports) change; ``changes``: what the next
    sample will count that the one shown does not (``None``: nothing, or unknown)."""

    schedule: str
    changes: str | None


def usage_now_notes(
    *,
    shown: Measurement | None,
    measured_now: Measurement | None,
    interval: timedelta,
    next_sample_at: datetime | None,
) -> UsageNowNotes:
    """The notes for the sample ``shown`` when the cluster as seen now measures
    ``measured_now`` (``None``: not usable now); pure."""
    seconds = int(interval.total_seconds())
    when = f"next sample at {utc_text(next_sample_at)}" if next_sample_at else "next sample soon"
    schedule = (
        f"A sample every {seconds} s; {when}. Reports (/products and the others) and peaks "
        "change only at samples: a change in the cluster is counted at the next one."
    )
    if shown is None or measured_now is None or _same_usage(shown, measured_now):
        return UsageNowNotes(schedule, None)
    changed = _product_changes(shown.products, measured_now.products) or [
        "bundled products or services"
    ]
    listed = "; ".join(changed[:_LISTED])
    if len(changed) > _LISTED:
        listed += f"; and {len(changed) - _LISTED} more"
    at = f", at {utc_text(next_sample_at)}" if next_sample_at else ""
    return UsageNowNotes(
        schedule,
        f"The cluster has changed since this sample: {listed}. The change is counted at the "
        f"next sample{at}.",
    )


def _same_usage(first: Measurement, second: Measurement) -> bool:
    return (first.products, first.bundled_products, first.services) == (
        second.products,
        second.bundled_products,
        second.services,
    )


def _product_changes(before: Sequence[ProductUsage], after: Sequence[ProductUsage]) -> list[str]:
    """``IBM MQ (VIRTUAL_PROCESSOR_CORE) 4 → 6`` for each product whose quantity differs."""
    old = {(row.id, row.metric): row.quantity for row in before}
    new = {(row.id, row.metric): row.quantity for row in after}
    # Named as now, or as last seen for a product that is gone.
    names = {(row.id, row.metric): row.name for row in (*before, *after)}
    changes = []
    for key in sorted(old.keys() | new.keys(), key=lambda key: (names[key], key)):
        label = f"{names[key]} ({key[1]})"
        if key not in old:
            changes.append(f"{label} new: {new[key]}")
        elif key not in new:
            changes.append(f"{label} gone: was {old[key]}")
        elif old[key] != new[key]:
            changes.append(f"{label} {old[key]} → {new[key]}")
    return changes
