"""An HTTP load generator in its own process: closed-loop keep-alive clients, latency percentiles.

``python -m bench.load_generator --url URL --clients C --seconds S`` opens C
keep-alive connections; each sends a GET, reads the whole answer, and sends the
next, until S seconds have passed; requests under way then are finished and
counted. It prints one JSON line: requests, seconds (until the last answer),
requests per second, p50/p99/max latency in ms, and the status codes seen.

It speaks just enough HTTP/1.1 (answers with ``Content-Length``) over asyncio
streams: a few tens of microseconds per request, so on two cores it is not what
limits the server it measures (httpx costs several times more per request). Slow
endpoints still give figures: every client finishes at least one request.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from collections import Counter
from urllib.parse import urlsplit

from bench.measurements import emit


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``sorted_values`` lie (nearest rank)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


async def _client(
    host: str,
    port: int,
    request: bytes,
    *,
    deadline: float,
    latencies: list[float],
    statuses: Counter[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, _, header_text = head.partition(b"\r\n")
            length = 0
            for line in header_text.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
                elif name.strip().lower() == b"transfer-encoding":
                    raise RuntimeError("chunked answers are not supported by this load generator")
            await reader.readexactly(length)
            finished = time.perf_counter()
            latencies.append(finished - started)
            statuses[int(status_line.split()[1])] += 1
            if finished >= deadline:
                return
    finally:
        writer.close()


async def generate_load(url: str, *, clients: int, seconds: float) -> dict[str, object]:
    """Run the load; return the figures."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: */*\r\n"
        "User-Agent: license-service-bench\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _client(
                host,
                port,
                request,
                deadline=started + seconds,
                latencies=latencies,
                statuses=statuses,
            )
            for _ in range(clients)
        )
    )
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "seconds": elapsed,
        "requests_per_second": len(ordered) / elapsed,
        "p50_ms": percentile(ordered, 0.50) * 1000,
        "p99_ms": percentile(ordered, 0.99) * 1000,
        "max_ms": (ordered[-1] if ordered else 0.0) * 1000,
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
    }


def main(argv: list[str] | None = None) -> None:
    """Generate the load and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    arguments = parser.parse_args(argv)
    emit(
        asyncio.run(
            generate_load(arguments.url, clients=arguments.clients, seconds=arguments.seconds)
        )
    )


if __name__ == "__main__":
    main()
