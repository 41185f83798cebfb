"""The items of an upload request (SPEC 10), checked all at once: every value, or the first fault.

``upload_submissions`` takes the decoded JSON body (numbers as ``int`` or ``Decimal``,
never ``float``, so ``0.1`` stays exact) and today's UTC day, and returns the
``Submission`` of every item, or raises ``UploadItemError`` naming the item's index, the
field and how to fix it. A request is all or nothing, so one bad item refuses all.

The fields are exactly SPEC 10's; an unknown field is refused (a misspelt
``metricvalue`` would otherwise be a missing value); ``logDate`` is ``date``'s alias.
Pure: no I/O; today is a parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final

from license_service.errors import InputError, InvalidRatioError
from license_service.formats.unsafe_characters import unsafe_text_reason
from license_service.metering.ratios import ONE_TO_ONE, parse_ratio
from license_service.metering.uploads import AggregationPolicy, Submission

MAX_ITEMS: Final = 1_000
"""The most items one request may carry (SPEC 10)."""
MAX_DAYS_BACK: Final = 731
"""How far back ``date`` may go: the retention of daily peaks (SPEC 2.7, 10)."""
MAX_TEXT_LENGTH: Final = 256
MAX_VALUE: Final = Decimal(10) ** 15
MAX_DECIMALS: Final = 9
FIELDS: Final = (
    "productId",
    "productName",
    "productMetric",
    "metricValue",
    "aggregationPolicy",
    "cloudpakId",
    "cloudpakName",
    "cloudpakMetric",
    "productCloudpakRatio",
    "date",
    "logDate",
    "submissionId",
)
_DAY: Final = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_POLICIES: Final = ", ".join(policy.value for policy in AggregationPolicy)


class UploadItemError(InputError):
    """An upload item that cannot be accepted: its index, the field, and the fix."""

    def __init__(self, index: int | None, field: str | None, message: str) -> None:
        where = [] if index is None else [f"item {index}"]
        if field is not None:
            where.append(f"field {field}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.index = index
        self.field = field


def upload_submissions(body: Any, *, today: date) -> list[Submission]:
    """Every item of ``body`` (one object, or an array of 1 to ``MAX_ITEMS``) as a submission."""
    items = body if isinstance(body, list) else [body]
    if isinstance(body, list):
        if not body:
            raise UploadItemError(None, None, "the array is empty; send at least one item")
        if len(body) > MAX_ITEMS:
            raise UploadItemError(
                None,
                None,
                f"the array has {len(body):,} items, more than the {MAX_ITEMS:,} one request "
                "may carry; split it into several requests",
            )
    return [_submission(index, item, today=today) for index, item in enumerate(items)]


def _submission(index: int, item: Any, *, today: date) -> Submission:
    if not isinstance(item, Mapping):
        raise UploadItemError(
            index, None, f'is {_json_kind(item)}, not an object; send {{"productId": ..., ...}}'
        )
    for name in item:
        if name not in FIELDS:
            raise UploadItemError(
                index, str(name)[:64], f"is not a field of an upload; use only {', '.join(FIELDS)}"
            )
    text = _TextFields(index, item)
    product_metric = text.required("productMetric")
    cloudpak_id = text.optional("cloudpakId")
    cloudpak_name = text.optional("cloudpakName")
    cloudpak_metric = text.optional("cloudpakMetric")
    raw_ratio = text.optional("productCloudpakRatio")
    if cloudpak_id == "":
        for name, value in (
            ("cloudpakName", cloudpak_name),
            ("cloudpakMetric", cloudpak_metric),
            ("productCloudpakRatio", raw_ratio),
        ):
            if value:
                raise UploadItemError(
                    index, name, "is given without cloudpakId; add cloudpakId, or leave it out"
                )
    elif cloudpak_name == "":
        raise UploadItemError(
            index, "cloudpakName", "is required with cloudpakId; give the Cloud Pak's name"
        )
    try:
        ratio = parse_ratio(raw_ratio) if cloudpak_id else ONE_TO_ONE
    except InvalidRatioError as exc:
        raise UploadItemError(index, "productCloudpakRatio", str(exc)) from exc
    return Submission(
        day=_day(index, item, today=today),
        product_id=text.required("productId"),
        product_name=text.required("productName"),
        metric=product_metric,
        value=_value(index, item),
        policy=_policy(index, item),
        cloudpak_id=cloudpak_id,
        cloudpak_name=cloudpak_name,
        cloudpak_metric=(cloudpak_metric or product_metric) if cloudpak_id else "",
        ratio=ratio,
        submission_id=text.optional("submissionId") or None,
    )


class _TextFields:
    """The text fields of one item, each checked when read."""

    def __init__(self, index: int, item: Mapping[str, Any]) -> None:
        self._index = index
        self._item = item

    def required(self, name: str) -> str:
        value = self.optional(name)
        if value == "":
            raise UploadItemError(self._index, name, "is required; give a non-empty text")
        return value

    def optional(self, name: str) -> str:
        value = self._item.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise UploadItemError(
                self._index, name, f"is {_json_kind(value)}; give a text in double quotes"
            )
        value = value.strip()
        if len(value) > MAX_TEXT_LENGTH:
            raise UploadItemError(
                self._index,
                name,
                f"has {len(value)} characters, more than {MAX_TEXT_LENGTH}; shorten it",
            )
        reason = unsafe_text_reason(value)
        if reason is not None:
            raise UploadItemError(self._index, name, reason)
        return value


def _value(index: int, item: Mapping[str, Any]) -> Decimal:
    raw = item.get("metricValue")
    if raw is None:
        raise UploadItemError(index, "metricValue", "is required; give a number >= 0")
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal):
        raise UploadItemError(
            index, "metricValue", f"is {_json_kind(raw)}, not a number; give e.g. 12 or 2.5"
        )
    value = Decimal(raw)
    if not value.is_finite():
        raise UploadItemError(index, "metricValue", "is not a finite number; give e.g. 12")
    if value < 0:
        raise UploadItemError(index, "metricValue", f"{value} is negative; give a number >= 0")
    if value >= MAX_VALUE:
        raise UploadItemError(
            index, "metricValue", f"{value:.3E} is too large; give a number below 10^15"
        )
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMALS:
        raise UploadItemError(
            index, "metricValue", f"has more than {MAX_DECIMALS} decimals; round it"
        )
    return value.normalize() if value else Decimal(0)


def _policy(index: int, item: Mapping[str, Any]) -> AggregationPolicy:
    raw = item.get("aggregationPolicy")
    if raw is None:
        return AggregationPolicy.MAX
    if isinstance(raw, str) and raw in AggregationPolicy.__members__:
        return AggregationPolicy(raw)
    shown = repr(raw[:32]) if isinstance(raw, str) else _json_kind(raw)
    raise UploadItemError(index, "aggregationPolicy", f"{shown} is not a policy; use {_POLICIES}")


def _day(index: int, item: Mapping[str, Any], *, today: date) -> date:
    given = {name: item[name] for name in ("date", "logDate") if item.get(name) is not None}
    if not given:
        return today
    days = {name: _parsed_day(index, name, value) for name, value in given.items()}
    if len(set(days.values())) > 1:
        raise UploadItemError(index, "logDate", "differs from date (its alias); give one of them")
    name, day = next(iter(days.items()))
    if day > today:
        raise UploadItemError(
            index, name, f"{day} is in the future (today is {today}, UTC); give today or earlier"
        )
    # The 731 days ending today: the days whose peaks are kept (store.retention).
    oldest = today - timedelta(days=MAX_DAYS_BACK - 1)
    if day < oldest:
        raise UploadItemError(
            index,
            name,
            f"{day} is before the {MAX_DAYS_BACK} days ending today that usage is kept for; "
            f"give {oldest} or later",
        )
    return day


def _parsed_day(index: int, name: str, value: Any) -> date:
    if isinstance(value, str) and _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    shown = repr(value[:32]) if isinstance(value, str) else _json_kind(value)
    raise UploadItemError(index, name, f"{shown} is not a day; write YYYY-MM-DD (UTC)")


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, int | Decimal):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
