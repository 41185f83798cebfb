"""The pictures of ``/status`` (SPEC 13): each product's daily peaks with its entitlement.

``usage_charts`` turns the period's daily peaks of ``/products`` rows and the entitlements
into ``UsageChart`` values: coordinates and text only, which the template draws as inline
SVG (no script, no external resource, no style attribute: the page's CSP is unchanged).
Each chart is accessible: a ``<title>`` and ``<desc>`` saying what it shows and its
figures, every point carrying its day and value, and the numbers as a table beside it.
A day without data has no point (the line breaks there: no data is not zero). The
entitlement is drawn as a step line of the quantity entitled on each day. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Final

from license_service.formats.decimal_numbers import decimal_text
from license_service.metering.entitlements import Entitlements, ProductKey
from license_service.metering.periods import DatePeriod

WIDTH: Final = 640
HEIGHT: Final = 180
LEFT: Final = 48
RIGHT: Final = 16
TOP: Final = 12
BOTTOM: Final = 28
MAX_CHARTS: Final = 40
"""More products than this are listed in the tables only: the page stays light."""


@dataclass(frozen=True, slots=True)
class ChartPoint:
    """One daily peak: its day, quantity and place in the picture."""

    day: str
    quantity: int
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class UsageChart:
    """One product's picture: title, description, points, line segments and entitlement."""

    id: str
    title: str
    description: str
    points: tuple[ChartPoint, ...]
    segments: tuple[str, ...]
    """SVG ``points`` of each run of consecutive days with data."""
    entitlement_path: str | None
    """SVG path ``d`` of the quantity entitled per day, or ``None`` without an entitlement."""
    top_label: str
    first_day: str
    last_day: str
    numbers: tuple[tuple[str, str, str], ...]
    """(day, daily peak or "no data", entitled) for every day of the period."""
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    bottom_y: int = HEIGHT - BOTTOM
    right_x: int = WIDTH - RIGHT


def usage_charts(
    daily: Mapping[ProductKey, Mapping[date, int]],
    names: Mapping[ProductKey, str],
    entitlements: Entitlements,
    *,
    period: DatePeriod,
) -> list[UsageChart]:
    """A chart per product of ``daily`` (its daily peaks by day), in the order of ``names``."""
    charts = []
    for index, (key, name) in enumerate(list(names.items())[:MAX_CHARTS]):
        charts.append(
            _chart(
                f"usage-chart-{index}",
                name,
                key,
                daily.get(key, {}),
                entitlements,
                period=period,
            )
        )
    return charts


def _chart(
    chart_id: str,
    name: str,
    key: ProductKey,
    peaks: Mapping[date, int],
    entitlements: Entitlements,
    *,
    period: DatePeriod,
) -> UsageChart:
    days = list(period)
    entitled = [entitlements.quantity_on(key, day) for day in days]
    top = max([Fraction(1), *map(Fraction, peaks.values()), *entitled])
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(index: int) -> float:
        return round(LEFT + plot_width * index / max(len(days) - 1, 1), 2)

    def y_of(value: Fraction | int) -> float:
        return round(TOP + plot_height * float(1 - Fraction(value) / top), 2)

    points = tuple(
        ChartPoint(day.isoformat(), peaks[day], x_of(index), y_of(peaks[day]))
        for index, day in enumerate(days)
        if day in peaks
    )
    product_id, metric = key
    highest = max(peaks.values(), default=None)
    peak_text = (
        f"highest daily peak {highest} on "
        f"{min(day for day, value in peaks.items() if value == highest).isoformat()}"
        if highest is not None
        else "no data in the period"
    )
    entitled_text = (
        f"entitled {decimal_text(entitled[-1])} on {days[-1].isoformat()}"
        if any(entitled)
        else "no entitlement"
    )
    return UsageChart(
        id=chart_id,
        title=f"Daily peaks of {name} ({product_id}, {metric}) with its entitlement",
        description=(
            f"{len(points)} days with data from {period.first.isoformat()} to "
            f"{period.last.isoformat()}; {peak_text}; {entitled_text}."
        ),
        points=points,
        segments=tuple(_segments(points, days)),
        entitlement_path=_step_path(entitled, x_of, y_of) if any(entitled) else None,
        top_label=decimal_text(top),
        first_day=days[0].isoformat(),
        last_day=days[-1].isoformat(),
        numbers=tuple(
            (
                day.isoformat(),
                str(peaks[day]) if day in peaks else "no data",
                decimal_text(quantity),
            )
            for day, quantity in zip(days, entitled, strict=True)
        ),
    )


def _segments(points: Sequence[ChartPoint], days: Sequence[date]) -> Iterable[str]:
    """The SVG ``points`` of each run of points on consecutive days."""
    position = {day.isoformat(): index for index, day in enumerate(days)}
    run: list[ChartPoint] = []
    for point in points:
        if run and position[point.day] != position[run[-1].day] + 1:
            yield " ".join(f"{p.x},{p.y}" for p in run)
            run = []
        run.append(point)
    if run:
        yield " ".join(f"{p.x},{p.y}" for p in run)


def _step_path(
    entitled: Sequence[Fraction],
    x_of: Callable[[int], float],
    y_of: Callable[[Fraction | int], float],
) -> str:
    """A step line: the quantity of each day held from that day's x to the next day's."""
    parts = [f"M {x_of(0)} {y_of(entitled[0])}"]
    for index in range(1, len(entitled)):
        parts.append(f"H {x_of(index)}")
        if entitled[index] != entitled[index - 1]:
            parts.append(f"V {y_of(entitled[index])}")
    return " ".join(parts)
