"""The sender (SPEC 11): pushes this cluster's days to a Reporter, at start and hourly.

``Sender.run`` waits for the first sample of this run to be stored (``sampled_this_run``:
on a store holding earlier samples, a push before it would carry today without its
current usage until the next hourly push), then pushes every day from the one after
the last day the Reporter acknowledged through today (``push_schedule``), and does it
again every hour, so today is re-sent until it ends. A run that stores no sample
within an hour (a cluster that cannot be read) pushes what the store holds then. Each
push is read from the store in its own short transaction and sent from a worker thread
with a bounded timeout, so local sampling and reporting never wait for the Reporter.
A push the Reporter could not take (no answer, 5xx) is retried with backoff and
jitter; a refusal (4xx) is a configuration problem: shown on ``/status`` and
``/health``, and tried again an hour later. With replicas, only the leader pushes (``may_push``,
checked right before each push). The token is never logged nor shown.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Final

from license_service.errors import ConfigurationError, LicenseServiceError, StorageError
from license_service.fleet.push_format import MAX_BODY_BYTES, ClusterIdentity, encode_push
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.reporting.push_days import push_days
from license_service.reporting.push_schedule import (
    PUSH_EVERY_SECONDS,
    push_periods,
    retry_seconds,
)
from license_service.reporting.reporter_client import PushAnswer, ReporterConnection, send_push
from license_service.signing.keys import SigningKey
from license_service.store.database import Database
from license_service.store.reporter_pushes import push_progress, record_push
from license_service.store.sampling_coverage import last_sampled_at
from license_service.waiting import Sleep, stopped_while_waiting

logger = logging.getLogger(__name__)

FIRST_SAMPLE_CHECK_SECONDS: Final = 1.0
CONFIGURATION_CHECK_SECONDS: Final = 60.0
"""How soon a Reporter configured while running gets its first push."""


class UnusableTarget(ConfigurationError):
    """The Reporter at ``reporter_url`` is configured but cannot be pushed to (no token,
    an unreadable CA): a configuration problem, shown like a refusal."""

    def __init__(self, message: str, *, reporter_url: str) -> None:
        super().__init__(message)
        self.reporter_url = reporter_url


@dataclass(frozen=True, slots=True)
class SenderTarget:
    """Where the next push goes, as whom, from which days (read before every round)."""

    reporter: ReporterConnection
    cluster: ClusterIdentity
    initial_days: int


@dataclass(frozen=True, slots=True)
class SenderStatus:
    """The sender's state for ``/status``, ``/health`` and the metrics (no token in it).

    ``last_error`` is the last failure's message, cleared by the next success;
    ``refused`` whether that failure was a refusal (4xx: a configuration problem).
    """

    reporter_url: str | None = None
    certificates_verified: bool = False
    last_push_at: datetime | None = None
    acknowledged_through: date | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    refused: bool = False
    push_failures: int = 0
    next_push_at: datetime | None = None


class Sender:
    """Pushes to the Reporter that ``target`` names (``None``: sending is off)."""

    def __init__(
        self,
        database: Database,
        *,
        cluster_id: ClusterId,
        signing_key: SigningKey,
        target: Callable[[], SenderTarget | None],
        clock: Callable[[], datetime],
        may_push: Callable[[], bool] | None = None,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        every_seconds: float = PUSH_EVERY_SECONDS,
        sampled_this_run: Callable[[], bool] | None = None,
    ) -> None:
        """``sampled_this_run`` says whether this process stored a sample since it started
        (the sampler's status); ``None``: any sample in the store will do."""
        self._database = database
        self._cluster_id = cluster_id
        self._key = signing_key
        self._target = target
        self._clock = clock
        self._may_push = may_push
        self._sleep = sleep
        self._jitter = jitter
        self._every = every_seconds
        self._sampled_this_run = sampled_this_run
        self._lock = threading.Lock()
        self._status = SenderStatus()
        self._retries = 0
        self._stopping = threading.Event()
        # The token of the latest round, for the log's redaction; never shown.
        self._token: tuple[str, ...] = ()

    def secrets(self) -> tuple[str, ...]:
        """The Reporter token in use, for the log's redaction (takes no lock: never blocks)."""
        return self._token

    def status(self) -> SenderStatus:
        """The sender's state now (cheap: what is already known)."""
        with self._lock:
            return self._status

    async def run(self, stop: asyncio.Event) -> None:
        """Push at start (once this run's first sample is stored) and every hour, until
        ``stop`` is set."""
        waited = 0.0
        while not await asyncio.to_thread(self._ready_to_push, waited):
            if await stopped_while_waiting(stop, FIRST_SAMPLE_CHECK_SECONDS, sleep=self._sleep):
                return
            waited += FIRST_SAMPLE_CHECK_SECONDS
        watcher = asyncio.create_task(self._stop_when(stop))
        try:
            await self._rounds(stop)
        finally:
            watcher.cancel()

    async def _stop_when(self, stop: asyncio.Event) -> None:
        """Tell the round in its thread to send no further push once ``stop`` is set: a stop
        then waits at most for the push in flight (bounded by its timeout)."""
        await stop.wait()
        self._stopping.set()

    async def _rounds(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                wait = await asyncio.to_thread(self.push_round)
            except StorageError as error:
                # The store out of reach for a moment: tried again soon, shown meanwhile.
                wait = self._failed(None, PushAnswer(0, message=f"cannot read the store: {error}"))
            except Exception:
                # A bug or the store failing: logged, tried again later; never the service's end.
                logger.exception("Pushing to the Reporter failed; trying again in an hour")
                wait = self._every
            if await stopped_while_waiting(stop, wait, sleep=self._sleep):
                return

    def push_round(self) -> float:
        """Push every day not yet acknowledged; the seconds to wait before the next round."""
        try:
            target = self._target()
        except UnusableTarget as error:
            self._failed(error.reporter_url, PushAnswer(400, message=str(error)))
            return self._every
        except LicenseServiceError as error:
            self._failed(None, PushAnswer(400, message=str(error)))
            return self._every
        if target is None:
            with self._lock:
                self._status = SenderStatus()
            return CONFIGURATION_CHECK_SECONDS
        url = target.reporter.url
        self._token = (target.reporter.token,)
        with self._lock:
            if self._status.reporter_url != url:
                self._status = SenderStatus(reporter_url=url)
                self._retries = 0
            self._status = replace(
                self._status, certificates_verified=target.reporter.ca_pem is not None
            )
        now = self._clock()
        # Reads never take SQLite's write lock: the sampler never waits for the sender.
        with self._database.read() as connection:
            progress = push_progress(connection, reporter_url=url)
        with self._lock:
            self._status = replace(
                self._status,
                acknowledged_through=progress.acknowledged_through,
                last_push_at=self._status.last_push_at or progress.last_push_at,
            )
        periods = push_periods(
            acknowledged_through=progress.acknowledged_through,
            today=now.date(),
            initial_days=target.initial_days,
        )
        pending = list(periods)
        while pending:
            period = pending.pop(0)
            leading = self._may_push is None or self._may_push()
            if not leading or self._stopping.is_set():
                return self._every
            with self._database.read() as connection:
                days = push_days(connection, cluster_id=self._cluster_id, period=period, now=now)
            body = encode_push(target.cluster, days, key=self._key, sent_at=self._clock())
            if len(body) > MAX_BODY_BYTES:
                if period.days == 1:
                    return self._failed(url, _too_large(period, len(body)))
                # Too much for one push (a very large cluster): the halves go one by one.
                middle = period.first + timedelta(days=period.days // 2 - 1)
                pending[:0] = [
                    DatePeriod(period.first, middle),
                    DatePeriod(middle + timedelta(days=1), period.last),
                ]
                continue
            answer = send_push(target.reporter, body)
            if not answer.succeeded:
                return self._failed(url, answer)
            self._pushed(url, period, answer)
        return self._every

    def _pushed(self, url: str, period: DatePeriod, answer: PushAnswer) -> None:
        """Record a push the Reporter stored, in the store and in the status."""
        pushed_at = self._clock()
        with self._database.begin() as connection:
            record_push(
                connection,
                reporter_url=url,
                acknowledged_through=answer.acknowledged_through,
                pushed_at=pushed_at,
            )
        logger.info(
            "Pushed %s to the Reporter at %s: %s days stored, acknowledged through %s",
            period,
            url,
            answer.accepted,
            answer.acknowledged_through,
        )
        with self._lock:
            self._retries = 0
            self._status = replace(
                self._status,
                last_push_at=pushed_at,
                acknowledged_through=answer.acknowledged_through,
                last_error=None,
                last_error_at=None,
                refused=False,
            )

    def _ready_to_push(self, waited: float) -> bool:
        """Whether the first push may go, ``waited`` seconds after the run started: once
        this run stored a sample, or (none stored within an hour) once any sample is."""
        if self._sampled_this_run is not None and self._sampled_this_run():
            return True
        if self._sampled_this_run is not None and waited < self._every:
            return False
        return self._sampled()

    def _sampled(self) -> bool:
        """Whether a sample is stored; ``False`` while the store cannot say (never raises:
        the sender must not stop the service)."""
        try:
            with self._database.read() as connection:
                return last_sampled_at(connection, cluster_id=self._cluster_id) is not None
        except Exception:
            # The store being out of reach is on /health already: no line every 5 s here.
            logger.debug("The sender cannot read the store yet; it looks again shortly")
            return False

    def _failed(self, url: str | None, answer: PushAnswer) -> float:
        """Record a failed push; the seconds until the next try."""
        message = answer.message
        for token in self._token:
            # A Reporter (or a proxy) may echo the request: the token is shown nowhere.
            message = message.replace(token, "[the Reporter token]")
        with self._lock:
            if answer.retryable:
                self._retries += 1
                wait = retry_seconds(self._retries, jitter=self._jitter())
            else:
                self._retries = 0
                wait = self._every
            self._status = replace(
                self._status,
                reporter_url=url if url is not None else self._status.reporter_url,
                last_error=message,
                last_error_at=self._clock(),
                refused=not answer.retryable,
                push_failures=self._status.push_failures + 1,
            )
        # Logged after the lock is released: the log's redaction asks ``secrets``.
        if answer.retryable:
            logger.warning("Push to the Reporter failed (%s); retrying in %.0f s", message, wait)
        else:
            logger.error(
                "The Reporter refused the push (%s); this is a configuration problem, "
                "tried again in an hour",
                message,
            )
        return wait


def _too_large(period: DatePeriod, size: int) -> PushAnswer:
    """A day too large for one push: refused here, as the Reporter would (413)."""
    return PushAnswer(
        413,
        message=f"the push of {period.first} is {size} bytes, above the Reporter's limit of "
        f"{MAX_BODY_BYTES} bytes; that day cannot be sent",
    )
