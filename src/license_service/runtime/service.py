"""Running the service: sampler, watchers, prune job and two HTTP servers in one asyncio loop.

``run`` (or ``run_service`` inside a loop) runs until SIGINT or SIGTERM, or until
the ``stop`` event is set: then the servers stop accepting connections and finish
the requests in flight, the sampler finishes the sample in hand, the watchers end,
and the function returns. A second signal cuts the servers' grace short.

Guarantees: every background job runs under supervision: if one of them fails
(a server cannot start, a bug ends a loop), the failure is logged with its
traceback, the whole service stops gracefully, and ``run`` raises
``LicenseServiceError`` naming the part that failed, so the process exits
non-zero instead of running half-alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Iterator
from typing import Final

from prometheus_client import CollectorRegistry

from license_service.errors import LicenseServiceError
from license_service.leadership.elector import Lead, Takeover
from license_service.runtime.connection_limits import process_fd_limit, server_limits
from license_service.runtime.guarded_connections import ConnectionCollector, ConnectionGuard
from license_service.runtime.leader_view_sharing import PUBLISH_EVERY_SECONDS
from license_service.runtime.listeners import Listeners
from license_service.runtime.log_configuration import redacting
from license_service.runtime.periodic import WATCH_EVERY_SECONDS, Job, run_periodically
from license_service.runtime.resource_shortage import ResourceShortage
from license_service.runtime.servers import EmbeddedServer, build_server
from license_service.runtime.tls_handshakes import new_event_loop
from license_service.runtime.wiring import Service
from license_service.sampling.leader_changes import leader_change_reason, record_leader_change
from license_service.store.retention import prune
from license_service.web.application import create_app, create_metrics_app

logger = logging.getLogger(__name__)

STOP_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)
PRUNE_EVERY_SECONDS: Final = 86_400.0


def run(service: Service, listeners: Listeners) -> None:
    """Run ``service`` on ``listeners`` until a stop signal; close everything afterwards."""
    try:
        # The loop bounds TLS handshakes by the head timeout (``tls_handshakes``).
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            runner.run(run_service(service, listeners))
    finally:
        listeners.close()
        service.close()


async def run_service(
    service: Service,
    listeners: Listeners,
    *,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
) -> None:
    """Run every part of ``service`` until ``stop`` is set or a stop signal arrives.

    Raises ``LicenseServiceError`` when a part failed (the others were stopped first).
    """
    stop = stop or asyncio.Event()
    shortage = ResourceShortage()
    servers = _servers(service, listeners, shortage)
    jobs = _jobs(service, stop)
    for name, (server, sock) in servers.items():
        jobs[name] = server.serve(sockets=[sock])
    failures: list[str] = []
    embedded = [server for server, _ in servers.values()]
    logger.info(
        "License Service %s running: %s; cluster %s (%s source), a sample every %d s",
        service.state.version.version,
        ", ".join(servers),
        service.cluster.cluster_id,
        service.cluster.source.current().source,
        service.options.sample_interval.total_seconds(),
    )
    with (
        _stopping_on_signals(stop, embedded, enabled=handle_signals),
        shortage.handling(asyncio.get_running_loop()),
        redacting(lambda: service.secrets_in_force),
    ):
        async with asyncio.TaskGroup() as group:
            for name, job in jobs.items():
                group.create_task(_supervised(name, job, stop=stop, failures=failures), name=name)
            group.create_task(_stop_servers_when(stop, embedded))
    if failures:
        raise LicenseServiceError(
            "the service stopped because a part failed (see the log above): " + "; ".join(failures)
        )
    logger.info("License Service stopped")


def _servers(
    service: Service, listeners: Listeners, shortage: ResourceShortage
) -> dict[str, tuple[EmbeddedServer, socket.socket]]:
    """The servers by name ("API server on 0.0.0.0:8080"), each with its bound socket."""
    limits = server_limits(process_fd_limit())
    api_guard = ConnectionGuard(limits.api, name="api", shortage=shortage)
    api = build_server(create_app(service.state), tls=service.tls, guard=api_guard)
    servers = {f"API server on {_address(listeners.api)}": (api, listeners.api)}
    if listeners.metrics is not None:
        # A registry per service: nothing global, and tests can run several services.
        registry = CollectorRegistry(auto_describe=True)
        metrics_guard = ConnectionGuard(limits.metrics, name="metrics", shortage=shortage)
        registry.register(ConnectionCollector([api_guard, metrics_guard]))
        metrics = build_server(create_metrics_app(service.state, registry), guard=metrics_guard)
        servers[f"metrics server on {_address(listeners.metrics)}"] = (metrics, listeners.metrics)
    return servers


def _address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _jobs(service: Service, stop: asyncio.Event) -> dict[str, Job]:
    jobs: dict[str, Job] = {
        # With replicas, only the leader samples and prunes (SPEC 12): the election runs
        # them while this replica leads.
        **(
            _leader_jobs(service, stop)
            if service.election is None
            else {"leader election": service.election.elector.run(stop, _leading(service))}
        ),
        # Following the token, the configuration and (in a cluster) the watches.
        **service.backends.jobs(stop),
    }
    if service.cluster.check is not None:
        jobs["cluster dump watcher"] = run_periodically(
            service.cluster.check,
            every=WATCH_EVERY_SECONDS,
            stop=stop,
            name="reading the cluster dumps",
        )
    return jobs


def _leader_jobs(service: Service, stop: asyncio.Event) -> dict[str, Job]:
    """What only the leader does, until ``stop``: sample, prune, push to the Reporter (the
    sender checks ``election.elector.leading()`` right before each push) and, with replicas,
    share with the others what only it knows of ``/health``."""
    jobs: dict[str, Job] = {
        "sampler": service.sampler.run(stop),
        "prune job": run_periodically(
            lambda: _prune(service),
            every=PRUNE_EVERY_SECONDS,
            stop=stop,
            name="removing data older than the retention periods",
        ),
    }
    if service.sender is not None:
        jobs["Reporter sender"] = service.sender.run(stop)
    if service.leader_view is not None:
        service.leader_view.start_term()
        jobs["leader view sharing"] = run_periodically(
            service.leader_view.publish,
            every=PUBLISH_EVERY_SECONDS,
            stop=stop,
            name="sharing the leader's view with the other replicas",
        )
    return jobs


def _leading(service: Service) -> Lead:
    """The leader's term: record the gap of the change, then run the leader's jobs until
    the term ends (``resign``); a job failing ends the service, as any job's failure does."""

    async def lead(resign: asyncio.Event, takeover: Takeover) -> None:
        election = service.election
        assert election is not None
        if takeover.previous is not None:
            reason = leader_change_reason(
                new=election.elector.identity,
                previous=takeover.previous,
                previous_renewed=takeover.previous_renewed,
            )
            try:
                await asyncio.to_thread(
                    record_leader_change,
                    service.database,
                    cluster_id=service.cluster.cluster_id,
                    now=service.clock(),
                    interval=service.options.sample_interval,
                    reason=reason,
                )
            except LicenseServiceError as error:
                # The gap then shows without its reason; sampling must not wait for the store.
                logger.warning("Could not record the gap of the leader change: %s", error)
        failures: list[str] = []
        async with asyncio.TaskGroup() as group:
            for name, job in _leader_jobs(service, resign).items():
                group.create_task(_supervised(name, job, stop=resign, failures=failures))
        if failures:
            raise LicenseServiceError("; ".join(failures))

    return lead


