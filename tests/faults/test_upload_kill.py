"""``kill -9`` during upload batches (SPEC 10): a batch is stored whole or not at all.

A real ``license-service serve`` receives batches of 1,000 ``ADD`` items of value 1
for one product and day, back to back from several clients, and is killed with
SIGKILL at a random moment, then started again on the same store, over and over
(``make test``: 3 kills on SQLite, 1 on PostgreSQL; ``make soak``: 30 and 10). After
every kill the stored items and the day's value are a whole number of batches, the
store opens and serves, and every batch the server acknowledged before the kill is
there. The random moments come from a seed printed in every failure message.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from license_service.runtime.paths import DATABASE_FILE
from license_service.store.database import Database, sqlite_url
from license_service.store.tables import metric_uploads
from tests.e2e.processes import ServiceProcess, start_service
from tests.soak import soak_or
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip

BATCH = 1_000
CLIENTS = 3
ITEM = {
    "productId": "api",
    "productName": "API",
    "productMetric": "API_CALLS",
    "metricValue": 1,
    "aggregationPolicy": "ADD",
}


@pytest.fixture(
    params=[
        pytest.param(("sqlite", soak_or(3, 30)), id="sqlite"),
        pytest.param(("postgresql", soak_or(1, 10)), id="postgresql", marks=pytest.mark.postgres),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The database URL of a fresh store of each backend, and how many kills to run."""
    backend, kills = request.param
    if backend == "sqlite":
        yield sqlite_url(tmp_path / "data" / DATABASE_FILE), kills
        return
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        yield url, kills


class Uploader:
    """Clients sending batches back to back; counts the batches the server acknowledged."""

    def __init__(self, service: ServiceProcess) -> None:
        self.acknowledged = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        token = (service.data_dir / "upload-token").read_text().strip()
        self._url = f"{service.url}/v2/metric_upload"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._threads = [threading.Thread(target=self._send, daemon=True) for _ in range(CLIENTS)]
        for thread in self._threads:
            thread.start()

    def _send(self) -> None:
        with httpx.Client(timeout=30) as http:
            while not self._stop.is_set():
                try:
                    answer = http.post(self._url, headers=self._headers, json=[ITEM] * BATCH)
                except httpx.TransportError:
                    return  # the server was killed
                if answer.status_code == 200:
                    with self._lock:
                        self.acknowledged += 1

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


def stored_items(url: str) -> int:
    database = Database.open(url)
    try:
        with database.read() as connection:
            return int(
                connection.execute(select(func.count()).select_from(metric_uploads)).scalar_one()
            )
    finally:
        database.dispose()


def day_value(service: ServiceProcess) -> int:
    today = datetime.now(UTC).date().isoformat()
    rows = httpx.get(
        f"{service.url}/products",
        params={"token": service.token, "dateFrom": today, "dateTo": today},
        timeout=60,
    ).json()
    return sum(row["metricQuantity"] for row in rows if row["id"] == "api")


def test_a_killed_server_keeps_whole_batches_only(
    store: tuple[str, int], tmp_path: Path, faults_signing_key: bytes
) -> None:
    url, kills = store
    seed = random.randrange(2**32)
    chance = random.Random(seed)
    data_dir = tmp_path / "data"
    extra = [] if url.startswith("sqlite") else ["--database-url", url]
    acknowledged = 0
    for kill in range(kills):
        run = tmp_path / f"run-{kill}"
        run.mkdir()
        service = start_service(run, data_dir=data_dir, signing_key=faults_signing_key, extra=extra)
        uploader = Uploader(service)
        time.sleep(chance.uniform(0.5, 2.5))
        service.process.kill()
        service.process.wait()
        uploader.stop()
        service.stop()
        acknowledged += uploader.acknowledged
        items = stored_items(url)
        where = f"(seed {seed}, kill {kill + 1} of {kills})"
        assert items % BATCH == 0, f"{items} items stored: a batch was cut {where}"
        assert items >= acknowledged * BATCH, f"an acknowledged batch was lost {where}"
    (tmp_path / "after").mkdir()
    again = start_service(
        tmp_path / "after", data_dir=data_dir, signing_key=faults_signing_key, extra=extra
    )
    try:
        assert day_value(again) == stored_items(url) >= BATCH
    finally:
        again.stop()
