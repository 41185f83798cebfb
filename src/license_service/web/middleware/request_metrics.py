"""The API's own figures for ``/metrics``: requests by path and status, latency, auth failures.

``RequestMetrics`` owns its metric objects unregistered: the metrics app registers
them on the registry it is given, so nothing is global and tests get fresh figures.
``RequestMetricsMiddleware`` records every request of the API app. Paths are labels
only when they are endpoints of the app and methods only when HTTP defines them
(others count as ``"other"``), so scans of random URLs or made-up methods cannot grow
the number of series; no label ever holds a query or token.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from prometheus_client import Counter, Histogram
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Receive, Scope, Send

from license_service.web.middleware.http_middleware import HttpMiddleware, observed

OTHER_PATH: Final = "other"
OTHER_METHOD: Final = "other"
KNOWN_METHODS: Final = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"}
)
_LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class RequestMetrics:
    """Counters and histograms the API records; register ``collectors()`` to expose them."""

    def __init__(self) -> None:
        self.requests = Counter(
            "license_service_http_requests",
            "HTTP requests answered by the API, by path, method and status",
            ["path", "method", "status"],
            registry=None,
        )
        self.latency = Histogram(
            "license_service_http_request_duration_seconds",
            "Time to answer an API request, by path",
            ["path"],
            buckets=_LATENCY_BUCKETS,
            registry=None,
        )
        self.authentication_failures = Counter(
            "license_service_authentication_failures",
            "Requests refused by authentication, by reason",
            ["reason"],
            registry=None,
        )

    def collectors(self) -> tuple[Collector, ...]:
        """The metric objects, to register on a registry."""
        return (self.requests, self.latency, self.authentication_failures)

    def record_request(self, *, path: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        self.requests.labels(path=path, method=method, status=str(status)).inc()
        self.latency.labels(path=path).observe(seconds)

    def record_authentication_failure(self, reason: str) -> None:
        """Count one request refused by authentication for ``reason``."""
        self.authentication_failures.labels(reason=reason).inc()


class RequestMetricsMiddleware(HttpMiddleware):
    """ASGI middleware recording each HTTP request in ``metrics``."""

    def __init__(self, app: ASGIApp, *, metrics: RequestMetrics, paths: Collection[str]) -> None:
        super().__init__(app)
        self._metrics = metrics
        self._paths = frozenset(paths)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request, then record it."""

        def record(status: int, seconds: float) -> None:
            path = scope["path"] if scope["path"] in self._paths else OTHER_PATH
            method = scope["method"] if scope["method"] in KNOWN_METHODS else OTHER_METHOD
            self._metrics.record_request(path=path, method=method, status=status, seconds=seconds)

        await observed(self.app, scope, receive, send, finished=record)
