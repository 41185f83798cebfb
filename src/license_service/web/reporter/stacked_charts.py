"""The pictures of the Reporter's page (SPEC 11): a key's daily fleet sum stacked by cluster.

``stacked_chart`` turns one product's (or Cloud Pak's) daily fleet sums and the daily
values of its largest clusters into a ``StackedChart``: coordinates and text only,
which the template draws as inline SVG bars (no script, no style attribute: the page's
CSP is unchanged), in the frame of License Service's usage charts (``usage_charts``:
same size, margins and axes). Each day is one column; each band (a cluster, and one
"other clusters" band for what the largest do not hold) one bar in it, of
the height of that cluster's daily peak, stacked in the band order from the axis up,
so each column is as high as the fleet's daily sum. A day without a value draws
nothing. Each chart is accessible as License Service's are: a ``<title>``, a
``<desc>`` with its figures, a legend, and the numbers as a table. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from license_service.metering.periods import DatePeriod
from license_service.web.pages.usage_charts import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH

MAX_BANDS: Final = 6
"""Bands per chart: the largest clusters, and "others" for the rest when there are more."""
COLOURS: Final = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00")
"""Okabe and Ito's palette, told apart by most colour-blind readers too."""
OTHERS_COLOUR: Final = "#8c8c8c"
PLOT_HEIGHT: Final = HEIGHT - TOP - BOTTOM
PLOT_WIDTH: Final = WIDTH - LEFT - RIGHT


@dataclass(frozen=True, slots=True)
class ClusterSeries:
    """One cluster's daily peaks of the charted key."""

    cluster_id: str
    cluster_name: str
    values: Mapping[date, int]


@dataclass(frozen=True, slots=True)
class Bar:
    """One band's value on one day, and its rectangle."""

    day: str
    quantity: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Band:
    """A cluster (or the others together) in a chart: its colour, label and bars."""

    id: str
    """The cluster id; empty for the others."""
    label: str
    colour: str
    bars: tuple[Bar, ...]
    highest: int
    others: bool = False
    """The band of the clusters not drawn on their own."""


@dataclass(frozen=True, slots=True)
class StackedChart:
    """One key's picture: its title, description, bands and numbers."""

    id: str
    product_id: str
    metric: str
    title: str
    description: str
    bands: tuple[Band, ...]
    top_value: int
    """The value at the top of the plot (``top_label``); a bar's height is its
    quantity times ``plot_height / top_value``."""
    top_label: str
    first_day: str
    last_day: str
    numbers_head: tuple[str, ...]
    numbers: tuple[tuple[str | int, ...], ...]
    """Per day: the day, each band's value, the fleet's daily sum (or "no data")."""
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    bottom_y: int = HEIGHT - BOTTOM
    right_x: int = WIDTH - RIGHT
    plot_height: int = PLOT_HEIGHT

    @property
    def bars(self) -> int:
        """How many rectangles the chart draws (the page's budget counts them)."""
        return sum(len(band.bars) for band in self.bands)


def shown_clusters(ranked: Sequence[str]) -> list[str]:
    """The clusters whose values a chart needs, of ``ranked`` (largest first)."""
    return list(ranked[:MAX_BANDS])


def stacked_chart(
    chart_id: str,
    *,
    name: str,
    key: tuple[str, str],
    period: DatePeriod,
    fleet: Mapping[date, int],
    clusters: Sequence[ClusterSeries],
) -> StackedChart:
    """The chart of ``key`` over ``period``: ``fleet`` its daily sums, ``clusters`` the
    largest clusters' daily values, largest first, each a band from the bottom up.

    What the fleet sums hold beyond them is one "other clusters" band; when there is
    such a rest, it takes the ``MAX_BANDS``-th cluster too, so no chart has more bands.
    """
    days = list(period)
    shown = list(clusters[:MAX_BANDS])
    rest = _rest(fleet, shown)
    if any(rest.values()) and len(shown) == MAX_BANDS:
        shown = shown[:-1]
        rest = _rest(fleet, shown)
    series = [(c.cluster_id, _label(c), c.values, False) for c in shown]
    if any(rest.values()):
        series.append(("", "other clusters", rest, True))
    top_value = max([1, *fleet.values()])
    slot = PLOT_WIDTH / len(days)
    # Columns of a few pixels and more get a gap, so that neighbouring days stay apart.
    width = round(slot * 0.8 if slot >= 4 else slot, 2)
    bottom = HEIGHT - BOTTOM

    def y_of(value: int) -> float:
        return round(bottom - PLOT_HEIGHT * value / top_value, 2)

    below = dict.fromkeys(days, 0)
    bands = []
    for index, (cluster_id, label, values, others) in enumerate(series):
        bars = []
        for position, day in enumerate(days):
            quantity = values.get(day, 0)
            if quantity <= 0:
                continue
            lower, upper = y_of(below[day]), y_of(below[day] + quantity)
            below[day] += quantity
            bars.append(
                Bar(
                    day=day.isoformat(),
                    quantity=quantity,
                    x=round(LEFT + slot * position, 2),
                    y=upper,
                    width=width,
                    height=round(lower - upper, 2),
                )
            )
        colour = OTHERS_COLOUR if others else COLOURS[index % len(COLOURS)]
        bands.append(
            Band(
                id=cluster_id,
                label=label,
                colour=colour,
                bars=tuple(bars),
                highest=max(values.values(), default=0),
                others=others,
            )
        )
    product_id, metric = key
    return StackedChart(
        id=chart_id,
        product_id=product_id,
        metric=metric,
        title=f"Daily fleet sum of {name} ({product_id}, {metric}), stacked by cluster",
        description=_description(period, fleet, bands),
        bands=tuple(bands),
        top_value=top_value,
        top_label=str(top_value),
        first_day=days[0].isoformat(),
        last_day=days[-1].isoformat(),
        numbers_head=("Day", *(band.label for band in bands), "Fleet sum"),
        numbers=tuple(
            (
                day.isoformat(),
                *(values.get(day, 0) for _, _, values, _ in series),
                fleet.get(day, "no data"),
            )
            for day in days
        ),
    )


def _rest(fleet: Mapping[date, int], shown: Sequence[ClusterSeries]) -> dict[date, int]:
    """Per day, the fleet sum less the shown clusters' values: the other clusters' part."""
    # Never below 0: the sums and the rows are read in one transaction and agree.
    return {
        day: max(0, total - sum(c.values.get(day, 0) for c in shown))
        for day, total in fleet.items()
    }


def _label(cluster: ClusterSeries) -> str:
    if cluster.cluster_name and cluster.cluster_name != cluster.cluster_id:
        return f"{cluster.cluster_name} ({cluster.cluster_id})"
    return cluster.cluster_id


def _description(period: DatePeriod, fleet: Mapping[date, int], bands: Sequence[Band]) -> str:
    span = f"from {period.first.isoformat()} to {period.last.isoformat()}"
    if not fleet:
        return f"No data {span}."
    highest = max(fleet.values())
    peak_day = min(day for day, value in fleet.items() if value == highest)
    parts = "; ".join(f"{band.label}: highest {band.highest}" for band in bands)
    return (
        f"{len(fleet)} days with data {span}; highest daily sum {highest} on "
        f"{peak_day.isoformat()}. Bands from the bottom: {parts}."
    )
