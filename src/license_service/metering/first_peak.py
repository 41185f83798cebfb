"""Which sample's breakdown a day keeps (SPEC 9): the first sample reaching its peak.

The peak's ``metricPeakDate`` points at a day; within it, the breakdown shown is that
of the earliest sample reaching the day's highest value, whatever order samples are
stored in.
"""

from __future__ import annotations

from datetime import datetime


def replaces(quantity: int, sample_at: datetime, kept: tuple[int, datetime]) -> bool:
    """Whether a row measured ``quantity`` at ``sample_at`` replaces the one ``kept``
    (quantity, sample instant): a higher quantity, or the same one reached earlier."""
    kept_quantity, kept_at = kept
    return quantity > kept_quantity or (quantity == kept_quantity and sample_at < kept_at)
