"""Uploaded usage (SPEC 10): a submission, and the day values its aggregation policy gives.

Some licenses count units no pod shows (API calls per month, authorised users); their
products push values through ``POST /v2/metric_upload``. One accepted item is a
``Submission``. ``uploaded_days`` turns the submissions of a product into the usage rows
of each day, by the product's policy, per row key (a stand-alone product: id and
metric; a bundled product: its Cloud Pak, Cloud Pak metric, id, metric and ratio):

- ``MAX``: the day's value is the highest value submitted for that day;
- ``ADD``: the sum of the day's submissions;
- ``ADD_MONTHLY``: the sum of the submissions from the first of the day's calendar
  month through that day (a running monthly total that starts again each month). A
  day has a value only when something was submitted for it: days without data have
  no data, as days without samples (SPEC 2.7).

A day's value is rounded up to a whole number, as measured values are (SPEC 2.5,
2.6), so uploaded rows have the measured rows' shape (``usage_rows``); a bundled
product's value is then converted by its ratio. Names are those of the latest
submission received for the row key up to that day. Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Context, Decimal, localcontext
from enum import StrEnum
from typing import Final

from license_service.metering.ratios import ONE_TO_ONE, Ratio
from license_service.metering.usage_rows import BundledProductUsage, ProductUsage

_EXACT: Final = Context(prec=60)
"""Enough digits for any sum of 731 days of values below 10^15 with 9 decimals."""


class AggregationPolicy(StrEnum):
    """How submissions for one product and metric make a day's value (SPEC 10)."""

    MAX = "MAX"
    ADD = "ADD"
    ADD_MONTHLY = "ADD_MONTHLY"


@dataclass(frozen=True, slots=True)
class Submission:
    """One accepted upload item: a value for a product and metric on a UTC day.

    ``cloudpak_id`` is empty for a stand-alone product; ``cloudpak_metric`` is then empty
    too. ``submission_id`` is the client's idempotency key, if it gave one.
    """

    day: date
    product_id: str
    product_name: str
    metric: str
    value: Decimal
    policy: AggregationPolicy = AggregationPolicy.MAX
    cloudpak_id: str = ""
    cloudpak_name: str = ""
    cloudpak_metric: str = ""
    ratio: Ratio = ONE_TO_ONE
    submission_id: str | None = field(default=None, compare=False)

    @property
    def bundled(self) -> bool:
        """Whether the product counts towards a Cloud Pak."""
        return self.cloudpak_id != ""

    @property
    def policy_key(self) -> tuple[str, str]:
        """What keeps one policy: the product and its metric (SPEC 10)."""
        return (self.product_id, self.metric)

    @property
    def row_key(self) -> Hashable:
        """The key of the usage row the submission counts in (``usage_rows``' keys)."""
        if self.bundled:
            return (
                self.cloudpak_id,
                self.cloudpak_metric,
                self.product_id,
                self.metric,
                self.ratio,
            )
        return (self.product_id, self.metric)


@dataclass(frozen=True, slots=True)
class UploadedDay:
    """The uploaded usage rows of one day: stand-alone products and bundled products."""

    products: tuple[ProductUsage, ...] = ()
    bundled_products: tuple[BundledProductUsage, ...] = ()


def month_start(day: date) -> date:
    """The first day of ``day``'s calendar month: where an ``ADD_MONTHLY`` total starts."""
    return day.replace(day=1)


def month_end(day: date) -> date:
    """The last day of ``day``'s calendar month."""
    next_month = day.replace(day=28) + timedelta(days=4)
    return next_month - timedelta(days=next_month.day)


