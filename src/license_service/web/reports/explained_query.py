"""The query of ``/usage_explained`` (SPEC 9), read into what it asks for; pure.

``productId`` and ``metricName`` are required; ``date`` (``YYYY-MM-DD``, UTC, not in
the future) is optional: without it, the day the product peaked in the default period.
``cloudpakId`` chooses among the Cloud Paks a bundled product is counted towards
(needed only when there are several). ``format`` is ``json`` or ``csv``. ``groupName``
asks for a chargeback group's breakdown, and is refused while chargeback is off exactly
as the group reports refuse it (SPEC 8: never the whole cluster's numbers silently).
Every refusal raises ``RequestError`` naming the parameter and the fix,
never echoing the value sent (it may be a token pasted into the wrong parameter).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final

from license_service.errors import RequestError
from license_service.formats.unsafe_characters import first_unsafe_character
from license_service.metering.periods import EARLIEST_DATE
from license_service.web.reports.group_reports import group_from
from license_service.web.reports.period_parameters import ReportFormat, format_from

_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


@dataclass(frozen=True, slots=True)
class ExplainedQuery:
    """What a ``/usage_explained`` request asks for."""

    product_id: str
    metric: str
    day: date | None
    cloudpak_id: str | None
    format: ReportFormat
    group: str | None = None


def explained_query(
    query: Mapping[str, str], *, today: date, chargeback_enabled: bool = False
) -> ExplainedQuery:
    """Read a ``/usage_explained`` query; ``RequestError`` for what cannot be used; pure."""
    group = group_from(query, chargeback_enabled=chargeback_enabled)
    return ExplainedQuery(
        product_id=_required(query, "productId", example="productId=<id as /products lists it>"),
        metric=_required(query, "metricName", example="metricName=VIRTUAL_PROCESSOR_CORE"),
        day=_day(query.get("date") or None, today=today),
        cloudpak_id=_optional(query, "cloudpakId"),
        format=format_from(query),
        group=group,
    )


def _required(query: Mapping[str, str], name: str, *, example: str) -> str:
    value = _optional(query, name)
    if value is None:
        raise RequestError(f"{name} is required: give it as /products lists it, e.g. {example}")
    return value


def _optional(query: Mapping[str, str], name: str) -> str | None:
    value = query.get(name) or None
    found = None if value is None else first_unsafe_character(value)
    if found is not None:
        raise RequestError(
            f"{name} holds {found.describe()}, which no stored name can hold: give it as "
            "/products and /bundled_products list it"
        )
    return value


def _day(raw: str | None, *, today: date) -> date | None:
    if raw is None:
        return None
    hint = "write the date as YYYY-MM-DD, e.g. 2026-11-02, or leave it out for the peak day"
    if not _ISO_DATE.fullmatch(raw):
        raise RequestError(f"date is not a date: {hint}")
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise RequestError(f"date is not a date: {exc}; {hint}") from exc
    if day > today:
        raise RequestError(
            f"date {day.isoformat()} is after today ({today.isoformat()}, UTC): there is no "
            "usage of future days; ask for today or an earlier day"
        )
    if day < EARLIEST_DATE:
        raise RequestError(
            f"date {day.isoformat()} is before {EARLIEST_DATE.isoformat()}: there is no data "
            "from before then"
        )
    return day
