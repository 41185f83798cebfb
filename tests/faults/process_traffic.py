"""Clients asking a running service for its reports while a fault strikes, and what it said.

``Traffic`` runs one thread polling ``/health`` (every instant it reports as
``lastSampleAt`` is a sample the service says it stored: ``committed``) and a few
threads asking the data endpoints, the status page and now and then a snapshot
(the daily peaks ``/products`` reported are kept in ``reported_peaks``). Answers are
counted by path and status; a 5xx is kept in ``server_errors`` with its body.
Connections the fault cuts (a killed process) are counted, never raised.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Final

import httpx
import pytest

DATA_PATHS: Final = (
    "/products",
    "/bundled_products",
    "/services",
    "/products",
    "/status",
    "/products?format=csv",
    "/snapshot",
)
_HEALTH_EVERY: Final = 0.05


class Traffic:
    """Clients of the service at ``url`` with ``token``; use as a context manager."""

    def __init__(
        self, url: str, token: str, *, clients: int = 3, paths: Sequence[str] = DATA_PATHS
    ) -> None:
        self.url = url
        self.token = token
        self.committed: set[datetime] = set()
        self.reported_peaks: dict[tuple[str, str, str], int] = {}
        self.answers: Counter[tuple[str, int]] = Counter()
        self.cut_connections = 0
        self.server_errors: list[str] = []
        self._paths = paths
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._poll_health, name="health poller", daemon=True),
            *(
                threading.Thread(
                    target=self._ask, args=(number,), name=f"client {number}", daemon=True
                )
                for number in range(clients)
            ),
        ]

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def latest_committed(self) -> datetime | None:
        """The newest instant ``/health`` reported as the last sample."""
        with self._lock:
            return max(self.committed, default=None)

    def wait_for_sample_after(self, instant: datetime | None, *, within: float) -> datetime:
        """Wait until ``/health`` reports a sample after ``instant``; return it."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            latest = self.latest_committed()
            if latest is not None and (instant is None or latest > instant):
                return latest
            time.sleep(0.02)
        pytest.fail(f"no sample after {instant} was reported by /health within {within:g} s")

    def _get(self, client: httpx.Client, path: str) -> httpx.Response | None:
        try:
            response = client.get(
                self.url + path, params={"token": self.token}, follow_redirects=False
            )
        except httpx.TransportError:
            with self._lock:
                self.cut_connections += 1
            return None
        with self._lock:
            self.answers[(path, response.status_code)] += 1
            if response.status_code >= 500:
                self.server_errors.append(f"{path} {response.status_code}: {response.text[:500]}")
        return response

    def _poll_health(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.wait(_HEALTH_EVERY):
                response = self._get(client, "/health")
                if response is None or response.status_code != 200:
                    continue
                last = response.json()["collector"]["lastSampleAt"]
                if last is not None:
                    with self._lock:
                        self.committed.add(datetime.fromisoformat(last))

    def _ask(self, number: int) -> None:
        paths = itertools.islice(itertools.cycle(self._paths), number, None)
        with httpx.Client(timeout=30) as client:
            for path in paths:
                if self._stop.is_set():
                    return
                response = self._get(client, path)
                if path == "/products" and response is not None and response.status_code == 200:
                    self._keep_peaks(response.json())

    def _keep_peaks(self, rows: list[dict[str, object]]) -> None:
        with self._lock:
            for row in rows:
                key = (str(row["id"]), str(row["metricName"]), str(row["metricPeakDate"]))
                quantity = row["metricQuantity"]
                assert isinstance(quantity, int)
                self.reported_peaks[key] = max(self.reported_peaks.get(key, 0), quantity)
