"""The HTTP connections of a server, kept within its ``ConnectionLimits`` whatever clients do.

Uvicorn (with h11) keeps a connection that never sends a request open for ever, and
accepts connections until the process has no file descriptor left. Connections
that sent nothing once held every descriptor: neither server answered, the store
could not open its files, samples were skipped. ``GuardedH11Protocol`` is uvicorn's
h11 protocol with these rules, counted in ``ConnectionGuard`` (one per server):

- a connection must send a whole request head within ``head_timeout`` of opening or
  of its previous answer, else it is closed (a client sending a byte now and then
  gains nothing: the time is not reset by data);
- past ``max_connections``, a new connection closes the one that has waited longest
  for a request head; if every connection is busy with a request, the new one is
  answered 503 at once and closed. So an idle crowd never locks out a client that
  sends its request, and descriptors stay within the budget;
- past ``max_requests`` in progress, a request is answered 503 with the JSON error
  body, ``Retry-After`` and ``Connection: close``, except ``always_answered`` paths
  (``/livez``); the first refusal of a streak is logged, not every one;
- a client that reads none of its answer for ``write_stall`` seconds is cut off.

A TLS handshake happens before the protocol sees the connection: it is not counted
here, and the loop bounds it by the head timeout too (``tls_handshakes``; asyncio's
default was 60 s). ``ConnectionCollector`` exposes the figures.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, Final

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.types import Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from license_service.runtime.connection_limits import ConnectionLimits
from license_service.runtime.resource_shortage import ResourceShortage, Streak
from license_service.web.error_responses import error_body, error_response
from license_service.web.middleware.security_headers import SECURITY_HEADERS

logger = logging.getLogger(__name__)

OVERLOAD_QUIET_SECONDS: Final = 10.0
"""A streak of refused requests ends at the first request admitted after this long without one."""
CLOSE_REASONS: Final = ("head_timeout", "evicted", "refused", "write_stall")
_RETRY_AFTER: Final = "1"


def _busy_answer() -> bytes:
    """The raw 503 sent to a connection refused before it sent anything (h11 cannot)."""
    body = json.dumps(
        error_body(
            503,
            "the server holds as many connections as it may, all of them busy: retry in a moment",
        )
    ).encode()
    headers = {
        "content-type": "application/json",
        "content-length": str(len(body)),
        "connection": "close",
        "retry-after": _RETRY_AFTER,
        **{name.lower(): value for name, value in SECURITY_HEADERS.items()},
    }
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"HTTP/1.1 503 Service Unavailable\r\n{head}\r\n".encode("latin-1") + body


BUSY_ANSWER: Final = _busy_answer()


class ConnectionGuard:
    """The limits of one server, the connections waiting for a request head, and the figures."""

    def __init__(self, limits: ConnectionLimits, *, name: str, shortage: ResourceShortage) -> None:
        """``name`` labels the figures (``api``, ``metrics``); ``shortage`` is the process's."""
        self.limits = limits
        self.name = name
        self.shortage = shortage
        self.waiting: dict[GuardedH11Protocol, None] = {}
        """Connections waiting for a request head, the longest-waiting first."""
        self.open_connections = 0
        self.closed: Counter[str] = Counter()
        self.refused_requests = 0
        self.overload = Streak(
            logger,
            started=(
                f"The {name} server refuses requests with 503: %s; this is said once until "
                f"it has answered every request for {OVERLOAD_QUIET_SECONDS:g} s"
            ),
            ended=f"The {name} server answers every request again, after %d refused",
            quiet=OVERLOAD_QUIET_SECONDS,
        )
        self.overloaded = error_response(
            503,
            f"the server is answering {limits.max_requests} requests at once, as many as it "
            "may: retry in a moment",
            headers={"Retry-After": _RETRY_AFTER, "Connection": "close", **SECURITY_HEADERS},
        )

    def protocol(self) -> type[GuardedH11Protocol]:
        """The protocol class to give uvicorn (``Config(http=...)``) for this server."""
        return type("GuardedH11Protocol", (GuardedH11Protocol,), {"guard": self})

    def make_room(self) -> bool:
        """Close the connection that has waited longest for a head; False when none waits."""
        if not self.waiting:
            return False
        oldest = next(iter(self.waiting))
        oldest.close_waiting("evicted")
        return True