async def _supervised(name: str, job: Job, *, stop: asyncio.Event, failures: list[str]) -> None:
    """Run ``job``; if it fails or ends before ``stop`` is set, stop the whole service."""
    try:
        await job
    except (Exception, SystemExit) as exc:
        # uvicorn calls sys.exit() when a server cannot start: that is a failure too.
        logger.exception("The %s failed; stopping the service", name)
        failures.append(f"the {name} failed: {type(exc).__name__}: {exc}")
    else:
        if not stop.is_set():
            logger.error("The %s ended unexpectedly; stopping the service", name)
            failures.append(f"the {name} ended unexpectedly")
    finally:
        stop.set()


async def _stop_servers_when(stop: asyncio.Event, servers: list[EmbeddedServer]) -> None:
    await stop.wait()
    logger.info("Stopping: finishing the requests in flight and the sample in hand")
    for server in servers:
        server.should_exit = True


@contextlib.contextmanager
def _stopping_on_signals(
    stop: asyncio.Event, servers: list[EmbeddedServer], *, enabled: bool
) -> Iterator[None]:
    """Set ``stop`` on SIGINT or SIGTERM; a second signal makes the servers quit at once."""
    if not enabled:
        yield
        return
    loop = asyncio.get_running_loop()

    def on_signal(received: signal.Signals) -> None:
        if not stop.is_set():
            logger.info("Received %s: stopping (send it again to stop at once)", received.name)
            stop.set()
            return
        logger.warning("Received %s again: stopping at once", received.name)
        for server in servers:
            server.force_exit = True

    for received in STOP_SIGNALS:
        loop.add_signal_handler(received, on_signal, received)
    try:
        yield
    finally:
        for received in STOP_SIGNALS:
            loop.remove_signal_handler(received)


def _prune(service: Service) -> None:
    state = service.state
    with service.database.begin() as connection:
        result = prune(
            connection,
            now=service.clock(),
            sample_days=state.retention_sample_days,
            peak_days=state.retention_peak_days,
            chargeback_days=state.licensing().chargeback_retention_period,
        )
    if result.total:
        logger.info(
            "Removed data older than the retention periods: %d samples (%d usage rows), "
            "%d daily peaks, %d chargeback group peaks, %d coverage intervals, "
            "%d missed-sample records, %d usage explanations",
            result.samples,
            result.sample_rows,
            result.daily_peaks,
            result.group_peaks,
            result.coverage_intervals,
            result.missed_samples,
            result.explanations,
        )
    if result.written_out:
        logger.info("Wrote out %d usage explanations of days that are over", result.written_out)
