"""What SPEC 13 adds to a read: `/compliance` rows and `/status` charts, beside `/products`.

``python -m bench.compliance_benchmark [--products N] [--days D]`` fills a history store
(``history.HistoryStore``: N products, D days of daily peaks, SQLite), entitles every
product (one entitlement each, a second one overlapping for every tenth), and times,
in this process, the median of a few runs of:

- the period peaks of ``/products`` alone (the store query both build on);
- the rows of ``/compliance`` (that query plus the compliance rule);
- the compliance section of ``/status`` (the rule, the daily rows of the period streamed,
  and the charts of the first ``MAX_CHARTS`` products);

for the default period (30 days) and for the longest one (up to 731 days). It prints
the figures and the ratios to the query alone; record them in ``bench/RESULTS.md``
with the machine's load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from fractions import Fraction

from bench.history import CLUSTER, HistoryStore
from license_service.metering.compliance import compliance_rows
from license_service.metering.entitlements import Entitlement, Entitlements
from license_service.metering.periods import DatePeriod
from license_service.metering.usage_rows import PRODUCT_ROWS
from license_service.store.database import Database
from license_service.store.period_peaks import period_peaks
from license_service.web.pages.status_compliance import status_compliance

RUNS = 5


def _median_seconds(work: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=731)
    arguments = parser.parse_args()
    with HistoryStore(products=arguments.products, days=arguments.days) as history:
        print(
            f"history: {history.rows:,} daily rows ({arguments.products} products x "
            f"{arguments.days} days), filled in {history.fill_seconds:.1f} s; "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        database = Database.open(history.database_url)
        try:
            _measure(database, history)
        finally:
            database.dispose()


def _measure(database: Database, history: HistoryStore) -> None:
    with database.read() as connection:
        all_days = DatePeriod(history.last_day - timedelta(days=730), history.last_day)
        keys = {
            (peak.row.id, peak.row.metric)
            for peak in period_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=all_days)
        }
    items = [
        Entitlement(f"{product_id} licence", product_id, metric, Fraction(5))
        for product_id, metric in sorted(keys)
    ]
    items += [
        Entitlement(f"{item.product_id} extra", item.product_id, item.metric, Fraction(1, 2))
        for item in items[::10]
    ]
    entitlements = Entitlements(tuple(items))
    print(f"entitlements: {len(entitlements)}")
    longest = min(history.days, 731)
    for days in (30, longest):
        period = DatePeriod(history.last_day - timedelta(days=days - 1), history.last_day)

        def peaks(period: DatePeriod = period) -> object:
            with database.read() as connection:
                return period_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=period)

        def compliance(period: DatePeriod = period) -> object:
            with database.read() as connection:
                found = period_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=period)
            return compliance_rows(found, entitlements, period=period)

        def status(period: DatePeriod = period) -> object:
            with database.read() as connection:
                found = period_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=period)
                return status_compliance(
                    connection,
                    cluster_id=CLUSTER,
                    period=period,
                    peaks=found,
                    entitlements=entitlements,
                )

        alone = _median_seconds(peaks)
        rows = _median_seconds(compliance)
        section = _median_seconds(status)
        print(
            f"{days:>3} days: period peaks {alone * 1000:8.1f} ms | /compliance rows "
            f"{rows * 1000:8.1f} ms ({rows / alone:.2f}x) | /status compliance and charts "
            f"{section * 1000:8.1f} ms ({section / alone:.2f}x)"
        )


if __name__ == "__main__":
    main()
