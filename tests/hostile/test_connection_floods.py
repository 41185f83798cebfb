"""Connections that never finish a request, against a real ``license-service serve``.

The service runs with 1,024 open files allowed (``RLIMIT_NOFILE``), so the flood
needs only a few thousand sockets. Before connections were guarded, 1,500 idle
sockets took every descriptor: ``/livez`` and ``/metrics`` stopped answering, asyncio
logged some 250,000 tracebacks ("socket.accept() out of system resource"), and the
store could not open its files. Now each connection must send its request head
within 5 s, the oldest waiting connection makes room for a new one past the cap,
and the clients that do send a request are answered all through the flood.
"""

from __future__ import annotations

import os
import resource
import selectors
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from license_service.runtime.connection_limits import HEAD_TIMEOUT_SECONDS, server_limits
from tests.e2e.processes import ServiceProcess, start_service
from tests.soak import soak_or

FD_LIMIT = 1024
IDLE_SOCKETS = soak_or(3_000, 15_000)
WAVES = soak_or(1, 8)
POLL_EVERY = 0.2


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    started = start_service(tmp_path_factory.mktemp("floods"), fd_limit=FD_LIMIT)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def many_sockets() -> Iterator[None]:
    """Let this process hold the flood's sockets (raise its soft limit of open files)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = IDLE_SOCKETS + 256
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"this process may open {hard} files, the flood needs {needed}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def figures(service: ServiceProcess) -> dict[str, float]:
    """Every sample of ``/metrics`` by name and labels, as ``name{a=b,...}``."""
    text = httpx.get(service.metrics_url, timeout=10).text
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{name}={value}" for name, value in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}"] = sample.value
    return found


def open_files(service: ServiceProcess) -> int:
    return len(os.listdir(f"/proc/{service.process.pid}/fd"))


class Poller:
    """A well-behaved client asking /livez, /products and /metrics while the flood runs."""

    def __init__(self, service: ServiceProcess) -> None:
        self.service = service
        self.answers: Counter[tuple[str, int | str]] = Counter()
        self.most_open_files = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="poller", daemon=True)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        service = self.service
        targets = {
            "/livez": f"{service.url}/livez",
            "/products": f"{service.url}/products?token={service.token}",
            "/metrics": service.metrics_url,
        }
        while not self._stop.is_set():
            for name, url in targets.items():
                try:
                    status: int | str = httpx.get(url, timeout=5).status_code
                except httpx.TransportError as exc:
                    status = type(exc).__name__
                self.answers[(name, status)] += 1
            self.most_open_files = max(self.most_open_files, open_files(service))
            self._stop.wait(POLL_EVERY)


def open_idle(port: int, count: int) -> tuple[list[socket.socket], int]:
    """``count`` connections that send nothing, opened at once (as many as the kernel takes).

    Returns them with the number the kernel had not completed within 20 s.
    """
    held, selector = [], selectors.DefaultSelector()
    for _ in range(count):
        connection = socket.socket()
        connection.setblocking(False)
        connection.connect_ex(("127.0.0.1", port))
        selector.register(connection, selectors.EVENT_WRITE)
        held.append(connection)
    pending, deadline = count, time.monotonic() + 20
    while pending and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            selector.unregister(key.fileobj)
            pending -= 1
    selector.close()
    return held, pending


@pytest.mark.soak
def test_a_flood_of_idle_connections_leaves_the_api_the_probes_metrics_and_sampling_working(
    service: ServiceProcess, many_sockets: None
) -> None:
    limits = server_limits(FD_LIMIT)
    before = figures(service)
    failed = 0
    with Poller(service) as poller:
        for _ in range(WAVES):
            held, not_made = open_idle(service.port, IDLE_SOCKETS)
            failed += not_made
            time.sleep(HEAD_TIMEOUT_SECONDS + 1)  # the server works through the queue meanwhile
            for connection in held:
                connection.close()
    after = figures(service)
    log = service.log()

    polled = sum(poller.answers.values())
    assert {status for (_, status) in poller.answers} == {200}, poller.answers
    assert polled >= 30
    # Descriptors stayed within the budget: nothing else ran short.
    assert poller.most_open_files < FD_LIMIT
    assert "Traceback" not in log
    assert "out of system resource" not in log
    assert "EMFILE" not in log
    # The sampler went on sampling, one sample a second, none missed or failed.
    taken = (
        after["license_service_samples_taken_total{}"]
        - before["license_service_samples_taken_total{}"]
    )
    missed = (
        after["license_service_samples_missed_total{}"]
        - before["license_service_samples_missed_total{}"]
    )
    assert taken >= 3
    # One instant late by over a second can happen on a loaded 2-core CI machine with or
    # without a flood (CI saw it once); a sampler starved by the flood misses one a second.
    assert missed <= 1, f"{missed:g} sampling instants missed during the flood"
    assert after["license_service_sampling_failures_total{}"] == 0
    closed = {
        reason: after[
            f"license_service_http_connections_closed_total{{reason={reason},server=api}}"
        ]
        for reason in ("head_timeout", "evicted", "refused")
    }
    assert closed["evicted"] > 0
    print(
        f"\n{WAVES} wave(s) of {IDLE_SOCKETS} idle connections ({failed} could not be made), "
        f"API cap {limits.api.max_connections}: {polled} requests polled, all 200; at most "
        f"{poller.most_open_files} of {FD_LIMIT} files open; closed {closed}; "
        f"{taken:g} samples taken meanwhile, {missed:g} missed"
    )


def seconds_until_closed(connection: socket.socket, *, trickle: bytes = b"") -> float:
    """How long the server keeps ``connection`` open; ``trickle`` is sent a byte a second."""
    started = time.monotonic()
    connection.settimeout(1)
    for byte in trickle:
        try:
            connection.sendall(bytes([byte]))
            if connection.recv(1024) == b"":
                break
        except TimeoutError:
            continue
        except OSError:
            break
    else:
        connection.settimeout(30)
        while True:
            try:
                if connection.recv(1024) == b"":
                    break
            except OSError:
                break
    return time.monotonic() - started


def test_a_connection_that_sends_nothing_is_closed_after_the_head_timeout(
    service: ServiceProcess,
) -> None:
    with socket.create_connection(("127.0.0.1", service.port)) as connection:
        held = seconds_until_closed(connection)
    assert HEAD_TIMEOUT_SECONDS - 0.5 <= held <= HEAD_TIMEOUT_SECONDS + 2


def test_a_request_head_sent_a_byte_a_second_is_cut_off_at_the_head_timeout(
    service: ServiceProcess,
) -> None:
    slow_head = b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 60
    with socket.create_connection(("127.0.0.1", service.port)) as connection:
        held = seconds_until_closed(connection, trickle=slow_head)
    assert held <= HEAD_TIMEOUT_SECONDS + 2


def test_a_kept_alive_connection_is_closed_once_it_stops_asking(service: ServiceProcess) -> None:
    with socket.create_connection(("127.0.0.1", service.port)) as connection:
        connection.sendall(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        connection.settimeout(5)
        assert connection.recv(65536).startswith(b"HTTP/1.1 200 ")
        # Then a byte of the next request now and then: the time is not reset by data.
        held = seconds_until_closed(connection, trickle=b"GET /livez HTTP/1.1\r\n")
    assert held <= HEAD_TIMEOUT_SECONDS + 2
