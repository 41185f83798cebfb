"""The chart geometry of ``/status`` (SPEC 13): points, gaps, the entitlement's steps, text."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from license_service.metering.entitlements import Entitlement, Entitlements
from license_service.metering.periods import DatePeriod
from license_service.web.pages.usage_charts import (
    BOTTOM,
    HEIGHT,
    LEFT,
    TOP,
    UsageChart,
    usage_charts,
)

PERIOD = DatePeriod(date(2026, 11, 1), date(2026, 11, 5))
KEY = ("mq", "VIRTUAL_PROCESSOR_CORE")


def chart(peaks: dict[int, int], entitlements: Entitlements | None = None) -> UsageChart:
    [drawn] = usage_charts(
        {KEY: {date(2026, 11, day): value for day, value in peaks.items()}},
        {KEY: "MQ"},
        entitlements or Entitlements(),
        period=PERIOD,
    )
    return drawn


def test_points_are_the_daily_peaks_and_a_missing_day_breaks_the_line() -> None:
    drawn = chart({1: 2, 2: 4, 4: 1, 5: 4})
    assert [(p.day, p.quantity) for p in drawn.points] == [
        ("2026-11-01", 2), ("2026-11-02", 4), ("2026-11-04", 1), ("2026-11-05", 4),
    ]  # fmt: skip
    assert len(drawn.segments) == 2
    by_value = {p.quantity: p.y for p in drawn.points}
    assert by_value[4] == TOP  # the highest value at the top
    assert by_value[1] > by_value[2] > by_value[4]
    assert drawn.points[0].x == LEFT
    assert drawn.entitlement_path is None
    assert "no entitlement" in drawn.description
    assert drawn.numbers[2] == ("2026-11-03", "no data", "0")


def test_the_entitlement_is_a_step_line_and_sets_the_scale_when_higher() -> None:
    bought = Entitlements(
        (
            Entitlement("MQ", *KEY, quantity=Fraction(5)),
            Entitlement("MQ", *KEY, quantity=Fraction(3), valid_from=date(2026, 11, 3)),
        )
    )
    drawn = chart({1: 4}, bought)
    assert drawn.top_label == "8"
    plot = HEIGHT - TOP - BOTTOM
    five, eight = TOP + plot * (1 - 5 / 8), TOP
    assert drawn.entitlement_path is not None
    # 5 on the 1st and 2nd, 8 from the 3rd (the second purchase): one step up, at the 3rd.
    third = LEFT + (640 - LEFT - 16) * 2 / 4
    assert drawn.entitlement_path == (
        f"M {float(LEFT)} {five} H {LEFT + (640 - LEFT - 16) / 4} H {third} V {float(eight)} "
        f"H {LEFT + (640 - LEFT - 16) * 3 / 4} H {640.0 - 16}"
    )
    assert "entitled 8 on 2026-11-05" in drawn.description
    assert "highest daily peak 4 on 2026-11-01" in drawn.description
