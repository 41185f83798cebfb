"""Issue 17's outage cases with real processes: a real ``license-service serve`` pushing to a
real ``license-service reporter`` on PostgreSQL, and the real admin commands.

- A cluster whose Reporter was out of reach for two days fills those days when it comes
  back. A real process runs on real time, so the days before the outage cannot be pushed
  by a running ``serve``: they are pushed by the sender's own code (``Sender.push_round``)
  with its clock set three days back, from the service's real store, to the real
  Reporter; that push is recorded in the store as a running service records it. The two
  offline days are then sampled into the store (``stored_history``), as a running
  service would have while the Reporter was out of reach. From there everything is real:
  the Reporter is stopped, ``serve`` starts on that data directory and fails to push (its
  ``/health`` says so), the Reporter starts again on the same port, and the sender's
  retry (backoff, no restart) pushes from the day after the last acknowledged one.
- A service whose signing key changed (a new key in its data directory) is refused (409)
  until ``license-service reporter trust CLUSTER_ID``; a refusal is retried hourly, so
  the next push here is the one at the service's restart.
- ``license-service snapshot create`` of an offline cluster's store imports with
  ``license-service reporter import``; a tampered copy is refused with a clear message
  and a non-zero exit, storing nothing.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

from license_service.fleet.push_format import ClusterIdentity
from license_service.reporting.reporter_client import ReporterConnection
from license_service.reporting.sender import Sender, SenderTarget
from license_service.signing.keys import SigningKey
from license_service.store.database import Database, sqlite_url
from tests.e2e.conftest import Start
from tests.e2e.processes import ServiceProcess, eventually, run_cli
from tests.e2e.reporter_process import start_reporter, token_of
from tests.e2e.stored_history import DUMP_CLUSTER, MQ_ID, VPC, write_history
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip

pytestmark = pytest.mark.postgres

TODAY: Final = datetime.now(UTC).date()


def _day(offset: int) -> date:
    return TODAY - timedelta(days=offset)


@pytest.fixture
def database_url() -> Iterator[str]:
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        yield url


@pytest.fixture
def reporter(tmp_path: Path, database_url: str) -> Iterator[ServiceProcess]:
    started = start_reporter(tmp_path, database_url)
    yield started
    started.stop()


def _get(process: ServiceProcess, path: str, token: str, **params: str) -> Any:
    answer = httpx.get(
        f"{process.url}{path}",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _mq_of(process: ServiceProcess, token: str, day: date, **params: str) -> int | None:
    """IBM MQ's quantity of the single day ``day`` in ``process``'s ``/products``."""
    rows = _get(
        process, "/products", token, dateFrom=day.isoformat(), dateTo=day.isoformat(), **params
    )
    found = [r["metricQuantity"] for r in rows if r["id"] == MQ_ID and r["metricName"] == VPC]
    return found[0] if found else None


def _sender(service: ServiceProcess) -> dict[str, Any]:
    body: dict[str, Any] = _get(service, "/health", service.token)
    return body.get("sender") or {}


def _key_file(data_dir: Path, key: SigningKey) -> None:
    data_dir.mkdir(mode=0o700, exist_ok=True)
    path = data_dir / "signing-key.pem"
    path.write_bytes(key.private_pem())
    path.chmod(0o600)


def _reporter_flags(reporter: ServiceProcess) -> list[str]:
    return [
        "--reporter-url",
        reporter.url,
        "--reporter-token-file",
        str(reporter.data_dir / "token"),
    ]


def test_a_cluster_offline_for_two_days_fills_them_when_the_reporter_is_back(
    start: Start, tmp_path: Path, reporter: ServiceProcess, database_url: str
) -> None:
    data_dir = tmp_path / "data"
    key = SigningKey.generate()
    _key_file(data_dir, key)
    write_history(data_dir, {_day(5): 3, _day(4): 5, _day(3): 4})

    # Three days ago, the last push before the outage: the sender's code, its clock then.
    database = Database.open(sqlite_url(data_dir / "license-service.db"))
    try:
        then = datetime.combine(_day(3), time(18), tzinfo=UTC)
        Sender(
            database,
            cluster_id=DUMP_CLUSTER,
            signing_key=key,
            target=lambda: SenderTarget(
                reporter=ReporterConnection(
                    url=reporter.url, token=token_of(reporter), ca_pem=None
                ),
                cluster=ClusterIdentity(DUMP_CLUSTER, DUMP_CLUSTER, "0.1.0"),
                initial_days=30,
            ),
            clock=lambda: then,
        ).push_round()
    finally:
        database.dispose()
    period = {"dateFrom": _day(5).isoformat(), "dateTo": TODAY.isoformat()}
    [before] = _get(reporter, "/clusters", token_of(reporter), **period)
    assert before["lastDay"] == _day(3).isoformat()
    assert before["missingDays"] == [_day(2).isoformat(), _day(1).isoformat()]

    # The two days the Reporter was out of reach, sampled meanwhile.
    write_history(data_dir, {_day(2): 7, _day(1): 6})
    port, token = reporter.port, token_of(reporter)
    reporter.stop()  # the Reporter out of reach from now on
    service = start(extra=_reporter_flags(reporter), data_dir=data_dir)
    failed = eventually(
        lambda: (sender := _sender(service)).get("lastError") and sender,
        within=30,
        what="a failed push while the Reporter is down",
    )
    # Resumed from the store's record of the last push: nothing after it was taken.
    assert failed["acknowledgedThrough"] == _day(4).isoformat()

    back = start_reporter(tmp_path, database_url, name="r-back", port=port)
    try:

        def filled() -> dict[str, Any] | None:
            [cluster] = _get(back, "/clusters", token, **period)
            return (
                cluster
                if cluster["missingDays"] == [] and cluster["lastDay"] == TODAY.isoformat()
                else None
            )

        # The sender's retry after its backoff (15 s at most, then 30 s), with no restart.
        eventually(filled, within=90, what="the offline days at the Reporter")
        for offset, quantity in ((2, 7), (1, 6)):
            day = _day(offset)
            assert _mq_of(service, service.token, day) == quantity
            assert _mq_of(back, token, day, clusterId=DUMP_CLUSTER) == quantity
        assert _mq_of(back, token, _day(4), clusterId=DUMP_CLUSTER) == 5
        recovered = eventually(
            lambda: (sender := _sender(service)).get("lastError") is None and sender,
            within=10,
            what="the sender's error cleared",
        )
        assert recovered["acknowledgedThrough"] == _day(1).isoformat()
        assert recovered["pushFailures"] >= 1
    finally:
        service.stop()
        back.stop()


def test_a_new_signing_key_is_refused_until_trusted_then_accepted_at_the_next_push(
    start: Start, tmp_path: Path, reporter: ServiceProcess, database_url: str
) -> None:
    data_dir = tmp_path / "data"
    first_key, new_key = SigningKey.generate(), SigningKey.generate()
    _key_file(data_dir, first_key)
    flags = _reporter_flags(reporter)
    token = token_of(reporter)
    service = start(extra=flags, data_dir=data_dir)
    [pinned] = eventually(
        lambda: _get(reporter, "/clusters", token),
        within=30,
        what="the first push, pinning the key",
    )
    assert pinned["keyFingerprint"] == first_key.fingerprint
    assert service.stop() == 0

    # The data directory's key replaced (a new key file), the same store and cluster.
    _key_file(data_dir, new_key)
    service = start(extra=flags, data_dir=data_dir)
    refused = eventually(
        lambda: (sender := _sender(service)).get("lastError") and sender,
        within=30,
        what="the push with the new key refused",
    )
    assert refused["lastError"].startswith("the Reporter answered 409")
    # The full refusal, in the service's log: the new key and what the administrator runs.
    log = eventually(
        lambda: "refused the push" in service.log() and service.log(),
        within=10,
        what="the refusal in the service's log",
    )
    assert new_key.fingerprint in log
    assert f"license-service reporter trust {DUMP_CLUSTER}" in log
    assert any(
        "refused" in warning for warning in _get(service, "/health", service.token)["warnings"]
    )
    status = httpx.get(f"{reporter.url}/status", params={"token": token}, timeout=30).text
    assert new_key.fingerprint in status
    [still] = _get(reporter, "/clusters", token)
    assert still["keyFingerprint"] == first_key.fingerprint
    assert service.stop() == 0

    trusted = run_cli("reporter", "trust", DUMP_CLUSTER, "--database-url", database_url)
    assert trusted.returncode == 0, trusted.stderr
    assert new_key.fingerprint in trusted.stdout

    # A refusal is tried again an hour later: the next push is the one at start.
    service = start(extra=flags, data_dir=data_dir)
    accepted = eventually(
        lambda: (
            (sender := _sender(service)).get("lastPushAt")
            and sender.get("lastError") is None
            and sender
        ),
        within=30,
        what="the push with the trusted key accepted",
    )
    assert accepted["acknowledgedThrough"] == _day(1).isoformat()
    [now] = _get(reporter, "/clusters", token)
    assert now["keyFingerprint"] == new_key.fingerprint


def test_a_snapshot_of_an_offline_cluster_imports_and_a_tampered_copy_is_refused(
    tmp_path: Path, reporter: ServiceProcess, database_url: str
) -> None:
    data_dir = tmp_path / "offline-data"
    history = {_day(4): 3, _day(3): 8, _day(2): 5, _day(1): 6}
    write_history(data_dir, history)
    first, last = _day(4).isoformat(), _day(1).isoformat()
    snapshot = tmp_path / "offline.zip"
    created = run_cli(
        "snapshot",
        "create",
        "--data-dir",
        str(data_dir),
        "--from",
        first,
        "--to",
        last,
        "--output",
        str(snapshot),
        "--cluster-name",
        "offline-cluster",
    )
    assert created.returncode == 0, created.stderr
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(snapshot) as source, zipfile.ZipFile(tampered, "w") as target:
        names = source.namelist()
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("products_daily_"):
                changed = data.replace(b",8,", b",80,")
                assert changed != data, "the tampering changed the day of 8"
                data = changed
            target.writestr(item, data)
    assert any(name.startswith("products_daily_") for name in names)
    token = token_of(reporter)

    refused = run_cli("reporter", "import", str(tampered), "--database-url", database_url)
    assert refused.returncode != 0
    message = refused.stderr.strip()
    assert "products_daily_" in message, message
    assert len(message.splitlines()) == 1, "one clear line, no traceback"
    assert _get(reporter, "/clusters", token) == []

    imported = run_cli("reporter", "import", str(snapshot), "--database-url", database_url)
    assert imported.returncode == 0, imported.stderr
    assert f"cluster {DUMP_CLUSTER}" in imported.stdout
    [cluster] = _get(reporter, "/clusters", token, dateFrom=first, dateTo=last)
    assert cluster["clusterId"] == DUMP_CLUSTER
    assert cluster["missingDays"] == []
    for day, quantity in history.items():
        assert _mq_of(reporter, token, day, clusterId=DUMP_CLUSTER) == quantity
