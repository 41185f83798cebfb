"""What a company bought (SPEC 13): entitlements, and the quantity in force on a day.

An ``Entitlement`` entitles a product (or a Cloud Pak, by its id) to ``quantity`` units
of ``metric`` on every UTC day from ``valid_from`` to ``valid_to``, both included; a
missing bound means no limit on that side. Entitlements of one product and metric
whose days overlap add up (a second purchase adds to the first). ``Entitlements`` is
the list in force, in the order of its file; pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from license_service.metering.periods import DatePeriod

ProductKey = tuple[str, str]
"""A product's (id, metric): what an entitlement and a row of ``/products`` share."""


@dataclass(frozen=True, slots=True)
class Entitlement:
    """One purchase: ``quantity`` of ``metric`` for ``product_id``, valid on its days."""

    name: str
    product_id: str
    metric: str
    quantity: Fraction
    valid_from: date | None = None
    valid_to: date | None = None

    @property
    def key(self) -> ProductKey:
        """The product's (id, metric)."""
        return (self.product_id, self.metric)

    def valid_on(self, day: date) -> bool:
        """Whether ``day`` lies within the entitlement's days."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )

    def overlaps(self, period: DatePeriod) -> bool:
        """Whether any day of ``period`` lies within the entitlement's days."""
        return (self.valid_from is None or self.valid_from <= period.last) and (
            self.valid_to is None or period.first <= self.valid_to
        )


@dataclass(frozen=True, slots=True)
class Entitlements:
    """The entitlements in force, in the order of their file (no entitlement: empty)."""

    items: tuple[Entitlement, ...] = ()
    _by_key: dict[ProductKey, tuple[Entitlement, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Reports ask per product and day: index the items by product once.
        by_key: dict[ProductKey, list[Entitlement]] = {}
        for item in self.items:
            by_key.setdefault(item.key, []).append(item)
        object.__setattr__(self, "_by_key", {k: tuple(v) for k, v in by_key.items()})

    def __iter__(self) -> Iterator[Entitlement]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def quantity_on(self, key: ProductKey, day: date) -> Fraction:
        """The quantity of ``key`` entitled on ``day``: the sum of the entitlements valid then."""
        return sum(
            (item.quantity for item in self._by_key.get(key, ()) if item.valid_on(day)),
            Fraction(0),
        )

    def in_force(self, day: date) -> dict[ProductKey, Fraction]:
        """Every product entitled on ``day``, with its quantity (overlaps added up)."""
        totals: dict[ProductKey, Fraction] = {}
        for item in self.items:
            if item.valid_on(day):
                totals[item.key] = totals.get(item.key, Fraction(0)) + item.quantity
        return totals

    def highest_in(self, key: ProductKey, period: DatePeriod) -> Fraction:
        """The highest quantity of ``key`` entitled on any day of ``period`` (0: none).

        The sum only changes on a first day of validity, so those days and the period's
        first day are the only ones to look at.
        """
        days = {period.first}
        days.update(
            item.valid_from
            for item in self.items
            if item.key == key
            and item.valid_from is not None
            and item.overlaps(period)
            and period.first <= item.valid_from
        )
        return max(self.quantity_on(key, day) for day in days)

    def names_in(self, period: DatePeriod) -> dict[ProductKey, str]:
        """The products with an entitlement overlapping ``period``, each with the name of its
        first such entitlement in the file."""
        names: dict[ProductKey, str] = {}
        for item in self.items:
            if item.overlaps(period):
                names.setdefault(item.key, item.name)
        return names
