"""The Reporter's stacked charts, pure: each bar is its cluster's daily value, each column
the fleet's daily sum, the others in one band, and the numbers as text."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from license_service.metering.periods import DatePeriod
from license_service.web.reporter.stacked_charts import (
    MAX_BANDS,
    OTHERS_COLOUR,
    ClusterSeries,
    StackedChart,
    shown_clusters,
    stacked_chart,
)

D1 = date(2026, 12, 1)
KEY = ("mq-1", "VIRTUAL_PROCESSOR_CORE")
TOLERANCE = 0.011  # coordinates are rounded to 0.01 px, a height from two of them


def _chart(
    series: list[ClusterSeries], *, days: int = 5, others: dict[date, int] | None = None
) -> StackedChart:
    """The chart of ``series`` whose fleet sums are theirs plus ``others``."""
    period = DatePeriod(D1, D1 + timedelta(days=days - 1))
    fleet: dict[date, int] = {}
    for one in series:
        for day, value in one.values.items():
            fleet[day] = fleet.get(day, 0) + value
    for day, value in (others or {}).items():
        fleet[day] = fleet.get(day, 0) + value
    return stacked_chart(
        "chart-0",
        name="IBM MQ",
        key=KEY,
        period=period,
        fleet=fleet,
        clusters=series,
    )


def _scale(chart: StackedChart) -> float:
    return chart.plot_height / chart.top_value


def _columns(chart: StackedChart) -> dict[str, list[tuple[float, float]]]:
    """Per day, the (y, height) of its bars from the bottom band up."""
    columns: dict[str, list[tuple[float, float]]] = {}
    for band in chart.bands:
        for bar in band.bars:
            columns.setdefault(bar.day, []).append((bar.y, bar.height))
    return columns


def test_each_bar_is_as_high_as_its_clusters_value_and_the_column_as_the_fleet_sum() -> None:
    a = ClusterSeries("a", "alpha", {D1: 3, D1 + timedelta(days=1): 5})
    b = ClusterSeries("b", "b", {D1: 2, D1 + timedelta(days=2): 7})
    chart = _chart([a, b])
    scale = _scale(chart)
    assert chart.top_value == 7
    [alpha, beta] = chart.bands
    assert alpha.label == "alpha (a)"
    assert beta.label == "b"
    assert {bar.day: bar.quantity for bar in alpha.bars} == {"2026-12-01": 3, "2026-12-02": 5}
    for band, series in ((alpha, a), (beta, b)):
        for bar in band.bars:
            assert abs(bar.height - series.values[date.fromisoformat(bar.day)] * scale) < TOLERANCE
    # D1: b's bar sits on a's; the column reaches the fleet sum 5 from the axis.
    [(a_y, a_height), (b_y, b_height)] = _columns(chart)["2026-12-01"]
    assert abs(a_y + a_height - chart.bottom_y) < TOLERANCE
    assert abs(b_y + b_height - a_y) < TOLERANCE
    assert abs(chart.bottom_y - b_y - 5 * scale) < TOLERANCE
    # The highest column reaches the top of the plot.
    [(top_y, _)] = _columns(chart)["2026-12-03"]
    assert top_y == chart.top


def test_a_day_without_data_draws_nothing_and_says_so_in_the_numbers() -> None:
    chart = _chart([ClusterSeries("a", "a", {D1: 3})], days=3)
    assert [bar.day for bar in chart.bands[0].bars] == ["2026-12-01"]
    assert chart.numbers == (
        ("2026-12-01", 3, 3),
        ("2026-12-02", 0, "no data"),
        ("2026-12-03", 0, "no data"),
    )
    assert chart.numbers_head == ("Day", "a", "Fleet sum")
    assert "highest daily sum 3 on 2026-12-01" in chart.description


def test_the_others_band_holds_the_fleet_sum_less_the_shown_clusters() -> None:
    a = ClusterSeries("a", "a", {D1: 4})
    chart = _chart([a], others={D1: 6, D1 + timedelta(days=1): 2})
    assert [band.label for band in chart.bands] == ["a", "other clusters"]
    others = chart.bands[-1]
    assert others.colour == OTHERS_COLOUR
    assert others.others
    assert {bar.day: bar.quantity for bar in others.bars} == {"2026-12-01": 6, "2026-12-02": 2}


def test_a_chart_never_has_more_than_its_bands() -> None:
    series = [ClusterSeries(f"c{n}", f"c{n}", {D1: 10 - n}) for n in range(MAX_BANDS)]
    fits = _chart(series)
    assert [band.id for band in fits.bands] == [f"c{n}" for n in range(MAX_BANDS)]
    # A rest beyond the largest: the last of them joins the others' band.
    crowded = _chart(series, others={D1: 1})
    assert [band.id for band in crowded.bands] == [*(f"c{n}" for n in range(MAX_BANDS - 1)), ""]
    assert crowded.bands[-1].bars[0].quantity == 1 + (10 - (MAX_BANDS - 1))
    assert shown_clusters([f"c{n}" for n in range(MAX_BANDS + 3)]) == [
        f"c{n}" for n in range(MAX_BANDS)
    ]


def test_an_empty_period_has_no_bars_and_says_so() -> None:
    chart = _chart([], days=2)
    assert chart.bands == ()
    assert chart.bars == 0
    assert chart.description.startswith("No data")


values = st.integers(min_value=0, max_value=10_000)
clusters = st.lists(st.lists(values, min_size=7, max_size=7), min_size=1, max_size=MAX_BANDS)


@given(clusters)
def test_stacked_heights_are_the_values_and_add_up_to_the_fleet_sum(
    table: list[list[int]],
) -> None:
    series = [
        ClusterSeries(f"c{n}", f"c{n}", {D1 + timedelta(days=d): v for d, v in enumerate(row) if v})
        for n, row in enumerate(table)
    ]
    chart = _chart(series, days=7)
    scale = _scale(chart)
    for band, one in zip(chart.bands, series, strict=True):
        assert {bar.day: bar.quantity for bar in band.bars} == {
            day.isoformat(): value for day, value in one.values.items()
        }
        for bar in band.bars:
            assert abs(bar.height - bar.quantity * scale) < TOLERANCE
    for day, column in _columns(chart).items():
        total = sum(one.values.get(date.fromisoformat(day), 0) for one in series)
        # Bars touch: each starts where the one below ends; the column is the fleet sum.
        bottom = float(chart.bottom_y)
        for y, height in column:
            assert abs(y + height - bottom) < TOLERANCE
            bottom = y
        assert abs(chart.bottom_y - bottom - total * scale) < TOLERANCE * len(column)
        assert bottom >= chart.top - TOLERANCE
