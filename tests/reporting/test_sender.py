"""The sender against a real HTTP Reporter (``fake_reporter``) and a real store (SQLite and
PostgreSQL): the first push 30 days back, resuming after a restart, today re-sent until it
ends, backoff on 5xx, a refusal shown on /health, nothing pushed by a replica that does not
lead, and the run loop waiting for the first sample."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from license_service.fleet.push_format import ClusterIdentity
from license_service.metering.periods import DatePeriod
from license_service.metering.usage_rows import PRODUCT_ROWS
from license_service.reporting import sender as sender_module
from license_service.reporting.push_schedule import FIRST_RETRY_SECONDS, PUSH_EVERY_SECONDS
from license_service.reporting.reporter_client import ReporterConnection
from license_service.reporting.sender import Sender, SenderTarget
from license_service.signing.keys import SigningKey
from license_service.store.database import Database
from license_service.store.period_peaks import period_peaks
from license_service.store.reporter_pushes import push_progress
from license_service.web.probes.sender_section import sender_section, sender_warnings
from tests.reporting.fake_reporter import TOKEN, FakeReporter, running_reporter
from tests.store.sample_builders import CLUSTER, at, day, product, store

START = at("2026-12-06", "10:00")


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def reporter() -> Iterator[FakeReporter]:
    with running_reporter() as running:
        yield running


def sender_for(
    db: Database,
    reporter: FakeReporter,
    key: SigningKey,
    clock: Clock,
    *,
    leading: bool = True,
    token: str = TOKEN,
) -> Sender:
    target = SenderTarget(
        reporter=ReporterConnection(url=reporter.url, token=token, ca_pem=None, timeout=10),
        cluster=ClusterIdentity("prod-eu", "Production EU", "1.2.3"),
        initial_days=30,
    )
    return Sender(
        db,
        cluster_id=CLUSTER,
        signing_key=key,
        target=lambda: target,
        clock=clock,
        may_push=lambda: leading,
        jitter=lambda: 0.0,
    )


def test_the_first_push_covers_the_30_days_before_today_and_today(
    db: Database, reporter: FakeReporter, signing_key: SigningKey
) -> None:
    store(db, at("2026-12-05", "12:00"), product("api", 4))
    sender = sender_for(db, reporter, signing_key, Clock(START))

    assert sender.push_round() == PUSH_EVERY_SECONDS

    [push] = reporter.pushes
    assert push.dates[0] == "2026-11-06"
    assert push.dates[-1] == "2026-12-06"
    assert len(push.dates) == 31
    assert push.complete == [True] * 30 + [False]
    assert push.cluster == ClusterIdentity("prod-eu", "Production EU", "1.2.3")
    assert reporter.days["2026-12-05"].products[0].quantity == 4
    with db.read() as connection:
        progress = push_progress(connection, reporter_url=reporter.url)
    assert progress.acknowledged_through == day("2026-12-05")
    status = sender.status()
    assert status.acknowledged_through == day("2026-12-05")
    assert status.last_push_at == START
    assert status.last_error is None


def test_after_a_restart_pushes_resume_the_day_after_the_acknowledged_day(
    db: Database, reporter: FakeReporter, signing_key: SigningKey
) -> None:
    clock = Clock(START)
    sender_for(db, reporter, signing_key, clock).push_round()
    clock.now = at("2026-12-09", "08:00")

    restarted = sender_for(db, reporter, signing_key, clock)
    restarted.push_round()

    assert reporter.pushes[-1].dates == ["2026-12-06", "2026-12-07", "2026-12-08", "2026-12-09"]
    assert restarted.status().acknowledged_through == day("2026-12-08")
    assert restarted.status().last_push_at == clock.now


def test_today_is_sent_again_each_hour_until_it_ends(
    db: Database, reporter: FakeReporter, signing_key: SigningKey
) -> None:
    clock = Clock(START)
    sender = sender_for(db, reporter, signing_key, clock)
    sender.push_round()
    store(db, at("2026-12-06", "10:30"), product("api", 7))
    clock.now = at("2026-12-06", "11:00")
    sender.push_round()
    assert reporter.pushes[-1].dates == ["2026-12-06"]
    assert reporter.pushes[-1].complete == [False]
    assert reporter.days["2026-12-06"].products[0].quantity == 7

    clock.now = at("2026-12-07", "00:30")
    sender.push_round()
    assert reporter.pushes[-1].dates == ["2026-12-06", "2026-12-07"]
    assert reporter.pushes[-1].complete == [True, False]
    assert sender.status().acknowledged_through == day("2026-12-06")


def test_a_long_backlog_goes_in_pushes_of_at_most_31_days(
    db: Database, reporter: FakeReporter, signing_key: SigningKey
) -> None:
    target = SenderTarget(
        reporter=ReporterConnection(url=reporter.url, token=TOKEN, ca_pem=None),
        cluster=ClusterIdentity("prod-eu", "Production EU", "1.2.3"),
        initial_days=100,
    )
    sender = Sender(
        db, cluster_id=CLUSTER, signing_key=signing_key, target=lambda: target, clock=Clock(START)
    )
    sender.push_round()
    assert [len(push.dates) for push in reporter.pushes] == [31, 31, 31, 8]
    assert reporter.acknowledged_through() == "2026-12-05"


def test_a_server_error_is_retried_with_a_growing_backoff_and_loses_nothing(
    db: Database, reporter: FakeReporter, signing_key: SigningKey
) -> None:
    reporter.answers = [500, 503]
    sender = sender_for(db, reporter, signing_key, Clock(START))

    first_wait = sender.push_round()
    second_wait = sender.push_round()
    assert first_wait == pytest.approx(FIRST_RETRY_SECONDS / 2)
    assert second_wait == pytest.approx(2 * first_wait)
    status = sender.status()
    assert status.push_failures == 2
    assert status.refused is False
    assert "503" in (status.last_error or "")
    with db.read() as connection:
        assert push_progress(connection, reporter_url=reporter.url).acknowledged_through is None

    assert sender.push_round() == PUSH_EVERY_SECONDS
    assert reporter.pushes[-1].dates[0] == "2026-11-06"
    assert sender.status().last_error is None
    assert sender.status().acknowledged_through == day("2026-12-05")
    # After a success the backoff starts over.
    reporter.answers = [500]
    assert sender.push_round() == pytest.approx(FIRST_RETRY_SECONDS / 2)


def test_a_reporter_out_of_reach_is_retried_like_a_server_error(
    db: Database, signing_key: SigningKey
) -> None:
    with running_reporter() as gone:
        url = gone.url
    target = SenderTarget(
        reporter=ReporterConnection(url=url, token=TOKEN, ca_pem=None, timeout=5),
        cluster=ClusterIdentity("prod-eu", "Production EU", "1.2.3"),
        initial_days=30,
    )
    sender = Sender(
        db,
        cluster_id=CLUSTER,
        signing_key=signing_key,
        target=lambda: target,
        clock=Clock(START),
        jitter=lambda: 0.0,
    )
    assert sender.push_round() == pytest.approx(FIRST_RETRY_SECONDS / 2)
    assert "cannot reach the Reporter" in (sender.status().last_error or "")


@pytest.mark.parametrize("refusal", [400, 409])
def test_a_refusal_is_a_configuration_problem_shown_on_health_and_retried_hourly(
    db: Database, reporter: FakeReporter, signing_key: SigningKey, refusal: int
) -> None:
    reporter.answers = [refusal]
    sender = sender_for(db, reporter, signing_key, Clock(START))

    assert sender.push_round() == PUSH_EVERY_SECONDS

    status = sender.status()
    section = sender_section(status)
    assert section is not None
    assert section["reporterURL"] == reporter.url
    assert section["lastError"] is not None
    assert str(refusal) in section["lastError"]
    assert section["acknowledgedThrough"] is None
    [warning] = sender_warnings(status)
    assert "configuration problem" in warning
    assert TOKEN not in repr(status) + str(section) + warning


def test_a_wrong_token_is_refused_and_never_shown(
    db: Database, reporter: FakeReporter, signing_key: SigningKey
) -> None:
    wrong = "wrong-token-that-must-not-show"
    sender = sender_for(db, reporter, signing_key, Clock(START), token=wrong)
    sender.push_round()
    status = sender.status()
    assert status.refused
    assert "401" in (status.last_error or "")
    assert wrong not in repr(status) + str(sender_section(status))


def test_a_replica_that_does_not_lead_pushes_nothing(
    db: Database, reporter: FakeReporter, signing_key: SigningKey
) -> None:
    store(db, at("2026-12-05", "12:00"), product("api", 4))
    sender = sender_for(db, reporter, signing_key, Clock(START), leading=False)
    sender.push_round()
    assert reporter.pushes == []
    with db.read() as connection:
        assert push_progress(connection, reporter_url=reporter.url).last_push_at is None


def test_the_loop_waits_for_the_first_sample_then_pushes_at_once(
    db: Database, reporter: FakeReporter, signing_key: SigningKey
) -> None:
    waits: list[float] = []
    stop = asyncio.Event()

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            # No sample yet at the first check: the first one is stored now.
            store(db, at("2026-12-06", "09:55"), product("api", 2))
        if len(waits) == 3:
            stop.set()

    target = SenderTarget(
        reporter=ReporterConnection(url=reporter.url, token=TOKEN, ca_pem=None),
        cluster=ClusterIdentity("prod-eu", "Production EU", "1.2.3"),
        initial_days=30,
    )
    sender = Sender(
        db,
        cluster_id=CLUSTER,
        signing_key=signing_key,
        target=lambda: target,
        clock=Clock(START),
        sleep=sleep,
    )
    asyncio.run(sender.run(stop))

    assert len(reporter.pushes) == 1
    assert reporter.days["2026-12-06"].products[0].quantity == 2
    assert waits[-1] == PUSH_EVERY_SECONDS
    assert all(wait < PUSH_EVERY_SECONDS for wait in waits[:-1])


def test_on_a_store_with_history_the_first_push_waits_for_this_runs_first_sample(
    db: Database, reporter: FakeReporter, signing_key: SigningKey
) -> None:
    # Earlier days are stored (a restart, the demo's history): they alone must not trigger
    # the push, or today would reach the Reporter without its usage until an hour later.
    store(db, at("2026-12-05", "12:00"), product("api", 4))
    sampled: list[bool] = []
    waits: list[float] = []
    stop = asyncio.Event()

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            assert reporter.pushes == [], "pushed before this run's first sample"
            # The sampler stores this run's first sample, and says so.
            store(db, at("2026-12-06", "10:00"), product("api", 7))
            sampled.append(True)
        if len(waits) == 4:
            stop.set()

    sender = Sender(
        db,
        cluster_id=CLUSTER,
        signing_key=signing_key,
        target=lambda: _target(reporter),
        clock=Clock(START),
        sleep=sleep,
        sampled_this_run=lambda: bool(sampled),
    )
    asyncio.run(sender.run(stop))

    assert len(reporter.pushes) == 1
    assert reporter.days["2026-12-06"].products[0].quantity == 7
    assert reporter.days["2026-12-05"].products[0].quantity == 4
    assert waits[-1] == PUSH_EVERY_SECONDS


def test_a_run_that_stores_no_sample_within_an_hour_pushes_the_stored_days(
    db: Database, reporter: FakeReporter, signing_key: SigningKey
) -> None:
    store(db, at("2026-12-05", "12:00"), product("api", 4))
    waited: list[float] = []
    stop = asyncio.Event()

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        if reporter.pushes:
            stop.set()

    sender = Sender(
        db,
        cluster_id=CLUSTER,
        signing_key=signing_key,
        target=lambda: _target(reporter),
        clock=Clock(START),
        sleep=sleep,
        sampled_this_run=lambda: False,
    )
    asyncio.run(sender.run(stop))

    assert len(reporter.pushes) == 1
    assert reporter.days["2026-12-05"].products[0].quantity == 4
    # No push before an hour of waiting for a sample of this run.
    assert sum(waited[:-1]) == PUSH_EVERY_SECONDS


def _target(reporter: FakeReporter) -> SenderTarget:
    return SenderTarget(
        reporter=ReporterConnection(url=reporter.url, token=TOKEN, ca_pem=None),
        cluster=ClusterIdentity("prod-eu", "Production EU", "1.2.3"),
        initial_days=30,
    )


def test_the_push_never_moves_the_stored_usage(
    db: Database, reporter: FakeReporter, signing_key: SigningKey
) -> None:
    store(db, at("2026-12-05", "12:00"), product("api", 4))
    period = DatePeriod(day("2026-11-01"), day("2026-12-06"))
    with db.read() as connection:
        before = period_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=period)
    reporter.answers = [500]
    sender = sender_for(db, reporter, signing_key, Clock(START + timedelta(minutes=1)))
    sender.push_round()
    sender.push_round()
    with db.read() as connection:
        after = period_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=period)
    assert after == before


def test_a_push_above_the_reporters_limit_goes_in_smaller_consecutive_pushes(
    db: Database, reporter: FakeReporter, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    store(db, at("2026-12-05", "12:00"), product("api", 4))
    monkeypatch.setattr(sender_module, "MAX_BODY_BYTES", 4_000)
    sender = sender_for(db, reporter, signing_key, Clock(START))

    assert sender.push_round() == PUSH_EVERY_SECONDS

    assert len(reporter.pushes) > 1
    pushed = [d for push in reporter.pushes for d in push.dates]
    assert pushed == sorted(reporter.days)
    assert pushed[0] == "2026-11-06"
    assert pushed[-1] == "2026-12-06"
    assert sender.status().acknowledged_through == day("2026-12-05")


def test_a_single_day_above_the_limit_is_shown_as_a_refusal(
    db: Database, reporter: FakeReporter, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender_module, "MAX_BODY_BYTES", 500)
    sender = sender_for(db, reporter, signing_key, Clock(START))

    assert sender.push_round() == PUSH_EVERY_SECONDS

    assert reporter.pushes == []
    status = sender.status()
    assert status.refused
    assert "above the Reporter's limit" in (status.last_error or "")


def test_a_reporter_echoing_the_token_in_its_refusal_does_not_get_it_shown(
    db: Database, reporter: FakeReporter, signing_key: SigningKey, caplog: pytest.LogCaptureFixture
) -> None:
    reporter.answers = [400]
    reporter.echo_authorization = True
    sender = sender_for(db, reporter, signing_key, Clock(START))
    sender.push_round()
    status = sender.status()
    assert "[the Reporter token]" in (status.last_error or "")
    assert TOKEN not in repr(status) + caplog.text
    assert sender.secrets() == (TOKEN,)


def test_a_stop_during_a_long_backlog_sends_no_further_push(
    db: Database, reporter: FakeReporter, signing_key: SigningKey
) -> None:
    stop = asyncio.Event()
    store(db, at("2026-12-06", "09:55"), product("api", 2))
    target = SenderTarget(
        reporter=ReporterConnection(url=reporter.url, token=TOKEN, ca_pem=None),
        cluster=ClusterIdentity("prod-eu", "Production EU", "1.2.3"),
        initial_days=731,
    )

    async def scenario() -> None:
        loop = asyncio.get_running_loop()

        def may_push() -> bool:
            # The first push is under way: the service is asked to stop now.
            if reporter.pushes:
                loop.call_soon_threadsafe(stop.set)
                time.sleep(0.2)
            return True

        sender = Sender(
            db,
            cluster_id=CLUSTER,
            signing_key=signing_key,
            target=lambda: target,
            clock=Clock(START),
            may_push=may_push,
        )
        await asyncio.wait_for(sender.run(stop), timeout=30)

    asyncio.run(scenario())
    # 24 pushes were due; the stop came after the first.
    assert len(reporter.pushes) == 1


def test_a_store_that_cannot_be_read_delays_the_sender_without_ending_it(
    db: Database, reporter: FakeReporter, signing_key: SigningKey
) -> None:
    with db.begin() as connection:
        connection.exec_driver_sql("DROP TABLE sampling_coverage")
    stop = asyncio.Event()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            stop.set()

    sender = Sender(
        db,
        cluster_id=CLUSTER,
        signing_key=signing_key,
        target=lambda: None,
        clock=Clock(START),
        sleep=sleep,
    )
    asyncio.run(sender.run(stop))
    assert len(waits) == 2
    assert reporter.pushes == []


def test_samples_are_stored_while_a_push_waits_for_the_reporter(
    db: Database, reporter: FakeReporter, signing_key: SigningKey
) -> None:
    stored: list[int] = []

    def sample_meanwhile() -> None:
        store(db, at("2026-12-06", "10:00:30"), product("api", 9))
        stored.append(9)

    reporter.on_push = sample_meanwhile
    sender = sender_for(db, reporter, signing_key, Clock(START))
    started = time.monotonic()
    sender.push_round()
    assert stored == [9]
    assert time.monotonic() - started < 5  # no wait on a lock the sender holds


def test_a_reporter_acknowledging_nothing_is_pushed_from_the_initial_days_again(
    db: Database, reporter: FakeReporter, signing_key: SigningKey
) -> None:
    store(db, at("2026-12-05", "12:00"), product("api", 4))
    clock = Clock(START)
    sender = sender_for(db, reporter, signing_key, clock)
    sender.push_round()
    assert sender.status().acknowledged_through == day("2026-12-05")
    # The Reporter lost its data (a new database): it holds only today now, so it
    # answers ``acknowledgedThrough: null``.
    reporter.days.clear()
    clock.now = at("2026-12-06", "11:00")
    sender.push_round()
    assert reporter.pushes[-1].dates == ["2026-12-06"]
    assert reporter.acknowledged_through() is None
    status = sender.status()
    assert status.acknowledged_through is None
    assert status.last_error is None
    with db.read() as connection:
        assert push_progress(connection, reporter_url=reporter.url).acknowledged_through is None

    clock.now = at("2026-12-06", "12:00")
    sender.push_round()
    assert reporter.pushes[-1].dates[0] == "2026-11-06"
    assert reporter.pushes[-1].dates[-1] == "2026-12-06"
    assert reporter.days["2026-12-05"].products[0].quantity == 4
    assert sender.status().acknowledged_through == day("2026-12-05")


def test_a_first_push_of_today_only_acknowledged_as_null_is_a_success(
    db: Database, reporter: FakeReporter, signing_key: SigningKey
) -> None:
    target = SenderTarget(
        reporter=ReporterConnection(url=reporter.url, token=TOKEN, ca_pem=None),
        cluster=ClusterIdentity("prod-eu", "Production EU", "1.2.3"),
        initial_days=0,
    )
    sender = Sender(
        db, cluster_id=CLUSTER, signing_key=signing_key, target=lambda: target, clock=Clock(START)
    )
    assert sender.push_round() == PUSH_EVERY_SECONDS
    assert reporter.pushes[-1].dates == ["2026-12-06"]
    status = sender.status()
    assert (status.acknowledged_through, status.last_error, status.push_failures) == (None, None, 0)
    assert status.last_push_at == START