def uploaded_days(
    submissions: Iterable[Submission], *, first: date, last: date
) -> dict[date, UploadedDay]:
    """The uploaded rows of each day from ``first`` to ``last`` that has any, by day.

    ``submissions`` come in the order received and must include, for an
    ``ADD_MONTHLY`` product, those since the first of ``first``'s month.
    """
    by_key: dict[Hashable, list[Submission]] = defaultdict(list)
    for submission in submissions:
        by_key[submission.row_key].append(submission)
    products: dict[date, list[ProductUsage]] = defaultdict(list)
    bundled: dict[date, list[BundledProductUsage]] = defaultdict(list)
    for key_submissions in by_key.values():
        for day, value, latest in _day_values(key_submissions):
            if not first <= day <= last:
                continue
            whole = math.ceil(value)
            if latest.bundled:
                bundled[day].append(_bundled_row(latest, whole))
            else:
                products[day].append(
                    ProductUsage(latest.product_name, latest.product_id, latest.metric, whole)
                )
    return {
        day: UploadedDay(tuple(sorted(products[day])), tuple(sorted(bundled[day])))
        for day in sorted({*products, *bundled})
    }


def _day_values(submissions: Sequence[Submission]) -> Iterable[tuple[date, Decimal, Submission]]:
    """Each day with submissions of one row key: its value by the policy, and the latest
    submission received for the key up to that day (whose names the row carries).

    ``submissions`` are in the order received. Sums are exact: values have at most 9
    decimals and 15 digits before the point, far within the context's precision.
    """
    days: dict[date, list[tuple[int, Submission]]] = defaultdict(list)
    for position, submission in enumerate(submissions):
        days[submission.day].append((position, submission))
    latest_position, latest = -1, submissions[0]
    month: date | None = None
    running = Decimal(0)
    with localcontext(_EXACT):
        for day in sorted(days):
            todays = days[day]
            last_position, last = todays[-1]
            if last_position > latest_position:
                latest_position, latest = last_position, last
            policy = last.policy
            if policy is AggregationPolicy.MAX:
                yield day, max(s.value for _, s in todays), latest
            elif policy is AggregationPolicy.ADD:
                yield day, sum((s.value for _, s in todays), Decimal(0)), latest
            else:
                if month != month_start(day):
                    month, running = month_start(day), Decimal(0)
                running += sum((s.value for _, s in todays), Decimal(0))
                yield day, running, latest


def _bundled_row(submission: Submission, whole: int) -> BundledProductUsage:
    return BundledProductUsage(
        product_name=submission.product_name,
        product_id=submission.product_id,
        cloudpak_id=submission.cloudpak_id,
        cloudpak_name=submission.cloudpak_name,
        cloudpak_version="",
        cloudpak_metric=submission.cloudpak_metric,
        metric=submission.metric,
        measured_quantity=whole,
        conversion=submission.ratio,
    )


@dataclass(frozen=True, slots=True)
class DayUpload:
    """The uploaded value of one usage row on one day (rounded up, before any Cloud Pak
    conversion) and the positions of the submissions that make it (SPEC 10)."""

    quantity: int
    making: tuple[int, ...]


def day_upload(submissions: Sequence[Submission], *, day: date) -> DayUpload | None:
    """The uploaded value of ``day`` of one row key's ``submissions`` (in the order
    received, from the first of ``day``'s month), as ``uploaded_days`` makes it, and
    which submissions make it: the day's own (``MAX``, ``ADD``), or those of its month
    through that day (``ADD_MONTHLY``). ``None``: nothing was uploaded for that day."""
    todays = [index for index, submission in enumerate(submissions) if submission.day == day]
    if not todays:
        return None
    if submissions[todays[-1]].policy is AggregationPolicy.ADD_MONTHLY:
        first = month_start(day)
        making = [index for index, s in enumerate(submissions) if first <= s.day <= day]
    else:
        making = todays
    uploaded = uploaded_days([submissions[index] for index in making], first=day, last=day)[day]
    rows = uploaded.products or uploaded.bundled_products
    quantity = (
        uploaded.products[0].quantity
        if uploaded.products
        else uploaded.bundled_products[0].measured_quantity
    )
    assert len(rows) == 1  # one row key's submissions make one row
    return DayUpload(quantity, tuple(making))
