"""A uvicorn server under a ``ConnectionGuard``, on a real socket, with small limits.

The app answers ``/livez`` at once and holds ``/slow`` until the test lets it go,
so the tests can fill the server with requests in progress and idle connections
and see what a further client gets.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from starlette.types import Receive, Scope, Send

from license_service.runtime.connection_limits import (
    LIVENESS_PATH,
    ConnectionLimits,
    server_limits,
)
from license_service.runtime.guarded_connections import ConnectionCollector, ConnectionGuard
from license_service.runtime.resource_shortage import ResourceShortage
from license_service.runtime.servers import build_server


@dataclass
class HoldingApp:
    """Answers ``/livez`` at once; ``/slow`` when ``release`` is set."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    started: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/slow":
            self.started += 1
            await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


@dataclass
class Running:
    port: int
    app: HoldingApp
    guard: ConnectionGuard


@asynccontextmanager
async def serving(limits: ConnectionLimits) -> AsyncIterator[Running]:
    app = HoldingApp()
    guard = ConnectionGuard(limits, name="api", shortage=ResourceShortage())
    server = build_server(app, guard=guard)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield Running(port=sock.getsockname()[1], app=app, guard=guard)
    finally:
        app.release.set()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)
        sock.close()


async def ask(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """One GET on a new connection: status, headers, body (read until the server closes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body


async def until(check: Callable[[], bool]) -> None:
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())  # type: ignore[arg-type]


def test_requests_past_the_cap_are_answered_503_as_json_but_the_liveness_probe_is_not() -> None:
    limits = ConnectionLimits(
        max_connections=10, max_requests=2, always_answered=frozenset({LIVENESS_PATH})
    )

    async def scenario() -> None:
        async with serving(limits) as running:
            held = [asyncio.create_task(ask(running.port, "/slow")) for _ in range(2)]
            await until(lambda: running.app.started == 2)

            status, headers, body = await ask(running.port, "/slow")
            probe, _, _ = await ask(running.port, "/livez")
            running.app.release.set()
            finished = [answer[0] for answer in await asyncio.gather(*held)]
            after, _, _ = await ask(running.port, "/slow")

        assert (status, probe, finished, after) == (503, 200, [200, 200], 200)
        assert headers["content-type"] == "application/json"
        assert headers["retry-after"] == "1"
        assert headers["connection"] == "close"
        assert headers["cache-control"] == "no-store"
        message = json.loads(body)
        assert message["status"] == 503
        assert "2 requests at once" in message["message"]
        assert running.guard.refused_requests == 1

    run(scenario)


def test_past_the_connection_cap_the_longest_waiting_idle_connection_makes_room() -> None:
    limits = ConnectionLimits(max_connections=3, max_requests=3, head_timeout=30)

    async def scenario() -> None:
        async with serving(limits) as running:
            idle = [await asyncio.open_connection("127.0.0.1", running.port) for _ in range(3)]
            await until(lambda: running.guard.open_connections == 3)

            status, _, _ = await ask(running.port, "/livez")
            oldest_reader = idle[0][0]
            closed = await asyncio.wait_for(oldest_reader.read(), timeout=5)
            for _, writer in idle:
                writer.close()

        assert status == 200
        assert closed == b""  # closed without a word: it had asked nothing
        assert running.guard.closed["evicted"] == 1

    run(scenario)


def test_when_every_connection_is_busy_a_new_one_is_answered_503_at_once() -> None:
    limits = ConnectionLimits(max_connections=2, max_requests=2)

    async def scenario() -> None:
        async with serving(limits) as running:
            held = [asyncio.create_task(ask(running.port, "/slow")) for _ in range(2)]
            await until(lambda: running.app.started == 2)
            reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
            answer = await asyncio.wait_for(reader.read(), timeout=5)
            writer.close()
            running.app.release.set()
            await asyncio.gather(*held)

        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
        assert b"retry-after: 1" in head
        assert json.loads(body)["status"] == 503
        assert running.guard.closed["refused"] == 1

    run(scenario)


def test_a_client_that_reads_nothing_of_a_long_answer_is_cut_off() -> None:
    limits = ConnectionLimits(max_connections=4, max_requests=4, write_stall=0.5)
    huge = b"x" * (64 * 1024 * 1024)

    async def big(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for start in range(0, len(huge), 1024 * 1024):
            await send(
                {
                    "type": "http.response.body",
                    "body": huge[start : start + 1024 * 1024],
                    "more_body": True,
                }
            )
        await send({"type": "http.response.body", "body": b""})

    async def scenario() -> None:
        guard = ConnectionGuard(limits, name="api", shortage=ResourceShortage())
        server = build_server(big, guard=guard)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        _, writer = await asyncio.open_connection("127.0.0.1", sock.getsockname()[1])
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await until(lambda: guard.closed["write_stall"] == 1)
        writer.close()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)
        sock.close()

    run(scenario)


def test_the_figures_are_exposed_by_server_and_reason() -> None:
    guard = ConnectionGuard(
        ConnectionLimits(max_connections=2, max_requests=1), name="api", shortage=ResourceShortage()
    )
    guard.closed["head_timeout"] += 3
    families = {family.name: family for family in ConnectionCollector([guard]).collect()}

    closed = {
        sample.labels["reason"]: sample.value
        for sample in families["license_service_http_connections_closed"].samples
    }
    assert closed == {"head_timeout": 3, "evicted": 0, "refused": 0, "write_stall": 0}
    assert families["license_service_http_connections"].samples[0].labels == {"server": "api"}


@pytest.mark.parametrize(
    ("fd_limit", "api", "metrics"),
    [(1024, 672, 32), (20_000, 2048, 32), (1_048_576, 2048, 32), (512, 168, 24)],
)
def test_limits_leave_a_reserve_of_descriptors_for_everything_else(
    fd_limit: int, api: int, metrics: int
) -> None:
    limits = server_limits(fd_limit)
    assert (limits.api.max_connections, limits.metrics.max_connections) == (api, metrics)
    assert limits.api.max_connections + limits.metrics.max_connections <= fd_limit * 3 // 4
    assert limits.api.max_requests < limits.api.max_connections
    assert limits.api.always_answered == {LIVENESS_PATH}


def test_a_descriptor_shortage_is_logged_once_per_streak(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    shortage = ResourceShortage(clock=lambda: now[0])
    loop = asyncio.new_event_loop()
    emfile = OSError(24, "Too many open files")
    try:
        with caplog.at_level(logging.INFO, logger="license_service.runtime.resource_shortage"):
            for second in range(100):
                now[0] = second / 10
                shortage.exception_handler(loop, {"message": "accept", "exception": emfile})
                shortage.accepted()  # a connection now and then: still the same streak
            now[0] = 30.0
            shortage.accepted()
            shortage.exception_handler(loop, {"message": "accept", "exception": emfile})
    finally:
        loop.close()

    lines = [(record.levelname, record.getMessage()) for record in caplog.records]
    assert [level for level, _ in lines] == ["WARNING", "INFO", "WARNING"]
    assert "Too many open files (EMFILE)" in lines[0][1]
    assert "after 100 failed attempts" in lines[1][1]


def test_other_loop_errors_still_reach_the_default_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            ResourceShortage().exception_handler(
                loop, {"message": "a bug", "exception": ValueError("boom")}
            )
    finally:
        loop.close()
    assert [record.getMessage() for record in caplog.records] == ["a bug"]
