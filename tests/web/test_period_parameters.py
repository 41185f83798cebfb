"""Reading the period, metric and format of a report request (SPEC 3, pure)."""

from __future__ import annotations

from datetime import date

import pytest

from license_service.errors import RequestError
from license_service.metering.periods import DatePeriod
from license_service.web.reports.period_parameters import (
    format_from,
    metric_from,
    period_from,
    report_query,
)

TODAY = date(2026, 11, 28)


def days(first: str, last: str) -> DatePeriod:
    return DatePeriod(date.fromisoformat(first), date.fromisoformat(last))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({}, days("2026-10-30", "2026-11-28"), id="neither-is-the-30-days-to-today"),
        pytest.param(
            {"dateFrom": "2026-11-01", "dateTo": "2026-11-05"},
            days("2026-11-01", "2026-11-05"),
            id="dateFrom-dateTo",
        ),
        pytest.param(
            {"startDate": "2026-11-01", "endDate": "2026-11-05"},
            days("2026-11-01", "2026-11-05"),
            id="startDate-endDate",
        ),
        pytest.param(
            {"dateFrom": "2026-11-01", "endDate": "2026-11-05"},
            days("2026-11-01", "2026-11-05"),
            id="spellings-mixed",
        ),
        pytest.param(
            {"dateFrom": "2026-11-01", "startDate": "2026-11-01", "dateTo": "2026-11-02"},
            days("2026-11-01", "2026-11-02"),
            id="both-spellings-agreeing",
        ),
        pytest.param(
            {"dateFrom": "2026-11-28", "dateTo": "2026-11-28"},
            days("2026-11-28", "2026-11-28"),
            id="today-alone",
        ),
        pytest.param(
            {"dateFrom": "2024-11-28", "dateTo": "2026-11-28"},
            days("2024-11-28", "2026-11-28"),
            id="731-days",
        ),
        pytest.param(
            {"dateFrom": "", "dateTo": ""}, days("2026-10-30", "2026-11-28"), id="empty-is-absent"
        ),
        pytest.param(
            {"dateFrom": "2026-11-01", "dateTo": "2026-11-02", "color": "blue"},
            days("2026-11-01", "2026-11-02"),
            id="unknown-parameter-ignored",
        ),
    ],
)
def test_a_valid_query_gives_its_period(query: dict[str, str], expected: DatePeriod) -> None:
    assert period_from(query, today=TODAY) == expected


@pytest.mark.parametrize(
    ("query", "message_parts"),
    [
        pytest.param(
            {"dateFrom": "2026-11-01"},
            ["dateFrom", "without dateTo or endDate"],
            id="dateFrom-alone",
        ),
        pytest.param(
            {"endDate": "2026-11-01"},
            ["endDate", "without dateFrom or startDate"],
            id="endDate-alone",
        ),
        pytest.param(
            {"dateFrom": "2026-11-01", "dateTo": "01/11/2026"},
            ["dateTo is not a date", "YYYY-MM-DD"],
            id="malformed",
        ),
        pytest.param(
            {"dateFrom": "2026-02-30", "dateTo": "2026-03-01"},
            ["dateFrom is not a date", "day is out of range", "YYYY-MM-DD"],
            id="no-such-day",
        ),
        pytest.param(
            {"dateFrom": "2026-W45-1", "dateTo": "2026-11-05"},
            ["dateFrom is not a date"],
            id="iso-week-date-refused",
        ),
        pytest.param(
            {"dateFrom": "20261101", "dateTo": "2026-11-05"},
            ["dateFrom is not a date"],
            id="basic-format-refused",
        ),
        pytest.param(
            {"dateFrom": "2026-11-05", "dateTo": "2026-11-01"},
            ["dateFrom 2026-11-05 is after dateTo 2026-11-01", "swap"],
            id="from-after-to",
        ),
        pytest.param(
            {"startDate": "2026-11-05", "endDate": "2026-11-01"},
            ["startDate 2026-11-05 is after endDate 2026-11-01"],
            id="from-after-to-other-spelling",
        ),
        pytest.param(
            {"dateFrom": "2026-11-01", "dateTo": "2026-11-29"},
            ["dateTo 2026-11-29 is after today (2026-11-28, UTC)"],
            id="to-after-today",
        ),
        pytest.param(
            {"dateFrom": "2024-11-27", "dateTo": "2026-11-28"},
            ["spans 732 days", "more than the 731 allowed"],
            id="732-days",
        ),
        pytest.param(
            {"dateFrom": "2026-11-01", "startDate": "2026-11-02", "dateTo": "2026-11-05"},
            ["dateFrom=2026-11-01 and startDate=2026-11-02 disagree", "give only one"],
            id="spellings-disagree",
        ),
    ],
)
def test_a_refused_query_says_what_was_wrong(
    query: dict[str, str], message_parts: list[str]
) -> None:
    with pytest.raises(RequestError) as raised:
        period_from(query, today=TODAY)
    for part in message_parts:
        assert part in str(raised.value)


@pytest.mark.parametrize("name", ["dateFrom", "dateTo", "startDate", "endDate"])
@pytest.mark.parametrize(
    "value", ["Hx7Kp2Qm9Zr4Wt6Yv8Bn3Cd5", "01/11/2026", "2026-02-30", "<script>", "a\nb"]
)
def test_a_refused_value_is_never_echoed(name: str, value: str) -> None:
    other = "dateTo" if name in {"dateFrom", "startDate"} else "dateFrom"
    with pytest.raises(RequestError) as raised:
        period_from({name: value, other: "2026-11-01"}, today=TODAY)
    assert value not in str(raised.value)
    assert f"{name} is not a date" in str(raised.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, "json"), ("", "json"), ("json", "json"), ("csv", "csv"), ("CSV", "csv")],
)
def test_format_is_json_unless_csv_is_asked(raw: str | None, expected: str) -> None:
    query = {} if raw is None else {"format": raw}
    assert format_from(query) == expected


def test_an_unknown_format_is_refused_with_the_choices() -> None:
    with pytest.raises(
        RequestError, match=r"this format is not supported: use format=csv"
    ) as raised:
        format_from({"format": "xml"})
    assert "xml" not in str(raised.value)


def test_report_query_reads_metric_and_treats_an_empty_one_as_no_filter() -> None:
    query = report_query({"metricName": "PROCESSOR_VALUE_UNIT", "format": "csv"}, today=TODAY)
    assert (query.metric, query.format) == ("PROCESSOR_VALUE_UNIT", "csv")
    assert report_query({"metricName": ""}, today=TODAY).metric is None


@pytest.mark.parametrize("metric", ["\x00", "VPC\x00", "a\nb", "\ud800", "\u202eCPV", "\t"])
def test_a_metric_name_no_stored_metric_can_hold_is_refused_naming_the_character(
    metric: str,
) -> None:
    with pytest.raises(RequestError, match=r"^metricName holds character .* \(U\+") as raised:
        metric_from({"metricName": metric})

    assert metric not in str(raised.value)


def test_a_metric_name_of_any_script_is_kept() -> None:
    assert metric_from({"metricName": "VIRTUAL_PROCESSOR_CORE"}) == "VIRTUAL_PROCESSOR_CORE"
    assert metric_from({"metricName": "ユーザー"}) == "ユーザー"
    assert metric_from({"metricName": ""}) is None
