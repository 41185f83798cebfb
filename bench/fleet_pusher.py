"""The process that pushes a simulated fleet into a Reporter: many clusters' days, signed.

Run by ``fleet_benchmark`` as ``python -m bench.fleet_pusher --url URL --token-file F
--clusters C --products P --days D --last-day DAY --senders S``, in its own
interpreter. ``S`` sender threads take clusters from a queue, and each pushes its
cluster's ``D`` days ending ``DAY`` oldest first, at most 31 days a push (what a
License Service sender catching up on 731 days sends), over one keep-alive
connection, as ``POST /v1/push`` bodies of ``push_format`` signed by the sender's key
(one 3072-bit key per sender thread: generating 500 takes minutes and changes nothing
the Reporter does per push; each cluster pins the key it first pushed with).

A cluster's day is ``history.catalogue_measurement(products)`` with quantities moved by
the day and the cluster, so the fleet's daily sums differ from day to day. Rows are
written as JSON once per distinct day (a cache), so this process costs little next to
the Reporter it measures. It prints one JSON line: pushes, rows, seconds, per-push
latency and the statuses seen (a refusal is a failure of the run: the first one's
answer is in ``errors``).
"""

from __future__ import annotations

import argparse
import functools
import http.client
import queue
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import msgspec

from bench.history import catalogue_measurement
from bench.load_generator import percentile
from bench.measurements import emit
from license_service.fleet.push_format import (
    FORMAT_VERSION,
    MAX_DAYS_PER_PUSH,
    ClusterIdentity,
    Coverage,
    PushPayload,
    PushPayloadDay,
    envelope,
)
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS, SERVICE_ROWS
from license_service.signing.keys import SigningKey

_ENCODER: Final = msgspec.json.Encoder(decimal_format="number")
_COVERAGE: Final = Coverage(288, 288)
# Quantities of the catalogue repeat with this period of variants (64 and 40 in history).
_VARIANT_PERIOD: Final = 320


def cluster_name(number: int) -> str:
    """The id (and name) of the ``number``-th simulated cluster."""
    return f"fleet-cluster-{number:04}"


@functools.cache
def _day_rows(products: int, variant: int) -> tuple[list[Any], list[Any], list[Any]]:
    """The JSON rows of one cluster-day of the catalogue (cached per variant)."""
    measurement = catalogue_measurement(products, variant=variant)
    return (
        [PRODUCT_ROWS.json(row) for row in measurement.products],
        [BUNDLED_PRODUCT_ROWS.json(row) for row in measurement.bundled_products],
        [SERVICE_ROWS.json(row) for row in measurement.services],
    )


def rows_per_day(products: int) -> int:
    """Rows (products, bundled products, services) of one cluster-day."""
    return sum(len(rows) for rows in _day_rows(products, 0))


def push_windows(days: int, last_day: date) -> list[tuple[date, int]]:
    """The pushes of ``days`` days ending ``last_day``: (first day, day count), oldest first."""
    first = last_day - timedelta(days=days - 1)
    return [
        (first + timedelta(days=start), min(MAX_DAYS_PER_PUSH, days - start))
        for start in range(0, days, MAX_DAYS_PER_PUSH)
    ]


def push_body(
    number: int, first: date, count: int, *, products: int, key: SigningKey
) -> tuple[bytes, int]:
    """The signed body of cluster ``number``'s days ``first`` .. ``first + count - 1``; rows."""
    days = []
    rows = 0
    for offset in range(count):
        day = first + timedelta(days=offset)
        variant = (day.toordinal() + number * 7) % _VARIANT_PERIOD
        products_rows, bundled, services = _day_rows(products, variant)
        rows += len(products_rows) + len(bundled) + len(services)
        days.append(
            PushPayloadDay(
                date=day,
                complete=True,
                products=products_rows,
                bundled_products=bundled,
                services=services,
                uploads=[],
                coverage=_COVERAGE,
            )
        )
    name = cluster_name(number)
    payload = _ENCODER.encode(
        PushPayload(
            format_version=FORMAT_VERSION,
            cluster=ClusterIdentity(name, name, "bench"),
            sent_at=datetime.now(UTC),
            days=days,
        )
    )
    return envelope(payload, key=key), rows


class _Totals:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pushes = 0
        self.rows = 0
        self.bytes = 0
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.errors: list[str] = []


def _sender(
    url: str,
    token: str,
    clusters: queue.Queue[int],
    windows: list[tuple[date, int]],
    *,
    key: SigningKey,
    products: int,
    totals: _Totals,
) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=600)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        while True:
            try:
                number = clusters.get_nowait()
            except queue.Empty:
                return
            for first, count in windows:
                body, rows = push_body(number, first, count, products=products, key=key)
                started = time.perf_counter()
                connection.request("POST", "/v1/push", body=body, headers=headers)
                answer = connection.getresponse()
                text = answer.read()
                elapsed = time.perf_counter() - started
                with totals.lock:
                    totals.statuses[answer.status] += 1
                    totals.latencies.append(elapsed)
                    if answer.status == 200:
                        totals.pushes += 1
                        totals.rows += rows
                        totals.bytes += len(body)
                    elif not totals.errors:
                        totals.errors.append(f"{answer.status}: {text[:500]!r}")
                if answer.status != 200:
                    return
    finally:
        connection.close()


def push_fleet(
    url: str,
    token: str,
    *,
    clusters: int,
    products: int,
    days: int,
    last_day: date,
    senders: int,
) -> dict[str, Any]:
    """Push every cluster's days with ``senders`` threads; the figures."""
    windows = push_windows(days, last_day)
    waiting: queue.Queue[int] = queue.Queue()
    for number in range(clusters):
        waiting.put(number)
    totals = _Totals()
    # Keys and the rows' JSON are made before the clock starts: not the Reporter's work.
    keys = [SigningKey.generate() for _ in range(senders)]
    push_body(0, last_day, 1, products=products, key=keys[0])
    threads = [
        threading.Thread(
            target=_sender,
            args=(url, token, waiting, windows),
            kwargs={"key": key, "products": products, "totals": totals},
            daemon=True,
        )
        for key in keys
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(totals.latencies)
    return {
        "pushes": totals.pushes,
        "rows": totals.rows,
        "bytes": totals.bytes,
        "seconds": elapsed,
        "push_p50_ms": percentile(latencies, 0.5) * 1000,
        "push_p99_ms": percentile(latencies, 0.99) * 1000,
        "statuses": {str(code): count for code, count in sorted(totals.statuses.items())},
        "errors": totals.errors,
    }


def main(argv: list[str] | None = None) -> None:
    """Push the fleet and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token-file", type=Path, required=True)
    parser.add_argument("--clusters", type=int, required=True)
    parser.add_argument("--products", type=int, required=True)
    parser.add_argument("--days", type=int, required=True)
    parser.add_argument("--last-day", type=date.fromisoformat, required=True)
    parser.add_argument("--senders", type=int, default=4)
    arguments = parser.parse_args(argv)
    emit(
        push_fleet(
            arguments.url,
            arguments.token_file.read_text().strip(),
            clusters=arguments.clusters,
            products=arguments.products,
            days=arguments.days,
            last_day=arguments.last_day,
            senders=arguments.senders,
        )
    )


if __name__ == "__main__":
    main()