class GuardedH11Protocol(H11Protocol):
    """Uvicorn's h11 protocol under a ``ConnectionGuard`` (see the module docstring)."""

    guard: ClassVar[ConnectionGuard]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._head_timer: asyncio.TimerHandle | None = None
        self._stall_timer: asyncio.TimerHandle | None = None
        self._counted = False
        self._guarded_app = self.app
        self.app = self._admit

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Count the connection; make room for it, or refuse it when every connection is busy."""
        super().connection_made(transport)
        guard = self.guard
        guard.shortage.accepted()
        guard.open_connections += 1
        self._counted = True
        if guard.open_connections > guard.limits.max_connections and not guard.make_room():
            guard.closed["refused"] += 1
            transport.write(BUSY_ANSWER)
            transport.close()
            return
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection."""
        self._stop_waiting()
        self._cancel_stall()
        if self._counted:
            self._counted = False
            self.guard.open_connections -= 1
        super().connection_lost(exc)

    def handle_events(self) -> None:
        """Parse what arrived; a request head makes the connection busy (no deadline)."""
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self._stop_waiting()

    def on_response_complete(self) -> None:
        """The answer is sent: the next request head is due within the head timeout."""
        if not self.transport.is_closing():
            self._await_head()
        super().on_response_complete()

    def pause_writing(self) -> None:
        """The client stopped reading: cut it off if it reads nothing for ``write_stall``."""
        super().pause_writing()
        if self._stall_timer is None:
            self._stall_timer = self.loop.call_later(
                self.guard.limits.write_stall, self._write_stalled
            )

    def resume_writing(self) -> None:
        """The client reads again."""
        self._cancel_stall()
        super().resume_writing()

    def close_waiting(self, reason: str) -> None:
        """Close this connection, which waits for a request head, counting ``reason``."""
        self._stop_waiting()
        if not self.transport.is_closing():
            self.guard.closed[reason] += 1
            self.transport.close()

    async def _admit(self, scope: Scope, receive: Receive, send: Send) -> None:
        guard = self.guard
        limits = guard.limits
        # ``tasks`` holds this request's task too.
        if len(self.tasks) > limits.max_requests and scope["path"] not in limits.always_answered:
            guard.refused_requests += 1
            guard.overload.occurred(f"more than {limits.max_requests} requests in progress")
            await guard.overloaded(scope, receive, send)
            return
        guard.overload.end()
        await self._guarded_app(scope, receive, send)

    def _await_head(self) -> None:
        guard = self.guard
        guard.waiting.pop(self, None)
        guard.waiting[self] = None
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(guard.limits.head_timeout, self._head_overdue)

    def _stop_waiting(self) -> None:
        self.guard.waiting.pop(self, None)
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_overdue(self) -> None:
        self._head_timer = None
        if self in self.guard.waiting:
            self.close_waiting("head_timeout")

    def _cancel_stall(self) -> None:
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None

    def _write_stalled(self) -> None:
        self._stall_timer = None
        if not self.transport.is_closing():
            self.guard.closed["write_stall"] += 1
            self.transport.abort()


class ConnectionCollector:
    """A Prometheus collector of the guards' figures, read at scrape time."""

    def __init__(self, guards: Sequence[ConnectionGuard]) -> None:
        self._guards = tuple(guards)

    def describe(self) -> list[Metric]:
        """No families up front: the registry learns them from the first ``collect``."""
        return []

    def collect(self) -> Iterator[Metric]:
        """The figures as they are now."""
        open_now = GaugeMetricFamily(
            "license_service_http_connections",
            "HTTP connections open now, by server",
            labels=["server"],
        )
        closed = CounterMetricFamily(
            "license_service_http_connections_closed",
            "HTTP connections the service closed, by server and reason (head_timeout: no "
            "request head in time; evicted: made room for a new one; refused: every "
            "connection busy; write_stall: the client read nothing of its answer)",
            labels=["server", "reason"],
        )
        refused = CounterMetricFamily(
            "license_service_http_requests_refused",
            "Requests answered 503 because the server was answering as many as it may",
            labels=["server"],
        )
        for guard in self._guards:
            open_now.add_metric([guard.name], guard.open_connections)
            for reason in CLOSE_REASONS:
                closed.add_metric([guard.name, reason], guard.closed[reason])
            refused.add_metric([guard.name], guard.refused_requests)
        yield open_now
        yield closed
        yield refused
