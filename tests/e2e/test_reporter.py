"""The Reporter end to end (SPEC 11): a real ``license-service reporter`` on PostgreSQL.

Two simulated clusters push days built with ``push_format`` and signed with real keys;
the Reporter's ``/products`` equals the per-day sums computed here; a push signed by a
foreign key is refused (409) until ``license-service reporter trust``; a restart loses
nothing; an offline cluster's snapshot imports and a tampered one is refused.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from license_service.signing.keys import SigningKey
from license_service.store.database import Database, sqlite_url
from tests.audit.conftest import TEST_KEY_FILE, snapshot_bytes
from tests.audit.snapshot_data import CLUSTER, PERIOD, store_golden_dataset
from tests.e2e.processes import ServiceProcess, eventually, run_cli
from tests.e2e.reporter_process import start_reporter, token_of
from tests.fleet.pushes import day_of, push_body
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip

pytestmark = pytest.mark.postgres

TODAY = datetime.now(UTC).date()
FIRST = TODAY - timedelta(days=5)


@pytest.fixture
def database_url() -> Iterator[str]:
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        yield url


@pytest.fixture
def reporter(tmp_path: Path, database_url: str) -> Iterator[ServiceProcess]:
    started = start_reporter(tmp_path, database_url)
    yield started
    started.stop()


def push(reporter: ServiceProcess, body: bytes, *, token: str | None = None) -> httpx.Response:
    return httpx.post(
        f"{reporter.url}/v1/push",
        content=body,
        headers={
            "Authorization": f"Bearer {token or token_of(reporter)}",
            "Content-Type": "application/json",
        },
        timeout=30,
    )


def get(reporter: ServiceProcess, path: str, **params: str) -> httpx.Response:
    return httpx.get(
        f"{reporter.url}{path}",
        params=params,
        headers={"Authorization": f"Bearer {token_of(reporter)}"},
        timeout=30,
    )


def _period() -> dict[str, str]:
    return {"dateFrom": FIRST.isoformat(), "dateTo": TODAY.isoformat()}


def _mq(rows: list[dict]) -> dict:
    [row] = [r for r in rows if r["id"] == "mq-1"]
    return row


def test_two_clusters_pushes_sum_per_day_and_survive_a_restart(
    tmp_path: Path, reporter: ServiceProcess, database_url: str
) -> None:
    # Cluster a peaks on day 0 (5), cluster b on day 1 (6): the fleet's highest daily sum is
    # day 1's 2 + 6 = 8, not 5 + 6.
    a = [day_of(FIRST, quantity=5), day_of(FIRST + timedelta(days=1), quantity=2)]
    b = [day_of(FIRST, quantity=1), day_of(FIRST + timedelta(days=1), quantity=6)]
    answer = push(reporter, push_body("cluster-a", a))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "clusterId": "cluster-a",
        "acknowledgedThrough": (FIRST + timedelta(days=1)).isoformat(),
        "accepted": 2,
    }
    assert push(reporter, push_body("cluster-b", b)).status_code == 200
    assert push(reporter, push_body("cluster-b", b)).status_code == 200  # idempotent

    products = get(reporter, "/products", **_period()).json()
    assert _mq(products) == {
        "name": "IBM MQ",
        "id": "mq-1",
        "metricName": "VIRTUAL_PROCESSOR_CORE",
        "metricPeakDate": (FIRST + timedelta(days=1)).isoformat(),
        "metricQuantity": 8,
    }
    # The Cloud Pak summed whole: each cluster's product row of the Cloud Pak (2 a day).
    [cloudpak] = [r for r in products if r["id"] == "cp4i"]
    assert cloudpak["metricQuantity"] == 4
    one = get(reporter, "/products", clusterId="cluster-a", **_period()).json()
    assert _mq(one)["metricQuantity"] == 5
    bundled = get(reporter, "/bundled_products", **_period()).json()
    assert bundled[0]["metricMeasuredQuantity"] == 6
    assert bundled[0]["metricConvertedQuantity"] == 4
    assert get(reporter, "/services", **_period()).json()[0]["serviceMetricValue"] == 2
    csv = get(reporter, "/products", format="csv", **_period())
    assert csv.text.splitlines()[0] == "name,id,metricName,metricPeakDate,metricQuantity"

    contributions = get(
        reporter,
        "/contributions",
        productId="mq-1",
        metricName="VIRTUAL_PROCESSOR_CORE",
        **_period(),
    ).json()
    assert [(c["clusterId"], c["metricQuantity"]) for c in contributions] == [
        ("cluster-a", 2),
        ("cluster-b", 6),
    ]
    clusters = get(reporter, "/clusters", **_period()).json()
    assert [c["clusterId"] for c in clusters] == ["cluster-a", "cluster-b"]
    assert clusters[0]["keyFingerprint"].startswith("SHA256:")
    assert clusters[0]["missingDays"] == [
        (FIRST + timedelta(days=n)).isoformat() for n in range(2, 5)
    ]
    status = get(reporter, "/status")
    assert status.status_code == 200
    assert "cluster-b" in status.text

    assert reporter.stop() == 0, reporter.log()  # SIGTERM: a clean stop, not death by signal
    again = start_reporter(tmp_path, database_url, name="again")
    try:
        assert get(again, "/products", **_period()).json() == products
    finally:
        again.stop()


def test_a_foreign_key_is_refused_until_trusted(
    reporter: ServiceProcess, database_url: str
) -> None:
    assert push(reporter, push_body("cluster-a", [day_of(FIRST)])).status_code == 200
    stranger = SigningKey.generate()
    refused = push(reporter, push_body("cluster-a", [day_of(FIRST, quantity=9)], key=stranger))
    assert refused.status_code == 409
    message = refused.json()["message"]
    assert stranger.fingerprint in message
    assert "license-service reporter trust cluster-a" in message
    assert "cluster-a" in get(reporter, "/status").text
    assert _mq(get(reporter, "/products", **_period()).json())["metricQuantity"] == 4

    trusted = run_cli("reporter", "trust", "cluster-a", "--database-url", database_url)
    assert trusted.returncode == 0, trusted.stderr
    assert stranger.fingerprint in trusted.stdout
    again = push(reporter, push_body("cluster-a", [day_of(FIRST, quantity=9)], key=stranger))
    assert again.status_code == 200, again.text
    assert _mq(get(reporter, "/products", **_period()).json())["metricQuantity"] == 9


def test_refusals_answer_401_400_413_and_405(reporter: ServiceProcess) -> None:
    body = push_body("cluster-a", [day_of(FIRST)])
    unauthenticated = httpx.post(f"{reporter.url}/v1/push", content=body, timeout=10)
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["WWW-Authenticate"] == 'Bearer realm="license-service"'
    assert push(reporter, body, token="x" * 24).status_code == 401
    bad = push(reporter, b'{"formatVersion": 1, "payload": "!!", "signature": "", "publicKey": ""}')
    assert bad.status_code == 400
    assert bad.json()["error"] == "Bad Request"
    too_large = push(reporter, b" " * (16 * 1024 * 1024 + 1))
    assert too_large.status_code == 413
    assert httpx.get(f"{reporter.url}/v1/push", timeout=10).status_code == 405
    assert get(reporter, "/products", dateFrom="2026-01-01").status_code == 400
    assert httpx.get(f"{reporter.url}/version", timeout=10).json()["version"]
    assert httpx.get(f"{reporter.url}/readyz", timeout=10).status_code == 200


def test_an_offline_clusters_snapshot_imports_and_a_tampered_one_is_refused(
    tmp_path: Path, reporter: ServiceProcess, database_url: str
) -> None:
    database = Database.open(sqlite_url(tmp_path / "offline.db"))
    try:
        store_golden_dataset(database)
        snapshot = snapshot_bytes(database, SigningKey.from_pem(TEST_KEY_FILE.read_bytes()))
    finally:
        database.dispose()
    tampered = tmp_path / "tampered.zip"
    with (
        zipfile.ZipFile(tampered, "w") as target,
        zipfile.ZipFile(io.BytesIO(snapshot)) as source,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("products_daily_"):
                data = data.replace(b",6,", b",60,")
            target.writestr(item, data)
    refused = httpx.post(
        f"{reporter.url}/v1/snapshot_import",
        content=tampered.read_bytes(),
        headers={"Authorization": f"Bearer {token_of(reporter)}"},
        timeout=60,
    )
    assert refused.status_code == 400
    assert "products_daily_" in refused.json()["message"]

    path = tmp_path / "offline.zip"
    path.write_bytes(snapshot)
    imported = run_cli("reporter", "import", str(path), "--database-url", database_url)
    assert imported.returncode == 0, imported.stderr
    assert f"cluster {CLUSTER}" in imported.stdout
    period = {"dateFrom": PERIOD.first.isoformat(), "dateTo": PERIOD.last.isoformat()}
    products = get(reporter, "/products", clusterId=CLUSTER, **period).json()
    assert products
    clusters = get(reporter, "/clusters", **period).json()
    assert [c["clusterId"] for c in clusters] == [CLUSTER]
    assert clusters[0]["missingDays"] == []
    again = httpx.post(
        f"{reporter.url}/v1/snapshot_import",
        content=snapshot,
        headers={"Authorization": f"Bearer {token_of(reporter)}"},
        timeout=60,
    )
    assert again.status_code == 200, again.text
    assert again.json()["accepted"] == 3


def test_two_replicas_on_one_database_answer_the_same_numbers_while_pushes_arrive(
    tmp_path: Path, database_url: str
) -> None:
    token = tmp_path / "shared-token"
    token.write_text("shared-reporter-token-0123")
    token.chmod(0o600)
    extra = ("--token-file", str(token))
    first = start_reporter(tmp_path, database_url, name="one", extra=extra)
    second = start_reporter(tmp_path, database_url, name="two", extra=extra)
    try:
        for quantity in range(1, 6):
            days = [day_of(FIRST, quantity=quantity)]
            assert push(first, push_body("cluster-a", days)).status_code == 200
            one = get(first, "/products", **_period()).json()
            assert _mq(one)["metricQuantity"] == quantity
            # The other replica hears of the write by NOTIFY (SPEC 12: milliseconds after
            # the commit), and then drops what it kept.
            two = eventually(
                lambda one=one: (
                    (answer := get(second, "/products", **_period()).json()) == one and answer
                ),
                within=1.0,
                what="the second replica answering the first one's numbers",
            )
            assert _mq(two)["metricQuantity"] == quantity
    finally:
        first.stop()
        second.stop()


def test_a_cluster_offline_for_two_days_fills_them_when_it_comes_back(
    reporter: ServiceProcess,
) -> None:
    def days(first: int, last: int) -> list:
        return [
            day_of(
                FIRST + timedelta(days=n),
                quantity=n + 1,
                complete=FIRST + timedelta(days=n) < TODAY,
            )
            for n in range(first, last + 1)
        ]

    assert (
        push(reporter, push_body("cluster-a", days(0, 1))).json()["acknowledgedThrough"]
        == (FIRST + timedelta(days=1)).isoformat()
    )
    back = push(reporter, push_body("cluster-a", days(4, 5))).json()
    assert back["acknowledgedThrough"] == (FIRST + timedelta(days=1)).isoformat()
    [cluster] = get(reporter, "/clusters", **_period()).json()
    assert cluster["missingDays"] == [(FIRST + timedelta(days=n)).isoformat() for n in (2, 3)]

    filled = push(reporter, push_body("cluster-a", days(2, 5))).json()
    assert filled["acknowledgedThrough"] == (TODAY - timedelta(days=1)).isoformat()
    [cluster] = get(reporter, "/clusters", **_period()).json()
    assert cluster["missingDays"] == []
    assert _mq(get(reporter, "/products", **_period()).json())["metricQuantity"] == 6
