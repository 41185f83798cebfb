"""Closed-loop keep-alive clients on a weighted mix of endpoints, with per-endpoint figures.

Each client holds one keep-alive connection per port, picks the next endpoint by weight
(its own seeded generator), sends a GET, reads the whole answer (``Content-Length`` or
chunked) and goes on until the run is over; requests under way then are finished. It
speaks just enough HTTP/1.1 over asyncio streams to stay cheap next to the server it
loads, as ``bench.load_generator`` does (whose percentile it shares), but over a mix and
with every failure kept: a status, or a connection error with the exception that ended it.
The one failure retried is a keep-alive connection the server closed while idle, found
dead before any byte of the answer (counted in ``stale_retries``).

A task samples the server's resident memory while the load runs, with the number of
requests answered at that moment.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from bench.load_generator import percentile

REQUEST_TIMEOUT: Final = 120.0  # far above any answer seen: a stall is an error, not a wait
MEMORY_SAMPLE_SECONDS: Final = 0.2


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One request of the mix: ``GET target`` on ``port``, picked with ``weight``."""

    label: str
    port: int
    target: str
    weight: float
    headers: tuple[tuple[str, str], ...] = ()

    def request(self) -> bytes:
        """The request's bytes (keep-alive)."""
        lines = [f"GET {self.target} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Accept: */*"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass(slots=True)
class EndpointFigures:
    """What one endpoint answered: latencies (s) of answers, statuses, errors, bytes."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    stale_retries: int = 0
    body_bytes: int = 0

    def p(self, fraction: float) -> float:
        """A latency percentile in milliseconds."""
        return percentile(sorted(self.latencies), fraction) * 1000


@dataclass(slots=True)
class LoadFigures:
    """Figures of one run, per endpoint label, plus the memory samples taken meanwhile."""

    endpoints: dict[str, EndpointFigures]
    seconds: float = 0.0
    answered: int = 0
    memory: list[tuple[int, int]] = field(default_factory=list)  # (answered, VmRSS in KiB)

    @property
    def statuses(self) -> Counter[int]:
        """Every status seen, over all endpoints."""
        total: Counter[int] = Counter()
        for figures in self.endpoints.values():
            total.update(figures.statuses)
        return total

    @property
    def errors(self) -> dict[str, Counter[str]]:
        """Connection errors by endpoint (only endpoints that had any)."""
        return {label: f.errors for label, f in self.endpoints.items() if f.errors}

    def server_errors(self) -> dict[str, dict[int, int]]:
        """5xx answers by endpoint (only endpoints that had any)."""
        found: dict[str, dict[int, int]] = {}
        for label, figures in self.endpoints.items():
            bad = {code: n for code, n in figures.statuses.items() if code >= 500}
            if bad:
                found[label] = bad
        return found

    def unexpected_statuses(self) -> dict[str, dict[int, int]]:
        """Answers other than 200, by endpoint."""
        return {
            label: {code: n for code, n in figures.statuses.items() if code != 200}
            for label, figures in self.endpoints.items()
            if set(figures.statuses) - {200}
        }

    def table(self) -> str:
        """Per-endpoint requests, statuses, p50/p99/max latency, as aligned text."""
        width = max(len(label) for label in self.endpoints)
        rows = [f"{'endpoint':<{width}}  requests  p50 ms   p99 ms   max ms  statuses"]
        for label, f in self.endpoints.items():
            statuses = ",".join(f"{code}x{n}" for code, n in sorted(f.statuses.items()))
            errors = "".join(f" {kind}x{n}" for kind, n in f.errors.items())
            if f.stale_retries:
                errors += f" (retried on a fresh connection: {f.stale_retries})"
            rows.append(
                f"{label:<{width}}  {len(f.latencies):>8}  {f.p(0.5):>6.1f}  {f.p(0.99):>7.1f}"
                f"  {f.p(1.0):>7.1f}  {statuses}{errors}"
            )
        return "\n".join(rows)


def resident_kib(pid: int) -> int:
    """``VmRSS`` of process ``pid`` in KiB, from ``/proc/<pid>/status``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS line in /proc/{pid}/status")


class StaleConnection(Exception):
    """A reused keep-alive connection ended before any byte of the answer: the server closed
    it while idle (uvicorn does after 5 s) just as the request went out. HTTP clients retry
    an idempotent request then (RFC 9112, 9.3.1); a connection ended later is an error."""


class _Connection:
    """One keep-alive connection to a port, opened on first use and after a failure."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.answers = 0

    async def get(self, request: bytes) -> tuple[int, int]:
        """Send ``request``; return the status and the body's length."""
        if self.reader is not None and self.reader.at_eof():
            self.close()  # the server closed it while idle, as it may
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        try:
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (ConnectionError, asyncio.IncompleteReadError) as error:
            nothing_read = not isinstance(error, asyncio.IncompleteReadError) or not error.partial
            if self.answers > 0 and nothing_read:
                self.close()
                raise StaleConnection from error
            raise
        status_line, _, header_text = head.partition(b"\r\n")
        headers = {}
        for line in header_text.split(b"\r\n"):
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().lower()
        if headers.get(b"transfer-encoding") == b"chunked":
            length = await _read_chunked(self.reader)
        else:
            length = int(headers.get(b"content-length", b"0"))
            await self.reader.readexactly(length)
        self.answers += 1
        if headers.get(b"connection") == b"close":
            self.close()
        return int(status_line.split()[1]), length

    def close(self) -> None:
        """Close (the next request opens a new connection)."""
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None
        self.answers = 0


async def _read_chunked(reader: asyncio.StreamReader) -> int:
    total = 0
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers are sent: the final CRLF
            return total
        await reader.readexactly(size + 2)
        total += size


class MixedLoad:
    """``clients`` closed-loop clients on ``endpoints``, watching the memory of ``pid``."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        *,
        clients: int,
        seconds: float,
        pid: int,
        min_requests: int = 0,
        max_seconds: float | None = None,
    ) -> None:
        """Run ``seconds``, longer if fewer than ``min_requests`` were answered by then,
        but never over ``max_seconds``."""
        self._endpoints = list(endpoints)
        self._weights = [endpoint.weight for endpoint in endpoints]
        self._clients = clients
        self._seconds = seconds
        self._min_requests = min_requests
        self._max_seconds = max_seconds if max_seconds is not None else seconds
        self._pid = pid
        self.figures = LoadFigures({endpoint.label: EndpointFigures() for endpoint in endpoints})

    def run(self) -> LoadFigures:
        """Run the load to the end; return the figures."""
        return asyncio.run(self._run())

    async def _run(self) -> LoadFigures:
        started = time.perf_counter()
        done = asyncio.Event()
        watch = asyncio.create_task(self._watch_memory(done))
        await asyncio.gather(*(self._client(index, started) for index in range(self._clients)))
        self.figures.seconds = time.perf_counter() - started
        done.set()
        await watch
        return self.figures

    def _finished(self, started: float) -> bool:
        elapsed = time.perf_counter() - started
        if elapsed >= self._max_seconds:
            return True
        return elapsed >= self._seconds and self.figures.answered >= self._min_requests

    async def _client(self, index: int, run_started: float) -> None:
        chooser = random.Random(index)
        connections = {port: _Connection(port) for port in {e.port for e in self._endpoints}}
        requests = {endpoint.label: endpoint.request() for endpoint in self._endpoints}
        try:
            while not self._finished(run_started):
                endpoint = chooser.choices(self._endpoints, self._weights)[0]
                figures = self.figures.endpoints[endpoint.label]
                connection = connections[endpoint.port]
                started = time.perf_counter()
                try:
                    try:
                        answer = connection.get(requests[endpoint.label])
                        status, length = await asyncio.wait_for(answer, REQUEST_TIMEOUT)
                    except StaleConnection:
                        figures.stale_retries += 1
                        answer = connection.get(requests[endpoint.label])
                        status, length = await asyncio.wait_for(answer, REQUEST_TIMEOUT)
                except (
                    OSError,
                    asyncio.IncompleteReadError,
                    StaleConnection,
                    TimeoutError,
                    ValueError,
                ) as error:
                    figures.errors[type(error).__name__] += 1
                    connection.close()
                    continue
                figures.latencies.append(time.perf_counter() - started)
                figures.statuses[status] += 1
                figures.body_bytes += length
                self.figures.answered += 1
        finally:
            for connection in connections.values():
                connection.close()

    async def _watch_memory(self, done: asyncio.Event) -> None:
        memory = self.figures.memory
        while True:
            memory.append((self.figures.answered, resident_kib(self._pid)))
            try:
                await asyncio.wait_for(done.wait(), MEMORY_SAMPLE_SECONDS)
            except TimeoutError:
                continue
            memory.append((self.figures.answered, resident_kib(self._pid)))
            return
